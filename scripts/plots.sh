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
#
# Usage: scripts/plots.sh [DIR]   (default: Documentation/figures)
#
# DIR also gets sweep.dat, the figures as printed, and machine.txt, where
# and when they were measured.  Needs scripts/setup.sh first (gnuplot).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

# In the VM: the figures into the results share.
if [ "${1:-}" = --guest ]; then
	cd "$here"
	samples/build/migdev-bench sweep >"$MIGDEV_RESULTS/sweep.dat"
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MIGDEV_OUT=$work tests/vm/run.sh "$here/scripts/plots.sh" --guest >"$work/vm.log" 2>&1 || {
	tail -20 "$work/vm.log" >&2
	echo "plots.sh: the VM run failed (log above)" >&2
	exit 1
}
mkdir -p "$out"
cp "$work/vm/sweep.dat" "$out/sweep.dat"
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

set output "$out/data_fd.png"
set title "data_fd read in STOP_COPY against read size (64 MiB of device memory)\n$machine"
set xlabel "bytes per read()"
set ylabel "MiB/s"
plot "$out/sweep.dat" index 2 using 1:2 with linespoints title "data_fd read", \
     "" index 2 using 1:3 with linespoints title "memcpy() of the same pieces"
EOF
echo "plots.sh: $out/dma.png $out/quiesce.png $out/data_fd.png ($machine)"
