#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# samples/migdev-compat, the pre-flight check as an orchestrator runs it:
# the description of an instance and of a type, a destination of the same
# type that would take it (also through a pipe, as between two hosts), one
# of another type that would not (ENODEV, with the kernel's reason), both
# directions of a pair whose stream versions differ (one way only), and a
# file that is not a description (EINVAL).  No check changes an instance.
# KTAP.
set -u

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"
cd "$(dirname "$0")/.." || exit 1

tool=samples/build/migdev-compat
types=/sys/class/mdev_bus/migdev0/mdev_supported_types
work=$(mktemp -d)
uuid() { cat /proc/sys/kernel/random/uuid; }
new() { local u; u=$(uuid); echo "$u" >"$types/$1/create" && echo "$u"; }
a=$(new migdev-small) b=$(new migdev-small) c=$(new migdev-medium)
trap 'for u in $a $b $c; do echo 1 >/sys/bus/mdev/devices/$u/remove; done; rm -rf "$work"' EXIT

# Run the tool: its output in $work/out, its status in $rc.
run() { "$tool" "$@" >"$work/out" 2>&1; rc=$?; sed 's/^/#   /' "$work/out"; }
has() { grep -q -- "$1" "$work/out" || { diag "no '$1'"; return 1; }; }

t_show() {
	run show "$a" && [ $rc = 0 ] && has '^migdev-compat=1$' &&
		has '^type=migdev-small$' && has '^queues=1$' &&
		has '^accept=1\.0-1\.[0-9]*$' || return 1
	cp "$work/out" "$work/a.desc"
	run show migdev-small && cmp -s "$work/out" "$work/a.desc"
}

t_same_type() {
	"$tool" show "$a" | "$tool" check "$b" >"$work/out" 2>&1
	rc=$?
	sed 's/^/#   /' "$work/out"
	[ $rc = 0 ] && has "$b would take it" || return 1
	run check migdev-small "$work/a.desc" && [ $rc = 0 ]
}

t_other_type() {
	run check "$c" "$work/a.desc"
	[ $rc = 1 ] && has "would not take it: No such device" || return 1
	# The module's reason is rate-limited (10 lines in 5 s): after tests
	# that drew many, wait for the next interval and ask again.
	if ! grep -q "kernel: " "$work/out"; then
		sleep 5
		run check "$c" "$work/a.desc"
	fi
	has "kernel: .*type migdev-small, this is migdev-medium"
}

t_versions() {
	echo 3 >"/sys/bus/mdev/devices/$b/migdev/migration_minor" || return 1
	run "$a" "$b"
	[ $rc = 1 ] && has "^$a: $b would not take it: Protocol not supported" &&
		has "^$b: $a would take it" || return 1
	echo 3 >"/sys/bus/mdev/devices/$a/migdev/migration_minor" || return 1
	run "$a" "$b" && [ $rc = 0 ]
}

t_not_a_description() {
	echo "hello" >"$work/bad"
	run check "$a" "$work/bad"
	[ $rc = 1 ] && has "Invalid argument" || return 1
	# Nothing changed: the instance says what it said before.
	run show "$a" && has '^stream=1\.3$'
}

if [ ! -x "$tool" ]; then
	echo "1..0 # SKIP $tool is not built (make -C samples)"
	exit 0
fi
echo "TAP version 13"
echo "1..5"
check show_instance_and_type t_show
check same_type_would_take_it t_same_type
check other_type_would_not t_other_type
check stream_versions_one_way t_versions
check not_a_description t_not_a_description
ktap_totals
