#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# migdev through mdevctl 1.2 (Debian 12's), as users manage mdevs: types,
# start/stop of transient devices, define/undefine of persistent ones, and
# a start that the parent's capacity refuses.  KTAP output.
set -u

n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }
diag() { echo "# $*"; }
uuid() { cat /proc/sys/kernel/random/uuid; }

t_types() {
	local out t
	out=$(mdevctl types) || return 1
	for t in small:1024 medium:64 large:16 xlarge:4; do
		grep -A1 "  migdev-${t%%:*}\$" <<<"$out" |
			grep -q "Available instances: ${t##*:}" ||
			{ diag "migdev-${t%%:*} not listed with ${t##*:} available"; return 1; }
	done
	grep -q 'Device API: vfio-pci' <<<"$out"
}

t_start_stop() {
	local u
	u=$(uuid)
	mdevctl start -p migdev0 -t migdev-large -u "$u" || return 1
	mdevctl list | grep -q "^$u migdev0 migdev-large" || return 1
	[ "$(cat /sys/bus/mdev/devices/"$u"/migdev/queues)" = 4 ] || return 1
	[ "$(cat /sys/class/mdev_bus/migdev0/mdev_supported_types/migdev-large/available_instances)" = 15 ] || return 1
	mdevctl stop -u "$u" || return 1
	[ ! -e "/sys/bus/mdev/devices/$u" ] && [ -z "$(mdevctl list)" ]
}

t_start_refused_when_full() {
	local u ret=0 us=()
	for _ in 1 2 3 4; do
		u=$(uuid); us+=("$u")
		mdevctl start -p migdev0 -t migdev-xlarge -u "$u" || ret=1
	done
	u=$(uuid)
	if mdevctl start -p migdev0 -t migdev-xlarge -u "$u" 2>/tmp/mdevctl.err; then
		diag "a fifth xlarge started"; ret=1; mdevctl stop -u "$u"
	else
		diag "refused: $(head -1 /tmp/mdevctl.err)"
	fi
	for u in "${us[@]}"; do mdevctl stop -u "$u" || ret=1; done
	return $ret
}

t_define_start_undefine() {
	local u ret=0
	# The VM's root is read-only: persistent configs go to a tmpfs.
	if ! touch /etc/mdevctl.d/.w 2>/dev/null; then
		cp -a /etc/mdevctl.d /tmp/mdevctl.d
		mount --bind /tmp/mdevctl.d /etc/mdevctl.d || return 1
	fi
	u=$(uuid)
	mdevctl define -p migdev0 -t migdev-medium -u "$u" || return 1
	mdevctl list --defined | grep -q "^$u migdev0 migdev-medium" || ret=1
	mdevctl start -u "$u" || ret=1
	[ -e "/sys/bus/mdev/devices/$u" ] || ret=1
	mdevctl stop -u "$u" || ret=1
	mdevctl undefine -u "$u" || ret=1
	[ -z "$(mdevctl list --defined)" ] || ret=1
	return $ret
}

if ! command -v mdevctl >/dev/null; then
	echo "1..0 # SKIP mdevctl is not installed"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 0
fi
echo "TAP version 13"
echo "1..4"
check types t_types
check start_stop t_start_stop
check start_refused_when_full t_start_refused_when_full
check define_start_undefine t_define_start_undefine
echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail = 0 ]
