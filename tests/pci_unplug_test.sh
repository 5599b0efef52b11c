#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A PCI parent hot-unplugged with open instances: the outer QEMU of a test
# VM (tests/vm/run.sh --qmp) deletes the VM's spare function, which migdev
# is the driver of, while users hold two of its instances open
# (tests/pci_unplug_guest.sh).  The VM's kernel removes the function
# (ACPI PCI hotplug), migdev asks the users to let go through the request
# interrupt, they do, and QEMU reports DEVICE_DELETED; plugged in again
# (device_add), the function binds again.  Runs on the host,
# not in a VM; the VM's kernel log must be clean.  KTAP; results in
# $MIGDEV_OUT/pci-unplug.
#
# Usage: tests/pci_unplug_test.sh [run.sh options]
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${MIGDEV_OUT:-$ROOT/out}/pci-unplug
rm -rf "$OUT"
mkdir -p "$OUT"
sock=$OUT/qmp.sock

MIGDEV_OUT=$OUT "$ROOT/tests/vm/run.sh" --timeout 900 --qmp "$sock" "$@" \
	"$ROOT/tests/pci_unplug_guest.sh" </dev/null >"$OUT/vm.log" 2>&1 &
vpid=$!

# When the guest is ready, delete the function and wait for QEMU to say
# it is gone (the guest's kernel has ejected it).
PYTHONPATH=$ROOT/tests/qemu python3 - "$sock" "$OUT/vm" "$vpid" \
	>"$OUT/host.ktap" 2>&1 <<'PY'
import os, sys, time
from qmp import QMP
from hosts import Failure

sock, res, vpid = sys.argv[1], sys.argv[2], int(sys.argv[3])
def alive():
    try:
        os.kill(vpid, 0)
        return True
    except OSError:
        return False
def wait_for(name, test):
    deadline = time.monotonic() + 600
    while not os.path.exists(os.path.join(res, name)):
        if time.monotonic() > deadline or not alive():
            print(f"# the guest never said {name}")
            print(f"not ok {test}")
            sys.exit(1)
        time.sleep(0.2)
wait_for("unplug-ready", "outer_qemu_deleted_the_function")
try:
    q = QMP(sock, 30)
    q.cmd("device_del", id="spare0")
    t0 = time.monotonic()
    while not any(e["event"] == "DEVICE_DELETED" and
                  e.get("data", {}).get("device") == "spare0"
                  for e in q.events):
        if time.monotonic() - t0 > 120:
            raise Failure("no DEVICE_DELETED for spare0 within 120 s")
        q.cmd("query-status")
        time.sleep(0.2)
    print(f"# DEVICE_DELETED {time.monotonic() - t0:.1f} s after device_del")
    left = [d for b in q.cmd("query-pci") for d in b["devices"]
            if d.get("qdev_id") == "spare0"]
    if left:
        raise Failure("spare0 still in query-pci")
    print("ok outer_qemu_deleted_the_function")
except Failure as e:
    print(f"# {e}")
    print("not ok outer_qemu_deleted_the_function")
    sys.exit(1)
# Once the guest has seen it go: the same function, plugged in again.
wait_for("unplug-replug", "outer_qemu_plugged_it_in_again")
try:
    q.cmd("device_add", driver="pci-testdev", id="spare0", bus="pci.0",
          addr="10.0")
    print("ok outer_qemu_plugged_it_in_again")
except Failure as e:
    print(f"# {e}")
    print("not ok outer_qemu_plugged_it_in_again")
    sys.exit(1)
q.close()
PY
wait "$vpid"
vrc=$?

n=0 fail=0
line() { # "ok NAME" / "not ok NAME"
	n=$((n + 1))
	case $1 in
	"not ok "*) fail=$((fail + 1)); echo "not ok $n ${1#not ok }" ;;
	*) echo "ok $n ${1#ok }" ;;
	esac
}
echo "TAP version 13"
while read -r l; do
	case $l in
	ok\ * | not\ ok\ *) line "$l" ;;
	*) echo "$l" ;;
	esac
done < <(grep -hE '^(ok |not ok |# )' "$OUT/vm/unplug.ktap" "$OUT/host.ktap" 2>/dev/null)
[ "$n" -ge 9 ] || line "not ok guest_and_host_checks_all_ran"
bad='KERNEL PROBLEMS|KMEMLEAK|LOCKDEP TURNED|did not come back|TIMEOUT|SETUP FAILED|interrupted'
# run.sh's verdict: a kernel problem, or a VM that did not come back; a
# failed check above is counted already.
if grep -qE "$bad" "$OUT/vm.log" || { [ "$vrc" != 0 ] && [ "$fail" = 0 ]; }; then
	echo "# run.sh exited $vrc; its log ends:"
	tail -n 15 "$OUT/vm.log" | sed 's/^/# /'
	line "not ok vm_came_back_kernel_log_clean"
else
	line "ok vm_came_back_kernel_log_clean"
fi
echo "1..$n"
echo "# Totals: pass:$((n - fail)) fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
