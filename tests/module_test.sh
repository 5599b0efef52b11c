#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading the module: parameters, bad parameters, unloading
# with instances present and with one held open.  Runs inside the test VM
# with migdev loaded; leaves it loaded with default parameters.  KTAP output.
set -u

KO=${MIGDEV_ROOT:-.}/migdev.ko
HOLD=${MIGDEV_ROOT:-.}/tests/build/mdl_hold
TYPES=/sys/class/mdev_bus/migdev0/mdev_supported_types
# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"

create() { # parent type -> uuid
	local u
	u=$(cat /proc/sys/kernel/random/uuid)
	echo "$u" >"/sys/class/mdev_bus/$1/mdev_supported_types/$2/create" && echo "$u"
}
reload() { rmmod migdev 2>/dev/null; insmod "$KO" "$@"; }

t_unload_removes_instances() {
	local a b
	a=$(create migdev0 migdev-small) && b=$(create migdev0 migdev-large) || return 1
	rmmod migdev || return 1
	[ ! -e "/sys/bus/mdev/devices/$a" ] && [ ! -e "/sys/bus/mdev/devices/$b" ] &&
		[ ! -e /sys/class/mdev_bus/migdev0 ] || return 1
	insmod "$KO" && [ -e $TYPES/migdev-small ]
}

t_unload_refused_while_open() {
	local u pid ret=0 out
	u=$(create migdev0 migdev-small) || return 1
	coproc HOLDER { exec "$HOLD" "$u"; }
	pid=$HOLDER_PID
	read -r -t 20 out <&"${HOLDER[0]}"
	[ "$out" = open ] || { diag "holder did not open $u"; ret=1; }
	if rmmod migdev 2>/tmp/rmmod.err; then
		diag "rmmod succeeded while $u was open"; ret=1
	else
		diag "rmmod refused: $(cat /tmp/rmmod.err)"
		grep -q 'in use' /tmp/rmmod.err || ret=1
	fi
	# Still usable by its holder's view: the instance is still there.
	[ -e "/sys/bus/mdev/devices/$u" ] || ret=1
	kill "$pid"; wait "$pid" 2>/dev/null
	rmmod migdev || ret=1
	[ ! -e "/sys/bus/mdev/devices/$u" ] || ret=1
	insmod "$KO" || ret=1
	return $ret
}

t_nr_parents() {
	local i
	reload nr_parents=3 || return 1
	for i in 0 1 2; do
		[ -e "/sys/class/mdev_bus/migdev$i/mdev_supported_types/migdev-xlarge" ] || return 1
	done
	[ ! -e /sys/class/mdev_bus/migdev3 ] || return 1
	# None at all: the module then only has the PCI functions given to it.
	reload nr_parents=0 || return 1
	[ -d /sys/bus/pci/drivers/migdev ] && [ -z "$(ls /sys/class/migdev)" ] ||
		{ diag "nr_parents=0: $(ls /sys/class/migdev)"; return 1; }
	reload nr_parents=3 || return 1
	# Parents have separate capacity.
	local u
	u=$(create migdev1 migdev-xlarge) || return 1
	[ "$(cat /sys/class/mdev_bus/migdev0/mdev_supported_types/migdev-xlarge/available_instances)" = 4 ] &&
	[ "$(cat /sys/class/mdev_bus/migdev1/mdev_supported_types/migdev-xlarge/available_instances)" = 3 ] || return 1
	echo 1 >"/sys/bus/mdev/devices/$u/remove"
}

t_capacity_params() {
	reload parent_devmem_mb=512 parent_queues=3 || return 1
	[ "$(cat $TYPES/migdev-small/available_instances)" = 3 ] &&
	[ "$(cat $TYPES/migdev-large/available_instances)" = 0 ] &&
	[ "$(cat $TYPES/migdev-medium/available_instances)" = 1 ]
}

t_bad_params() {
	local p ret=0
	rmmod migdev 2>/dev/null
	for p in nr_parents=17 parent_queues=0 parent_devmem_mb=1 engines=0 \
		engines=65 stream_minor=5; do
		if insmod "$KO" "$p" 2>/dev/null; then
			diag "insmod $p succeeded"; ret=1; rmmod migdev
		fi
		dmesg | tail -1 | grep -q "migdev: .*$p" || { diag "no log line for $p"; ret=1; }
	done
	# Nothing was left behind: a good load works.
	insmod "$KO" && [ -e $TYPES/migdev-small ] || ret=1
	return $ret
}

# stream_minor=1: the module speaks as the release before stream 1.2 did.
t_stream_minor() {
	local u m ret=0
	reload stream_minor=1 || return 1
	u=$(create migdev0 migdev-small) || return 1
	m=/sys/bus/mdev/devices/$u/migdev/migration_minor
	[ "$(cat "$m")" = 1 ] || { diag "migration_minor $(cat "$m"), not 1"; ret=1; }
	if echo 2 2>/dev/null >"$m"; then
		diag "migration_minor 2 accepted under stream_minor=1"; ret=1
	fi
	dmesg | tail -1 | grep -q "migration_minor 2: .* up to 1.1" ||
		{ diag "no log line for migration_minor 2"; ret=1; }
	echo 0 >"$m" && [ "$(cat "$m")" = 0 ] || ret=1
	echo 1 >"/sys/bus/mdev/devices/$u/remove"
	reload || return 1
	u=$(create migdev0 migdev-small) || return 1
	m=/sys/bus/mdev/devices/$u/migdev/migration_minor
	[ "$(cat "$m")" = 4 ] || { diag "default migration_minor $(cat "$m"), not 4"; ret=1; }
	echo 1 >"/sys/bus/mdev/devices/$u/remove"
	return $ret
}

echo "TAP version 13"
echo "1..6"
check unload_removes_instances t_unload_removes_instances
check unload_refused_while_open t_unload_refused_while_open
check nr_parents t_nr_parents
check capacity_params t_capacity_params
check bad_params t_bad_params
check stream_minor t_stream_minor
reload >/dev/null 2>&1
lsmod | grep -q '^migdev ' || insmod "$KO"
ktap_totals
