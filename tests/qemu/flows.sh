# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the QEMU ping-pong tests: run_flows runs each flow of the
# array FLOWS ("name:pingpong options") as one KTAP test.
#
#   run_flows WORKDIR CMD...
#
# runs "CMD OPTIONS... --workdir WORKDIR/NAME" for each flow, with its
# output as KTAP diagnostics, then prints "ok N NAME" or "not ok N NAME".
# It counts in the caller's n and fail.  The flows need the test guest
# (guest/build/migdev-guest.elf): without it each one fails unrun.

run_flows() {
	local dir=$1 f name args
	shift
	for f in "${FLOWS[@]}"; do
		n=$((n + 1))
		name=${f%%:*}
		read -ra args <<<"${f#*:}"
		if [ ! -e "$ROOT/guest/build/migdev-guest.elf" ]; then
			echo "not ok $n $name # no guest/build/migdev-guest.elf" \
				"(make -C tests builds it)"
			fail=$((fail + 1))
			continue
		fi
		"$@" "${args[@]}" --workdir "$dir/$name" 2>&1 | sed 's/^/# /'
		if [ "${PIPESTATUS[0]}" = 0 ]; then
			echo "ok $n $name"
		else
			echo "not ok $n $name"
			fail=$((fail + 1))
		fi
	done
}

# downtime_ratio WITH_DIR WITHOUT_DIR: the median downtime of the hops in
# each flow's hops.json, and their ratio, as a KTAP diagnostic (a figure:
# nothing passes or fails on it).
downtime_ratio() {
	[ -e "$1/hops.json" ] && [ -e "$2/hops.json" ] || return 0
	python3 - "$1/hops.json" "$2/hops.json" <<'EOF'
import json, sys
med = []
for p in sys.argv[1:]:
    d = sorted(h["downtime"] for h in json.load(open(p)))
    med.append(d[len(d) // 2] if d else 0)
r = med[0] / med[1] if med[1] else 0
print(f"# figure: QEMU downtime per hop, median: with one migdev device "
      f"{med[0]} ms, the same guest without it {med[1]} ms, ratio {r:.2f}")
EOF
}
