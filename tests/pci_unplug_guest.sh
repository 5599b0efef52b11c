#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test VM's side of tests/pci_unplug_test.sh: give the spare function
# to migdev, make three instances on it and open two with users that let
# go when asked (mdl_hold --until-request, as QEMU does once its guest
# has given the device up), say "ready" in the results share, and wait
# for the function to go (the outer QEMU's device_del, through ACPI PCI
# hotplug).  Then: both users were asked and closed, every instance and
# the parent went, and the virtual parent still works.  Say "replug": the
# host plugs the function in again, which binds again and has instances;
# and the module unloads and loads.  Its checks go to
# $MIGDEV_RESULTS/unplug.ktap as "ok NAME" / "not ok NAME" lines, which
# the host numbers.
set -u

ROOT=${MIGDEV_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RES=${MIGDEV_RESULTS:-/tmp}
KO=${MIGDEV_KO:-$ROOT/migdev.ko}
HOLD=$ROOT/tests/build/mdl_hold
A=${MIGDEV_SPARE_PCI:-}
OUTF=$RES/unplug.ktap
# shellcheck source=tests/lib/pci_parent.sh
. "$ROOT/tests/lib/pci_parent.sh"

: >"$OUTF"
res() { # NAME CMD...: one check
	local name=$1
	shift
	# Not in a pipeline: the check may wait for this shell's children.
	if "$@"; then
		echo "ok $name" | tee -a "$OUTF"
	else
		echo "not ok $name" | tee -a "$OUTF"
	fi
}
diag() { echo "# $*" | tee -a "$OUTF"; }
# hold UUID FILE: a user of UUID (mdl_hold --until-request) in the
# background, its output in FILE; true once it has the device open.
hold() {
	"$HOLD" --until-request "$1" >"$2" 2>&1 &
	for _ in $(seq 100); do grep -qx open "$2" && return 0; sleep 0.1; done
	return 1
}
# let_go FILE: that user was asked to let go, and did.
let_go() { [ "$(tr '\n' ' ' <"$1")" = "open request closed " ]; }
create() { # type -> uuid
	local u
	u=$(cat /proc/sys/kernel/random/uuid)
	echo "$u" >"/sys/bus/pci/devices/$A/mdev_supported_types/$1/create" && echo "$u"
}

pci_parent_bind "$A" || { res bind false; exit 1; }
u1=$(create migdev-small) && u2=$(create migdev-large) && u3=$(create migdev-medium) ||
	{ res create_instances false; exit 1; }
hold "$u1" /tmp/h1.out
r1=$? p1=$!
hold "$u2" /tmp/h2.out
r2=$? p2=$!
opened() { [ $r1 = 0 ] && [ $r2 = 0 ]; }
res two_instances_open opened || exit 1
diag "instances on $A: $u1 $u2 (open), $u3"

# The host deletes the function now.
echo ready >"$RES/unplug-ready"
gone=0
for _ in $(seq 1200); do
	[ -e "/sys/bus/pci/devices/$A" ] || { gone=1; break; }
	sleep 0.1
done
res function_removed [ $gone = 1 ]
users_let_go() {
	local h
	for h in 1 2; do
		let_go /tmp/h$h.out || { diag "user $h: $(tr '\n' ' ' </tmp/h$h.out)"; return 1; }
	done
	wait "$p1" && wait "$p2"
}
res users_asked_and_let_go users_let_go
instances_gone() {
	local u
	for u in "$u1" "$u2" "$u3"; do
		[ ! -e "/sys/bus/mdev/devices/$u" ] || { diag "$u is left"; return 1; }
	done
	[ ! -e "/sys/class/mdev_bus/$A" ]
}
res instances_and_parent_gone instances_gone
virtual_parent_works() {
	local u
	u=$(cat /proc/sys/kernel/random/uuid)
	echo "$u" >/sys/class/mdev_bus/migdev0/mdev_supported_types/migdev-small/create || return 1
	hold "$u" /tmp/h3.out || return 1
	echo 1 >"/sys/bus/mdev/devices/$u/remove" || return 1
	wait $! && let_go /tmp/h3.out
}
res virtual_parent_still_works virtual_parent_works

# The host plugs the function in again: it binds again, and an instance
# of it opens and goes.
echo replug >"$RES/unplug-replug"
back=0
for _ in $(seq 600); do
	[ -e "/sys/bus/pci/devices/$A" ] && { back=1; break; }
	sleep 0.1
done
rebound() {
	local u
	[ $back = 1 ] || { diag "the function did not come back"; return 1; }
	pci_parent_bind "$A" || return 1
	u=$(create migdev-xlarge) || return 1
	hold "$u" /tmp/h4.out || return 1
	pci_parent_unbind "$A" || return 1
	wait $! && let_go /tmp/h4.out && [ ! -e "/sys/bus/mdev/devices/$u" ]
}
res plugged_again_binds_again rebound
reload() { rmmod migdev && insmod "$KO"; }
res module_unloads_and_loads reload
