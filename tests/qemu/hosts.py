#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The machines pingpong.py's QEMUs run on: this one, or another one.

A host creates and removes mdev instances, starts QEMU, and reads the
files QEMU writes.  LocalHost does that here.  RemoteHost asks an agent on
another machine to do it: "hosts.py --serve ADDR:PORT --workdir DIR" runs
the agent there.  QMP and the migration stream then go over TCP between
the two machines, as between two real hosts; only process control and log
reading go through the agent.

The agent is a test tool for a private link between two throw-away test
VMs: it serves one controller at a time, runs no program but the QEMU it
was started with, reads no file outside its work directory, and when a
controller disconnects it kills that controller's QEMUs and removes its
instances.

Standard library only.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import uuid

MDEV_BUS = "/sys/class/mdev_bus"
MDEV_DEVICES = "/sys/bus/mdev/devices"
DEBUGFS = "/sys/kernel/debug/migdev"
# First TCP port a host hands out (QMP, incoming migrations): one new
# port each time, so no listener waits on a port in TIME_WAIT.
FIRST_PORT = 49200


class Failure(Exception):
    """A check failed; the message says which and why."""


def log(msg):
    print(msg, flush=True)


def create_instance(parent, mtype, minor=None, u=None):
    """A new instance of @mtype under @parent (with UUID @u, or a random
    one); with @minor, one that emits (and accepts at most) stream version
    1.@minor."""
    path = os.path.join(MDEV_BUS, parent, "mdev_supported_types", mtype, "create")
    if not os.path.exists(path):
        raise Failure(f"no mdev type {mtype} under {MDEV_BUS}/{parent} "
                      f"(is migdev loaded?)")
    u = str(uuid.UUID(u) if u else uuid.uuid4())
    with open(path, "w") as f:
        f.write(u)
    if minor is not None:
        set_minor(u, minor)
    return u


def set_attr(u, name, value):
    path = os.path.join(MDEV_DEVICES, u, "migdev", name)
    try:
        with open(path, "w") as f:
            f.write(str(value))
    except OSError as e:
        raise Failure(f"{path} <- {value}: {e}") from None


def set_minor(u, minor):
    set_attr(u, "migration_minor", minor)


def set_precopy(u, on):
    """Whether instance @u offers PRE_COPY (before a QEMU opens it)."""
    set_attr(u, "migration_precopy", 1 if on else 0)


def compat_path(target, name, parent="migdev0"):
    """The pre-flight file @name (migration_compat, or
    migration_compat_check) of @target: an instance's UUID, or a type's
    name (migdev-small, ...) under @parent."""
    if target.startswith("migdev-"):
        return os.path.join(MDEV_BUS, parent, "mdev_supported_types",
                            target, "migdev", name)
    return os.path.join(MDEV_DEVICES, str(uuid.UUID(target)), "migdev",
                        name)


def compat(target, text=None):
    """The pre-flight check of @target (see compat_path()): without
    @text, its description; with, @text asked about: 0 if it would take
    that source, else the errno its write failed with."""
    if text is None:
        with open(compat_path(target, "migration_compat")) as f:
            return f.read()
    fd = os.open(compat_path(target, "migration_compat_check"), os.O_WRONLY)
    try:
        os.write(fd, text.encode())
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


# The debugfs files of an instance a controller may write and read.
DEBUGFS_FILES = ("faults", "writer", "opaque", "stats")


def debugfs(u, name, text):
    """Write @text to instance @u's debugfs file @name unless it is empty;
    return what the file says."""
    if name not in DEBUGFS_FILES:
        raise Failure(f"no debugfs file {name!r} of an instance")
    path = os.path.join(DEBUGFS, u, name)
    if text:
        with open(path, "w") as f:
            f.write(text)
    with open(path) as f:
        return f.read()


def remove_instance(u):
    try:
        with open(os.path.join(MDEV_DEVICES, u, "remove"), "w") as f:
            f.write("1")
    except OSError as e:
        log(f"# could not remove instance {u}: {e}")


def spawn(cmd, errlog):
    """Start @cmd with stdout and stderr appended to @errlog, after the
    command line."""
    with open(errlog, "a") as err:
        err.write(" ".join(cmd) + "\n")
        err.flush()
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=err, stderr=err)


class InstanceFiles:
    """What a host's debugfs() gives: an instance's toolkit files."""

    def fault(self, u, text):
        """Write @text (a fault rule, or "clear") to instance @u's faults
        file unless it is empty; return the rules armed, as listed."""
        return self.debugfs(u, "faults", text)

    def writer(self, u, text):
        """The same with its writer (settings, or "stop"); return what it
        says of itself (its digest among it)."""
        return self.debugfs(u, "writer", text)


class LocalHost(InstanceFiles):
    """QEMU on this machine.  With @addr (this machine's address on the
    link to another host), destinations here listen for migrations on it;
    without, on Unix sockets in @sockdir."""

    def __init__(self, qemu, workdir, sockdir, addr=None):
        self.qemu = qemu
        self.workdir = workdir
        self.sockdir = sockdir
        self.addr = addr
        self.port = FIRST_PORT

    def create_instance(self, parent, mtype, minor=None, u=None):
        return create_instance(parent, mtype, minor, u)

    def set_minor(self, u, minor):
        set_minor(u, minor)

    def set_precopy(self, u, on):
        set_precopy(u, on)

    def compat(self, target, text=None):
        return compat(target, text)

    def debugfs(self, u, name, text):
        return debugfs(u, name, text)

    def remove_instance(self, u):
        remove_instance(u)

    def spawn(self, cmd, errlog):
        return spawn(cmd, errlog)

    def read(self, path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def qmp_endpoint(self, n):
        """(QEMU's -qmp argument, where QMP connects) for QEMU @n: a Unix
        socket, since the controller runs here."""
        path = os.path.join(self.sockdir, f"qmp-{n}.sock")
        return f"unix:{path},server=on,wait=off", path

    def mig_uri(self, tag):
        """Where a destination here listens for a migration."""
        if self.addr:
            self.port += 1
            return f"tcp:{self.addr}:{self.port}"
        return "unix:" + os.path.join(self.sockdir, f"mig-{tag}.sock")

    def klog(self, match):
        return kernel_log(match)

    def close(self):
        pass


def kernel_log(match, lines=12):
    """The kernel's last @lines lines that contain @match."""
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return [f"dmesg: {e}"]
    return [ln for ln in out.splitlines() if match in ln][-lines:]


class RemoteProc:
    """A QEMU the agent started: the subprocess.Popen calls pingpong uses."""

    def __init__(self, host, pid):
        self.host = host
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.host.call("poll", id=self.pid)["rc"]
        return self.returncode

    def kill(self):
        if self.returncode is None:
            self.returncode = self.host.call("kill", id=self.pid)["rc"]

    def wait(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout else 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"remote {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode


class RemoteHost(InstanceFiles):
    """QEMU on another machine, through its agent at @agent (ADDR:PORT).
    The agent keeps this controller's files in a directory named @name
    under its work directory."""

    def __init__(self, agent, name, timeout):
        addr, port = agent.rsplit(":", 1)
        self.addr = addr
        self.port = FIRST_PORT
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection((addr, int(port)), 5)
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    raise Failure(f"no agent at {agent} within {timeout} s: "
                                  f"{e}") from None
                time.sleep(0.5)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rwb")
        self.cache = {}
        hello = self.call("hello", name=name)
        self.qemu = hello["qemu"]
        self.workdir = hello["workdir"]

    def call(self, op, **kw):
        kw["op"] = op
        try:
            self.file.write(json.dumps(kw).encode() + b"\n")
            self.file.flush()
            line = self.file.readline()
        except OSError as e:
            raise Failure(f"agent {self.addr}, {op}: {e}") from None
        if not line:
            raise Failure(f"agent {self.addr}, {op}: connection closed")
        resp = json.loads(line)
        if "error" in resp:
            raise Failure(f"agent {self.addr}, {op}: {resp['error']}")
        return resp

    def create_instance(self, parent, mtype, minor=None, u=None):
        return self.call("create", parent=parent, type=mtype, minor=minor,
                         uuid=u)["uuid"]

    def set_minor(self, u, minor):
        self.call("minor", uuid=u, minor=minor)

    def set_precopy(self, u, on):
        self.call("precopy", uuid=u, on=bool(on))

    def compat(self, target, text=None):
        return self.call("compat", target=target, text=text)["said"]

    def debugfs(self, u, name, text):
        return self.call("debugfs", uuid=u, name=name, text=text)["said"]

    def remove_instance(self, u):
        try:
            self.call("remove", uuid=u)
        except Failure as e:
            log(f"# could not remove instance {u}: {e}")

    def spawn(self, cmd, errlog):
        return RemoteProc(self, self.call("spawn", cmd=cmd, log=errlog)["id"])

    def read(self, path):
        """The file's text; what was read before is not fetched again."""
        have = self.cache.get(path, "")
        try:
            more = self.call("read", path=path, offset=len(have))["data"]
        except Failure:
            return have
        self.cache[path] = have + more
        return self.cache[path]

    def qmp_endpoint(self, _n):
        self.port += 1
        return (f"tcp:{self.addr}:{self.port},server=on,wait=off",
                (self.addr, self.port))

    def mig_uri(self, _tag):
        self.port += 1
        return f"tcp:{self.addr}:{self.port}"

    def reload_module(self, params):
        return self.call("module", params=params)["params"]

    def klog(self, match):
        return self.call("klog", match=match)["lines"]

    def clock_offset(self):
        """The other machine's clock minus this one's, in seconds (from
        the round trip of one call)."""
        t0 = time.time()
        there = self.call("clock")["time"]
        return there - (t0 + time.time()) / 2

    def shutdown(self):
        """Stop the agent (after this controller's cleanup)."""
        self.call("shutdown")
        self.sock.close()

    def close(self):
        try:
            self.call("bye")
        except Failure:
            pass
        self.sock.close()


class Agent:
    """The other end of RemoteHost: one controller connection at a time."""

    def __init__(self, qemu, workdir):
        self.qemu = qemu
        self.top = os.path.realpath(workdir)
        self.workdir = self.top
        self.procs = {}
        self.insts = []

    def inside(self, path):
        real = os.path.realpath(path)
        if not real.startswith(self.workdir + os.sep):
            raise Failure(f"{path} is outside {self.workdir}")
        return real

    def cleanup(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        self.procs = {}
        for u in self.insts:
            remove_instance(u)
        self.insts = []

    def reload_module(self, params):
        """Load migdev again with @params (a string of name=value words,
        e.g. "stream_minor=1"): the module another host runs."""
        if self.procs or self.insts:
            raise Failure("instances or QEMUs still present")
        ko = os.environ.get("MIGDEV_KO")
        if not ko:
            raise Failure("no MIGDEV_KO in the environment")
        for cmd in (["rmmod", "migdev"], ["insmod", ko] + params.split()):
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                raise Failure(f"{' '.join(cmd)}: {r.stderr.strip()}")
        pdir = "/sys/module/migdev/parameters"
        return {p: open(os.path.join(pdir, p)).read().strip()
                for p in sorted(os.listdir(pdir))}

    def handle(self, req):
        op = req.get("op")
        if op == "hello":
            name = str(req.get("name", "controller"))
            if not name.replace("-", "").replace("_", "").isalnum():
                raise Failure(f"bad name {name!r}")
            self.workdir = os.path.join(self.top, name)
            os.makedirs(self.workdir, exist_ok=True)
            return {"qemu": self.qemu, "workdir": self.workdir}
        if op == "create":
            u = create_instance(req["parent"], req["type"], req.get("minor"),
                                req.get("uuid"))
            self.insts.append(u)
            return {"uuid": u}
        if op in ("minor", "precopy", "debugfs", "remove") and \
                req["uuid"] not in self.insts:
            raise Failure(f"no instance {req['uuid']} of this controller")
        if op == "minor":
            set_minor(req["uuid"], int(req["minor"]))
            return {}
        if op == "precopy":
            set_precopy(req["uuid"], bool(req["on"]))
            return {}
        if op == "debugfs":
            return {"said": debugfs(req["uuid"], str(req["name"]),
                                    str(req["text"]))}
        if op == "compat":
            # A type's, or this controller's instance's.
            target = str(req["target"])
            if not target.startswith("migdev-") and target not in self.insts:
                raise Failure(f"no instance {target} of this controller")
            text = req.get("text")
            return {"said": compat(target,
                                   None if text is None else str(text))}
        if op == "remove":
            self.insts.remove(req["uuid"])
            remove_instance(req["uuid"])
            return {}
        if op == "spawn":
            cmd = req["cmd"]
            if not cmd or cmd[0] != self.qemu:
                raise Failure(f"runs only {self.qemu}")
            p = spawn([str(c) for c in cmd], self.inside(req["log"]))
            self.procs[p.pid] = p
            return {"id": p.pid}
        if op in ("poll", "kill"):
            p = self.procs.get(req["id"])
            if not p:
                raise Failure(f"no process {req['id']}")
            if op == "kill" and p.poll() is None:
                p.kill()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    pass
            return {"rc": p.poll()}
        if op == "read":
            try:
                with open(self.inside(req["path"]), "rb") as f:
                    f.seek(int(req["offset"]))
                    data = f.read(1 << 20)
            except FileNotFoundError:
                data = b""
            return {"data": data.decode("latin-1")}
        if op == "module":
            return {"params": self.reload_module(str(req["params"]))}
        if op == "klog":
            return {"lines": kernel_log(str(req["match"]))}
        if op == "clock":
            return {"time": time.time()}
        raise Failure(f"unknown op {op!r}")

    def serve_one(self, conn):
        f = conn.makefile("rwb")
        while True:
            line = f.readline()
            if not line:
                return False
            try:
                req = json.loads(line)
                if req.get("op") == "bye":
                    f.write(b"{}\n")
                    f.flush()
                    return False
                if req.get("op") == "shutdown":
                    f.write(b"{}\n")
                    f.flush()
                    return True
                resp = self.handle(req)
            except (Failure, OSError, ValueError, KeyError, TypeError) as e:
                resp = {"error": f"{type(e).__name__}: {e}"}
            f.write(json.dumps(resp).encode() + b"\n")
            f.flush()

    def serve(self, addr, port):
        srv = socket.create_server((addr, port))
        log(f"hosts.py agent: listening on {addr}:{port}, QEMU {self.qemu}, "
            f"files in {self.top}")
        while True:
            conn, peer = srv.accept()
            log(f"hosts.py agent: controller {peer[0]}:{peer[1]}")
            try:
                stop = self.serve_one(conn)
            except OSError as e:
                log(f"hosts.py agent: connection lost: {e}")
                stop = False
            finally:
                conn.close()
                self.cleanup()
                self.workdir = self.top
            if stop:
                log("hosts.py agent: shut down by the controller")
                return 0


def main():
    ap = argparse.ArgumentParser(description="the agent of a remote host")
    ap.add_argument("--serve", required=True, metavar="ADDR:PORT")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    addr, port = args.serve.rsplit(":", 1)
    qemu = args.qemu
    if os.sep not in qemu:
        from shutil import which
        qemu = which(qemu) or qemu
    os.makedirs(args.workdir, exist_ok=True)
    return Agent(qemu, args.workdir).serve(addr, int(port))


if __name__ == "__main__":
    sys.exit(main())
