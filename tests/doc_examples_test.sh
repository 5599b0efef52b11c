#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The examples Documentation/migdev.rst gives for the toolkit (debugfs
# faults, writer, opaque), run as written against an instance that a
# process holds open, as a VMM would: each block runs whole without an
# error, and what the files then say is what the examples armed.  An
# example that the module no longer takes, or a block the documentation
# lost, fails here.  KTAP.
# The patterns name $uuid, $F and $W as the documentation writes them:
# shellcheck disable=SC2016
set -u

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"
cd "$(dirname "$0")/.." || exit 1
DOC=Documentation/migdev.rst
HOLD=tests/build/mdl_hold

work=$(mktemp -d)
u=$(cat /proc/sys/kernel/random/uuid)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -e "/sys/bus/mdev/devices/$u" ] && echo 1 >"/sys/bus/mdev/devices/$u/remove"
	rm -rf "$work"
}
trap cleanup EXIT

# The literal block that starts with the line matching $1: its lines
# (two spaces of indent taken off) up to the first blank one.
block() {
	awk -v start="$1" '
		!on && $0 ~ start { on = 1 }
		on && /^$/ { exit }
		on { sub(/^  /, ""); print }' "$DOC"
}

# Run block $1 (a file) in bash -e with $uuid set; its output in $1.out.
run_block() {
	uuid=$u bash -e "$1" >"$1.out" 2>&1 ||
		{ diag "$(basename "$1") failed:"; sed 's/^/#   /' "$1.out"; return 1; }
}

echo "TAP version 13"
echo "1..7"
echo "$u" >/sys/class/mdev_bus/migdev0/mdev_supported_types/migdev-small/create || exit 1
coproc HOLDER { exec "$HOLD" "$u"; }
pid=$HOLDER_PID
read -r -t 20 opened <&"${HOLDER[0]}"
[ "${opened:-}" = open ] || { diag "mdl_hold did not open $u"; exit 1; }

block '^  F=/sys/kernel/debug/migdev/\$uuid/faults' >"$work/faults"
block '^  W=/sys/kernel/debug/migdev/\$uuid/writer' >"$work/writer"
grep -E '^  echo [^|]*> /sys/kernel/debug/migdev/\$uuid/opaque' "$DOC" |
	sed 's/^  //' >"$work/opaque"
rules=$(grep -c "^echo '.*' > \$F" "$work/faults")
diag "examples: $rules fault rules, $(grep -c '> \$W' "$work/writer") writer lines, $(wc -l <"$work/opaque") opaque line(s)"
check "the documentation has its fault, writer and opaque examples" \
	test "$rules" -ge 10 -a -s "$work/writer" -a -s "$work/opaque"

# The faults block lists the rules ("cat $F") before it clears them: run
# it to there, and each rule but "now" is listed as written.
sed '/^echo clear > \$F/,$d' "$work/faults" >"$work/faults-armed"
check "fault examples run as written on an open instance" run_block "$work/faults-armed"
t_rules_listed() {
	local r bad=0
	while IFS= read -r r; do
		case $r in now\ *) continue ;; esac
		grep -qF ": $r hits=" "$work/faults-armed.out" ||
			{ diag "rule not listed: $r"; bad=1; }
	done < <(sed -n "s/^echo '\(.*\)' > \$F.*/\1/p" "$work/faults")
	return $bad
}
check "every fault example is armed as written" t_rules_listed
echo clear >"/sys/kernel/debug/migdev/$u/faults"
check "the faults block, whole, ends clearing every rule" run_block "$work/faults"
check "... and the file then lists none" \
	test -z "$(cat "/sys/kernel/debug/migdev/$u/faults")"

# The writer block sets it going, then a hot set, reads it, and stops it.
t_writer() {
	run_block "$work/writer" || return 1
	grep -q "rate=1000 pattern=hot hot=16" "$work/writer.out" ||
		{ diag "writer said: $(cat "$work/writer.out")"; return 1; }
	grep -q "rate=0 " "/sys/kernel/debug/migdev/$u/writer"
}
check "writer examples run and say what they set" t_writer

t_opaque() {
	run_block "$work/opaque" &&
		grep -q "^bytes 67108864 " "/sys/kernel/debug/migdev/$u/opaque"
}
check "the opaque example sets 64 MiB" t_opaque
echo "0" >"/sys/kernel/debug/migdev/$u/opaque"
ktap_totals
