#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite, from a fresh Debian 12 machine: install what is
# missing, build the module (W=1 and sparse clean) and the tests, check
# style, boot Debian's 6.12 kernel in a VM, and run every test there.
# Ends with one line: "N passed, M failed".
#
# Usage (as root): scripts/test.sh [TEST...]   (default: all tests)
set -uo pipefail

. "$(dirname "$0")/common.sh"
cd "$MIGDEV_ROOT"

pass=0 fail=0
result() { # name rc
	if [ "$2" = 0 ]; then
		pass=$((pass + 1)); echo "ok - $1"
	else
		fail=$((fail + 1)); echo "not ok - $1"
	fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}

bash scripts/setup.sh || { echo "setup failed"; fail=1; finish; }
kver=$(migdev_kver)
ksrc="$MIGDEV_CACHE/linux-source-6.12"
mkdir -p out

# The module, built from clean with W=1 and sparse; any warning fails.
make -s clean >/dev/null 2>&1
make KVER="$kver" W=1 C=2 CF=-Wsparse-error modules >out/build.log 2>&1
rc=$?
if grep -E 'warning:|error:' out/build.log; then rc=1; fi
result "module builds W=1 and sparse clean" $rc
[ $rc = 0 ] || { cat out/build.log; finish; }

# Userspace (tests/, samples/) uses C99 <stdint.h> types, as kselftests
# do: PREFER_KERNEL_TYPES is the one check it is exempt from.
cp="$ksrc/scripts/checkpatch.pl --no-tree --strict --quiet --show-types -f"
(
	git ls-files '*.c' '*.h' ':!tests/' ':!samples/' | xargs $cp
	r1=$?
	git ls-files 'tests/*.[ch]' 'samples/*.[ch]' |
		xargs $cp --ignore PREFER_KERNEL_TYPES
	exit $((r1 | $?))
) >out/checkpatch.log 2>&1
rc=$?
cat out/checkpatch.log
result "checkpatch --strict clean" $rc

{ make -s -C tests KVER="$kver" && make -s -C samples; } >out/tests-build.log 2>&1
rc=$?
result "test programs and samples build" $rc
[ $rc = 0 ] || { cat out/tests-build.log; finish; }

tests/vm/run.sh tests/run-guest.sh "$@" </dev/null
vm_rc=$?
totals=out/vm/totals
if [ -s "$totals" ]; then
	read -r p f s <"$totals"
	pass=$((pass + p)); fail=$((fail + f))
	echo "in the VM: $p passed, $f failed, $s skipped"
	# A clean kernel log is one more test: the runner fails on a WARNING,
	# BUG, Oops or lockdep/KASAN report even when every test passed.
	if [ "$f" = 0 ]; then
		result "kernel log clean and VM came back" $vm_rc
	fi
else
	result "test VM came back with results" 1
fi
finish
