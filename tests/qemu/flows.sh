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
