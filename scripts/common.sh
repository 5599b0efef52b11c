# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by the scripts: where things are.

MIGDEV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Downloads and unpacked packages live outside the repository.
MIGDEV_CACHE=${MIGDEV_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/migdev}
export MIGDEV_ROOT MIGDEV_CACHE

# The kernel the VM boots and the module is built for (set up by setup.sh).
migdev_kver() {
	if [ -n "${MIGDEV_KVER:-}" ]; then
		echo "$MIGDEV_KVER"
	elif [ -e "$MIGDEV_CACHE/kernel/current" ]; then
		cat "$MIGDEV_CACHE/kernel/current"
	else
		echo "run scripts/setup.sh first" >&2
		return 1
	fi
}

# The Debian archive the machine's apt sources name, for the suites the
# project adds (bookworm-backports, trixie-backports): never an address
# of our own.
migdev_archive_uri() {
	local f uri=
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		uri=$(awk '/^URIs:/ { print $2; exit }' "$f")
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ] && [ -e /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
	fi
	if [ -z "$uri" ]; then
		echo "cannot find the Debian archive in the apt sources" >&2
		return 1
	fi
	echo "$uri"
}

# migdev_copy_sources DIR PATH...: DIR, emptied first, gets the sources
# as the checkout has them: its tracked files and the new ones git does
# not ignore, out/ left out, so nothing built here comes along.  Outside
# a git checkout, the PATHs (relative to the top of the tree).
migdev_copy_sources() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir" || return 1
	if git -C "$MIGDEV_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$MIGDEV_ROOT" ls-files -z -co --exclude-standard -- ':!out/' |
			tar -C "$MIGDEV_ROOT" --null -T - --ignore-failed-read -cf - |
			tar -C "$dir" -xf -
	else
		tar -C "$MIGDEV_ROOT" -cf - "$@" | tar -C "$dir" -xf -
	fi
}

# migdev_module_build DIR KDIR LOG [MAKE ARGUMENTS]: build migdev.ko with
# W=1 against the kernel tree KDIR from a fresh copy of the sources in DIR
# (tracked files, and new ones git does not ignore): out-of-tree kbuild
# writes its objects next to the sources, and the copy keeps them apart
# from the build for Debian's kernel.  Output in LOG; fails if the build
# does.
migdev_module_build() {
	local mdir=$1 kdir=$2 mlog=$3
	shift 3
	migdev_copy_sources "$mdir" Makefile Kbuild compat emul mdev include scripts/paths.mk ||
		return 1
	make -C "$mdir" KDIR="$kdir" W=1 "$@" modules >"$mlog" 2>&1 &&
		[ -e "$mdir/migdev.ko" ]
}

# migdev_make_root DIR LOG DIST DEFAULT_RELEASE PACKAGES WHAT: unless
# DIR/.made exists, make DIR (with mmdebstrap, as root) a Debian DIST
# userspace with PACKAGES (comma-separated, no recommends), from the
# archive the machine's apt sources name, DIST and DEFAULT_RELEASE (a
# backports suite) enabled and the latter preferred, as "apt-get -t
# DEFAULT_RELEASE" would pick.  DIR's name starts with root-; other root-*
# beside it (older versions) are removed.  Output in LOG; on stderr, as
# the calling script, whether WHAT (what the root holds) was cached or
# made.  For the test VM's --root.
migdev_make_root() {
	local rootdir=$1 log=$2 dist=$3 rel=$4 pkgs=$5 what=$6 me uri t0=$SECONDS
	me=$(basename "$0" .sh)
	if [ -e "$rootdir/.made" ]; then
		echo "$me: cached: $what in $rootdir" >&2
		return 0
	fi
	command -v mmdebstrap >/dev/null || {
		echo "$me: mmdebstrap not found (run scripts/setup.sh)" >&2
		return 1
	}
	uri=$(migdev_archive_uri) || return 1
	echo "$me: making $what (about a minute)" >&2
	rm -rf "$(dirname "$rootdir")"/root-*
	mmdebstrap --mode=root --variant=essential --format=directory \
		--include="$pkgs" \
		--aptopt='APT::Install-Recommends "false"' \
		--aptopt="APT::Default-Release \"$rel\"" \
		"$dist" "$rootdir.tmp" "deb $uri $dist main" "deb $uri $rel main" \
		>"$log" 2>&1 || { tail -n 20 "$log" >&2; return 1; }
	mv "$rootdir.tmp" "$rootdir"
	touch "$rootdir/.made"
	echo "$me: made $rootdir in $((SECONDS - t0)) s" >&2
}
