#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Draw migdev's performance curves: build, boot the test VM, run
# "migdev-bench sweep" there (samples/migdev-bench.c), and draw each curve
# from that one run with gnuplot, as PNG:
#
#   dma.png      DMA copy throughput against the transfer size, with
#                memcpy() of the same size in the same VM beside it
#   quiesce.png  the RUNNING -> RUNNING_P2P arc against the bytes of the
#                descriptor in flight
#   data_fd.png  data_fd read throughput in STOP_COPY against the read
#                size, with memcpy() of the same pieces
#   downtime.png QEMU's downtime, and the device data it moved in
#                stop-copy, against the device memory the guest has
#                written (4 MiB to 1000 MiB of a migdev-xlarge), with
#                pre-copy (downtime-limit 20 ms) and without it
#                (migration_precopy 0, downtime-limit 60 s: whatever it
#                takes, as a device without pre-copy forces): 3 hops of
#                tests/qemu/pingpong.py --fill-mb per point, medians;
#                beside them the kernel's mtty sample (built here from
#                linux-source-6.12) migrating the same guest, which has
#                no device memory: a reference point
#
# Usage: scripts/plots.sh [DIR]   (default: Documentation/figures)
#
# DIR also gets sweep.dat and downtime.dat, the figures as measured, and
# machine.txt, where and when.  Needs scripts/setup.sh first (gnuplot).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

# The downtime curve, in the VM: "fill_MiB precopy downtime_ms vfio_bytes"
# per point (precopy 1 or 0), medians of 3 hops.  With pre-copy QEMU is
# asked for 20 ms, which it meets once the device memory went over in
# pre-copy; without, the device's data can only go in the downtime, and
# a limit it cannot meet would keep QEMU in pre-copy for ever.
downtime_curve() {
	local mb pc args r
	echo "# fill_MiB precopy downtime_ms vfio_bytes stop_copy_bytes"
	for pc in 1 0; do
		for mb in 4 16 64 256 1000; do
			args=(-n 3 -t migdev-xlarge --fill-mb "$mb"
			      --max-bandwidth $((1 << 31)))
			if [ $pc = 1 ]; then
				args+=(--downtime-limit 20)
			else
				args+=(--no-precopy --downtime-limit 60000)
			fi
			r=$(hops "$mb-$pc" "${args[@]}") || return 1
			echo "$mb $pc $r"
		done
		echo
		echo
	done
	# mtty: its module as built by the host; the same line at both ends.
	insmod "$1" || return 1
	r=$(hops mtty --parent mtty -t mtty-2) || return 1
	echo "4 mtty $r"
	echo "1000 mtty $r"
}

# hops NAME PINGPONG_ARGS...: migrate the test guest with those arguments
# and print the medians of downtime, VFIO bytes and stop-copy bytes.
hops() {
	local name=$1 dir=$MIGDEV_RESULTS/downtime/$1
	shift
	python3 tests/qemu/pingpong.py "$@" --stop-copy-bytes --timeout 300 \
		--workdir "$dir" >"$MIGDEV_RESULTS/downtime-$name.log" 2>&1 || {
		echo "downtime: $name failed (downtime-$name.log)" >&2
		return 1
	}
	python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
m = [sorted(x[k] for x in h)[len(h) // 2] for k in ("downtime", "vfio", "stopcopy")]
print(*m)' "$dir/hops.json"
}

# In the VM: the figures into the results share.
if [ "${1:-}" = --guest ]; then
	cd "$here"
	samples/build/migdev-bench sweep >"$MIGDEV_RESULTS/sweep.dat"
	downtime_curve "$2" >"$MIGDEV_RESULTS/downtime.dat"
	exit 0
fi

cd "$here"
. scripts/common.sh
out=${1:-Documentation/figures}
command -v gnuplot >/dev/null || {
	echo "plots.sh: no gnuplot: run scripts/setup.sh first" >&2
	exit 1
}
kver=$(migdev_kver)
make -s KVER="$kver" modules
make -s -C tests KVER="$kver"
make -s -C samples KVER="$kver"

# The kernel's mtty sample, for the VM's kernel, from linux-source-6.12.
mtty=out/mtty
mkdir -p "$mtty"
cp "$MIGDEV_CACHE/linux-source-6.12/samples/vfio-mdev/mtty.c" "$mtty/"
echo 'obj-m := mtty.o' >"$mtty/Kbuild"
make -s -C "/lib/modules/$kver/build" M="$here/$mtty" modules

work=$(mktemp -d)
trap '[ -n "${MIGDEV_KEEP:-}" ] || rm -rf "$work"' EXIT
MIGDEV_OUT=$work tests/vm/run.sh --mem 4096 "$here/scripts/plots.sh" --guest "$mtty/mtty.ko" >"$work/vm.log" 2>&1 || {
	tail -20 "$work/vm.log" >&2
	echo "plots.sh: the VM run failed (log above)" >&2
	exit 1
}
mkdir -p "$out"
cp "$work/vm/sweep.dat" "$work/vm/downtime.dat" "$out/"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
when=$(date -u +%Y-%m-%d)
machine="test VM (QEMU TCG, 2 vCPUs, Linux $kver) on $(nproc) x ${cpu:-unknown CPU}, $when"
echo "$machine" >"$out/machine.txt"

# Sections of sweep.dat are gnuplot data blocks: index 0, 1, 2.
gnuplot <<EOF
set terminal pngcairo size 900,560 font ",11" noenhanced
set grid
set key bottom right
set logscale x 2
set xtics ("4K" 4096, "16K" 16384, "64K" 65536, "256K" 262144, "1M" 1048576, \
	   "4M" 4194304, "16M" 16777216, "64M" 67108864, "256M" 268435456, \
	   "1G" 1073741824)
set yrange [0:*]

set output "$out/dma.png"
set title "migdev DMA engine: copy throughput against transfer size\n$machine"
set xlabel "bytes per descriptor"
set ylabel "MiB/s"
plot "$out/sweep.dat" index 0 using 1:2 with linespoints title "DMA copy", \
     "" index 0 using 1:3 with linespoints title "memcpy() in the guest"

set output "$out/quiesce.png"
set title "Quiesce (RUNNING -> RUNNING_P2P) against the descriptor in flight\n$machine"
set xlabel "bytes of the descriptor in flight (COPY up to 64M, then DEV_CRC32C)"
set ylabel "microseconds"
set logscale y 10
set yrange [1:*]
set key top left
plot "$out/sweep.dat" index 1 using 1:2 with linespoints title "quiesce, median of 5"
unset logscale y
set yrange [0:*]
set key bottom right

set output "$out/downtime.png"
set title "QEMU downtime per hop against the device memory the guest wrote (migdev-xlarge)\n$machine"
set xlabel "device memory written (MiB)"
set ylabel "downtime, ms (median of 3 hops)"
unset xtics
set xtics
set logscale x 2
set logscale y 10
set yrange [1:*]
set key top left
set y2label "device data in stop-copy, KiB (dashed)"
set logscale y2 10
set y2tics
plot "$out/downtime.dat" index 0 using 1:3 with linespoints lc 1 title "downtime with pre-copy (downtime-limit 20 ms)", \
     "" index 1 using 1:3 with linespoints lc 2 title "downtime without pre-copy (migration_precopy 0)", \
     "" index 0 using 1:(\$5/1024) axes x1y2 with linespoints lc 1 dt 2 notitle, \
     "" index 1 using 1:(\$5/1024) axes x1y2 with linespoints lc 2 dt 2 notitle, \
     "" index 2 using 1:3 with lines lc 3 title "downtime of the kernel's mtty sample (no device memory)"
unset logscale y
unset logscale y2
unset y2tics
unset y2label
set yrange [0:*]
set key bottom right
set xtics ("4K" 4096, "16K" 16384, "64K" 65536, "256K" 262144, "1M" 1048576, \
	   "4M" 4194304, "16M" 16777216, "64M" 67108864, "256M" 268435456, \
	   "1G" 1073741824)

set output "$out/data_fd.png"
set title "data_fd read in STOP_COPY against read size (64 MiB of device memory)\n$machine"
set xlabel "bytes per read()"
set ylabel "MiB/s"
plot "$out/sweep.dat" index 2 using 1:2 with linespoints title "data_fd read", \
     "" index 2 using 1:3 with linespoints title "memcpy() of the same pieces"
EOF
echo "plots.sh: $out/dma.png $out/quiesce.png $out/data_fd.png $out/downtime.png ($machine)"
