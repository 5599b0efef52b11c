#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# samples/migdev-stream on streams the module itself saved: a real stream
# (migdev-pingpong --save, a small and a medium instance after a DMA
# workload) is listed record by record with every checksum right and
# accepted; the same stream with a page's byte flipped, cut short, given
# to another type, or to a destination of an older minor is refused with
# the reason the kernel logs; and the tool's verdict on each matches the
# module's own, a destination instance being fed the same bytes.  KTAP.
set -u

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"
cd "$(dirname "$0")/.." || exit 1

tool=samples/build/migdev-stream
instances() { find /sys/bus/mdev/devices -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
before=$(instances)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Run the tool; its output in $work/out, its status returned.
inspect() { "$tool" "$@" >"$work/out" 2>&1; }
has() { grep -q -- "$1" "$work/out" || { diag "no '$1' in:"; sed 's/^/#   /' "$work/out"; return 1; }; }

# A stream saved by the module: listed, every checksum right, accepted.
t_saved() {
	local t=$1 f=$work/$1.bin
	samples/build/migdev-pingpong -t "$t" --save "$f" >/dev/null || return 1
	inspect "$f" || { diag "status $?"; sed 's/^/#   /' "$work/out"; return 1; }
	has "stream 1\.[0-9]*, type [0-9] ($t)" && has "checksum ok" &&
		has " DEVMEM .*pages " && has " CONFIG " && has " QUEUE .*queue 0" &&
		has " END " && has "; 0 with a bad checksum" &&
		has "type $t .*: accepts it" && ! grep -q " BAD" "$work/out"
}

# The module, fed file $2 by a new instance of type $1: "accepts" (and
# the device restored is the one saved) or "refuses".
module_verdict() {
	local out
	out=$(samples/build/migdev-pingpong -t "$1" --restore "$2" 2>&1)
	case $out in
	*"memory and registers verified"*) echo accepts ;;
	*"the device refused the file"*) echo refuses ;;
	*) diag "migdev-pingpong --restore: $out"; echo "?" ;;
	esac
}

t_flipped() {
	local f=$work/small.bin g=$work/flipped.bin
	cp "$f" "$g" && cp "$f.check" "$g.check"
	# A byte of the first DEVMEM record's first page.
	printf '\xa5' | dd of="$g" bs=1 seek=$((64 + 32 + 16 + 100)) conv=notrunc status=none
	inspect "$g"
	[ $? = 1 ] && has "1 with a bad checksum" && has " BAD" &&
		has "refuses it at byte [0-9]*: record tag 1 .*checksum mismatch" &&
		[ "$(module_verdict small "$g")" = refuses ]
}

t_truncated() {
	local g=$work/cut.bin
	head -c 5000 "$work/small.bin" >"$g"
	inspect "$g"
	[ $? = 1 ] && has "truncated" && has "refuses it at byte 5000: stream truncated"
}

t_other_type() {
	inspect -t medium "$work/small.bin"
	[ $? = 1 ] && has "refuses it at byte 64: type mismatch: stream has type 0, device is type 1"
}

t_older_destination() {
	inspect -m 3 "$work/small.bin"
	[ $? = 1 ] && has "refuses it at byte 64: stream version 1\.[4-9] is newer than the 1.3"
}

t_agrees_with_module() {
	[ "$(module_verdict small "$work/small.bin")" = accepts ] &&
		[ "$(module_verdict medium "$work/medium.bin")" = accepts ]
}

# migdev-pingpong removes its instances whatever happened: a refused
# restore used to leave one behind, and with it less capacity for the
# tests after this one.
t_none_left() {
	[ "$(instances)" = "$before" ] ||
		{ diag "instances: $before before, $(instances) after"; return 1; }
}

echo "TAP version 13"
echo "1..8"
check saved_small t_saved small
check saved_medium t_saved medium
check flipped_page t_flipped
check truncated t_truncated
check other_type t_other_type
check older_destination t_older_destination
check agrees_with_module t_agrees_with_module
check no_instance_left t_none_left
ktap_totals
