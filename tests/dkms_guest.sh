#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the test VM of tests/dkms_test.sh, booted with --no-insmod: load
# migdev as a user of the migdev-dkms package does, with modprobe; it
# must come from DKMS's updates/dkms, not the build tree; then migrate a
# guest between two instances with QEMU.
set -u

ROOT=${MIGDEV_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RES=${MIGDEV_RESULTS:-/tmp}
rc=0
path=$(modinfo -n migdev 2>&1)
echo "# modinfo -n migdev: $path"
case $path in
*/updates/dkms/migdev.ko*) echo "ok 1 modinfo_finds_the_dkms_module" ;;
*) echo "not ok 1 modinfo_finds_the_dkms_module"; rc=1 ;;
esac
if modprobe migdev && [ -e /sys/class/mdev_bus/migdev0 ] &&
	[ "$(cat /sys/module/migdev/srcversion)" = "$(modinfo -F srcversion migdev)" ]; then
	echo "ok 2 modprobe_loads_it"
else
	echo "not ok 2 modprobe_loads_it"
	exit 1
fi
if timeout 600 python3 "$ROOT/tests/qemu/pingpong.py" -n 4 \
	--workdir "$RES/pingpong" 2>&1 | sed 's/^/# /'; [ "${PIPESTATUS[0]}" = 0 ]; then
	echo "ok 3 guest_migrates_with_it"
else
	echo "not ok 3 guest_migrates_with_it"
	rc=1
fi
modprobe -r migdev || rc=1
exit $rc
