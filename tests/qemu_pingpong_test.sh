#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A QEMU guest migrated back and forth (tests/qemu/pingpong.py): QEMU
# (10 on Debian 12, 11.1 on the newest stack) runs
# guest/build/migdev-guest.elf, whose workload checks every DMA result,
# device memory through BAR2, MSI-X, the scratch register and the clock;
# each hop must complete and the guest must go on without a
# mismatch.  Then QEMU's other flows, two hops each: return-path with
# switchover-ack, destinations started with -S and then 'cont', a
# migration cancelled before each hop, in pre-copy and in stop-copy (the
# source must go on), a guest reset during pre-copy before each hop (QEMU
# fails that migration; the source must go on), two migdev devices in
# the guest (instances in pairs), multifd, the device's migration states
# as QEMU's VFIO_MIGRATION events show them, and a guest that discards its
# device memory during pre-copy (a reconfiguration: REINIT with QEMU 11.1
# on Linux 7.1 or later).  Then ten hops with the device and ten of the
# same guest without it, whose median downtimes it prints side by side.
# KTAP.
set -u

ROOT=${MIGDEV_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
RES=${MIGDEV_RESULTS:-/tmp}
PP="$ROOT/tests/qemu/pingpong.py"
# shellcheck source=tests/qemu/flows.sh
. "$ROOT/tests/qemu/flows.sh"
# Round trips (two hops each) of the plain ping-pong: 50 (about 4 minutes
# here); 10 under the debug kernel, where every hop takes several times as
# long and the point is what its checkers see.
rounds=50
case $(uname -r) in *debug*) rounds=10 ;; esac

# The guest discards its device memory every 50 ms (a reconfiguration)
# while pre-copy runs longer than usual (16 MiB/s): QEMU 11.1 on Linux
# 7.1 or later must see VFIO_PRECOPY_INFO_REINIT and go on with the new
# initial data; an older QEMU or kernel sees dirty data.  Either way the
# workload checks device memory throughout.  Not with switchover-ack:
# QEMU 11.1 then fails a migration whose last pre-copy query, as the VM
# stops, finds a discard ("Switchover ACK was requested by 1 devices
# during switchover"), which a discard every 50 ms makes a matter of
# chance (Documentation/migdev.rst, --discard-ms).
reinit=
read -r qa qb < <(qemu-system-x86_64 --version 2>/dev/null |
	sed -n '1s/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r ka kb < <(uname -r | sed -n 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
if [ "$((${qa:-0} * 100 + ${qb:-0}))" -ge 1101 ] &&
	[ "$((${ka:-0} * 100 + ${kb:-0}))" -ge 701 ]; then
	reinit=--expect-reinit
fi

FLOWS=("ping_pong_${rounds}_round_trips:-n $((2 * rounds))"
       "switchover_ack:-n 2 --switchover-ack"
       "paused_destination_cont:-n 2 --paused-dest"
       "cancel_in_precopy:-n 2 --cancel"
       "cancel_in_stop_copy:-n 2 --cancel-stop-copy"
       "reset_in_precopy:-n 2 --reset-in-precopy"
       "two_devices:-n 2 --devices 2"
       "multifd:-n 2 --multifd"
       "migration_events:-n 2 --migration-events"
       "discard_in_precopy:-n 6 --discard-ms 50 --max-bandwidth 16777216 --migration-events $reinit")
# Downtime with the device against the same guest without it (its RAM
# workload alone), one after the other: a figure, printed after the
# flows, never judged.  Not on the debug kernel, whose hops say nothing
# about downtime.
case $(uname -r) in
*debug*) ;;
*) FLOWS+=("downtime_with_device:-n 10" "downtime_without_device:-n 10 --devices 0") ;;
esac
# Faults on demand (debugfs faults), and what QEMU does with them: a
# pre-copy read that fails fails the migration, the source running on; a
# stream corrupted by the source is refused by the destination's device,
# its QEMU exits and the source runs on; short reads and writes, a slow
# quiesce and slow PRECOPY_INFO answers still migrate (the downtime shows
# the quiesce); the device's error interrupt stops the guest
# (internal-error), which runs again after a reset and then migrates;
# its request interrupt makes QEMU ask the guest to unplug it (ACPI,
# which the test guest ignores: it runs on, and migrates).
# The device's writer dirties its memory by itself (past the guest's
# 2 MiB + 64 KiB): each destination holds exactly what its source held at
# switchover; and a writer faster than the link keeps pre-copy going
# round until it stops, when the migration converges.  64 MiB of opaque
# state that only stop-copy sends sets a floor under the downtime (with a
# limit QEMU can meet: at 300 ms it may stay in pre-copy for good), and
# every destination checks all of it.  MIG_DATA_SIZE that fails (QEMU
# then assumes 100 GiB) keeps the migration in pre-copy until the rule
# is cleared; PRECOPY_INFO that fails is ignored.  An arc into STOP_COPY
# that fails on the source, or the destination's commit that fails: the
# device stays where the uAPI says, and QEMU resets it and runs the guest
# on, which finds its device state gone (QEMU's choice, checked as such);
# so does a device in ERROR, and so does a stream the source's reads cut
# short: QEMU takes the early end for the end, the destination's device
# refuses the stream, and QEMU resets it.  A reset in pre-copy fails the
# migration.  Slow reads and estimates ten times too low or three times
# too high still migrate.
# Not on the debug kernel, where uapi_fuzz arms the same
# rules under KASAN and lockdep.
case $(uname -r) in
# DMA logging exists only where the kernel has CONFIG_IOMMUFD_DRIVER (the
# debug kernel): a report or a start that fails fails the migration
# ("Failed to get DMA logging report", "Could not start dirty page
# tracking"), and the source runs on.
*debug*) FLOWS+=("fault_dma_log_report_fails:-n 2 --fault-src dma_log_report,fail=EIO,nth=3 --fault-expect failed"
		 "fault_dma_log_start_fails:-n 2 --fault-src dma_log_start,fail=EIO --fault-expect failed") ;;
*) FLOWS+=("fault_precopy_read_fails:-n 2 --fault-src read,fail=EIO,at=65536 --fault-expect failed"
	   "fault_corrupt_stream_refused:-n 2 --fault-src read,corrupt,nth=1 --fault-expect dest-failed"
	   "fault_short_io_slow_quiesce:-n 2 --fault-src read,short=4096,every=2/quiesce,delay=100/precopy_info,delay=5,every=3 --fault-dst write,short=1000,every=3 --fault-expect completed"
	   "fault_error_interrupt_stops_guest:-n 2 --error-irq"
	   "fault_request_interrupt_asks_unplug:-n 2 --request-irq"
	   "writer_dirties_device_memory:-n 4 --writer off=2162688,rate=4000,pattern=random,seed=5"
	   "writer_outpaces_the_link:-n 2 -t migdev-medium --writer off=4194304,rate=65536,pattern=random,seed=2 --writer-outpaces 5"
	   "opaque_state_sets_a_downtime_floor:-n 4 --opaque 67108864 --downtime-limit 2000"
	   "fault_data_size_fails_never_converges:-n 2 --fault-src data_size,fail=EIO --fault-hold 5"
	   "fault_precopy_info_fails_ignored:-n 2 --fault-src precopy_info,fail=EIO --fault-expect completed"
	   "fault_stop_copy_arc_fails_qemu_resets:-n 1 --fault-src arc,PRE_COPY_P2P,STOP_COPY,fail=EIO --fault-expect reset"
	   "fault_commit_fails_qemu_resets:-n 1 --fault-dst commit,fail=EIO --fault-expect dest-reset"
	   "fault_error_state_qemu_resets:-n 1 --fault-src arc,PRE_COPY_P2P,STOP_COPY,error --fault-expect reset"
	   "fault_stream_cut_short_qemu_resets:-n 1 --fault-src read,eof,at=1048576 --fault-expect dest-reset"
	   "fault_reset_in_precopy_fails:-n 1 --fault-src arc,RUNNING,PRE_COPY,reset --fault-expect device-reset"
	   "fault_slow_reader_wrong_estimates:-n 2 --fault-src read,delay=20,every=4/data_size,scale=10/precopy_info,scale=300 --fault-expect completed")
	# PRECOPY_INFO that overstates dirty data: QEMU 10 takes an empty
	# read over it and completes; QEMU 11.1 believes it, and does not.
	case $(qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/.*version \([0-9]*\).*/\1/p') in
	[0-9]|10) FLOWS+=("fault_precopy_dirty_overstated:-n 2 --fault-src precopy_info,dirty=1073741824 --fault-expect completed") ;;
	*) FLOWS+=("fault_precopy_dirty_overstated:-n 2 --fault-src precopy_info,dirty=1073741824 --fault-hold 5") ;;
	esac ;;
esac
n=0 fail=0

echo "TAP version 13"
echo "1..${#FLOWS[@]}"
if ! command -v qemu-system-x86_64 >/dev/null; then
	for t in "${FLOWS[@]}"; do
		n=$((n + 1))
		echo "ok $n ${t%%:*} # SKIP qemu-system-x86_64 not installed"
	done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:$n error:0"
	exit 0
fi
run_flows "$RES/qemu-pingpong" python3 "$PP"
downtime_ratio "$RES/qemu-pingpong/downtime_with_device" \
	"$RES/qemu-pingpong/downtime_without_device"
echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail = 0 ]
