#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""libvirt moves a guest with a migdev device between two hosts.

Runs on host A of tests/libvirt_test.sh (tests/libvirt_guest.sh a), with
libvirtd running here and on host B, each with the instance --mdev, and
B's agent (tests/qemu/hosts.py --serve) at --agent for B's files and
module.  Everything it does to the domain it does with virsh, as a user
would: the domain XML is the one Documentation/migdev.rst shows.  The
guest (guest/build/migdev-guest.elf, direct kernel boot) checks every DMA
result and device memory on each iteration and reports on its serial
port, a file that moves with it (append='on').

Checks, one KTAP test each: the instance as a libvirt node device; the
domain starts; --round-trips live migrations A -> B -> A, each with the
guest's iterations going on at the destination and what libvirt reports
of the hop (domjobinfo --completed); save and restore; managedsave and
start; a migration cancelled with domjobabort (the domain runs on at
the source); and B's module speaking the previous stream version
(migdev stream_minor=3): a migration while A's instance emits 1.4 fails
and the domain runs on at A; with A's instance set to emit 1.3 it
migrates there and back.

Then the PCI parent (each host's spare function, bound to migdev), as
libvirt's node-device API manages it: nodedev-list --cap mdev_types
lists it with migdev's types on both hosts; nodedev-define and
nodedev-start (libvirt drives mdevctl) make the domain's instance on
both; the domain, now with that instance, migrates there and back;
nodedev-create makes a transient one and nodedev-destroy removes it;
nodedev-destroy and nodedev-undefine remove the domain's on both hosts.

Standard library only.
"""

import argparse
import errno
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hosts import Failure, RemoteHost, compat, set_minor  # noqa: E402
from qemu import BAD_RE, ITER_RE, START  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GUEST = os.path.join(ROOT, "guest", "build", "migdev-guest.elf")
DOMAIN = "migdev-guest"
DOMAIN_UUID = "6d696764-6576-4000-8000-67756573740a"

DOMAIN_XML = """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
  </os>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='{serial}' append='on'/>
    </serial>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
      <source>
        <address uuid='{mdev}'/>
      </source>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </hostdev>
    <memballoon model='none'/>
  </devices>
  <qemu:override>
    <qemu:device alias='hostdev0'>
      <qemu:frontend>
        <qemu:property name='enable-migration' type='string' value='on'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
"""


# An instance on the PCI parent, as libvirt's node-device API takes it
# (nodedev-define, nodedev-create); libvirt then drives mdevctl.
MDEV_XML = """<device>
  <parent>{parent}</parent>
  <capability type='mdev'>
    <type id='{mtype}'/>
    <uuid>{uuid}</uuid>
  </capability>
</device>
"""


def virsh(uri, *args, timeout=120):
    """virsh -c @uri @args: its output; Failure if it fails."""
    cmd = ["virsh", "-c", uri] + [str(a) for a in args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"{' '.join(cmd)}: no answer in {timeout} s") from None
    if r.returncode:
        raise Failure(f"{' '.join(cmd)}: {r.stderr.strip() or r.returncode}")
    return r.stdout


class Side:
    """One host: its libvirt URI, its address, and its copy of the
    domain's serial log."""

    def __init__(self, name, uri, addr, read):
        self.name, self.uri, self.addr, self._read = name, uri, addr, read

    def virsh(self, *args, timeout=120):
        return virsh(self.uri, *args, timeout=timeout)

    def state(self):
        try:
            return self.virsh("domstate", DOMAIN).strip()
        except Failure:
            return "none"

    def serial(self, path):
        return self._read(path)


def read_local(path):
    try:
        with open(path, encoding="latin-1") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Run:
    def __init__(self, args):
        self.args = args
        self.peer = RemoteHost(args.agent, "libvirt", args.timeout)
        self.serial = os.path.join(args.workdir, "serial.log")
        # B's agent keeps its files in a directory of the same path.
        if self.peer.workdir != os.path.realpath(args.workdir):
            raise Failure(f"B's agent keeps files in {self.peer.workdir}, "
                          f"not {args.workdir}")
        self.a = Side("A", "qemu:///system", args.local_addr, read_local)
        self.b = Side("B", f"qemu+tcp://{args.peer_addr}/system",
                      args.peer_addr, self.peer.read)
        self.sides = (self.a, self.b)
        self.n = 0
        self.failed = 0

    # The guest, as its serial logs on both hosts tell.
    def check_serial(self):
        for s in self.sides:
            m = BAD_RE.search(s.serial(self.serial))
            if m:
                raise Failure(f"the guest on {s.name} said: {m.group(0)}")

    def last_iter(self, side):
        text = side.serial(self.serial)
        m = ITER_RE.findall(text)
        return int(m[-1]) if m else 0

    def starts(self):
        return sum(s.serial(self.serial).count(START) for s in self.sides)

    def wait_iter(self, side, after):
        """Wait until the guest, running on @side, reports an iteration
        past @after."""
        deadline = time.monotonic() + self.args.timeout
        while True:
            self.check_serial()
            it = self.last_iter(side)
            if it > after:
                return it
            if time.monotonic() > deadline:
                raise Failure(f"the guest on {side.name} made no progress "
                              f"past iteration {after} in "
                              f"{self.args.timeout} s (domain "
                              f"{side.state()})")
            time.sleep(0.2)

    def next_iter(self, side):
        """The guest's next iteration on @side: it is running there."""
        return self.wait_iter(side, self.last_iter(side))

    def running_on(self, side):
        st = side.state()
        if st != "running":
            raise Failure(f"domain is {st} on {side.name}, not running")

    def test(self, name, fn):
        self.n += 1
        try:
            note = fn()
            print(f"ok {self.n} {name}" + (f" # {note}" if note else ""),
                  flush=True)
        except Failure as e:
            self.failed += 1
            print(f"# {e}\nnot ok {self.n} {name}", flush=True)

    # The tests.
    def nodedev(self):
        """The instance as libvirt's node device."""
        name = "mdev_" + self.args.mdev.replace("-", "_")
        names = self.a.virsh("nodedev-list", "--cap", "mdev").split()
        found = [n for n in names if n.startswith(name)]
        if not found:
            raise Failure(f"nodedev-list --cap mdev: {names}, no {name}")
        xml = self.a.virsh("nodedev-dumpxml", found[0])
        for want in ("<capability type='mdev'>", "<type id='migdev-small'",
                     f"<uuid>{self.args.mdev}</uuid>"):
            if want not in xml:
                raise Failure(f"nodedev-dumpxml {found[0]} has no {want}: "
                              f"{xml}")
        return f"{found[0]}, type migdev-small"

    def workfile(self, name, text):
        """@text in the work directory as @name: its path."""
        path = os.path.join(self.args.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def define(self, mdev, name):
        """Define the domain on A with instance @mdev as its hostdev."""
        self.a.virsh("define", self.workfile(name, DOMAIN_XML.format(
            name=DOMAIN, uuid=DOMAIN_UUID, kernel=GUEST, serial=self.serial,
            mdev=mdev)))

    def start(self):
        self.define(self.args.mdev, "domain.xml")
        self.a.virsh("start", DOMAIN)
        it = self.wait_iter(self.a, 0)
        self.running_on(self.a)
        par = json.loads(self.a.virsh(
            "qemu-monitor-command", DOMAIN,
            '{"execute":"query-migrate-parameters"}'))["return"]
        print(f"# QEMU's migration parameters as libvirt left them: "
              f"downtime-limit {par.get('downtime-limit')} ms, max-bandwidth "
              f"{par.get('max-bandwidth')} bytes/s", flush=True)
        return f"guest running on A, iteration {it}"

    def migrate(self, frm, to, extra=(), timeout=None):
        frm.virsh("migrate", "--live", *extra, DOMAIN, to.uri,
                  "--migrateuri", f"tcp://{to.addr}",
                  timeout=timeout or self.args.timeout)

    def hop(self, frm, to):
        """One live migration; its figures as libvirt reports them."""
        before = self.next_iter(frm)
        t0 = time.monotonic()
        self.migrate(frm, to)
        wall = (time.monotonic() - t0) * 1000
        # What the destination keeps of the job: the source of a transient
        # domain forgets it as the domain leaves.
        info = to.virsh("domjobinfo", "--completed", DOMAIN)
        self.running_on(to)
        if frm.state() not in ("shut off", "none"):
            raise Failure(f"after the hop the domain is {frm.state()} on "
                          f"{frm.name}")
        after = self.wait_iter(to, before)
        fig = {}
        for key in ("Total downtime", "Downtime w/o network", "Time elapsed",
                    "Data processed", "Data total", "Memory processed"):
            m = re.search(rf"^{key}:\s+(.*)$", info, re.M)
            fig[key] = " ".join(m.group(1).split()) if m else "?"
        return before, after, wall, fig, info

    def round_trips(self):
        """libvirt's total downtime of a hop spans both hosts' clocks (the
        source's stop, the destination's resume), so the offset between
        the two VMs' clocks, measured through B's agent, is printed with
        the figures, which are libvirt's as they are."""
        downs = []
        offset = self.peer.clock_offset() * 1000
        print(f"# B's clock is {offset:+.0f} ms from A's", flush=True)
        for r in range(1, self.args.round_trips + 1):
            for frm, to in ((self.a, self.b), (self.b, self.a)):
                before, after, wall, fig, info = self.hop(frm, to)
                m = re.match(r"(\d+)", fig["Total downtime"])
                if m:
                    downs.append(int(m.group(1)))
                print(f"# round {r} {frm.name}->{to.name}: total downtime "
                      f"{fig['Total downtime']}, w/o network "
                      f"{fig['Downtime w/o network']}, elapsed "
                      f"{fig['Time elapsed']}, data {fig['Data processed']} "
                      f"of {fig['Data total']}, memory "
                      f"{fig['Memory processed']}; virsh migrate "
                      f"{wall:.0f} ms; guest iteration {before} -> {after}",
                      flush=True)
                if r == 1 and frm is self.a:
                    print("# domjobinfo --completed of the first hop, at B:\n"
                          + "\n".join("#   " + ln for ln in
                                      info.strip().splitlines()), flush=True)
        downs.sort()
        if not downs:
            return f"{2 * self.args.round_trips} hops"
        return (f"{2 * self.args.round_trips} hops; total downtime (libvirt) "
                f"ms: min {downs[0]} median {downs[len(downs) // 2]} max "
                f"{downs[-1]}")

    def save_restore(self):
        path = os.path.join(self.args.workdir, "guest.save")
        before = self.next_iter(self.a)
        starts = self.starts()
        self.a.virsh("save", DOMAIN, path, timeout=self.args.timeout)
        if self.a.state() != "shut off":
            raise Failure(f"after save the domain is {self.a.state()}")
        size = os.path.getsize(path)
        self.a.virsh("restore", path, timeout=self.args.timeout)
        self.running_on(self.a)
        after = self.wait_iter(self.a, before)
        os.unlink(path)
        if self.starts() != starts:
            raise Failure("the guest booted again after restore")
        return (f"{size} bytes saved; guest iteration {before} -> {after}, "
                f"not booted again")

    def managedsave(self):
        before = self.next_iter(self.a)
        starts = self.starts()
        self.a.virsh("managedsave", DOMAIN, timeout=self.args.timeout)
        info = self.a.virsh("dominfo", DOMAIN)
        if not re.search(r"^Managed save:\s+yes", info, re.M):
            raise Failure(f"dominfo after managedsave: {info}")
        self.a.virsh("start", DOMAIN, timeout=self.args.timeout)
        self.running_on(self.a)
        after = self.wait_iter(self.a, before)
        if self.starts() != starts:
            raise Failure("the guest booted again after managedsave/start")
        return f"guest iteration {before} -> {after}, not booted again"

    def abort(self):
        """A migration at 1 MiB/s, cancelled once it has sent data."""
        before = self.next_iter(self.a)
        cmd = ["virsh", "-c", self.a.uri, "migrate", "--live",
               "--bandwidth", "1", DOMAIN, self.b.uri,
               "--migrateuri", f"tcp://{self.b.addr}"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + self.args.timeout
        sent = None
        try:
            while sent is None:
                if p.poll() is not None:
                    raise Failure(f"the migration ended before it was "
                                  f"cancelled: {p.stderr.read().strip()}")
                if time.monotonic() > deadline:
                    raise Failure("the migration sent nothing")
                try:
                    info = self.a.virsh("domjobinfo", DOMAIN, timeout=10)
                except Failure:
                    info = ""
                m = re.search(r"^Data processed:\s+([1-9][\d.]* \S+)",
                              info, re.M)
                if m:
                    sent = m.group(1)
                time.sleep(0.2)
            self.a.virsh("domjobabort", DOMAIN)
            _, err = p.communicate(timeout=self.args.timeout)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        if p.returncode == 0:
            raise Failure("virsh migrate succeeded after domjobabort")
        self.running_on(self.a)
        if self.b.state() != "none":
            raise Failure(f"after the abort B has the domain, {self.b.state()}")
        after = self.wait_iter(self.a, before)
        # And the next migration goes, there and back.
        self.hop(self.a, self.b)
        self.hop(self.b, self.a)
        return (f"cancelled after {sent}: {err.strip().splitlines()[-1]}; "
                f"guest iteration {before} -> {after} on A; then migrated "
                f"there and back")

    def preflight(self, want):
        """A's instance's description (migration_compat), asked of B's
        instance (migration_compat_check), must give @want; of B's
        migdev-medium type, ENODEV."""
        desc = compat(self.args.mdev)
        got = self.peer.compat(self.args.mdev, desc)
        other = self.peer.compat("migdev-medium", desc)
        if got != want or other != errno.ENODEV:
            raise Failure(f"pre-flight check of {' '.join(desc.split())}: "
                          f"B's instance {got}, expected {want}; B's "
                          f"migdev-medium {other}, expected {errno.ENODEV}")
        return os.strerror(got) if got else "accepted"

    def previous_minor(self):
        """B's module speaks stream version 1.3 (stream_minor=3)."""
        mdev = self.args.mdev
        params = self.peer.reload_module("stream_minor=3")
        if params.get("stream_minor") != "3":
            raise Failure(f"B's module parameters: {params}")
        self.peer.create_instance("migdev0", "migdev-small", u=mdev)
        pre = [self.preflight(errno.EPROTONOSUPPORT)]
        before = self.next_iter(self.a)
        try:
            self.migrate(self.a, self.b)
            raise Failure("a 1.4 stream migrated to a module of 1.3")
        except Failure as e:
            if "migrated to a module" in str(e):
                raise
            said = " ".join(str(e).split())
            refused = said.split("destination host: ", 1)[-1][-160:]
        self.running_on(self.a)
        self.wait_iter(self.a, before)
        set_minor(mdev, 3)
        pre.append(self.preflight(0))
        try:
            _, a1, _, f1, _ = self.hop(self.a, self.b)
            _, a2, _, f2, _ = self.hop(self.b, self.a)
        finally:
            set_minor(mdev, 4)
        return (f"pre-flight: {pre[0]}, then {pre[1]}; "
                f"1.4 refused ({refused}); with A emitting 1.3: there and "
                f"back, downtime {f1['Total downtime']}, {f2['Total downtime']}, guest "
                f"iteration {a2}")

    # The PCI parent: each host's spare function, bound to migdev
    # (tests/libvirt_guest.sh), as libvirt's node devices show it.
    def pci_nodedev(self):
        return "pci_" + re.sub(r"[:.]", "_", self.args.pci_parent)

    def mdev_nodedev(self, side, u, inactive=False):
        """The name of instance @u's node device on @side, or None."""
        args = ["nodedev-list", "--cap", "mdev"] + (["--all"] if inactive
                                                     else [])
        name = "mdev_" + u.replace("-", "_")
        found = [n for n in side.virsh(*args).split() if n.startswith(name)]
        return found[0] if found else None

    def pci_types(self):
        """nodedev-list --cap mdev_types lists the function on both hosts,
        with migdev's types and their available instances."""
        dev = self.pci_nodedev()
        notes = []
        for side in self.sides:
            names = side.virsh("nodedev-list", "--cap", "mdev_types").split()
            if dev not in names:
                raise Failure(f"{side.name}: nodedev-list --cap mdev_types: "
                              f"{names}, no {dev}")
            xml = side.virsh("nodedev-dumpxml", dev)
            for want in ("<capability type='mdev_types'>",
                         "<type id='migdev-small'>",
                         "<name>migdev-1q-4M</name>",
                         "<deviceAPI>vfio-pci</deviceAPI>",
                         "<type id='migdev-xlarge'>",
                         "<availableInstances>4</availableInstances>"):
                if want not in xml:
                    raise Failure(f"{side.name}: nodedev-dumpxml {dev} has no "
                                  f"{want}: {xml}")
            if side is self.a:
                print("# nodedev-dumpxml " + dev + " on A:\n" + "\n".join(
                    "#   " + ln for ln in xml.strip().splitlines()),
                    flush=True)
            notes.append(side.name)
        return f"{dev} with migdev's types on {' and '.join(notes)}"

    def define_start(self, side, u):
        # (virsh reads the file here and sends B's libvirt its text.)
        side.virsh("nodedev-define", self.workfile(
            f"mdev-{side.name}.xml", MDEV_XML.format(
                parent=self.pci_nodedev(), mtype="migdev-small", uuid=u)))
        name = self.mdev_nodedev(side, u, inactive=True)
        if not name:
            raise Failure(f"{side.name}: no node device for {u} after "
                          f"nodedev-define")
        side.virsh("nodedev-start", name)
        xml = side.virsh("nodedev-dumpxml", name)
        for want in (f"<parent>{self.pci_nodedev()}</parent>",
                     "<type id='migdev-small'", f"<uuid>{u}</uuid>"):
            if want not in xml:
                raise Failure(f"{side.name}: nodedev-dumpxml {name} has no "
                              f"{want}: {xml}")
        if self.mdev_nodedev(side, u) != name:
            raise Failure(f"{side.name}: {name} not active after "
                          f"nodedev-start")
        return name

    def pci_define_start(self):
        """nodedev-define and nodedev-start (libvirt drives mdevctl) make
        the domain's instance on each host's function."""
        u = self.args.pci_mdev
        names = [self.define_start(side, u) for side in self.sides]
        where = os.path.realpath(f"/sys/bus/mdev/devices/{u}")
        if not where.startswith(f"/sys/devices/pci0000:00/"
                                f"{self.args.pci_parent}/"):
            raise Failure(f"A's instance is at {where}")
        return f"{names[0]} on both hosts, at {where}"

    def pci_migrate(self):
        """The domain, its hostdev now the PCI parent's instance, starts
        and migrates there and back (--pci-round-trips)."""
        self.a.virsh("undefine", DOMAIN)
        self.define(self.args.pci_mdev, "domain-pci.xml")
        before = self.last_iter(self.a)
        self.a.virsh("start", DOMAIN)
        self.wait_iter(self.a, before)
        downs = []
        for _ in range(self.args.pci_round_trips):
            for frm, to in ((self.a, self.b), (self.b, self.a)):
                _, after, _, fig, _ = self.hop(frm, to)
                downs.append(fig["Total downtime"])
        self.a.virsh("destroy", DOMAIN)
        self.a.virsh("undefine", DOMAIN)
        return (f"{2 * self.args.pci_round_trips} hops, total downtime "
                f"{', '.join(downs)}; guest iteration {after}")

    def pci_create_transient(self):
        """nodedev-create makes an instance that is not defined, and
        nodedev-destroy removes it."""
        u = self.args.pci_mdev_transient
        self.a.virsh("nodedev-create", self.workfile(
            "mdev-transient.xml", MDEV_XML.format(
                parent=self.pci_nodedev(), mtype="migdev-large", uuid=u)))
        name = self.mdev_nodedev(self.a, u)
        sysfs = f"/sys/bus/mdev/devices/{u}"
        if not name or not os.path.exists(sysfs):
            raise Failure(f"after nodedev-create: node device {name}, "
                          f"{sysfs} {'present' if os.path.exists(sysfs) else 'absent'}")
        self.a.virsh("nodedev-destroy", name)
        if os.path.exists(sysfs) or self.mdev_nodedev(self.a, u,
                                                      inactive=True):
            raise Failure(f"{name} left after nodedev-destroy")
        return f"{name}: made and gone"

    def pci_destroy_undefine(self):
        """nodedev-destroy and nodedev-undefine remove the instance and
        its definition on both hosts."""
        u = self.args.pci_mdev
        for side in self.sides:
            name = self.mdev_nodedev(side, u)
            if not name:
                raise Failure(f"{side.name}: {u} not active")
            side.virsh("nodedev-destroy", name)
            if self.mdev_nodedev(side, u):
                raise Failure(f"{side.name}: {name} active after "
                              f"nodedev-destroy")
            side.virsh("nodedev-undefine", name)
            if self.mdev_nodedev(side, u, inactive=True):
                raise Failure(f"{side.name}: {name} defined after "
                              f"nodedev-undefine")
        if os.path.exists(f"/sys/bus/mdev/devices/{u}"):
            raise Failure(f"A's {u} still in sysfs")
        return "gone from both hosts"

    def main(self):
        print("TAP version 13", flush=True)
        print("1..12", flush=True)
        self.test("libvirt_nodedev_of_the_instance", self.nodedev)
        self.test("libvirt_domain_starts", self.start)
        if self.failed:
            return 1
        self.test(f"libvirt_migrate_live_{self.args.round_trips}_round_trips",
                  self.round_trips)
        self.test("libvirt_save_restore", self.save_restore)
        self.test("libvirt_managedsave_start", self.managedsave)
        self.test("libvirt_migration_cancelled_domjobabort", self.abort)
        self.test("libvirt_destination_previous_stream_version",
                  self.previous_minor)
        try:
            self.a.virsh("destroy", DOMAIN)
        except Failure as e:
            print(f"# cleanup: {e}")
        # B's module as it was: its function binds again as it loads.
        try:
            self.peer.remove_instance(self.args.mdev)
            self.peer.reload_module("")
        except Failure as e:
            print(f"# B's module not reloaded: {e}")
        self.test("libvirt_pci_parent_mdev_types", self.pci_types)
        self.test("libvirt_pci_parent_nodedev_define_start",
                  self.pci_define_start)
        self.test(f"libvirt_pci_parent_migrate_live_"
                  f"{self.args.pci_round_trips}_round_trips",
                  self.pci_migrate)
        self.test("libvirt_pci_parent_nodedev_create_destroy",
                  self.pci_create_transient)
        self.test("libvirt_pci_parent_nodedev_destroy_undefine",
                  self.pci_destroy_undefine)
        for what in (("destroy", DOMAIN), ("undefine", DOMAIN)):
            try:
                self.a.virsh(*what)
            except Failure:
                pass
        try:
            self.peer.shutdown()
        except Failure as e:
            print(f"# could not stop B's agent: {e}")
        print(f"# Totals: pass:{self.n - self.failed} fail:{self.failed} "
              "xfail:0 xpass:0 skip:0 error:0", flush=True)
        return 1 if self.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agent", required=True, metavar="ADDR:PORT",
                    help="host B's agent (tests/qemu/hosts.py --serve)")
    ap.add_argument("--local-addr", required=True,
                    help="this host's address on the link")
    ap.add_argument("--peer-addr", required=True,
                    help="host B's address on the link")
    ap.add_argument("--mdev", required=True,
                    help="the instance's UUID, the same on both hosts")
    ap.add_argument("--workdir", required=True,
                    help="the serial log's and the save file's directory, "
                    "the same path on B (its agent's)")
    ap.add_argument("--round-trips", type=int, default=10)
    ap.add_argument("--pci-parent", required=True, metavar="ADDRESS",
                    help="the PCI function bound to migdev on both hosts")
    ap.add_argument("--pci-mdev", required=True,
                    help="the UUID the domain's instance on the PCI parent "
                    "gets on both hosts (nodedev-define)")
    ap.add_argument("--pci-mdev-transient", required=True,
                    help="the UUID of a transient one (nodedev-create)")
    ap.add_argument("--pci-round-trips", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    try:
        run = Run(args)
    except Failure as e:
        print(f"TAP version 13\n1..1\n# {e}\nnot ok 1 libvirt_hosts_ready")
        return 1
    return run.main()


if __name__ == "__main__":
    sys.exit(main())
