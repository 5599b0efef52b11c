#!/bin/busybox sh
# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the Linux test guest (initramfs.sh builds it): loads
# migdev_dma.ko, then runs Linux's dmatest on the device's first channel
# in rounds, forever, and reports each round on the serial console in the
# test guest's format, so that tests/qemu/pingpong.py can follow it:
#   migdev-guest: iter N ok ...        a round of dmatest passed
#   migdev-guest: MISMATCH iter N ...  dmatest reported failures
#   migdev-guest: FATAL ...            the driver or dmatest did not start
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

fatal() {
	echo "migdev-guest: FATAL $*"
	dmesg | tail -n 20
	while :; do sleep 3600; done
}

echo "migdev-guest: starting (Linux $(uname -r): migdev_dma, dmatest)"
insmod /migdev_dma.ko || fatal "insmod migdev_dma.ko failed"
chan=
for c in /sys/class/dma/dma*chan0; do
	[ -e "$c" ] && chan=${c##*/} && break
done
[ -n "$chan" ] || fatal "migdev_dma registered no DMA channel"
# Each round: 40 copies of up to 16 KiB, every byte checked by dmatest.
insmod /dmatest.ko timeout=60000 iterations=40 test_buf_size=16384 \
	channel="$chan" || fatal "insmod dmatest.ko failed"
echo "migdev-guest: ready, channel $chan"
p=/sys/module/dmatest/parameters
iter=0
while :; do
	iter=$((iter + 1))
	# Every other round polls: dmatest then waits in tx_status and ends
	# each copy with dmaengine_terminate_sync().
	mode=irq
	[ $((iter % 2)) = 0 ] && mode=polled
	if [ $mode = polled ]; then echo Y >$p/polled; else echo N >$p/polled; fi
	dmesg -c >/dev/null
	echo 1 >$p/run
	cat $p/wait >/dev/null	# returns when the round is done
	sum=$(dmesg -c | grep -E 'dmatest: .*summary' | tail -n 1)
	sum=${sum#*dmatest: }
	case $sum in
	*" 0 failures "*) echo "migdev-guest: iter $iter ok $mode $sum" ;;
	*)
		echo "migdev-guest: MISMATCH iter $iter ${sum:-no dmatest summary}"
		dmesg | tail -n 20
		while :; do sleep 3600; done
		;;
	esac
done
