#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian 12's own QEMU 7.2 migrates a guest back and forth through the v1
# migration region (tests/qemu/pingpong72.py, which runs
# tests/qemu/pingpong.py with that QEMU and x-enable-migration=on):
# guest/build/migdev-guest.elf checks every DMA result, device memory
# through BAR2, MSI-X, the scratch register and the clock; each of the 20
# hops (4 on the debug kernel) must complete, move device data, and the
# guest must go on without a mismatch.  Then two hops each with
# destinations started with -S and then 'cont', and with a migration
# cancelled before each hop in pre-copy and in stop-copy (the source must
# go on).
# QEMU 7.2 is the folder scripts/qemu72.sh unpacks ($MIGDEV_QEMU72, or
# $MIGDEV_CACHE/qemu-7.2; in the test VM, whose /root and /tmp are tmpfs,
# the host's copy under /run/migdev/host).  KTAP.
set -u

ROOT=${MIGDEV_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RES=${MIGDEV_RESULTS:-/tmp}
PP="$ROOT/tests/qemu/pingpong72.py"
# shellcheck source=tests/qemu/flows.sh
. "$ROOT/tests/qemu/flows.sh"
# Under the debug kernel (KASAN, lockdep) a hop takes several times as
# long: 4 hops there, 20 on the distribution kernel.
hops=20
case $(uname -r) in *debug*) hops=4 ;; esac

# The ping-pong, then QEMU's other flows, two hops each.
FLOWS=("qemu72_ping_pong_${hops}_hops:-n $hops"
       "qemu72_paused_destination_cont:-n 2 --paused-dest"
       "qemu72_cancel_in_precopy:-n 2 --cancel"
       "qemu72_cancel_in_stop_copy:-n 2 --cancel-stop-copy")
# Faults at the v1 region's fields, and the toolkit's misbehaviour, with
# what QEMU 7.2 does about them: the device_state write that stops the
# device, a pending_bytes read or a data_size read that fails each fail
# the migration, the source running on; slow device_state writes and
# pending_bytes reads still migrate; the error interrupt stops the guest;
# the request interrupt asks it to unplug the device (ACPI, ignored);
# the writer's and the opaque state's bytes all arrive.  Not on the debug
# kernel, where uapi_fuzz arms the same rules.
case $(uname -r) in
*debug*) ;;
*) FLOWS+=("qemu72_fault_device_state_fails:-n 2 --fault-src v1_state,fail=EIO,nth=2 --fault-expect failed"
	   "qemu72_fault_pending_bytes_fails:-n 2 --fault-src v1_pending,fail=EIO,nth=5 --fault-expect failed"
	   "qemu72_fault_data_size_fails:-n 2 --fault-src v1_data_size,fail=EIO,nth=2 --fault-expect failed"
	   "qemu72_fault_slow_device_state:-n 2 --fault-src v1_state,delay=200/v1_pending,delay=2,every=2 --fault-expect completed"
	   "qemu72_error_interrupt_stops_guest:-n 2 --error-irq"
	   "qemu72_request_interrupt_asks_unplug:-n 2 --request-irq"
	   "qemu72_writer_dirties_device_memory:-n 2 --writer off=2162688,rate=4000,pattern=random,seed=5"
	   "qemu72_opaque_state:-n 2 --opaque 16777216 --downtime-limit 2000") ;;
esac

# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"
dir=
for d in ${MIGDEV_QEMU72:+"$MIGDEV_QEMU72"} "$MIGDEV_CACHE/qemu-7.2" \
	"/run/migdev/host$MIGDEV_CACHE/qemu-7.2"; do
	if [ -x "$d/usr/bin/qemu-system-x86_64" ]; then
		dir=$d
		break
	fi
done
n=0 fail=0

echo "TAP version 13"
echo "1..${#FLOWS[@]}"
if [ -z "$dir" ]; then
	for t in "${FLOWS[@]}"; do
		n=$((n + 1))
		echo "ok $n ${t%%:*} # SKIP no QEMU 7.2 (scripts/qemu72.sh unpacks it)"
	done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:$n error:0"
	exit 0
fi
echo "# $(QEMU_MODULE_DIR=$dir/usr/lib/x86_64-linux-gnu/qemu \
	"$dir/usr/bin/qemu-system-x86_64" --version | head -1) in $dir"
run_flows "$RES/qemu72-pingpong" python3 "$PP" --qemu72 "$dir"
echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail = 0 ]
