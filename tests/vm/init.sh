#!/bin/busybox sh
# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM's initramfs (run by busybox-static's sh as PID 1).
# run.sh copies this file, busybox and the 9p modules (decompressed) into
# the initramfs.  It mounts the host's / (virtio-9p tag "hostroot",
# read-only) at /newroot and the results share (tag "results",
# read-write) at /newroot/mnt, then switch_roots into the stage-2 script
# whose path the host wrote to the results share's "stage2" file.

/bin/busybox --install -s /bin
export PATH=/bin

die() {
	echo "migdev-vm init: $*" >&2
	echo "migdev-vm init: powering off" >&2
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 60
	exit 1
}

mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

# Load order computed on the host from modules.dep.  A kernel with 9p
# built in has an empty list.
if [ -s /modules/load-order ]; then
	while read -r m; do
		insmod "/modules/$m" || echo "migdev-vm init: insmod $m failed"
	done </modules/load-order
fi
grep -qw 9p /proc/filesystems || die "no 9p file system in this kernel"

opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$opts,ro,cache=loose" hostroot /newroot ||
	die "cannot mount the host root (9p tag hostroot)"
mount -t 9p -o "$opts,cache=none" results /newroot/mnt ||
	die "cannot mount the results share (9p tag results)"

stage2=
read -r stage2 </newroot/mnt/stage2 || true
if [ -z "$stage2" ] || [ ! -f "/newroot$stage2" ]; then
	die "no stage-2 script ('$stage2') in the results share's stage2 file"
fi

mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$stage2"
