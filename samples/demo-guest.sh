#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What scripts/demo.sh shows, inside the test VM: the parent and its types,
# instances created through sysfs and through mdevctl, what each one is as
# seen through VFIO, and a QEMU guest migrating back and forth between two
# instances while its workload checks itself.
set -eu

cd "$(dirname "$0")/.."
info=samples/build/migdev-info
types=/sys/class/mdev_bus/migdev0/mdev_supported_types

step() { printf '\n== %s\n' "$*"; }

step "parent devices (/sys/class/mdev_bus)"
ls /sys/class/mdev_bus/

step "types of migdev0"
for t in "$types"/*; do
	printf '%-14s name=%-15s available=%-5s %s\n' "$(basename "$t")" \
		"$(cat "$t/name")" "$(cat "$t/available_instances")" \
		"$(cat "$t/description")"
done

step "create a migdev-large through sysfs"
a=$(cat /proc/sys/kernel/random/uuid)
echo "echo $a > $types/migdev-large/create"
echo "$a" >"$types/migdev-large/create"

step "create a migdev-small through mdevctl"
b=$(cat /proc/sys/kernel/random/uuid)
echo "mdevctl start -p migdev0 -t migdev-small -u $b"
if command -v mdevctl >/dev/null; then
	mdevctl start -p migdev0 -t migdev-small -u "$b"
	mdevctl list
else
	echo "(mdevctl not installed: using sysfs)"
	echo "$b" >"$types/migdev-small/create"
fi

step "capacity left: large $(cat $types/migdev-large/available_instances), small $(cat $types/migdev-small/available_instances)"

step "the instances, opened through VFIO (samples/migdev-info)"
"$info"

step "remove them"
echo 1 >"/sys/bus/mdev/devices/$a/remove"
echo 1 >"/sys/bus/mdev/devices/$b/remove"
"$info"

step "a QEMU guest migrating back and forth (tests/qemu/pingpong.py)"
cat <<'TXT'
QEMU 10 boots guest/build/migdev-guest.elf on instance A; its workload
drives the device (DMA copy, fill, CRC, device memory through the mapped
BAR, MSI-X) and checks every result.  The guest is migrated to a second
QEMU on instance B and back, 3 round trips; each hop must complete and the
guest must go on without a mismatch.
TXT
if command -v qemu-system-x86_64 >/dev/null &&
	[ -e guest/build/migdev-guest.elf ]; then
	python3 tests/qemu/pingpong.py -n 6 --workdir /tmp/migdev-demo-pingpong
else
	echo "(no qemu-system-x86_64 or guest/build/migdev-guest.elf: skipped)"
fi
