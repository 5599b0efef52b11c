#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A PCI parent: the test VM's spare function ($MIGDEV_SPARE_PCI, QEMU's
# pci-testdev; tests/vm/run.sh) given to migdev as a GPU is given to its
# driver.  Bind it; its types, capacity and parameters are a virtual
# parent's; an instance lives below the function; QEMU migrates a guest
# with one (and with two); unbinding asks the users of open instances to
# let go through the request interrupt and waits for them, and a user
# that does not let go holds the unbind until it is killed; the function
# binds again; the module's unload and load take the function with them,
# also with nr_parents=0.  Runs in the test VM with migdev loaded; leaves
# it loaded with default parameters and the function unbound.  KTAP.
set -u

ROOT=${MIGDEV_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RES=${MIGDEV_RESULTS:-/tmp}
KO=${MIGDEV_KO:-$ROOT/migdev.ko}
HOLD=$ROOT/tests/build/mdl_hold
A=${MIGDEV_SPARE_PCI:-}
DEV=/sys/bus/pci/devices/$A
TYPES=$DEV/mdev_supported_types
VTYPES=/sys/class/mdev_bus/migdev0/mdev_supported_types
# shellcheck source=tests/lib/ktap.sh
. "$ROOT/tests/lib/ktap.sh"
# shellcheck source=tests/lib/pci_parent.sh
. "$ROOT/tests/lib/pci_parent.sh"

new_uuid() { cat /proc/sys/kernel/random/uuid; }
create() { # types-dir type -> uuid
	local u
	u=$(new_uuid)
	echo "$u" >"$1/$2/create" && echo "$u"
}
remove() { echo 1 >"/sys/bus/mdev/devices/$1/remove"; }
avail() { cat "$1/$2/available_instances"; }
# wait_gone PID SECONDS: true once PID has exited
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

t_bind() {
	local t ret=0
	pci_parent_bind "$A" || { diag "cannot bind $A"; return 1; }
	[ -e "/sys/class/mdev_bus/$A" ] || { diag "no /sys/class/mdev_bus/$A"; ret=1; }
	dmesg | grep -q "migdev $A: a parent of mediated devices" ||
		{ diag "no log line for the bind"; ret=1; }
	# The same types, named and described as on the virtual parent.
	[ "$(ls "$TYPES")" = "$(ls "$VTYPES")" ] ||
		{ diag "types: $(ls "$TYPES" | tr '\n' ' ')"; ret=1; }
	for t in "$VTYPES"/*; do
		t=${t##*/}
		for f in name description device_api available_instances; do
			[ "$(cat "$TYPES/$t/$f")" = "$(cat "$VTYPES/$t/$f")" ] ||
				{ diag "$t/$f: $(cat "$TYPES/$t/$f")"; ret=1; }
		done
		[ "$(cat "$TYPES/$t/migdev/migration_compat")" = \
		  "$(cat "$VTYPES/$t/migdev/migration_compat")" ] ||
			{ diag "$t: another migration_compat"; ret=1; }
	done
	return $ret
}

t_capacity() {
	local us=() u ret=0 v
	v=$(avail "$VTYPES" migdev-xlarge)
	while [ "$(avail "$TYPES" migdev-xlarge)" != 0 ]; do
		u=$(create "$TYPES" migdev-xlarge) || { diag "create failed early"; ret=1; break; }
		us+=("$u")
		[ ${#us[@]} -le 64 ] || { ret=1; break; }
	done
	diag "${#us[@]} xlarge instances fill the function"
	[ ${#us[@]} = "$v" ] || { diag "the virtual parent holds $v"; ret=1; }
	# One more is refused, and nothing changes.
	u=$(new_uuid)
	if echo "$u" 2>/dev/null >"$TYPES/migdev-xlarge/create"; then
		diag "a create past the capacity succeeded"; ret=1; remove "$u"
	fi
	[ ! -e "/sys/bus/mdev/devices/$u" ] || ret=1
	[ "$(avail "$TYPES" migdev-small)" = 0 ] || ret=1
	# The virtual parent's capacity is its own.
	[ "$(avail "$VTYPES" migdev-xlarge)" = "$v" ] || { diag "the virtual parent lost capacity"; ret=1; }
	for u in "${us[@]}"; do remove "$u" || ret=1; done
	[ "$(avail "$TYPES" migdev-xlarge)" = "$v" ] || ret=1
	return $ret
}

t_instance() {
	local u d ret=0
	u=$(create "$TYPES" migdev-medium) || return 1
	d=/sys/bus/mdev/devices/$u
	case $(readlink -f "$d") in
	"/sys/devices/pci0000:00/$A/$u") ;;
	*) diag "instance at $(readlink -f "$d")"; ret=1 ;;
	esac
	[ "$(readlink -f "$d/mdev_type")" = "$(readlink -f "$TYPES/migdev-medium")" ] || ret=1
	# Its parameters, as on a virtual parent's.
	echo 3 >"$d/migdev/migration_minor" && [ "$(cat "$d/migdev/migration_minor")" = 3 ] || ret=1
	if echo 99 2>/dev/null >"$d/migdev/migration_minor"; then
		diag "migration_minor 99 accepted"; ret=1
	fi
	# Pre-flight: a virtual parent's instance of the same type and
	# stream takes this one's stream, and the other way round.
	# (cat: a description goes in one write.)
	cat "$d/migdev/migration_compat" \
		>"$VTYPES/migdev-medium/migdev/migration_compat_check" ||
		{ diag "the virtual parent refuses $u's stream"; ret=1; }
	cat "$VTYPES/migdev-medium/migdev/migration_compat" \
		>"$TYPES/migdev-medium/migdev/migration_compat_check" || ret=1
	if cat "$VTYPES/migdev-small/migdev/migration_compat" \
		2>/dev/null >"$TYPES/migdev-medium/migdev/migration_compat_check"; then
		diag "medium takes small"; ret=1
	fi
	remove "$u" || ret=1
	[ ! -e "$d" ] || ret=1
	return $ret
}

# QEMU on instances of the function: the plain ping-pong, and two devices.
t_qemu() {
	local ret=0
	if ! command -v qemu-system-x86_64 >/dev/null ||
		[ ! -e "$ROOT/guest/build/migdev-guest.elf" ]; then
		diag "no QEMU or no guest"; return 1
	fi
	python3 "$ROOT/tests/qemu/pingpong.py" --parent "$A" -n "$1" \
		--workdir "$RES/pci-parent/$2" ${3:+$3} 2>&1 | sed 's/^/# /'
	[ "${PIPESTATUS[0]}" = 0 ] || ret=1
	return $ret
}

# Unbinding with instances: one open by a user that lets go when asked
# (as QEMU does when its guest gives the device up), one closed.
t_unbind_asks_users() {
	local a b pid ub ret=0 out
	a=$(create "$TYPES" migdev-small) && b=$(create "$TYPES" migdev-large) || return 1
	coproc HOLDER { exec "$HOLD" --until-request "$a"; }
	pid=$HOLDER_PID
	read -r -t 20 out <&"${HOLDER[0]}"
	[ "$out" = open ] || { diag "holder did not open $a"; return 1; }
	echo "$A" >/sys/bus/pci/drivers/migdev/unbind &
	ub=$!
	read -r -t 30 out <&"${HOLDER[0]}"
	[ "$out" = request ] || { diag "holder got '$out', not the request"; ret=1; }
	read -r -t 30 out <&"${HOLDER[0]}"
	[ "$out" = closed ] || { diag "holder did not close: '$out'"; ret=1; }
	wait_gone "$ub" 30 || { diag "unbind still waits"; kill "$pid"; ret=1; }
	wait "$ub" || { diag "unbind failed"; ret=1; }
	wait "$pid" 2>/dev/null || ret=1
	[ ! -e "/sys/bus/mdev/devices/$a" ] && [ ! -e "/sys/bus/mdev/devices/$b" ] ||
		{ diag "instances left"; ret=1; }
	[ -z "$(pci_parent_driver "$A")" ] && [ ! -e "$TYPES" ] &&
		[ ! -e "/sys/class/mdev_bus/$A" ] || { diag "still a parent"; ret=1; }
	return $ret
}

# A user that does not let go holds the unbind (as with vfio-pci) until
# it goes; then everything goes, and the function binds again.
t_unbind_waits_for_holder() {
	local u pid ub ret=0 out
	pci_parent_bind "$A" || return 1
	[ "$(avail "$TYPES" migdev-small)" = "$(avail "$VTYPES" migdev-small)" ] ||
		{ diag "capacity not whole after a bind"; ret=1; }
	u=$(create "$TYPES" migdev-small) || return 1
	coproc HOLDER { exec "$HOLD" "$u"; }
	pid=$HOLDER_PID
	read -r -t 20 out <&"${HOLDER[0]}"
	[ "$out" = open ] || { diag "holder did not open $u"; return 1; }
	echo "$A" >/sys/bus/pci/drivers/migdev/unbind &
	ub=$!
	if wait_gone "$ub" 3; then
		diag "unbind returned while $u was open"; ret=1
	fi
	kill -0 "$pid" 2>/dev/null || { diag "the holder died"; ret=1; }
	kill "$pid"
	wait_gone "$ub" 30 || { diag "unbind still waits after the holder went"; ret=1; }
	wait "$ub" || ret=1
	[ ! -e "/sys/bus/mdev/devices/$u" ] && [ -z "$(pci_parent_driver "$A")" ] || ret=1
	# Bound again, an instance opens.
	pci_parent_bind "$A" || return 1
	u=$(create "$TYPES" migdev-small) || return 1
	coproc HOLDER { exec "$HOLD" "$u"; }
	pid=$HOLDER_PID
	read -r -t 20 out <&"${HOLDER[0]}"
	[ "$out" = open ] || { diag "cannot open $u after a rebind"; ret=1; }
	kill "$pid"; wait "$pid" 2>/dev/null
	remove "$u" || ret=1
	return $ret
}

# Unloading removes the function's instances and unbinds it; loading
# binds it again (its driver_override stays), also with no virtual
# parent at all.
t_module_reload() {
	local u ret=0
	u=$(create "$TYPES" migdev-small) || return 1
	rmmod migdev || { diag "rmmod failed"; return 1; }
	[ ! -e "/sys/bus/mdev/devices/$u" ] && [ -z "$(pci_parent_driver "$A")" ] ||
		{ diag "left after rmmod"; ret=1; }
	insmod "$KO" nr_parents=0 || { diag "insmod nr_parents=0 failed"; return 1; }
	[ ! -e /sys/class/mdev_bus/migdev0 ] && [ -z "$(ls /sys/class/migdev)" ] ||
		{ diag "a virtual parent with nr_parents=0"; ret=1; }
	[ "$(pci_parent_driver "$A")" = migdev ] && [ -e "$TYPES/migdev-small" ] ||
		{ diag "$A not bound again at load"; ret=1; }
	u=$(create "$TYPES" migdev-xlarge) && remove "$u" || ret=1
	rmmod migdev && insmod "$KO" || { diag "reload failed"; return 1; }
	[ -e "$VTYPES/migdev-small" ] && [ "$(pci_parent_driver "$A")" = migdev ] || ret=1
	return $ret
}

echo "TAP version 13"
echo "1..8"
if [ -z "$A" ] || [ ! -e "$DEV" ]; then
	for t in bind capacity instance qemu_ping_pong qemu_two_devices \
		unbind_asks_users unbind_waits_for_holder module_reload; do
		ok "$t" "SKIP no spare PCI function (tests/vm/run.sh makes one)"
	done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:$n error:0"
	exit 0
fi
diag "the spare function: $A ($(cat "$DEV/vendor"):$(cat "$DEV/device"))"
hops=10
case $(uname -r) in *debug*) hops=4 ;; esac
check bind t_bind
check capacity t_capacity
check instance t_instance
check "qemu_ping_pong_${hops}_hops" t_qemu "$hops" ping_pong
check qemu_two_devices t_qemu 2 two_devices "--devices 2"
check unbind_asks_users t_unbind_asks_users
check unbind_waits_for_holder t_unbind_waits_for_holder
check module_reload t_module_reload
pci_parent_unbind "$A" || notok cleanup "cannot unbind $A"
ktap_totals
