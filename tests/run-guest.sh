#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite, inside the test VM (started by tests/vm/run.sh, which has
# loaded vfio, vfio_iommu_type1, mdev and migdev).  Runs every test program,
# keeps each one's KTAP output in $MIGDEV_RESULTS, and writes the totals to
# $MIGDEV_RESULTS/totals as "passed failed skipped".
#
# Usage: run-guest.sh [TEST...]   (default: all; names as in tests/build)
set -u

cd "$(dirname "$0")/.." || exit 1
RES=${MIGDEV_RESULTS:-/tmp}
pass=0 fail=0 skip=0

tests=("$@")
if [ ${#tests[@]} = 0 ]; then
	# The one list of the suite, which tests/Makefile builds from too.
	# (No process substitution: the test VM has no /dev/fd.)
	while read -r t; do
		case $t in
		'' | '#'*) ;;
		*) tests+=("$t") ;;
		esac
	done <tests/TESTS
fi
# Nothing to run is a failure, not an empty pass.
if [ ${#tests[@]} = 0 ]; then
	echo "run-guest: no tests to run" >&2
	fail=1
fi

# The kernel fixes the running kernel carries (kernel-patches/, applied
# by scripts/debug-kernel.sh): a test of a kernel bug fails where the fix
# should be, and expects the bug elsewhere (see container_race_test.c).
case $(uname -r) in
*-migdev-debug)
	export MIGDEV_KERNEL_FIXES="vfio-container-group-lock vfio-type1-lock-order" ;;
esac

# shellcheck source=tests/lib/pci_parent.sh
. tests/lib/pci_parent.sh

for t in "${tests[@]}"; do
	# NAME@pci: the test NAME with its instances on a PCI parent, the
	# VM's spare function bound to migdev (it stays bound for the next;
	# pci_parent_test.sh unbinds it).
	name=${t%@pci} parent=
	if [ "$name" != "$t" ]; then
		parent=${MIGDEV_SPARE_PCI:-}
		if ! pci_parent_bind "$parent"; then
			echo "run-guest: $t: cannot bind the spare PCI function '$parent' to migdev" >&2
			fail=$((fail + 1))
			continue
		fi
	fi
	if [ -x "tests/build/$name" ]; then
		cmd=("tests/build/$name")
	elif [ -x "tests/$name" ]; then
		cmd=("tests/$name")
	else
		echo "run-guest: no test $name" >&2
		fail=$((fail + 1))
		continue
	fi
	echo "# ==== $t"
	start=$(date +%s)
	MIGDEV_PARENT=$parent "${cmd[@]}" 2>&1 | tee "$RES/$t.ktap"
	rc=${PIPESTATUS[0]}
	totals=$(grep -E '^# Totals: ' "$RES/$t.ktap" | tail -1)
	if [ -z "$totals" ]; then
		echo "# $t: exited $rc without totals: counted as one failure"
		fail=$((fail + 1))
		continue
	fi
	p=$(sed -E 's/.*Totals: pass:([0-9]+).*/\1/' <<<"$totals")
	f=$(sed -E 's/.* fail:([0-9]+).*/\1/' <<<"$totals")
	# An expected failure (a known kernel bug shown) counts as a skip.
	s=$(sed -E 's/.*xfail:([0-9]+).* skip:([0-9]+).*/\1 + \2/' <<<"$totals")
	s=$((s))
	e=$(sed -E 's/.*error:([0-9]+).*/\1/' <<<"$totals")
	pass=$((pass + p)); fail=$((fail + f + e)); skip=$((skip + s))
	if [ "$rc" != 0 ] && [ "$f" = 0 ] && [ "$e" = 0 ]; then
		echo "# $t: exited $rc with no failed test: counted as one failure"
		fail=$((fail + 1))
	fi
	echo "# ==== $t: pass $p fail $f skip $s ($(($(date +%s) - start)) s)"
done

# Figures, printed for the log, never judged (MIGDEV_BENCH=0 skips them;
# so does a debug kernel, whose checkers make every figure meaningless).
case $(uname -r) in *debug*) MIGDEV_BENCH=0 ;; esac
if [ "${MIGDEV_BENCH:-1}" != 0 ] && [ $# = 0 ] && [ -x samples/build/migdev-bench ]; then
	echo "# ==== benchmark (figures only)"
	samples/build/migdev-bench 2>&1 | sed 's/^/# bench: /' | tee "$RES/bench.txt"
fi

echo "$pass $fail $skip" >"$RES/totals"
echo "# guest totals: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
