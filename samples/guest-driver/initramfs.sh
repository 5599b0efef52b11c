#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The initramfs of the Linux test guest: busybox (static), init.sh as
# /init, and build/migdev_dma.ko and build/dmatest.ko (make first).
# Writes build/initramfs.cpio.gz.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
busybox=$(command -v busybox) || { echo "no busybox (busybox-static)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/proc" "$tmp/sys" "$tmp/dev"
cp "$busybox" "$tmp/bin/busybox"
cp "$here/init.sh" "$tmp/init"
cp "$here/build/migdev_dma.ko" "$here/build/dmatest.ko" "$tmp/"
# Without debug info: a third of the size, and the nested guest unpacks
# it at TCG-in-TCG speed.
strip --strip-debug "$tmp/migdev_dma.ko" "$tmp/dmatest.ko"
chmod 755 "$tmp/init" "$tmp/bin/busybox"
(cd "$tmp" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$here/build/initramfs.cpio.gz.tmp"
mv "$here/build/initramfs.cpio.gz.tmp" "$here/build/initramfs.cpio.gz"
echo "$here/build/initramfs.cpio.gz"
