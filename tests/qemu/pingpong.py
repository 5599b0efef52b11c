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
python3's standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

MDEV_BUS = "/sys/class/mdev_bus"
MDEV_DEVICES = "/sys/bus/mdev/devices"
ITER_RE = re.compile(r"^migdev-guest: iter (\d+) ok", re.M)
BAD_RE = re.compile(r"^migdev-guest: (MISMATCH|FATAL).*$", re.M)
START = "migdev-guest: starting"
# Device k's place in the guest (id migdevK, slot 5 + k): the same on both
# sides of a migration.
DEVICE_SLOT = 5
# Bytes/s for a migration that must still be in pre-copy when the harness
# acts on it (cancel, reset): even a loaded machine answers QMP in time.
THROTTLE = 64 << 10
# ms of downtime-limit for such a migration.  Not 0: with a threshold of 0,
# QEMU 10 completes as soon as its pending *estimate* is 0, without the
# dirty-log sync that would have found the guest's new writes (seen on the
# debug kernel: stop-copy before any device data).  With 1 ms it syncs, and
# a running guest always has dirty pages.
PRECOPY_DOWNTIME = 1


class Failure(Exception):
    """A check failed; the message says which and why."""


def log(msg):
    print(msg, flush=True)


class QMP:
    """A minimal QMP client: one command at a time, events set aside."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(timeout)
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise Failure(f"QMP socket {path}: {e}") from None
                time.sleep(0.05)
        self.file = self.sock.makefile("rwb")
        self.events = []
        greeting = self._read()
        if "QMP" not in greeting:
            raise Failure(f"QMP {path}: unexpected greeting {greeting}")
        self.cmd("qmp_capabilities")

    def _read(self):
        try:
            line = self.file.readline()
        except (OSError, socket.timeout) as e:
            raise Failure(f"QMP read: {e}") from None
        if not line:
            raise Failure("QMP: QEMU closed the connection")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            resp = self._read()
            if "event" in resp:
                self.events.append(resp)
                continue
            if "error" in resp:
                raise Failure(f"QMP {name}: {resp['error'].get('desc', resp['error'])}")
            return resp.get("return")

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


class Qemu:
    """One QEMU process with its QMP socket, serial log and stderr log."""

    def __init__(self, args, n, instances, incoming=False):
        self.n = n
        self.instances = instances
        self.resets = 0     # guest resets asked of this QEMU
        self.serial = os.path.join(args.workdir, f"serial-{n:03d}.log")
        self.errlog = os.path.join(args.workdir, f"qemu-{n:03d}.log")
        self.qmp_path = os.path.join(args.sockdir, f"qmp-{n}.sock")
        cmd = [args.qemu, "-name", f"migdev-pp-{n}", "-accel", "tcg",
               "-machine", args.machine, "-m", str(args.mem),
               "-nodefaults", "-no-user-config", "-display", "none",
               "-serial", f"file:{self.serial}",
               "-kernel", args.guest]
        for k, u in enumerate(instances):
            cmd += ["-device", "vfio-pci,sysfsdev=%s/%s,id=migdev%d,"
                    "addr=0x%x,enable-migration=on" % (MDEV_DEVICES, u, k,
                                                       DEVICE_SLOT + k)]
        cmd += ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        for ev in os.environ.get("MIGDEV_QEMU_TRACE", "").split():
            cmd += ["-trace", ev]
        if incoming:
            # As libvirt does: capabilities first, then migrate-incoming.
            cmd += ["-incoming", "defer"]
            if args.paused_dest:
                cmd += ["-S"]
        self.cmdline = cmd
        with open(self.errlog, "w") as err:
            err.write(" ".join(cmd) + "\n")
            err.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err)
        try:
            self.qmp = QMP(self.qmp_path, args.timeout)
        except Failure as e:
            self.kill()
            raise Failure(f"QEMU {n} did not start: {e}; "
                          f"{self.stderr_tail()}") from None

    def stderr_tail(self):
        try:
            with open(self.errlog) as f:
                lines = f.read().splitlines()[1:]
            return "stderr: " + " | ".join(lines[-5:]) if lines else "no stderr"
        except OSError:
            return "no stderr"

    def serial_text(self):
        try:
            with open(self.serial, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def starts(self):
        return self.serial_text().count(START)

    def last_iter(self):
        """The last iteration the guest reported since it last started."""
        text = self.serial_text()
        m = ITER_RE.findall(text[text.rfind(START):] if START in text else text)
        return int(m[-1]) if m else 0

    def quit(self, timeout):
        if self.proc.poll() is None:
            try:
                self.qmp.cmd("quit")
            except Failure:
                pass
        self.qmp.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(f"QEMU {self.n} did not quit in {timeout} s") from None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass


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
    while src.starts() == starts:
        check_serial(qemus)
        if time.monotonic() > deadline:
            raise Failure("the guest did not start again after system_reset")
        time.sleep(0.1)
    it = wait_iter(src, 0, args.timeout, qemus)
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


def create_instance(parent, mtype):
    path = os.path.join(MDEV_BUS, parent, "mdev_supported_types", mtype, "create")
    if not os.path.exists(path):
        raise Failure(f"no mdev type {mtype} under {MDEV_BUS}/{parent} "
                      f"(is migdev loaded?)")
    u = str(uuid.uuid4())
    with open(path, "w") as f:
        f.write(u)
    return u


def remove_instance(u):
    try:
        with open(os.path.join(MDEV_DEVICES, u, "remove"), "w") as f:
            f.write("1")
    except OSError as e:
        log(f"# could not remove instance {u}: {e}")


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


def run(args):
    hops = []
    qemus = []
    insts = []
    try:
        for _ in range(2 * args.devices):
            insts.append(create_instance(args.parent, args.type))
        sides = [insts[:args.devices], insts[args.devices:]]
        names = "AB"
        log(f"# instances of {args.type}: A {' '.join(sides[0])}, "
            f"B {' '.join(sides[1])}")
        cur = Qemu(args, 0, sides[0])
        qemus.append(cur)
        next_n = 1
        it = wait_iter(cur, 0, args.boot_timeout, qemus)
        log(f"# guest running on A, iteration {it}")
        for h in range(1, args.hops + 1):
            frm, to = (h - 1) % 2, h % 2
            before = wait_iter(cur, it, args.timeout, qemus)
            uri = "unix:" + os.path.join(args.sockdir, f"mig-{h}.sock")
            cancelled = ""
            if args.cancel or args.cancel_stop_copy:
                dst = Qemu(args, next_n, sides[to], incoming=True)
                next_n += 1
                qemus.append(dst)
                sent = cancel_migration(args, cur, dst, uri + "c",
                                        args.timeout, args.cancel_stop_copy)
                dst.kill()
                before = wait_iter(cur, before, args.timeout, qemus)
                cancelled = (f"; cancelled one in "
                             f"{'stop-copy' if args.cancel_stop_copy else 'pre-copy'}"
                             f" after {sent} vfio bytes")
            start = time.monotonic()
            dst = Qemu(args, next_n, sides[to], incoming=True)
            next_n += 1
            qemus.append(dst)
            info = None
            if args.reset_in_precopy:
                info, before, note = reset_in_precopy(args, cur, dst, uri,
                                                      qemus)
                cancelled = "; " + note
                if not info:
                    dst.kill()
                    dst = Qemu(args, next_n, sides[to], incoming=True)
                    next_n += 1
                    qemus.append(dst)
            if not info:
                if args.reset_in_precopy:
                    uri += "r"
                start_migration(args, cur, dst, uri)
                info = wait_migration(cur, dst, args.timeout)
            wait_dest_running(args, dst, args.timeout)
            cur.quit(args.timeout)
            wall = int((time.monotonic() - start) * 1000)
            it = wait_iter(dst, before, args.timeout, qemus)
            rec = {"hop": h, "from": names[frm], "to": names[to],
                   "downtime": info.get("downtime", -1),
                   "total": info.get("total-time", -1),
                   "setup": info.get("setup-time", -1),
                   "vfio": info.get("vfio", {}).get("transferred", -1),
                   "ram": info.get("ram", {}).get("transferred", -1),
                   "wall": wall, "iter_before": before, "iter_after": it}
            hops.append(rec)
            log("ok hop %d %s->%s downtime %d ms total %d ms vfio %d bytes "
                "ram %d bytes; guest iteration %d -> %d%s" % (
                    h, rec["from"], rec["to"], rec["downtime"], rec["total"],
                    rec["vfio"], rec["ram"], before, it, cancelled))
            cur = dst
        check_serial(qemus)
        ok = True
    except Failure as e:
        log(f"# FAIL: {e}")
        ok = False
    finally:
        for q in qemus:
            q.kill()
        for u in insts:
            remove_instance(u)
        with open(os.path.join(args.workdir, "hops.json"), "w") as f:
            json.dump(hops, f, indent=1)
    summary(hops)
    log(f"# {'PASS' if ok else 'FAIL'}: {len(hops)} of {args.hops} hops; "
        f"logs in {args.workdir}")
    return 0 if ok else 1


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--hops", type=int, default=20,
                    help="one-way migrations (a round trip is two)")
    ap.add_argument("-t", "--type", default="migdev-small")
    ap.add_argument("--parent", default="migdev0")
    ap.add_argument("--guest", default=os.path.join(root, "guest/build/migdev-guest.elf"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--machine", default="pc")
    ap.add_argument("--devices", type=int, default=1, choices=(1, 2),
                    help="migdev devices in the guest (instances per side); "
                    "the guest drives them in turn")
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
    ap.add_argument("--multifd", action="store_true",
                    help="multifd on both sides (QEMU 10 then moves the "
                    "device state in multifd channels too)")
    ap.add_argument("--cancel", action="store_true",
                    help="before each hop, cancel a migration in pre-copy "
                    "and check that the source goes on")
    ap.add_argument("--cancel-stop-copy", action="store_true",
                    help="before each hop, cancel a migration in stop-copy "
                    "(pause-before-switchover) and check that the source "
                    "goes on")
    ap.add_argument("--downtime-limit", type=int, default=300,
                    help="ms (QEMU's default: 300)")
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds for each wait (QMP, one migration, progress)")
    ap.add_argument("--boot-timeout", type=float, default=120)
    ap.add_argument("--workdir", help="logs (default: $MIGDEV_RESULTS/qemu-pingpong "
                    "or a new directory in /tmp)")
    args = ap.parse_args()

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
    try:
        return run(args)
    finally:
        shutil.rmtree(args.sockdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
