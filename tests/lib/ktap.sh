# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the suite's shell tests for their KTAP lines, counted in the
# test's n and fail:
#   check NAME CMD...  run CMD: "ok N NAME" if it succeeds, else "not ok"
#   ok NAME [NOTE], notok NAME [NOTE]   ("ok N NAME # NOTE")
#   diag TEXT...
#   ktap_totals        the "# Totals:" line, last; false if any failed

n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1${2:+ # $2}"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1${2:+ # $2}"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }
diag() { echo "# $*"; }
ktap_totals() {
	echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
	[ "$fail" = 0 ]
}
