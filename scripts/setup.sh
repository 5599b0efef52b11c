#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything migdev needs on a Debian 12 (bookworm) machine:
# Debian's 6.12 LTS kernel image (for the test VM) and headers (to build
# against), QEMU 10 from bookworm-backports, busybox-static for the VM's
# initramfs, sparse, the 6.12 source tree (checkpatch.pl,
# kselftest_harness.h), and bookworm's own QEMU 7.2, unpacked into the
# cache (scripts/qemu72.sh).  Idempotent: a second run changes nothing.
#
# Debian's headers package depends on the matching image, so the image is
# installed on the host (it is not booted there: the test VM boots it).
set -euo pipefail

. "$(dirname "$0")/common.sh"

if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: run as root (it installs Debian packages)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# bookworm-backports, from the same archive the machine already uses.
add_backports() {
	local uri
	if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return
	fi
	uri=$(migdev_archive_uri) || exit 1
	printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uri" >/etc/apt/sources.list.d/migdev-backports.sources
	rm -f "$MIGDEV_CACHE/apt-updated"
}

add_backports
mkdir -p "$MIGDEV_CACHE"

# One apt-get update per day is plenty.
stamp="$MIGDEV_CACHE/apt-updated"
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
	apt-get update -q
	touch "$stamp"
fi

# The concrete ABI package the 6.12 metapackage points to today.
kpkg=$(apt-cache depends linux-image-6.12-amd64 2>/dev/null |
	awk '/Depends: linux-image-6\.12/ { print $2; exit }')
if [ -z "$kpkg" ]; then
	echo "setup.sh: no linux-image-6.12-amd64 in the apt sources" >&2
	exit 1
fi
kver=${kpkg#linux-image-}

# clang, libFuzzer's runtime (libclang-rt-dev) and llvm (llvm-symbolizer,
# for sanitizer reports): fuzz/, the stream decoder's fuzzer.  mmdebstrap:
# the newest stack's trixie userspace (scripts/newest-kernel.sh --root)
# and the libvirt hosts' Debian 12 one (scripts/libvirt-root.sh).
# gnuplot-nox: the performance curves (scripts/plots.sh).  debhelper,
# dh-dkms and lintian: the Debian package (debian/, tests/dkms_test.sh);
# dkms itself comes with the package, as on a user's host.
pkgs=(build-essential bc kmod cpio xz-utils zstd busybox-static sparse
      python3 "linux-image-$kver" "linux-headers-$kver" linux-source-6.12 socat
      mdevctl clang libclang-rt-dev llvm mmdebstrap gnuplot-nox
      debhelper dh-dkms lintian)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# QEMU 10 from bookworm-backports (bookworm itself has 7.2).
if ! qemu-system-x86_64 --version 2>/dev/null | grep -q 'version \(9\|[1-9][0-9]\)\.'; then
	apt-get install -y -q --no-install-recommends -t bookworm-backports \
		qemu-system-x86 qemu-utils
fi

# Debian 12's own QEMU 7.2 (v1 migration region), unpacked into the cache.
"$(dirname "$0")/qemu72.sh"

mkdir -p "$MIGDEV_CACHE/kernel"
echo "$kver" >"$MIGDEV_CACHE/kernel/current"

# The 6.12 source tree: only the files the build and tests read.
src="$MIGDEV_CACHE/linux-source-6.12"
if [ ! -e "$src/.done" ]; then
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xaf /usr/src/linux-source-6.12.tar.xz \
		--wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/samples/vfio-mdev/*' \
		'*/include/uapi/linux/vfio.h'
	touch "$src/.done"
fi

echo "setup.sh: kernel $kver, $(qemu-system-x86_64 --version | head -1)"
