#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Migrate a QEMU guest that uses a migdev device back and forth.

Creates two instances A and B of one type, boots guest/build/migdev-guest.elf
in QEMU on A, and migrates it over QMP to a QEMU on B, then back to A, and so
on, while the guest's workload runs and checks itself.  After each hop the
guest's serial output must have advanced on the destination and no serial
log may contain MISMATCH or FATAL.  Prints one line per hop and a summary
table (downtime, total time, VFIO bytes); exits 0 only if every hop passed.

Runs as root on a host with migdev loaded (inside the test VM here), with
python3's standard library only.  The flows are here; one QEMU process and
its flavour in qemu.py, the QMP client in qmp.py, the hosts (this one, or
another through its agent) in hosts.py.
"""

import argparse
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from hosts import Failure, LocalHost, RemoteHost, log
from qemu import BAD_RE, DEVICE_SLOT, UNPLUG_RE, Flavour, Qemu

# Bytes/s for a migration that must still be in pre-copy when the harness
# acts on it (cancel, reset): even a loaded machine answers QMP in time.
THROTTLE = 64 << 10
# ms of downtime-limit for such a migration.  Not 0: with a threshold of 0,
# QEMU 10 completes as soon as its pending *estimate* is 0, without the
# dirty-log sync that would have found the guest's new writes (seen on the
# debug kernel: stop-copy before any device data).  With 1 ms it syncs, and
# a running guest always has dirty pages.
PRECOPY_DOWNTIME = 1


def check_serial(qemus):
    """No serial log may report a mismatch or a fatal error.

    A line can start in one QEMU's log and end in the next one's, so the
    logs are searched joined, in order.  A destination's log must not
    show the guest starting again (a reset instead of a migration).
    """
    m = BAD_RE.search("".join(q.serial_text() for q in qemus))
    if m:
        # Let the guest finish the line (it stops after a mismatch).
        for _ in range(20):
            text = "".join(q.serial_text() for q in qemus)
            m = BAD_RE.search(text)
            if text[m.end():m.end() + 1] == "\n":
                break
            time.sleep(0.1)
        at, where = 0, "?"
        for q in qemus:
            at += len(q.serial_text())
            if m.start() < at:
                where = f"QEMU {q.n}"
                break
        raise Failure(f"guest in {where}: {m.group(0).rstrip()} "
                      f"(logs in {os.path.dirname(qemus[0].serial)})")
    for q in qemus[1:]:
        if q.starts() > q.resets:
            raise Failure(f"guest started again in QEMU {q.n} ({q.serial})")


def wait_iter(q, after, timeout, qemus):
    """Wait until the guest in @q prints an iteration beyond @after."""
    deadline = time.monotonic() + timeout
    while True:
        check_serial(qemus)
        it = q.last_iter()
        if it > after:
            return it
        if q.proc.poll() is not None:
            raise Failure(f"QEMU {q.n} exited with {q.proc.returncode}; "
                          f"{q.stderr_tail()}")
        if time.monotonic() > deadline:
            raise Failure(f"guest made no progress past iteration {after} "
                          f"in QEMU {q.n} within {timeout} s "
                          f"(serial: {q.serial})")
        time.sleep(0.1)


def set_caps(args, q, pause=False):
    caps = {"return-path": args.switchover_ack,
            "switchover-ack": args.switchover_ack,
            "multifd": args.multifd,
            "pause-before-switchover": pause}
    q.qmp.cmd("migrate-set-capabilities", capabilities=[
        {"capability": c, "state": on} for c, on in caps.items()])


def set_bandwidth(args, q, bw=None, downtime=None):
    """max-bandwidth @bw (else --max-bandwidth, else 128 MiB/s) and
    downtime-limit @downtime ms (else --downtime-limit, else 300)."""
    if downtime is None:
        downtime = args.downtime_limit
    q.qmp.cmd("migrate-set-parameters",
              **{"max-bandwidth": bw or args.max_bandwidth or 128 << 20,
                 "downtime-limit": downtime})


def start_migration(args, src, dst, uri, bw=None, downtime=None,
                    pause=False):
    """Set both sides up, make @dst listen on @uri, start @src's migration;
    with @pause, the source stops in pre-switchover (devices in stop-copy)
    until migrate-continue."""
    set_caps(args, src, pause)
    set_caps(args, dst)
    dst.qmp.cmd("migrate-incoming", uri=uri)
    set_bandwidth(args, src, bw, downtime)
    src.qmp.cmd("migrate", uri=uri)


def wait_precopy_data(src, timeout):
    """Wait until the migration is in pre-copy and device data has flowed."""
    deadline = time.monotonic() + timeout
    while True:
        info = src.qmp.cmd("query-migrate")
        status = info.get("status")
        sent = info.get("vfio", {}).get("transferred", 0)
        if status == "active" and sent > 0:
            return sent
        if status == "pre-switchover":
            raise Failure("migration left pre-copy (pre-switchover) before "
                          "any device data was reported")
        if status not in ("setup", "active"):
            raise Failure(f"migration is {status} before pre-copy data: "
                          f"{info.get('error-desc', '')}")
        if time.monotonic() > deadline:
            raise Failure(f"no device data in pre-copy within {timeout} s")
        time.sleep(0.02)


def wait_migration(src, dst, timeout):
    """Poll the source's query-migrate until the migration completed."""
    deadline = time.monotonic() + timeout
    while True:
        info = src.qmp.cmd("query-migrate")
        status = info.get("status")
        if status == "completed":
            return info
        if status in ("failed", "cancelled"):
            raise Failure(f"migration {status}: "
                          f"{info.get('error-desc', 'no error-desc')}; "
                          f"source {src.stderr_tail()}; "
                          f"destination {dst.stderr_tail()}")
        if time.monotonic() > deadline:
            try:
                src.qmp.cmd("migrate_cancel")
            except Failure:
                pass
            ram = info.get("ram", {})
            raise Failure(f"migration not completed in {timeout} s "
                          f"(status {status}; ram remaining "
                          f"{ram.get('remaining', '?')} dirty-pages-rate "
                          f"{ram.get('dirty-pages-rate', '?')} mbps "
                          f"{ram.get('mbps', '?')}; expected-downtime "
                          f"{info.get('expected-downtime', '?')} ms; vfio "
                          f"{info.get('vfio', {}).get('transferred', '?')} "
                          f"bytes)")
        time.sleep(0.05)


def wait_dest_running(args, dst, timeout):
    """The destination runs (after 'cont' if it was started with -S)."""
    deadline = time.monotonic() + timeout
    want = "paused" if args.paused_dest else "running"
    while True:
        st = dst.qmp.cmd("query-status").get("status")
        if st == want:
            break
        if st not in ("inmigrate", "paused", "finish-migrate"):
            raise Failure(f"destination is {st}, not {want}; "
                          f"{dst.stderr_tail()}")
        if time.monotonic() > deadline:
            raise Failure(f"destination not {want} {timeout} s after the "
                          f"migration completed ({st})")
        time.sleep(0.05)
    if args.paused_dest:
        dst.qmp.cmd("cont")
        st = dst.qmp.cmd("query-status").get("status")
        if st != "running":
            raise Failure(f"destination is {st} after cont")


def wait_status(src, want, timeout):
    """Wait until the source's migration is in status @want."""
    deadline = time.monotonic() + timeout
    while True:
        info = src.qmp.cmd("query-migrate")
        status = info.get("status")
        if status == want:
            return info
        if status in ("completed", "failed", "cancelled"):
            raise Failure(f"migration is {status}, not {want}: "
                          f"{info.get('error-desc', '')}")
        if time.monotonic() > deadline:
            raise Failure(f"migration not {want} within {timeout} s "
                          f"({status})")
        time.sleep(0.02)


def wait_failed(src, timeout, what):
    """Wait until the source's migration failed (@what says which, in a
    failure's message); the source must then be running.  Returns its
    last query-migrate."""
    deadline = time.monotonic() + timeout
    while True:
        info = src.qmp.cmd("query-migrate")
        status = info.get("status")
        if status == "failed":
            break
        if status in ("completed", "cancelled"):
            raise Failure(f"migration {what}: {status}, not failed")
        if time.monotonic() > deadline:
            raise Failure(f"migration {what}: still {status} after "
                          f"{timeout} s")
        time.sleep(0.05)
    st = src.qmp.cmd("query-status").get("status")
    if st != "running":
        raise Failure(f"source is {st} after its migration failed, not running")
    return info


def cancel_migration(args, src, dst, uri, timeout, stop_copy=False):
    """Start a migration and cancel it: in pre-copy, once device data
    flows, or with @stop_copy in stop-copy, once the source stopped the
    guest and its device (pre-switchover: QEMU 10 has the device in
    STOP_COPY then).

    The source must go on running with its device intact: the caller
    checks that the guest advances on it.  Returns the VFIO bytes sent
    before the cancel.
    """
    # pause-before-switchover: whatever happens, the migration cannot
    # complete before the cancel.
    if stop_copy:
        start_migration(args, src, dst, uri, pause=True)
        info = wait_status(src, "pre-switchover", timeout)
        sent = info.get("vfio", {}).get("transferred", 0)
    else:
        start_migration(args, src, dst, uri, THROTTLE,
                        downtime=PRECOPY_DOWNTIME, pause=True)
        sent = wait_precopy_data(src, timeout)
    deadline = time.monotonic() + timeout
    src.qmp.cmd("migrate_cancel")
    while True:
        info = src.qmp.cmd("query-migrate")
        if info.get("status") == "cancelled":
            break
        if info.get("status") in ("completed", "failed"):
            raise Failure(f"cancelled migration ended {info.get('status')}")
        if time.monotonic() > deadline:
            raise Failure(f"migration not cancelled within {timeout} s")
        time.sleep(0.05)
    st = src.qmp.cmd("query-status").get("status")
    if st != "running":
        raise Failure(f"source is {st} after migrate_cancel, not running")
    return sent


def wait_restarted(src, starts, timeout, qemus, after):
    """Wait until the guest in @src has started again since it had started
    @starts times (@after says after what), then for its first iteration,
    which this returns."""
    deadline = time.monotonic() + timeout
    while src.starts() == starts:
        check_serial(qemus)
        if time.monotonic() > deadline:
            raise Failure(f"the guest did not start again after {after}")
        time.sleep(0.1)
    return wait_iter(src, 0, timeout, qemus)


def reset_in_precopy(args, src, dst, uri, qemus):
    """Reset the guest (system_reset) while its migration is in pre-copy.

    A reset ends the device's migration session (the old data_fd returns
    ENODEV, the device is RUNNING), so QEMU 10 fails the migration ("data_fd
    out of sync"); the source must then go on running, with the guest
    booted again and its checks passing.  A migration that completes
    anyway is accepted too.  Returns (query-migrate if it completed, the
    guest's iteration on the source, a note for the log).
    """
    starts = src.starts()
    start_migration(args, src, dst, uri, THROTTLE, downtime=PRECOPY_DOWNTIME,
                    pause=True)
    sent = wait_precopy_data(src, args.timeout)
    src.resets += 1
    src.qmp.cmd("system_reset")
    deadline = time.monotonic() + args.timeout
    it = wait_restarted(src, starts, args.timeout, qemus, "system_reset")
    set_bandwidth(args, src)
    while True:
        info = src.qmp.cmd("query-migrate")
        status = info.get("status")
        if status == "completed":
            return info, it, f"guest reset after {sent} vfio bytes; completed"
        if status == "failed":
            break
        if status == "pre-switchover":
            # pause-before-switchover held it: let it finish (or fail).
            src.qmp.cmd("migrate-continue", state="pre-switchover")
        if status == "cancelled" or time.monotonic() > deadline:
            raise Failure(f"migration with a reset in pre-copy: {status}")
        time.sleep(0.05)
    st = src.qmp.cmd("query-status").get("status")
    if st != "running":
        raise Failure(f"source is {st} after its migration failed, not running")
    it = wait_iter(src, it, args.timeout, qemus)
    return None, it, (f"guest reset after {sent} vfio bytes; that migration "
                      f"failed ({info.get('error-desc', '?')}), source ran on")


def fault_rules(spec):
    """--fault-src/--fault-dst: rules separated by '/', words by ','
    (so that a flow's options stay one word each)."""
    return [r.replace(",", " ") for r in spec.split("/") if r] if spec else []


def arm_faults(hosts, insts, side, spec):
    for u in insts[side]:
        for r in fault_rules(spec):
            hosts[side].fault(u, r)


def faults_fired(hosts, insts, *sides):
    """How often the armed rules fired on the instances of @sides, and
    clear them."""
    fired = 0
    for side in sides:
        for u in insts[side]:
            for line in hosts[side].fault(u, "").splitlines():
                fired += (int(line.rsplit("fired=", 1)[1])
                          if "fired=" in line else 0)
            hosts[side].fault(u, "clear")
    return fired


def faulted_attempt(args, hosts, insts, src, dst, frm, to, uri, qemus):
    """--fault-expect failed: with the rules armed, a migration must fail
    cleanly: the source QEMU reports it failed, and goes on running with
    its guest's checks passing.  The rules must have fired.  Returns a note
    for the log; the caller clears nothing (this does) and kills @dst."""
    before = wait_iter(src, 0, args.timeout, qemus)
    arm_faults(hosts, insts, frm, args.fault_src)
    arm_faults(hosts, insts, to, args.fault_dst)
    start_migration(args, src, dst, uri)
    info = wait_failed(src, args.timeout, "with the fault armed")
    it = wait_iter(src, before, args.timeout, qemus)
    fired = faults_fired(hosts, insts, frm, to)
    if not fired:
        raise Failure("the migration failed, but no fault rule fired")
    return (f"; with the fault armed: failed ({info.get('error-desc', '?')}), "
            f"rules fired {fired} times, source ran on to iteration {it}")


def qemu_reset_attempt(args, hosts, insts, src, dst, frm, to, uri, qemus):
    """--fault-expect reset (source) or dest-reset: an arc the rules fail
    leaves the device where the uAPI says, and QEMU, whose recovery state
    is ERROR, resets the device ("Recover state is ERROR. Resetting
    device") and runs the guest on it: on the source after a failed
    migration, or on the destination after a completed one.  The guest
    then finds its device state gone (the test guest stops on the
    mismatch): QEMU's behaviour, checked as such.  device-reset: the rules
    reset the device themselves in the middle of the migration (as a
    guest's reboot would, without the guest rebooting): the migration
    fails, and the source's guest finds its device state gone.  Returns a
    note; the run ends after it."""
    wait_iter(src, 0, args.timeout, qemus)
    arm_faults(hosts, insts, frm, args.fault_src)
    arm_faults(hosts, insts, to, args.fault_dst)
    start_migration(args, src, dst, uri)
    if args.fault_expect in ("reset", "device-reset"):
        info = wait_failed(src, args.timeout, "with the fault armed")
        q, what = src, f"failed ({info.get('error-desc', '?')})"
    else:
        wait_migration(src, dst, args.timeout)
        wait_dest_running(args, dst, args.timeout)
        q, what = dst, "completed"
    fired = faults_fired(hosts, insts, frm, to)
    if not fired:
        raise Failure("no fault rule fired")
    deadline = time.monotonic() + args.timeout
    while args.fault_expect != "device-reset" and \
            "Resetting device" not in q.host.read(q.errlog):
        if time.monotonic() > deadline:
            raise Failure(f"QEMU {q.n} did not reset the device: "
                          f"{q.stderr_tail()}")
        time.sleep(0.1)
    while not BAD_RE.search(q.serial_text()):
        if time.monotonic() > deadline:
            raise Failure(f"the guest in QEMU {q.n} did not notice its "
                          f"device reset ({q.serial})")
        time.sleep(0.1)
    st = q.qmp.cmd("query-status").get("status")
    who = "the rule" if args.fault_expect == "device-reset" else f"QEMU {q.n}"
    return (f"; with the fault armed: {what}, rules fired {fired} times; "
            f"{who} reset the device and the guest ({st}) found its "
            f"device state gone: {BAD_RE.search(q.serial_text()).group(0)}")


def dest_failed_attempt(args, hosts, insts, src, dst, frm, to, uri, qemus):
    """--fault-expect dest-failed: with the rules armed on the destination
    (a write or the commit fails), the source's QEMU, which has no return
    path, completes the migration and stops; the destination's QEMU fails
    to load and exits.  What a VMM must then do is 'cont' the source: its
    guest runs on with its device as it was, which the guest's checks
    verify.  The rules must have fired."""
    before = wait_iter(src, 0, args.timeout, qemus)
    arm_faults(hosts, insts, frm, args.fault_src)
    arm_faults(hosts, insts, to, args.fault_dst)
    start_migration(args, src, dst, uri)
    deadline = time.monotonic() + args.timeout
    while True:
        status = src.qmp.cmd("query-migrate").get("status")
        if status in ("completed", "failed"):
            break
        if time.monotonic() > deadline:
            raise Failure(f"migration still {status} after {args.timeout} s")
        time.sleep(0.05)
    while dst.proc.poll() is None:
        if time.monotonic() > deadline:
            raise Failure("the destination QEMU did not exit after its "
                          "device refused the stream")
        time.sleep(0.05)
    st = src.qmp.cmd("query-status").get("status")
    if st != "running":
        src.qmp.cmd("cont")
    it = wait_iter(src, before, args.timeout, qemus)
    fired = faults_fired(hosts, insts, frm, to)
    if not fired:
        raise Failure("the destination failed, but no fault rule fired")
    return (f"; with the fault armed: source {status} and {st}, destination "
            f"QEMU exited ({dst.stderr_tail().strip()[-80:]}), rules fired "
            f"{fired} times; after cont the source ran on to iteration {it}")


def error_irq_recovery(args, hosts, insts, side, src, qemus):
    """--error-irq: the device raises its error interrupt ("now err_irq")
    while the guest runs.  QEMU 10 registers for it (the device offers
    VFIO_PCI_ERR_IRQ_INDEX) and stops the guest with status
    internal-error, saying so on stderr; such a guest runs again only after
    a reset.  The flow checks both, resets and continues it, and waits for
    the guest to boot again and run its checks: the device came through
    its error whole, and the hop that follows migrates it.  Returns the
    guest's iteration and a note for the log."""
    starts = src.starts()
    for u in insts[side]:
        hosts[side].fault(u, "now err_irq")
    deadline = time.monotonic() + args.timeout
    while src.qmp.cmd("query-status").get("status") != "internal-error":
        if time.monotonic() > deadline:
            raise Failure(f"QEMU {src.n} did not stop the guest on the "
                          f"error interrupt: {src.stderr_tail()}")
        time.sleep(0.05)
    said = src.host.read(src.errlog)
    if "Unrecoverable error detected" not in said:
        raise Failure(f"QEMU {src.n} stopped, but did not say why: "
                      f"{src.stderr_tail()}")
    src.resets += 1
    src.qmp.cmd("system_reset")
    src.qmp.cmd("cont")
    it = wait_restarted(src, starts, args.timeout, qemus, "the reset")
    return it, ("; error interrupt: QEMU stopped the guest (internal-error), "
                f"reset and cont, guest ran again to iteration {it}")


def request_irq_unplug(args, hosts, insts, side, src, qemus):
    """--request-irq: the device raises its request interrupt ("now
    req_irq"), as the kernel does when the instance is being removed while
    open.  QEMU 10 asks the guest to unplug the device, here through ACPI
    PCI hotplug (acpi_pci_unplug_request, traced, for the device's slot);
    the test guest has no ACPI and never answers, so the device stays and
    the guest runs on, neither stopped nor reset, with its checks passing
    (the hop that follows migrates it).  Returns the guest's iteration and
    a note for the log."""
    starts, before = src.starts(), src.last_iter()
    for u in insts[side]:
        hosts[side].fault(u, "now req_irq")
    want = {DEVICE_SLOT + k for k in range(len(insts[side]))}
    deadline = time.monotonic() + args.timeout
    while True:
        asked = {int(m) for m in UNPLUG_RE.findall(src.host.read(src.errlog))}
        if want <= asked:
            break
        if time.monotonic() > deadline:
            raise Failure(f"QEMU {src.n} asked the guest to unplug slots "
                          f"{sorted(asked)}, not {sorted(want)}: "
                          f"{src.stderr_tail()}")
        time.sleep(0.05)
    it = wait_iter(src, before, args.timeout, qemus)
    st = src.qmp.cmd("query-status").get("status")
    ids = {d.get("qdev_id") for bus in src.qmp.cmd("query-pci")
           for d in bus.get("devices", [])}
    gone = [f"migdev{k}" for k in range(len(insts[side]))
            if f"migdev{k}" not in ids]
    if st != "running" or gone or src.starts() != starts:
        raise Failure(f"after the request interrupt: status {st}, devices "
                      f"gone {gone}, guest starts {starts} -> "
                      f"{src.starts()}")
    return it, ("; request interrupt: QEMU asked the guest to unplug slots "
                f"{sorted(asked)} (ACPI), the guest ran on to iteration {it}")


def writer_lines(spec):
    """--writer: the source's settings, and the destination's: the same
    range at rate 0 (its digest covers the range; it writes nothing)."""
    words = spec.split(",")
    return (" ".join(words),
            " ".join("rate=0" if w.startswith("rate=") else w for w in words))


def writer_said(text):
    """The fields of a writer's file, as a dict."""
    return dict(w.split("=", 1) for w in text.split() if "=" in w)


def writer_check(hosts, insts, frm, to):
    """After a hop: each source writer wrote, and its destination holds
    what it held at switchover (the digests of the range are equal).
    Returns a note for the log."""
    blocks = []
    for us, ud in zip(insts[frm], insts[to]):
        s = writer_said(hosts[frm].writer(us, ""))
        d = writer_said(hosts[to].writer(ud, ""))
        if int(s.get("written", 0)) == 0:
            raise Failure(f"the writer of {us} wrote nothing")
        if s.get("digest") != d.get("digest"):
            raise Failure(f"device memory the writer wrote differs: source "
                          f"{us} {s.get('digest')}, destination {ud} "
                          f"{d.get('digest')}")
        hosts[frm].writer(us, "stop")
        blocks.append(f"{s['written']} blocks, digest {s['digest']}")
    return "; writer: " + ", ".join(blocks) + ", the same on the destination"


def hold_precopy(src, seconds, why):
    """The migration must still be going @seconds after it started (@why
    says what holds it back); its query-migrate then."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        info = src.qmp.cmd("query-migrate")
        if info.get("status") not in ("setup", "active"):
            raise Failure(f"{why}, the migration is {info.get('status')}, "
                          f"not active {info.get('error-desc', '')}")
        time.sleep(0.1)
    return info


def writer_outpaces(args, hosts, insts, frm, src):
    """--writer-outpaces SECONDS: while the source's writers dirty device
    memory faster than the link moves it, pre-copy goes round and round
    and the migration does not complete; once they stop, it converges.
    Returns a note for the log."""
    info = hold_precopy(src, args.writer_outpaces, "with the writer running")
    vfio = info.get("vfio", {}).get("transferred", 0)
    syncs = info.get("ram", {}).get("dirty-sync-count", 0)
    for u in insts[frm]:
        hosts[frm].writer(u, "stop")
    return (f"; still in pre-copy after {args.writer_outpaces} s with the "
            f"writer running ({vfio} vfio bytes, {syncs} dirty syncs), "
            f"converged once it stopped")


def fault_hold(args, hosts, insts, frm, to, src):
    """--fault-hold SECONDS: with the rules armed, the migration must still
    be in pre-copy SECONDS after it started (an estimate that never lets
    it converge); once they are cleared, it must complete.  Returns a
    note for the log.

    The migration starts at THROTTLE bytes/s for half a second: QEMU asks
    a device for its stop-copy size (and refreshes its pre-copy sizes)
    only when its cheap estimate is below its threshold, and before it
    has measured the bandwidth (its first 100 ms) the threshold is 0 and
    an estimate of 0 means done; a small guest's RAM goes clean that
    early, and QEMU would switch over without asking the device.  Slowed
    down, the RAM is still pending when the first measurement comes."""
    time.sleep(0.5)
    set_bandwidth(args, src)
    info = hold_precopy(src, args.fault_hold, "with the fault armed")
    syncs = info.get("ram", {}).get("dirty-sync-count", 0)
    fired = faults_fired(hosts, insts, frm, to)
    if not fired:
        raise Failure("the migration did not converge, but no fault rule "
                      "fired")
    return (f"; still in pre-copy after {args.fault_hold} s with the fault "
            f"armed ({syncs} dirty syncs, rules fired {fired} times), "
            f"completed once cleared")


def opaque_check(args, hosts, insts, to):
    """Each destination took all of its source's opaque state."""
    for u in insts[to]:
        said = hosts[to].debugfs(u, "stats", "")
        got = [int(line.split()[1]) for line in said.splitlines()
               if line.startswith("opaque_loaded ")]
        if got != [args.opaque]:
            raise Failure(f"{u} loaded {got} bytes of opaque state, "
                          f"not {args.opaque}")
    return f"; the destination checked {args.opaque} bytes of opaque state"


def check_vfio_events(src, dst):
    """--migration-events: the source's device went through pre-copy and
    stop-copy (by way of whatever P2P states its QEMU uses), the
    destination's through resuming to running.  Returns both sequences."""
    src.qmp.cmd("query-status")     # events sent so far, read
    dst.qmp.cmd("query-status")
    s, d = src.vfio_states(), dst.vfio_states()

    def in_order(seq, want):
        it = iter(seq)
        return all(w in it for w in want)
    if not in_order(s, ["pre-copy", "stop-copy"]):
        raise Failure(f"source VFIO_MIGRATION states {s}: no pre-copy then "
                      f"stop-copy")
    if not in_order(d, ["resuming", "running"]):
        raise Failure(f"destination VFIO_MIGRATION states {d}: no resuming "
                      f"then running")
    # This hop's part of the source's life: from its last pre-copy on.
    s = s[len(s) - s[::-1].index("pre-copy") - 1:]
    return f"vfio states {'>'.join(s)} | {'>'.join(d)}"


def summary(hops):
    log("# hop  from->to  downtime_ms  total_ms  setup_ms  vfio_bytes  ram_bytes  wall_ms  guest_iter")
    for h in hops:
        log("# %3d  %s->%s     %8d  %8d  %8d  %10d  %9d  %7d  %d->%d" % (
            h["hop"], h["from"], h["to"], h["downtime"], h["total"],
            h["setup"], h["vfio"], h["ram"], h["wall"], h["iter_before"],
            h["iter_after"]))
    if hops:
        dts = sorted(h["downtime"] for h in hops)
        tot = sorted(h["total"] for h in hops)
        vb = sorted(h["vfio"] for h in hops)
        log(f"# {len(hops)} hops: downtime ms min {dts[0]} median "
            f"{dts[len(dts) // 2]} max {dts[-1]}; total ms median "
            f"{tot[len(tot) // 2]} max {tot[-1]}; vfio bytes median "
            f"{vb[len(vb) // 2]} max {vb[-1]}")


def preflight(args, hosts, insts, what, want):
    """The pre-flight check across the hosts, as an orchestrator asks it:
    A's instance's description (migration_compat), asked of B's instance
    and of B's type (migration_compat_check), must give @want (0: B would
    take it), and of B's other types ENODEV, without touching any
    device."""
    desc = hosts[0].compat(insts[0][0])
    got = {insts[1][0]: hosts[1].compat(insts[1][0], desc),
           args.type: hosts[1].compat(args.type, desc)}
    for other in ("migdev-small", "migdev-medium"):
        if other != args.type:
            got[other] = hosts[1].compat(other, desc)
    for target, err in got.items():
        expect = want if not target.startswith("migdev-") or \
            target == args.type else errno.ENODEV
        if err != expect:
            raise Failure(f"pre-flight: A's instance ({' '.join(desc.split())}) "
                          f"written to B's {target}: {err and os.strerror(err)}, "
                          f"expected {expect and os.strerror(expect)}")
    log(f"# ok: pre-flight check {what}: A's instance "
        f"({desc.splitlines()[-2]}) to B's instance and type "
        f"{os.strerror(want) if want else 'accepted'}, to another type "
        f"{os.strerror(errno.ENODEV)}")


def refused_by_older(args, src, dst, uri):
    """Migrate from @src, whose instances emit the newest stream minor,
    to @dst, whose module accepts only an older one: the destination must
    refuse the stream (its header comes first, so in pre-copy), the
    migration must fail, and the source must run on (the caller checks
    that its guest goes on).  Returns what the destination said."""
    # switchover-ack: the source cannot switch over before the destination
    # took the device's pre-copy data, which it refuses.
    saved = args.switchover_ack
    args.switchover_ack = True
    try:
        start_migration(args, src, dst, uri)
    finally:
        args.switchover_ack = saved
    wait_failed(src, args.timeout, "to the older destination")
    try:
        dst.proc.wait(args.timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"the destination QEMU {dst.n} did not exit after "
                      f"its migration failed") from None
    said = dst.host.klog("newer than")
    if not said:
        raise Failure("the destination's kernel log does not say why it "
                      f"refused the stream; {dst.stderr_tail()}")
    return said[-1]


def run(args, hosts, flavour):
    """Ping-pong between instances on hosts[0] (side A) and hosts[1] (B),
    with QEMUs of @flavour."""
    hops = []
    qemus = []
    insts = [[], []]
    names = "AB"
    n = [0]
    reinits = 0

    def new_qemu(side, incoming=True):
        q = Qemu(args, hosts[side], n[0], insts[side], incoming, flavour)
        n[0] += 1
        qemus.append(q)
        return q

    try:
        refuse = args.newer_refused
        for side in (0, 1):
            minor = None if side == 0 and refuse else args.minor
            for _ in range(args.devices):
                insts[side].append(hosts[side].create_instance(
                    args.parent, args.type, minor))
                if args.no_precopy:
                    hosts[side].set_precopy(insts[side][-1], False)
                if args.opaque:
                    hosts[side].debugfs(insts[side][-1], "opaque",
                                        str(args.opaque))
        log(f"# instances of {args.type}: A {' '.join(insts[0])}, "
            f"B {' '.join(insts[1])}"
            + (f"; stream minor 1.{args.minor}" if args.minor is not None
               else ""))
        cur = new_qemu(0, incoming=False)
        it = wait_iter(cur, 0, args.boot_timeout, qemus)
        log(f"# guest running on A, iteration {it}")
        if refuse:
            preflight(args, hosts, insts, "refused", errno.EPROTONOSUPPORT)
            dst = new_qemu(1)
            said = refused_by_older(args, cur, dst, hosts[1].mig_uri("old"))
            it = wait_iter(cur, it, args.timeout, qemus)
            log(f"# ok: stream 1.2 refused by B, whose module accepts "
                f"1.{args.minor} (B's kernel: {said.strip()}); the guest "
                f"goes on on A, iteration {it}")
            for u in insts[0]:
                hosts[0].set_minor(u, args.minor)
            preflight(args, hosts, insts, "accepted", 0)
        for h in range(1, args.hops + 1):
            frm, to = (h - 1) % 2, h % 2
            before = wait_iter(cur, it, args.timeout, qemus)
            uri = hosts[to].mig_uri(str(h))
            cancelled = ""
            if args.cancel or args.cancel_stop_copy:
                dst = new_qemu(to)
                sent = cancel_migration(args, cur, dst,
                                        hosts[to].mig_uri(f"{h}c"),
                                        args.timeout, args.cancel_stop_copy)
                dst.kill()
                before = wait_iter(cur, before, args.timeout, qemus)
                cancelled = (f"; cancelled one in "
                             f"{'stop-copy' if args.cancel_stop_copy else 'pre-copy'}"
                             f" after {sent} vfio bytes")
            if args.request_irq:
                before, note = request_irq_unplug(args, hosts, insts, frm,
                                                  cur, qemus)
                cancelled += note
            if args.error_irq:
                before, note = error_irq_recovery(args, hosts, insts, frm,
                                                  cur, qemus)
                cancelled += note
            start = time.monotonic()
            dst = new_qemu(to)
            info = None
            if args.reset_in_precopy:
                info, before, note = reset_in_precopy(args, cur, dst, uri,
                                                      qemus)
                cancelled = "; " + note
                if not info:
                    dst.kill()
                    dst = new_qemu(to)
                    uri = hosts[to].mig_uri(f"{h}r")
            if args.fault_expect in ("reset", "dest-reset", "device-reset"):
                log(f"ok {args.fault_expect}"
                    + qemu_reset_attempt(args, hosts, insts, cur, dst, frm,
                                         to, uri, qemus))
                break
            if args.fault_expect in ("failed", "dest-failed"):
                attempt = (faulted_attempt if args.fault_expect == "failed"
                           else dest_failed_attempt)
                cancelled += attempt(args, hosts, insts, cur, dst, frm, to,
                                     uri, qemus)
                dst.kill()
                dst = new_qemu(to)
                uri = hosts[to].mig_uri(f"{h}f")
                before = wait_iter(cur, before, args.timeout, qemus)
            elif args.fault_expect == "completed" or args.fault_hold:
                arm_faults(hosts, insts, frm, args.fault_src)
                arm_faults(hosts, insts, to, args.fault_dst)
            if args.writer:
                on, named = writer_lines(args.writer)
                for u in insts[to]:
                    hosts[to].writer(u, named)
                for u in insts[frm]:
                    hosts[frm].writer(u, on)
            if not info:
                # A slow start for --fault-hold (see fault_hold()).
                start_migration(args, cur, dst, uri,
                                THROTTLE if args.fault_hold else None)
                if args.writer_outpaces:
                    cancelled += writer_outpaces(args, hosts, insts, frm,
                                                 cur)
                if args.fault_hold:
                    cancelled += fault_hold(args, hosts, insts, frm, to, cur)
                info = wait_migration(cur, dst, args.timeout)
            if args.fault_expect == "completed":
                fired = faults_fired(hosts, insts, frm, to)
                if not fired:
                    raise Failure("the migration completed, but no fault "
                                  "rule fired")
                cancelled += f"; completed with rules firing {fired} times"
            wait_dest_running(args, dst, args.timeout)
            if args.writer:
                # Once the destination has loaded its state and runs.
                cancelled += writer_check(hosts, insts, frm, to)
            if args.opaque:
                cancelled += opaque_check(args, hosts, insts, to)
            if args.migration_events:
                cancelled += "; " + check_vfio_events(cur, dst)
            cur.quit(args.timeout)
            stopcopy = cur.stop_copy_bytes() if args.stop_copy_bytes else -1
            if args.discard_ms:
                hop_reinits = cur.reinits()
                reinits += hop_reinits
                cancelled += (f"; guest discards {cur.discards()}, "
                              f"REINIT reports {hop_reinits}")
            wall = int((time.monotonic() - start) * 1000)
            it = wait_iter(dst, before, args.timeout, qemus)
            rec = {"hop": h, "from": names[frm], "to": names[to],
                   "downtime": info.get("downtime", -1),
                   "total": info.get("total-time", -1),
                   "setup": info.get("setup-time", -1),
                   "vfio": info.get("vfio", {}).get("transferred", -1),
                   "ram": info.get("ram", {}).get("transferred", -1),
                   "wall": wall, "iter_before": before, "iter_after": it,
                   "stopcopy": stopcopy}
            hops.append(rec)
            if stopcopy >= 0:
                cancelled += f"; {stopcopy} vfio bytes in stop-copy"
            log("ok hop %d %s->%s downtime %d ms total %d ms vfio %d bytes "
                "ram %d bytes; guest iteration %d -> %d%s" % (
                    h, rec["from"], rec["to"], rec["downtime"], rec["total"],
                    rec["vfio"], rec["ram"], before, it, cancelled))
            cur = dst
        if args.fault_expect not in ("reset", "dest-reset", "device-reset"):
            # (There the guest found its device reset, as expected.)
            check_serial(qemus)
        # The count goes up across the hops (it lives in guest RAM); the
        # last QEMU may not have printed a line yet.
        discards = max((q.discards() for q in qemus), default=0)
        if args.discard_ms and not discards:
            raise Failure("--discard-ms: the guest reported no discard")
        if args.expect_reinit and not reinits:
            raise Failure("--expect-reinit: no source QEMU traced "
                          "VFIO_PRECOPY_INFO_REINIT")
        if args.discard_ms:
            log(f"# the guest discarded device memory {discards} times; "
                f"sources traced {reinits} REINIT answers")
        failure = None
    except Failure as e:
        failure = str(e)
        log(f"# FAIL: {failure}")
    finally:
        for q in qemus:
            try:
                q.kill()
            except Failure as e:
                log(f"# could not kill QEMU {q.n}: {e}")
        for side in (0, 1):
            for u in insts[side]:
                hosts[side].remove_instance(u)
        with open(os.path.join(args.workdir, "hops.json"), "w") as f:
            json.dump(hops, f, indent=1)
    summary(hops)
    if failure:
        # Again after the table, where a log's tail shows it.
        log(f"# FAIL after {len(hops)} of {args.hops} hops: {failure}")
    log(f"# {'FAIL' if failure else 'PASS'}: {len(hops)} of {args.hops} hops; "
        f"logs in {args.workdir}")
    return 1 if failure else 0


def main(flavour=None, argv=None):
    """Run the ping-pong with QEMUs of @flavour (default: Flavour, QEMU
    10) and the command line @argv (default: sys.argv's)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--hops", type=int, default=20,
                    help="one-way migrations (a round trip is two)")
    ap.add_argument("-t", "--type", default="migdev-small")
    ap.add_argument("--parent",
                    default=os.environ.get("MIGDEV_PARENT") or "migdev0",
                    help="the instances' parent (default: $MIGDEV_PARENT, "
                    "else migdev0)")
    ap.add_argument("--guest", default=os.path.join(root, "guest/build/migdev-guest.elf"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--machine", default="pc")
    ap.add_argument("--devices", type=int, default=1, choices=(0, 1, 2),
                    help="migdev devices in the guest (instances per side); "
                    "the guest drives them in turn; with 0 it works on its "
                    "RAM alone (the same guest without the device, for "
                    "downtime figures)")
    ap.add_argument("--fill-mb", type=int, default=0,
                    help="the guest first writes this much of its device's "
                    "memory, and checks it from then on")
    ap.add_argument("--stop-copy-bytes", action="store_true",
                    help="trace each source's device data in stop-copy "
                    "(QEMU's vfio_save_block after "
                    "vfio_save_complete_precopy_start)")
    ap.add_argument("--no-precopy", action="store_true",
                    help="instances without PRE_COPY (migration_precopy 0): "
                    "QEMU saves them in stop-copy alone")
    ap.add_argument("--initrd", help="with a Linux --guest: its initramfs "
                    "(samples/guest-driver/initramfs.sh)")
    ap.add_argument("--append", help="with a Linux --guest: its command line")
    ap.add_argument("--mem", type=int, default=32, help="guest RAM, MiB")
    ap.add_argument("--max-bandwidth", type=int, default=0,
                    help="bytes/s (0: QEMU's default)")
    ap.add_argument("--switchover-ack", action="store_true",
                    help="return-path and switchover-ack on both sides")
    ap.add_argument("--paused-dest", action="store_true",
                    help="start each destination with -S, 'cont' it after")
    ap.add_argument("--reset-in-precopy", action="store_true",
                    help="reset the guest (system_reset) while a migration "
                    "is in pre-copy, before each hop; the source must run on "
                    "(QEMU 10 fails that migration), then the hop is made")
    ap.add_argument("--migration-events", action="store_true",
                    help="migration-events=on on the devices: each hop's "
                    "VFIO_MIGRATION states must show pre-copy then "
                    "stop-copy on the source, resuming then running on "
                    "the destination (QEMU 11.1 adds pre-copy-p2p-prepare)")
    ap.add_argument("--discard-ms", type=int, default=0,
                    help="the guest discards device memory every this many "
                    "ms (a reconfiguration: pre-copy's initial data starts "
                    "again); sources trace what PRECOPY_INFO says")
    ap.add_argument("--expect-reinit", action="store_true",
                    help="with --discard-ms: fail unless a source QEMU saw "
                    "VFIO_PRECOPY_INFO_REINIT (QEMU 11.1 on Linux 7.1 or "
                    "later)")
    ap.add_argument("--multifd", action="store_true",
                    help="multifd on both sides (QEMU 10 then moves the "
                    "device state in multifd channels too)")
    ap.add_argument("--fault-src", metavar="RULES",
                    help="fault rules (debugfs faults) for the source's "
                    "instances at each hop: rules separated by '/', their "
                    "words by ','")
    ap.add_argument("--fault-dst", metavar="RULES",
                    help="the same for the destination's instances")
    ap.add_argument("--fault-expect",
                    choices=("failed", "dest-failed", "completed", "reset",
                             "dest-reset", "device-reset"),
                    help="failed: before each hop, a migration with the "
                    "rules armed must fail, the source running on, and the "
                    "hop then goes without them; dest-failed: the same, "
                    "but the destination fails after the source completed, "
                    "and the source runs on after cont; completed: each "
                    "hop has the rules armed and must complete; reset and "
                    "dest-reset: the migration fails (completes), QEMU "
                    "resets the device on the source (destination), whose "
                    "guest finds its device state gone, and the run ends "
                    "there; device-reset: the same with the rules "
                    "resetting the device; either way they must fire")
    ap.add_argument("--writer", metavar="SETTINGS",
                    help="during each hop, the source's instances write "
                    "their own device memory (debugfs writer, words "
                    "separated by ','), and the destination must hold what "
                    "the source held at switchover (digests of the range)")
    ap.add_argument("--writer-outpaces", metavar="SECONDS", type=float,
                    help="with --writer: the migration must still be in "
                    "pre-copy SECONDS after it started; then the writers "
                    "stop, and it must complete")
    ap.add_argument("--opaque", metavar="BYTES", type=int, default=0,
                    help="every instance has BYTES of opaque state that "
                    "only stop-copy sends (debugfs opaque); each "
                    "destination must have taken all of it")
    ap.add_argument("--request-irq", action="store_true",
                    help="before each hop, the source's instances raise "
                    "their request interrupt: QEMU must ask the guest to "
                    "unplug them (ACPI, traced); the guest runs on, and "
                    "the hop then goes")
    ap.add_argument("--error-irq", action="store_true",
                    help="before each hop, the source's instances raise "
                    "their error interrupt: QEMU must stop the guest "
                    "(internal-error); it is reset and continued, and the "
                    "hop then goes")
    ap.add_argument("--fault-hold", metavar="SECONDS", type=float,
                    help="each hop has the rules armed, and must still be "
                    "in pre-copy SECONDS after it started; the rules are "
                    "then cleared (they must have fired), and it must "
                    "complete")
    ap.add_argument("--cancel", action="store_true",
                    help="before each hop, cancel a migration in pre-copy "
                    "and check that the source goes on")
    ap.add_argument("--cancel-stop-copy", action="store_true",
                    help="before each hop, cancel a migration in stop-copy "
                    "(pause-before-switchover) and check that the source "
                    "goes on")
    ap.add_argument("--remote", metavar="ADDR:PORT",
                    help="side B on another host, through the agent there "
                    "(tests/qemu/hosts.py --serve); migrations go over TCP")
    ap.add_argument("--local-addr", metavar="ADDR",
                    help="with --remote: this host's address on the link "
                    "(destinations here listen on it)")
    ap.add_argument("--remote-module", metavar="PARAMS",
                    help="with --remote: load migdev on the other host "
                    "again with these parameters first (e.g. stream_minor=1: "
                    "a module that speaks an older stream)")
    ap.add_argument("--minor", type=int,
                    help="stream minor version the instances emit (their "
                    "migdev/migration_minor)")
    ap.add_argument("--newer-refused", action="store_true",
                    help="with --minor: first migrate with A's instances on "
                    "the newest minor, which B must refuse (the source "
                    "runs on), then set --minor and go on")
    ap.add_argument("--downtime-limit", type=int, default=300,
                    help="ms (QEMU's default: 300)")
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds for each wait (QMP, one migration, progress)")
    ap.add_argument("--boot-timeout", type=float, default=120)
    ap.add_argument("--workdir", help="logs (default: $MIGDEV_RESULTS/qemu-pingpong "
                    "or a new directory in /tmp)")
    args = ap.parse_args(argv)
    if (args.local_addr or args.remote_module) and not args.remote:
        ap.error("--local-addr and --remote-module go with --remote")
    if args.remote and not args.local_addr:
        ap.error("--remote needs --local-addr")
    if args.newer_refused and args.minor is None:
        ap.error("--newer-refused needs --minor")
    if bool(args.fault_src or args.fault_dst) != \
            bool(args.fault_expect or args.fault_hold):
        ap.error("--fault-src/--fault-dst and --fault-expect or "
                 "--fault-hold go together")
    if args.fault_expect and args.fault_hold:
        ap.error("--fault-expect and --fault-hold exclude each other")

    if not os.path.exists(args.guest):
        print(f"pingpong: no guest image {args.guest} (make -C guest)", file=sys.stderr)
        return 2
    if not shutil.which(args.qemu):
        print(f"pingpong: {args.qemu} not found", file=sys.stderr)
        return 2
    if not args.workdir:
        res = os.environ.get("MIGDEV_RESULTS")
        args.workdir = (os.path.join(res, "qemu-pingpong") if res
                        else tempfile.mkdtemp(prefix="migdev-pp."))
    os.makedirs(args.workdir, exist_ok=True)
    # Unix socket paths must be short: keep the sockets apart from the logs.
    args.sockdir = tempfile.mkdtemp(prefix="migdev-pp-sock.")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    hosts = [LocalHost(args.qemu, args.workdir, args.sockdir,
                       args.local_addr)]
    try:
        if args.remote:
            remote = RemoteHost(args.remote, os.path.basename(args.workdir),
                                args.boot_timeout)
            hosts.append(remote)
            log(f"# side B on the host of agent {args.remote} "
                f"(QEMU {remote.qemu}, logs there in {remote.workdir})")
            if args.remote_module:
                params = remote.reload_module(args.remote_module)
                log("# migdev loaded again there: " + " ".join(
                    f"{k}={v}" for k, v in params.items()))
        else:
            hosts.append(hosts[0])
        return run(args, hosts, flavour or Flavour())
    except Failure as e:
        log(f"# FAIL: {e}")
        return 1
    finally:
        for h in hosts[1:]:
            h.close()
        shutil.rmtree(args.sockdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
