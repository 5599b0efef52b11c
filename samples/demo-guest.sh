#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What scripts/demo.sh shows, inside the test VM: the parent and its types,
# instances created through sysfs and through mdevctl, what each one is as
# seen through VFIO, a QEMU guest migrating back and forth between two
# instances while its workload checks itself, and the same on a PCI
# parent (the VM's spare function, given to migdev as a GPU to its driver).
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

if [ -n "${MIGDEV_SPARE_PCI:-}" ] && [ -e "/sys/bus/pci/devices/$MIGDEV_SPARE_PCI" ]; then
	step "a PCI parent: the VM's spare function given to migdev"
	A=$MIGDEV_SPARE_PCI
	echo "echo migdev > /sys/bus/pci/devices/$A/driver_override"
	echo "echo $A > /sys/bus/pci/drivers_probe"
	echo migdev >"/sys/bus/pci/devices/$A/driver_override"
	echo "$A" >/sys/bus/pci/drivers_probe
	echo "its driver: $(basename "$(readlink "/sys/bus/pci/devices/$A/driver")")"
	echo "its types: $(ls "/sys/bus/pci/devices/$A/mdev_supported_types" | tr '\n' ' ')"
	ls /sys/class/mdev_bus/
	if command -v qemu-system-x86_64 >/dev/null &&
		[ -e guest/build/migdev-guest.elf ]; then
		echo "the guest again, its instances on $A: 2 round trips"
		python3 tests/qemu/pingpong.py --parent "$A" -n 4 \
			--workdir /tmp/migdev-demo-pingpong-pci
	fi
	echo "echo $A > /sys/bus/pci/drivers/migdev/unbind"
	echo "$A" >/sys/bus/pci/drivers/migdev/unbind
	echo >"/sys/bus/pci/devices/$A/driver_override"
fi
