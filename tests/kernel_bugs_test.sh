#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel bugs the suite found, shown on the kernel users run: a throw-away
# boot of Debian's kernel (tests/vm/run.sh; an oops, a soft lockup or a
# task hung for 5 s panics it) runs each reproducer, which is expected to
# oops it or deadlock in it.  A reproducer that does passes, saying "known
# kernel bug present in <release>"; one that runs its whole time without
# either passes too, saying that this kernel may be fixed.  A VM that does not boot, or a reproducer that fails by
# itself, fails.  The debug kernel carries the fixes (kernel-patches/) and
# runs the same reproducers in the suite, where they must pass.  See
# "Kernel bugs found" in Documentation/migdev.rst.  Runs on the host.
# KTAP; results in $MIGDEV_OUT/kernel-bugs.
#
# Usage: tests/kernel_bugs_test.sh [run.sh options, e.g. --kernel]
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${MIGDEV_OUT:-$ROOT/out}/kernel-bugs
rm -rf "$OUT"
mkdir -p "$OUT"

# What an oops, or a deadlock the hung-task detector reports, looks like
# on the serial console (printk timestamps).
OOPS='\[ *[0-9]+\.[0-9]+\] .*(BUG|Oops|general protection fault|KASAN: |corruption|INFO: task .* blocked for more than)'

# The first report in console log $1: its headline, RIP and call trace
# (without the "?" guesses).
oops_report() {
	tr -d '\r' <"$1" | awk -v re="$OOPS" '
		!on && $0 ~ re { on = 1 }
		!on { next }
		/Call Trace:/ { trace = 1; next }
		trace && /RIP: 0033|<\/TASK>|---\[ end/ { exit }
		/<TASK>/ { next }
		trace && / \? / { next }
		trace || /(BUG|Oops|general protection|KASAN|corruption|RIP:|INFO: task)/ { print; if (++n > 24) exit }'
}

n=0 fail=0
echo "TAP version 13"
echo "1..2"

# bug NAME GUEST_SCRIPT [ARGS]: one reproducer in its own VM (run.sh
# options from this script's command line, in runopts).
bug() {
	local name=$1 script=$2 res=$OUT/$1 rc kver oops
	shift 2
	n=$((n + 1))
	# Memory corrupted under a lock may also spin: a soft lockup (after
	# 2 x watchdog_thresh s) ends the VM too, as does a deadlock (the
	# guest script sets the hung-task timeout).
	MIGDEV_OUT=$res "$ROOT/tests/vm/run.sh" --timeout 300 \
		--append "panic_on_oops=1 oops=panic softlockup_panic=1 watchdog_thresh=5 hung_task_panic=1" \
		"${runopts[@]}" "$ROOT/$script" "$@" \
		</dev/null >"$res.log" 2>&1
	rc=$?
	kver=$(sed -n 's/^# kernel \([^:]*\):.*/\1/p' "$res/vm/console.log" 2>/dev/null | head -n 1)
	oops=$(tr -d '\r' <"$res/vm/console.log" 2>/dev/null | grep -m 1 -E "$OOPS")
	if [ -n "$oops" ]; then
		echo "# the kernel oopsed or a task hung; the report starts:"
		oops_report "$res/vm/console.log" | sed 's/^/#   /'
		echo "ok $n $name # known kernel bug present in ${kver:-this kernel}"
	elif [ "$rc" = 0 ]; then
		grep -E '^# .*(cycles|ioctls|unmaps)' "$res/vm/console.log" | sed 's/^/# /'
		echo "ok $n $name # no oops on ${kver:-this kernel} in the reproducer's whole run: this kernel may be fixed"
	else
		echo "# the VM ended with $rc and no oops; its log ends:"
		tail -n 30 "$res.log" | sed 's/^/# /'
		echo "not ok $n $name"
		fail=$((fail + 1))
	fi
}

runopts=("$@")
bug vfio_container_ioctl_vs_last_group_close tests/kernel_bugs_guest.sh \
	ioctls_race_last_group_close
bug vfio_type1_unmap_vs_device_open tests/kernel_bugs_guest.sh \
	unmap_races_device_open

echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
