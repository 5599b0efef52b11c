#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian 12's own QEMU 7.2 (it speaks the v1 migration region protocol),
# unpacked beside the installed QEMU 10 without installing it: the
# bookworm packages qemu-system-x86, qemu-system-common and
# qemu-system-data, fetched with "apt-get download" from the machine's own
# apt sources and extracted with "dpkg -x" into $MIGDEV_CACHE/qemu-7.2.
# Run it as
#
#   QEMU_MODULE_DIR=$MIGDEV_CACHE/qemu-7.2/usr/lib/x86_64-linux-gnu/qemu \
#   $MIGDEV_CACHE/qemu-7.2/usr/bin/qemu-system-x86_64 \
#       -L $MIGDEV_CACHE/qemu-7.2/usr/share/qemu ...
#
# (its TCG accelerator is a loadable module).  Idempotent: a second run
# changes nothing while the bookworm versions stay the same.  Called by
# setup.sh; needs an "apt-get update" done before.
set -euo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

dir=$MIGDEV_CACHE/qemu-7.2
pkgs=(qemu-system-x86 qemu-system-common qemu-system-data)

# The newest 7.2 of each package that the apt sources offer (madison lists
# the newest first; the arch-all data package has no binNMU suffix).
want=()
for p in "${pkgs[@]}"; do
	v=$(apt-cache madison "$p" |
		awk -F' *[|] *' '$2 ~ /^1:7\.2[+]/ { print $2; exit }')
	if [ -z "$v" ]; then
		echo "qemu72.sh: no 7.2 version of $p in the apt sources" >&2
		exit 1
	fi
	want+=("$p=$v")
done

if [ -e "$dir/.done" ] && [ "$(cat "$dir/.done")" = "${want[*]}" ]; then
	exit 0
fi

rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp/debs"
(cd "$dir.tmp/debs" && apt-get download -q "${want[@]}")
for deb in "$dir.tmp"/debs/*.deb; do
	dpkg -x "$deb" "$dir.tmp"
done
rm -rf "$dir.tmp/debs"
if ! QEMU_MODULE_DIR=$dir.tmp/usr/lib/x86_64-linux-gnu/qemu \
	"$dir.tmp/usr/bin/qemu-system-x86_64" --version | grep -q 'version 7\.2'; then
	echo "qemu72.sh: the unpacked QEMU does not run" >&2
	exit 1
fi
echo "${want[*]}" >"$dir.tmp/.done"
mv "$dir.tmp" "$dir"
ver=$(QEMU_MODULE_DIR=$dir/usr/lib/x86_64-linux-gnu/qemu \
	"$dir/usr/bin/qemu-system-x86_64" --version | head -1)
echo "qemu72.sh: $ver in $dir"
