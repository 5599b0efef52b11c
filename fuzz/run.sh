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

# The fuzzer, on a copy of the corpus (new inputs are written there).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/corpus" "$work/corpus"
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* "$out"/slow-unit-*
seed=()
[ -z "${MIGDEV_FUZZ_SEED:-}" ] || seed=(-seed="$MIGDEV_FUZZ_SEED")
ncorpus=$(find "$work/corpus" -type f | wc -l)
echo "# fuzzing: $runs executions from $ncorpus inputs (log: $out/fuzz.log)"
start=$(date +%s)
frc=0
"$here/build/stream_fuzz" -runs="$runs" -detect_leaks=1 -print_final_stats=1 \
	"${fuzz_opts[@]}" "${seed[@]}" -artifact_prefix="$out/" \
	"$work/corpus" >"$out/fuzz.log" 2>&1 || frc=$?
secs=$(($(date +%s) - start))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/fuzz.log")
fseed=$(sed -n 's/^INFO: Seed: *//p' "$out/fuzz.log")
final=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out/fuzz.log" | tail -1 || true)
echo "# fuzz: ${execs:-0} executions in ${secs} s (${rate:-0}/s), seed ${fseed:-?}, exit $frc"
[ -z "$final" ] || echo "# fuzz: $final"
if [ "$frc" = 0 ] && [ "${execs:-0}" -ge "$runs" ]; then
	pass=$((pass + 1))
	echo "ok $((pass + fail)) fuzz: $runs executions, no crash, leak or timeout"
else
	fail=$((fail + 1))
	# The sanitizer's or the invariant's report, and the input.
	grep -v -E '^#[0-9]+|^\s*"' "$out/fuzz.log" | tail -60
	ls -l "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null || true
	echo "not ok $((pass + fail)) fuzz: exit $frc after ${execs:-0} of $runs executions"
	echo "# reproduce: $here/build/stream_fuzz ${fuzz_opts[*]} <input>"
fi

# The pre-flight description's parser (emul/preflight.c), from its two
# seeds and a dictionary of its keys: any bytes a user may write to a
# migration_compat file.
pruns=${MIGDEV_PREFLIGHT_RUNS:-2000000}
cp -r "$here/preflight_corpus" "$work/preflight_corpus"
start=$(date +%s)
prc=0
"$here/build/preflight_fuzz" -runs="$pruns" -max_len=1024 \
	-dict="$here/preflight.dict" -detect_leaks=1 -print_final_stats=1 \
	"${seed[@]}" -artifact_prefix="$out/preflight-" \
	"$work/preflight_corpus" >"$out/preflight_fuzz.log" 2>&1 || prc=$?
pexecs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/preflight_fuzz.log")
echo "# preflight fuzz: ${pexecs:-0} executions in $(($(date +%s) - start)) s, exit $prc"
if [ "$prc" = 0 ] && [ "${pexecs:-0}" -ge "$pruns" ]; then
	pass=$((pass + 1))
	echo "ok $((pass + fail)) preflight fuzz: $pruns executions, no crash or broken invariant"
else
	fail=$((fail + 1))
	grep -v -E '^#[0-9]+|^\s*"' "$out/preflight_fuzz.log" | tail -40
	echo "not ok $((pass + fail)) preflight fuzz: exit $prc after ${pexecs:-0} of $pruns executions"
fi

if [ "$merge" = 1 ] && [ "$frc" = 0 ]; then
	before=$(find "$here/corpus" -type f | wc -l)
	"$here/build/stream_fuzz" -merge=1 "${fuzz_opts[@]}" "$here/corpus" \
		"$work/corpus" >"$out/merge.log" 2>&1
	after=$(find "$here/corpus" -type f | wc -l)
	echo "# merge: fuzz/corpus/ has $after inputs ($((after - before)) new), $(du -sh --apparent-size "$here/corpus" | cut -f1)"
fi

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
