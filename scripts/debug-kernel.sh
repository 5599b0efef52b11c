#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test VM's debug kernel (KASAN, lockdep, kmemleak, KFENCE,
# UBSAN, debugobjects; VFIO with mdev, IOMMUFD and the vfio cdev; 9p and
# virtio-pci built in) from Debian's linux-source-6.12: "make tinyconfig"
# plus the fragment tests/vm/debug.config, with the kernel fixes in
# kernel-patches/6.12/ applied (bugs the suite found in the kernel itself;
# see "Kernel bugs found" in Documentation/migdev.rst).  The result is
# cached in $MIGDEV_CACHE/debug-kernel/<hash>/, the hash covering the
# fragment, the patches, the source version and the compiler, so a later
# run reuses it ("cached").
# With --module, also build migdev.ko for that kernel, from a copy of the
# sources in out/debug-build/ (out-of-tree kbuild writes its objects next
# to the sources; the copy keeps them apart from the Debian-kernel build).
#
# Usage: scripts/debug-kernel.sh [--module] [--rebuild]
#
# Progress goes to stderr.  Stdout gets shell assignments, for eval:
#   MIGDEV_DEBUG_IMAGE=   the bzImage          (tests/vm/run.sh --kernel)
#   MIGDEV_DEBUG_KDIR=    the kernel build tree (make KDIR=...)
#   MIGDEV_DEBUG_RELEASE= its release, e.g. 6.12.117-migdev-debug
#   MIGDEV_DEBUG_APPEND=  kernel arguments the VM must boot with (--append)
#   MIGDEV_DEBUG_MODULE=  migdev.ko for it, with --module (run.sh --module)
# The same assignments (but the module's) are kept in <hash>/env.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

FRAGMENT=$MIGDEV_ROOT/tests/vm/debug.config
PATCHES=$MIGDEV_ROOT/kernel-patches/6.12
TARBALL=${MIGDEV_LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
# Bump when the way the kernel is built changes, to rebuild cached ones.
BUILD_FORMAT=1
# mtty is built in only so that VFIO_MDEV is (see debug.config): keep it
# from registering an mdev parent.
APPEND="initcall_blacklist=mtty_dev_init"

msg() { echo "debug-kernel: $*" >&2; }
die() { echo "debug-kernel: error: $*" >&2; exit 1; }

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

module=0
rebuild=0
while [ $# -gt 0 ]; do
	case $1 in
	--module) module=1 ;;
	--rebuild) rebuild=1 ;;
	-h | --help) sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument $1 (usage: $0 [--module] [--rebuild])" ;;
	esac
	shift
done

[ -r "$TARBALL" ] || die "no $TARBALL (install linux-source-6.12: scripts/setup.sh)"

# Build dependencies beyond build-essential (kconfig: flex, bison;
# objtool: libelf; the kernel fixes: patch).
missing=()
for p in build-essential bc flex bison libelf-dev patch; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (run as root to install them)"
	msg "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
fi

# The source version: the package's, else the tarball's size and date.
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
	srcver=$(stat -c '%s-%Y' "$TARBALL")
[ -n "$srcver" ] || srcver=$(stat -c '%s-%Y' "$TARBALL")

# The patches, in order; only their diffs count (a reworded commit
# message does not rebuild the kernel).
patches=()
for p in "$PATCHES"/*.patch; do
	[ -e "$p" ] && patches+=("$p")
done
phash=$(for p in ${patches[@]+"${patches[@]}"}; do
	sed -n '/^diff --git/,$p' "$p"
done | sha256sum | cut -c1-12)

base=$MIGDEV_CACHE/debug-kernel
src=$base/src-$srcver-$phash
hash=$( {
	echo "format $BUILD_FORMAT"
	echo "source $srcver"
	echo "patches $phash"
	echo "compiler $(gcc --version | head -n 1)"
	cat "$FRAGMENT"
} | sha256sum | cut -c1-16)
dir=$base/$hash
bld=$dir/build
log=$dir/build.log
mkdir -p "$base"

# One build at a time per cache (a second caller waits, then reuses).
exec {lockfd}>"$base/lock"
if ! flock -n "$lockfd"; then
	msg "waiting for another build ($base/lock)"
	flock "$lockfd"
fi

# The source tree, extracted and patched once per source version and set
# of patches; the build goes to $bld (O=), so the tree stays clean and
# serves every fragment.
if [ ! -d "$src" ]; then
	msg "extracting $TARBALL into $src"
	t0=$SECONDS
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" --strip-components=1 -xaf "$TARBALL"
	for p in ${patches[@]+"${patches[@]}"}; do
		msg "applying ${p#"$MIGDEV_ROOT"/}"
		patch -d "$src.tmp" -p1 --forward --batch --quiet <"$p" >&2 ||
			die "${p#"$MIGDEV_ROOT"/} does not apply to $TARBALL ($srcver)"
	done
	mv "$src.tmp" "$src"
	msg "extracted in $(duration $((SECONDS - t0)))"
fi
# Source trees of other versions or patch sets.
for old in "$base"/src-*; do
	[ "$old" != "$src" ] && [ -d "$old" ] || continue
	[ -z "$(find "$old" -maxdepth 0 -mtime +14)" ] || rm -rf "$old"
done

# make in the source tree with the output in $bld.
kmake() {
	make -C "$src" O="$bld" ARCH=x86_64 "$@"
}

# Every option the fragment sets must be in the final .config as asked.
check_config() {
	local line sym want have bad=0
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			sym=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]} want=n
		else
			continue
		fi
		have=$(awk -v s="$sym" '
			index($0, s "=") == 1 { print substr($0, length(s) + 2); exit }
			$0 == "# " s " is not set" { print "n"; exit }' "$bld/.config")
		[ -n "$have" ] || have=n
		if [ "$have" != "$want" ]; then
			echo "debug-kernel: $sym: asked for $want, the .config has $have" >&2
			bad=1
		fi
	done <"$FRAGMENT"
	return $bad
}

if [ "$rebuild" = 1 ]; then
	rm -f "$dir/done"
fi
if [ -e "$dir/done" ]; then
	# shellcheck source=/dev/null
	. "$dir/env"
	msg "cached: $MIGDEV_DEBUG_RELEASE in $dir (built in $(cat "$dir/build-time") on $(date -r "$dir/done" '+%F %T'))"
else
	rm -rf "$dir"
	mkdir -p "$bld"
	msg "building the debug kernel in $dir ($(nproc) jobs, log: $log)"
	t0=$SECONDS
	if ! {
		kmake tinyconfig &&
			"$src/scripts/kconfig/merge_config.sh" -m -O "$bld" "$bld/.config" "$FRAGMENT" &&
			kmake olddefconfig
	} >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "configuration failed (log: $log)"
	fi
	check_config || die "the .config lacks options that $FRAGMENT asks for (see above; $bld/.config)"
	if ! kmake -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
		tail -n 60 "$log" >&2
		die "the kernel build failed (log: $log)"
	fi
	release=$(kmake -s kernelrelease 2>/dev/null)
	cp "$bld/arch/x86/boot/bzImage" "$dir/bzImage"
	took=$((SECONDS - t0))
	duration $took >"$dir/build-time"
	{
		printf 'MIGDEV_DEBUG_IMAGE=%q\n' "$dir/bzImage"
		printf 'MIGDEV_DEBUG_KDIR=%q\n' "$bld"
		printf 'MIGDEV_DEBUG_RELEASE=%q\n' "$release"
		printf 'MIGDEV_DEBUG_APPEND=%q\n' "$APPEND"
	} >"$dir/env"
	touch "$dir/done"
	# shellcheck source=/dev/null
	. "$dir/env"
	msg "built $release in $(duration $took) ($(du -sh "$dir" | cut -f1) in $dir)"
fi
touch "$dir/used"
# Builds of other fragments (or sources) unused for two weeks.
for old in "$base"/????????????????; do
	[ "$old" != "$dir" ] && [ -e "$old/used" ] || continue
	[ -z "$(find "$old/used" -mtime +14)" ] || rm -rf "$old"
done
flock -u "$lockfd"

cat "$dir/env"

if [ "$module" = 1 ]; then
	mdir=$MIGDEV_ROOT/out/debug-build
	mlog=$MIGDEV_ROOT/out/debug-build.log
	t0=$SECONDS
	if ! migdev_module_build "$mdir" "$MIGDEV_DEBUG_KDIR" "$mlog"; then
		tail -n 40 "$mlog" >&2
		die "migdev.ko does not build for $MIGDEV_DEBUG_RELEASE (log: $mlog)"
	fi
	msg "built $mdir/migdev.ko for $MIGDEV_DEBUG_RELEASE in $(duration $((SECONDS - t0)))"
	printf 'MIGDEV_DEBUG_MODULE=%q\n' "$mdir/migdev.ko"
fi
