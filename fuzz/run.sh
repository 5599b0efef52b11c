#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzz the migration stream decoder in userspace: build fuzz/ (make), run
# the unit tests (build/stream_unit; build/emul_unit, the whole device
# model over a fake host; build/preflight_unit), then run the libFuzzer
# target for MIGDEV_FUZZ_RUNS executions (default 1000000) with ASan,
# UBSan and leak detection over a temporary copy of fuzz/corpus/, which
# stays as it is, and the pre-flight description's parser for
# MIGDEV_PREFLIGHT_RUNS (default 2000000, a few seconds).
# Any crash, broken invariant, leak or timeout fails the run; its input
# and the fuzzer's log are left in out/fuzz/.  Ends with a line
# "# Totals: pass:N fail:M ..." counting the unit tests and the fuzz run.
#
# Usage: fuzz/run.sh [--merge]
#   --merge            afterwards, add the inputs that found new coverage
#                      to fuzz/corpus/ (libFuzzer -merge=1), to commit
#   MIGDEV_FUZZ_RUNS   executions (default 1000000)
#   MIGDEV_FUZZ_SEED   libFuzzer's -seed, to repeat a run
#   MIGDEV_FUZZ_OUT    where logs and crashing inputs go (out/fuzz)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=${MIGDEV_FUZZ_RUNS:-1000000}
out=${MIGDEV_FUZZ_OUT:-$root/out/fuzz}
merge=0
case "${1:-}" in
--merge) merge=1 ;;
"") ;;
*) echo "usage: $0 [--merge]" >&2; exit 2 ;;
esac

# Streams are at most 16 KiB: a few records with a page or two of data.
# A slow input is a hang: 10 s for one is a hundred times the slowest.
fuzz_opts=(-max_len=16384 -timeout=10 -rss_limit_mb=2048)

pass=0 fail=0
mkdir -p "$out"
make -s -C "$here"

# The unit tests (the stream codec; the whole device model): each one's
# "# Totals:" line is added to ours.
for unit in stream_unit emul_unit preflight_unit; do
	urc=0
	"$here/build/$unit" | tee "$out/$unit.log" || urc=$?
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .*/\1 \2/p' "$out/$unit.log")
	if [ -n "$totals" ]; then
		read -r p f <<<"$totals"
		pass=$((pass + p)); fail=$((fail + f))
		[ "$urc" = 0 ] || [ "$f" != 0 ] || fail=$((fail + 1))
	else
		echo "not ok - $unit exited $urc without totals"
		fail=$((fail + 1))
	fi
done

seed=()
[ -z "${MIGDEV_FUZZ_SEED:-}" ] || seed=(-seed="$MIGDEV_FUZZ_SEED")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_fuzzer LABEL TARGET RUNS LOG PREFIX CORPUS [OPTION...]: run the
# libFuzzer target build/TARGET for RUNS executions with leak detection
# and OPTIONs over CORPUS (a copy: new inputs are written there), its log
# in LOG and what it finds in PREFIX*; say what it did, and one KTAP line,
# counted in pass and fail.  Its exit status is left in frc.
run_fuzzer() {
	local label=$1 bin=$here/build/$2 n=$3 log=$4 prefix=$5 corpus=$6
	local start execs rate fseed final
	shift 6
	rm -f "$prefix"crash-* "$prefix"leak-* "$prefix"timeout-* \
		"$prefix"oom-* "$prefix"slow-unit-*
	echo "# $label: $n executions from $(find "$corpus" -type f | wc -l) inputs (log: $log)"
	start=$(date +%s)
	frc=0
	"$bin" -runs="$n" -detect_leaks=1 -print_final_stats=1 "$@" \
		"${seed[@]}" -artifact_prefix="$prefix" "$corpus" >"$log" 2>&1 || frc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	fseed=$(sed -n 's/^INFO: Seed: *//p' "$log")
	final=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
	echo "# $label: ${execs:-0} executions in $(($(date +%s) - start)) s (${rate:-0}/s), seed ${fseed:-?}, exit $frc"
	[ -z "$final" ] || echo "# $label: $final"
	if [ "$frc" = 0 ] && [ "${execs:-0}" -ge "$n" ]; then
		pass=$((pass + 1))
		echo "ok $((pass + fail)) $label: $n executions, no crash, leak, timeout or broken invariant"
	else
		fail=$((fail + 1))
		# The sanitizer's or the invariant's report, and the input.
		grep -v -E '^#[0-9]+|^\s*"' "$log" | tail -60
		ls -l "$prefix"crash-* "$prefix"leak-* "$prefix"timeout-* \
			"$prefix"oom-* 2>/dev/null || true
		echo "not ok $((pass + fail)) $label: exit $frc after ${execs:-0} of $n executions"
		echo "# reproduce: $bin $* <input>"
	fi
}

# The pre-flight description's parser (emul/preflight.c), from its two
# seeds and a dictionary of its keys: any bytes a user may write to a
# migration_compat_check file.
cp -r "$here/preflight_corpus" "$work/preflight_corpus"
run_fuzzer "fuzz (preflight)" preflight_fuzz "${MIGDEV_PREFLIGHT_RUNS:-2000000}" \
	"$out/preflight_fuzz.log" "$out/preflight-" "$work/preflight_corpus" \
	-max_len=1024 -dict="$here/preflight.dict"
# The stream decoder, last: --merge below uses its frc.
cp -r "$here/corpus" "$work/corpus"
run_fuzzer fuzz stream_fuzz "$runs" "$out/fuzz.log" "$out/" "$work/corpus" \
	"${fuzz_opts[@]}"

if [ "$merge" = 1 ] && [ "$frc" = 0 ]; then
	before=$(find "$here/corpus" -type f | wc -l)
	"$here/build/stream_fuzz" -merge=1 "${fuzz_opts[@]}" "$here/corpus" \
		"$work/corpus" >"$out/merge.log" 2>&1
	after=$(find "$here/corpus" -type f | wc -l)
	echo "# merge: fuzz/corpus/ has $after inputs ($((after - before)) new), $(du -sh --apparent-size "$here/corpus" | cut -f1)"
fi

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
