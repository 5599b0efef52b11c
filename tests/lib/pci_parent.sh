# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by tests that use a PCI parent: the test VM's spare function
# ($MIGDEV_SPARE_PCI, tests/vm/run.sh) given to migdev as an
# administrator gives a GPU to its driver.
#   pci_parent_bind ADDR     driver_override, then a probe; true once
#                            ADDR is migdev's with its types (at once if
#                            it already is)
#   pci_parent_unbind ADDR   unbind (waits for the users of its instances
#                            to let go) and clear driver_override
#   pci_parent_driver ADDR   the name of ADDR's driver, or nothing

pci_parent_driver() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || return 0
	echo "${l##*/}"
}

pci_parent_bind() {
	local a=$1 d
	[ -n "$a" ] && [ -e "/sys/bus/pci/devices/$a" ] || {
		echo "# pci_parent_bind: no PCI function '$a'" >&2
		return 1
	}
	d=$(pci_parent_driver "$a")
	if [ -z "$d" ]; then
		echo migdev >"/sys/bus/pci/devices/$a/driver_override" &&
			echo "$a" >/sys/bus/pci/drivers_probe || return 1
	elif [ "$d" != migdev ]; then
		echo "# pci_parent_bind: $a belongs to $d" >&2
		return 1
	fi
	[ "$(pci_parent_driver "$a")" = migdev ] &&
		[ -e "/sys/bus/pci/devices/$a/mdev_supported_types/migdev-small" ]
}

pci_parent_unbind() {
	local a=$1
	if [ "$(pci_parent_driver "$a")" = migdev ]; then
		echo "$a" >/sys/bus/pci/drivers/migdev/unbind || return 1
	fi
	# An empty write clears the override.
	echo >"/sys/bus/pci/devices/$a/driver_override" &&
		[ -z "$(pci_parent_driver "$a")" ]
}
