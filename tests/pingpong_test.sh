#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Ping-pong migration without QEMU (samples/migdev-pingpong): a workload
# verified after every hop, 1000 hops of a small instance and 20 of a
# large one, and a device saved to a file and restored from it.  KTAP.
set -u

PP=${MIGDEV_ROOT:-.}/samples/build/migdev-pingpong
n=0 fail=0
check() {
	local name=$1; shift
	n=$((n + 1))
	if "$@" >"/tmp/pp.$n.log" 2>&1; then
		echo "ok $n $name"
	else
		fail=$((fail + 1)); echo "not ok $n $name"
	fi
	sed 's/^/# /' "/tmp/pp.$n.log" | tail -5
}

# Under the debug kernel (KASAN, lockdep) everything is several times
# slower: 200 hops there, 1000 on the distribution kernel.
hops=1000
case $(uname -r) in *debug*) hops=200 ;; esac

echo "TAP version 13"
echo "1..4"
check "hops_small_$hops" "$PP" -n "$hops" -t small -q
check twenty_hops_large "$PP" -n 20 -t large
check save_to_file "$PP" -t medium --save /tmp/migdev.dev
check restore_from_file "$PP" -t medium --restore /tmp/migdev.dev
echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail = 0 ]
