#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One of the two test VMs of tests/crosshost_test.sh, started by
# tests/vm/run.sh --net (which gives MIGDEV_NET_ADDR and MIGDEV_NET_PEER).
#
#   crosshost_guest.sh agent        host B: serve tests/qemu/hosts.py's
#                                   agent on the link until told to stop
#   crosshost_guest.sh controller   host A: ping-pong a guest between a
#                                   QEMU here and one on B, over TCP; then
#                                   the same with B's migdev loaded with
#                                   stream_minor=3 (the previous stream
#                                   version), after checking that B refuses
#                                   a 1.4 stream.  KTAP.
#   crosshost_guest.sh cross-version  host A, when B is the newest stack:
#                                   ping-pong between this QEMU and B's
#                                   (another version) on the machine type
#                                   of this one, also with a guest that
#                                   discards device memory.  KTAP.
set -u

ROOT=${MIGDEV_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RES=${MIGDEV_RESULTS:-/tmp}
HOSTS="$ROOT/tests/qemu/hosts.py"
# shellcheck source=tests/qemu/flows.sh
. "$ROOT/tests/qemu/flows.sh"
PORT=7070
: "${MIGDEV_NET_ADDR:?run by tests/vm/run.sh --net}" "${MIGDEV_NET_PEER:?}"

case ${1:-} in
agent)
	exec timeout 1800 python3 "$HOSTS" --serve "$MIGDEV_NET_ADDR:$PORT" \
		--workdir "$RES/agent"
	;;
controller | cross-version) ;;
*)
	echo "usage: crosshost_guest.sh agent|controller|cross-version" >&2
	exit 2
	;;
esac

# The KTAP report, also kept in $RES/crosshost.ktap for the host.
controller() {
	remote=(--remote "$MIGDEV_NET_PEER:$PORT" --local-addr "$MIGDEV_NET_ADDR")
	# Round trips across the hosts: 3 per flow (the link and the
	# nested QEMUs are slower than within one VM).
	FLOWS=("cross_host:-n 6"
	       "cross_host_previous_minor:-n 6 --remote-module stream_minor=3 --minor 3 --newer-refused")
	if [ "$1" = cross-version ]; then
		# This QEMU's own machine type, which the newer one also has.
		machine=$(qemu-system-x86_64 -machine help |
			sed -n 's/^pc  *.*(alias of \([^)]*\)).*/\1/p')
		echo "# $(qemu-system-x86_64 --version | head -n 1) here, machine $machine"
		FLOWS=("cross_version:-n 6 --machine $machine"
		       "cross_version_discard:-n 4 --machine $machine --discard-ms 50 --max-bandwidth 16777216")
	fi
	n=0 fail=0
	echo "TAP version 13"
	echo "1..${#FLOWS[@]}"
	run_flows "$RES/crosshost" python3 "$ROOT/tests/qemu/pingpong.py" \
		"${remote[@]}"
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import hosts; hosts.RemoteHost(sys.argv[2], "bye", 30).shutdown()' \
		"$ROOT/tests/qemu" "$MIGDEV_NET_PEER:$PORT" ||
		echo "# could not stop the agent on $MIGDEV_NET_PEER"
	echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
	[ $fail = 0 ]
}
controller "$1" | tee "$RES/crosshost.ktap"
exit "${PIPESTATUS[0]}"
