#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Migration across hosts: two test VMs (tests/vm/run.sh --net), joined by
# a virtual link of their own, act as two hosts with migdev loaded.  On A,
# tests/qemu/pingpong.py boots the guest and migrates it to a QEMU on B
# and back over TCP; on B, its agent (tests/qemu/hosts.py) starts those
# QEMUs.  Then the same with B's module speaking the previous stream
# version (stream_minor=3).  Runs on the host, not in a VM; both VMs'
# kernel logs must be clean.  KTAP; results in $MIGDEV_OUT/crosshost.
#
# With --newest-b, B is the newest stack instead (Debian's Linux 7.3, and
# QEMU 11.1 in trixie: scripts/newest-kernel.sh), A stays Debian 12's
# (6.12, QEMU 10): the guest goes from QEMU 10 to QEMU 11.1 and back, on
# the machine type both have (pc-i440fx-10.0), also while it discards its
# device memory (REINIT on the hops QEMU 11.1 sends).  Results in
# $MIGDEV_OUT/crossversion.
#
# With --libvirt, both are libvirt hosts instead (Debian 12's kernel, and
# libvirt 11.3 with QEMU 10 from bookworm-backports in a root of their
# own: scripts/libvirt-root.sh); tests/libvirt_guest.sh runs there, and
# virsh moves a guest between them.  Results in $MIGDEV_OUT/libvirt.
#
# Usage: tests/crosshost_test.sh [--newest-b|--libvirt] [run.sh options]
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=$ROOT/tests/vm/run.sh
GUEST=$ROOT/tests/crosshost_guest.sh
OUT=${MIGDEV_OUT:-$ROOT/out}/crosshost
role=controller
b_role=agent
ktap_name=crosshost.ktap
b_args=()
ab_args=()
if [ "${1:-}" = --libvirt ]; then
	shift
	OUT=${MIGDEV_OUT:-$ROOT/out}/libvirt
	GUEST=$ROOT/tests/libvirt_guest.sh
	role=a b_role=b ktap_name=libvirt.ktap
	env=$("$ROOT/scripts/libvirt-root.sh") || {
		echo "not ok 1 libvirt_root_for_the_hosts # scripts/libvirt-root.sh failed"
		exit 1
	}
	eval "$env"
	ab_args=(--root "$MIGDEV_LIBVIRT_ROOT")
	echo "# hosts A and B: Debian 12's kernel, libvirt $MIGDEV_LIBVIRT_VERSION and QEMU $MIGDEV_LIBVIRT_QEMU"
elif [ "${1:-}" = --newest-b ]; then
	shift
	OUT=${MIGDEV_OUT:-$ROOT/out}/crossversion
	role=cross-version
	env=$("$ROOT/scripts/newest-kernel.sh" --module --image --root) || {
		echo "not ok 1 newest_stack_for_host_b # scripts/newest-kernel.sh failed"
		exit 1
	}
	eval "$env"
	b_args=(--kernel "$MIGDEV_NEWEST_IMAGE" --modroot "$MIGDEV_NEWEST_MODROOT"
		--module "$MIGDEV_NEWEST_MODULE" --root "$MIGDEV_NEWEST_ROOT")
	echo "# host A: Debian 12's kernel and QEMU; host B: Linux $MIGDEV_NEWEST_RELEASE, QEMU $MIGDEV_NEWEST_QEMU"
fi
rm -rf "$OUT"
mkdir -p "$OUT/a" "$OUT/b"

# A free loopback port for the link (QEMU's socket backend: A listens).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

MIGDEV_OUT=$OUT/a "$RUN" --timeout 1800 --net "listen:$port" "$@" \
	"${ab_args[@]}" "$GUEST" "$role" </dev/null >"$OUT/a.log" 2>&1 &
apid=$!
# B connects to A's listening socket: give A's QEMU a moment to open it.
sleep 3
MIGDEV_OUT=$OUT/b "$RUN" --timeout 1800 --net "connect:$port" "$@" \
	"${ab_args[@]}" "${b_args[@]}" "$GUEST" "$b_role" </dev/null >"$OUT/b.log" 2>&1 &
bpid=$!

wait "$apid"
arc=$?
# The controller stops B's agent; B then powers off.  Not later than a
# minute after A.
for _ in $(seq 60); do
	kill -0 "$bpid" 2>/dev/null || break
	sleep 1
done
if kill -0 "$bpid" 2>/dev/null; then
	echo "# host B still running a minute after A: stopped"
	kill -TERM "$bpid"
fi
wait "$bpid"
brc=$?

ktap=$OUT/a/vm/$ktap_name
n=0 fail=0
echo "TAP version 13"
if [ -s "$ktap" ]; then
	grep -vE '^(TAP version|1\.\.|# Totals:)' "$ktap"
	n=$(grep -cE '^(not )?ok [0-9]+ ' "$ktap")
	fail=$(grep -cE '^not ok [0-9]+ ' "$ktap")
else
	echo "# host A left no $ktap; its log ends:"
	tail -n 30 "$OUT/a.log" | sed 's/^/# /'
	n=1 fail=1
	echo "not ok 1 cross_host_flows_ran"
fi
# Each VM came back with a clean kernel log (run.sh's verdict).  A's exit
# status also counts the flows that failed above; B's is its agent's.
bad='KERNEL PROBLEMS|KMEMLEAK|LOCKDEP TURNED|did not come back|TIMEOUT|SETUP FAILED|interrupted'
came_back() { # VM RC
	grep -qE "$bad" "$OUT/$1.log" && return 1
	[ "$2" = 0 ] && return 0
	[ "$1" = a ] && [ "$fail" != 0 ]
}
for vm in a b; do
	n=$((n + 1))
	rc=$arc
	[ $vm = a ] || rc=$brc
	if came_back $vm "$rc"; then
		echo "ok $n host_${vm}_came_back_kernel_log_clean"
	else
		echo "# host $vm: run.sh exited $rc; its log ends:"
		tail -n 15 "$OUT/$vm.log" | sed 's/^/# /'
		echo "not ok $n host_${vm}_came_back_kernel_log_clean"
		fail=$((fail + 1))
	fi
done
echo "1..$n"
echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
