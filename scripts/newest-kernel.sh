#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The newest kernel migdev builds for: Debian's Linux 7.3 from
# trixie-backports, as a source tree prepared for building modules
# (linux-source-7.3, with the .config and Module.symvers of Debian's
# linux-headers for the amd64 flavour, then "make modules_prepare" with
# this machine's compiler).  Headers alone would not do: their kbuild
# programs are built for trixie's C library.  Nothing is installed and
# the machine's apt configuration is not touched: apt gets its own lists
# in the cache, from the archive the machine's apt sources name.  The
# tree is cached in $MIGDEV_CACHE/newest-kernel/<version>-<compiler>/, so
# a later run reuses it ("cached").
# With --module, also build migdev.ko for it (W=1 and sparse, any warning
# fails), from a copy of the sources in out/newest-build/.  With --image,
# also unpack Debian's kernel of that version and its modules (with a
# modules.dep from depmod) into the cache, for the test VM
# (tests/vm/run.sh --kernel IMAGE --modroot ROOT).  With --root, also
# make (with mmdebstrap) a trixie userspace with QEMU and libvirt from
# trixie-backports (as "apt-get -t trixie-backports install" would pick
# them) in the cache, for the test VM's tests to run in
# (tests/vm/run.sh --root ROOT).
#
# Usage: scripts/newest-kernel.sh [--module] [--image] [--root]
#
# Progress goes to stderr.  Stdout gets shell assignments, for eval:
#   MIGDEV_NEWEST_KDIR=     the prepared tree (make KDIR=...)
#   MIGDEV_NEWEST_RELEASE=  its release, Debian's: e.g. 7.3.4+deb13-amd64
#   MIGDEV_NEWEST_MODULE=   migdev.ko for it, with --module
#   MIGDEV_NEWEST_IMAGE=    Debian's kernel, with --image
#   MIGDEV_NEWEST_MODROOT=  a root with its modules in lib/modules/, with
#                           --image
#   MIGDEV_NEWEST_ROOT=     the trixie userspace, with --root
#   MIGDEV_NEWEST_QEMU=     its QEMU's version, with --root
#   MIGDEV_NEWEST_LIBVIRT=  its libvirt's version, with --root
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

SUITE=trixie-backports
SERIES=7.3
# Bump when the way the tree is prepared changes, to prepare it again.
PREP_FORMAT=2
# What the userspace of --root has: QEMU and libvirt (from
# trixie-backports) and what the tests run there use.  Bump ROOT_FORMAT
# when the list or the way it is made changes.
ROOT_PKGS=qemu-system-x86,libvirt-daemon-driver-qemu,libvirt-daemon,libvirt-clients,python3,iproute2,kmod,procps
ROOT_FORMAT=1

msg() { echo "newest-kernel: $*" >&2; }
die() { echo "newest-kernel: error: $*" >&2; exit 1; }

module=0
image=0
root=0
while [ $# -gt 0 ]; do
	case $1 in
	--module) module=1 ;;
	--image) image=1 ;;
	--root) root=1 ;;
	-h | --help) sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument $1 (usage: $0 [--module] [--image] [--root])" ;;
	esac
	shift
done

dir=$MIGDEV_CACHE/newest-kernel
aptdir=$dir/apt
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
exec {lockfd}>"$dir/lock"
flock "$lockfd"

uri=$(migdev_archive_uri)
printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
	"$uri" "$SUITE" >"$aptdir/sources.list"
apt=(-o "Dir::Etc::sourcelist=$aptdir/sources.list" -o Dir::Etc::sourceparts=-
     -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
     -o APT::Sandbox::User=root)
apt-get "${apt[@]}" -q update >&2 || die "apt-get update of $SUITE failed"

src_pkg=linux-source-$SERIES
ver=$(apt-cache "${apt[@]}" show "$src_pkg" 2>/dev/null |
	awk '/^Version:/ { print $2; exit }')
[ -n "$ver" ] || die "$SUITE has no $src_pkg"
# The amd64 flavour's headers at that version: linux-headers-amd64's.
hdr_pkg=$(apt-cache "${apt[@]}" show "linux-headers-amd64=$ver" 2>/dev/null |
	grep -o "linux-headers-${SERIES}[^ ,]*-amd64" | head -n 1)
[ -n "$hdr_pkg" ] || die "$SUITE has no linux-headers-amd64 $ver"

tree=$dir/$ver-$PREP_FORMAT-gcc$(gcc -dumpfullversion)
if [ -e "$tree/.prepared" ]; then
	msg "cached: $src_pkg $ver in $tree"
else
	t0=$SECONDS
	msg "preparing $src_pkg $ver with ${hdr_pkg}'s .config (about a minute)"
	# Trees of other versions, formats or compilers are not used again.
	rm -rf "$dir"/*-gcc* "$dir"/work.*
	work=$(mktemp -d "$dir/work.XXXXXX")
	(cd "$work" && apt-get "${apt[@]}" -q download "$src_pkg=$ver" "$hdr_pkg=$ver") >&2 ||
		die "could not download $src_pkg and $hdr_pkg $ver"
	for deb in "$work"/*.deb; do
		dpkg -x "$deb" "$work/root"
	done
	mkdir -p "$work/src"
	tar -C "$work/src" --strip-components=1 -xaf "$work/root/usr/src/$src_pkg.tar.xz"
	hdrs=$work/root/usr/src/$hdr_pkg
	cp "$hdrs/.config" "$hdrs/Module.symvers" "$work/src/"
	# The release of Debian's kernel (7.3.4+deb13-amd64), so that the
	# module's vermagic is that kernel's.  Modules are never signed or
	# installed from here; Rust needs a toolchain bookworm lacks.
	# olddefconfig adapts the rest to this compiler.
	release=${hdr_pkg#linux-headers-}
	base=$(make -s -C "$work/src" kernelversion)
	"$work/src/scripts/config" --file "$work/src/.config" \
		--set-str LOCALVERSION "${release#"$base"}" \
		--disable LOCALVERSION_AUTO --disable MODULE_SIG_ALL --disable RUST
	make -s -C "$work/src" olddefconfig >&2
	make -s -C "$work/src" -j"$(nproc)" modules_prepare >&2 ||
		die "make modules_prepare failed in $work/src"
	mv "$work/src" "$tree"
	rm -rf "$work"
	touch "$tree/.prepared"
	msg "prepared $tree in $((SECONDS - t0)) s"
fi

# Debian's kernel itself: linux-image-*'s binary and modules packages.
img=$dir/image-$ver
release=${hdr_pkg#linux-headers-}
if [ "$image" = 1 ] && [ ! -e "$img/.unpacked" ]; then
	msg "unpacking Debian's $release kernel and modules"
	rm -rf "$dir"/image-*
	mkdir -p "$img/debs"
	(cd "$img/debs" && apt-get "${apt[@]}" -q download \
		"linux-binary-$release=$ver" "linux-modules-$release=$ver") >&2 ||
		die "could not download linux-binary-$release and linux-modules-$release $ver"
	for deb in "$img"/debs/*.deb; do
		dpkg -x "$deb" "$img/root"
	done
	rm -rf "$img/debs"
	# trixie keeps modules in /usr/lib/modules; bookworm's kmod looks in
	# /lib/modules.
	[ -e "$img/root/lib" ] || ln -s usr/lib "$img/root/lib"
	depmod -b "$img/root" "$release" 2>/dev/null ||
		die "depmod failed in $img/root"
	touch "$img/.unpacked"
fi

# The newest userspace: trixie, with QEMU and libvirt from
# trixie-backports.  Named after their versions, so a new upload makes a
# new root.
rootdir=
if [ "$root" = 1 ]; then
	qver=$(apt-cache "${apt[@]}" show qemu-system-x86 2>/dev/null |
		awk '/^Version:/ { print $2; exit }')
	lver=$(apt-cache "${apt[@]}" show libvirt-daemon 2>/dev/null |
		awk '/^Version:/ { print $2; exit }')
	if [ -z "$qver" ] || [ -z "$lver" ]; then
		die "$SUITE has no qemu-system-x86 or libvirt-daemon"
	fi
	rootdir=$dir/root-$ROOT_FORMAT-qemu${qver#*:}-libvirt$lver
	migdev_make_root "$rootdir" "$dir/root.log" trixie "$SUITE" "$ROOT_PKGS" \
		"a trixie root with QEMU $qver and libvirt $lver" ||
		die "mmdebstrap failed (log: $dir/root.log)"
fi
flock -u "$lockfd"

printf 'MIGDEV_NEWEST_KDIR=%q\n' "$tree"
printf 'MIGDEV_NEWEST_RELEASE=%q\n' "$(make -s -C "$tree" kernelrelease)"

if [ "$module" = 1 ]; then
	mdir=$MIGDEV_ROOT/out/newest-build
	mlog=$MIGDEV_ROOT/out/newest-build.log
	if ! migdev_module_build "$mdir" "$tree" "$mlog" C=2 CF=-Wsparse-error ||
	   grep -E 'warning:|error:' "$mlog" >&2; then
		tail -n 40 "$mlog" >&2
		die "migdev.ko does not build W=1 and sparse clean for Linux $ver (log: $mlog)"
	fi
	msg "built $mdir/migdev.ko for Linux $ver"
	printf 'MIGDEV_NEWEST_MODULE=%q\n' "$mdir/migdev.ko"
fi
if [ "$image" = 1 ]; then
	printf 'MIGDEV_NEWEST_IMAGE=%q\n' "$img/root/usr/lib/modules/$release/vmlinuz"
	printf 'MIGDEV_NEWEST_MODROOT=%q\n' "$img/root"
fi
if [ "$root" = 1 ]; then
	printf 'MIGDEV_NEWEST_ROOT=%q\n' "$rootdir"
	printf 'MIGDEV_NEWEST_QEMU=%q\n' "$qver"
	printf 'MIGDEV_NEWEST_LIBVIRT=%q\n' "$lver"
fi
