#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A Linux guest with the migdev guest driver (samples/guest-driver): QEMU
# 10 boots Debian's 6.12 kernel with an initramfs that loads migdev_dma.ko
# (a dmaengine provider) and runs Linux's dmatest on it in rounds, every
# byte checked; tests/qemu/pingpong.py migrates it back and forth while
# dmatest runs, and each hop must complete with the rounds going on and
# never failing.  The guest reaches /init in about 90 s here (TCG in TCG).
# Skipped on the debug kernel, where that boot alone would take most of
# the lane's time.  KTAP.
set -u

ROOT=${MIGDEV_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RES=${MIGDEV_RESULTS:-/tmp}
GD=$ROOT/samples/guest-driver
kernel=/boot/vmlinuz-$(uname -r)
name=linux_guest_dmatest_ping_pong

echo "TAP version 13"
echo "1..1"
skip() {
	echo "ok 1 $name # SKIP $*"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 0
}
case $(uname -r) in *debug*) skip "debug kernel" ;; esac
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
[ -r "$kernel" ] || skip "no $kernel for the guest"
if [ ! -s "$GD/build/initramfs.cpio.gz" ]; then
	echo "not ok 1 $name # no $GD/build/initramfs.cpio.gz (make -C samples)"
	echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
	exit 1
fi
python3 "$ROOT/tests/qemu/pingpong.py" -n 4 --guest "$kernel" \
	--initrd "$GD/build/initramfs.cpio.gz" \
	--append "console=ttyS0 loglevel=5 mitigations=off" \
	--mem 256 --boot-timeout 900 --timeout 300 \
	--workdir "$RES/qemu-pingpong/$name" 2>&1 | sed 's/^/# /'
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ]; then
	echo "ok 1 $name"
else
	echo "# guest console, last lines:"
	tail -n 15 "$RES/qemu-pingpong/$name"/serial-*.log 2>/dev/null | sed 's/^/#   /'
	echo "not ok 1 $name"
fi
echo "# Totals: pass:$((rc == 0)) fail:$((rc != 0)) xfail:0 xpass:0 skip:0 error:0"
exit "$rc"
