# SPDX-License-Identifier: GPL-2.0
"""One QEMU process of the ping-pong harness (pingpong.py), and the
flavour of QEMU it runs: QEMU 10 here, another one (pingpong72.py's QEMU
7.2) by a subclass of Flavour."""

import os
import re
import subprocess

from hosts import MDEV_DEVICES, Failure
from qmp import QMP

ITER_RE = re.compile(r"^migdev-guest: iter (\d+) ok", re.M)
BAD_RE = re.compile(r"^migdev-guest: (MISMATCH|FATAL).*$", re.M)
START = "migdev-guest: starting"
DISCARDS_RE = re.compile(r"^migdev-guest: iter \d+ ok .* discards (\d+)\n", re.M)
REINIT_RE = re.compile(r"vfio_query_precopy_size\b.*\breinit 1\b")
# --stop-copy-bytes: the device data a source sent after the VM stopped.
STOPCOPY_START = "vfio_save_complete_precopy_start"
SAVE_BLOCK_RE = re.compile(r"vfio_save_block\b.*\bdata_size (\d+)")
# QEMU asking the guest, through ACPI PCI hotplug, to unplug a slot.
UNPLUG = "acpi_pci_unplug_request"
UNPLUG_RE = re.compile(UNPLUG + r" bsel: \d+ slot: (\d+)")
# Device k's place in the guest (id migdevK, slot 5 + k): the same on both
# sides of a migration.
DEVICE_SLOT = 5


class Flavour:
    """What differs between QEMU versions, as the harness meets it: the
    command line it starts QEMU with, and the QMP client it talks to QEMU
    through.  This one is Debian's QEMU 10, as the harness writes both."""

    def command(self, cmd, qmp_addr, errlog):
        """The command line to run for @cmd, the harness's QEMU 10 one;
        @qmp_addr is its QMP endpoint, @errlog its stderr log."""
        return cmd

    def qmp(self, addr, timeout, errlog):
        """The QMP client of the QEMU at @addr (whose stderr is @errlog)."""
        return QMP(addr, timeout)


class Qemu:
    """One QEMU process on @host with its QMP socket, serial log and
    stderr log."""

    def __init__(self, args, host, n, instances, incoming=False,
                 flavour=None):
        flavour = flavour or Flavour()
        self.n = n
        self.host = host
        self.instances = instances
        self.resets = 0     # guest resets asked of this QEMU
        self.serial = os.path.join(host.workdir, f"serial-{n:03d}.log")
        self.errlog = os.path.join(host.workdir, f"qemu-{n:03d}.log")
        self._serial_final = None
        qmp_arg, qmp_addr = host.qmp_endpoint(n)
        cmd = [host.qemu, "-name", f"migdev-pp-{n}", "-accel", "tcg",
               "-machine", args.machine, "-m", str(args.mem),
               "-nodefaults", "-no-user-config", "-display", "none",
               "-serial", f"file:{self.serial}",
               "-kernel", args.guest]
        if args.initrd:
            cmd += ["-initrd", args.initrd]
        append = " ".join(a for a in (
            args.append,
            f"discard_ms={args.discard_ms}" if args.discard_ms else None,
            # No migdev device: the guest works on its RAM (the same
            # guest without the device, or beside another mdev: mtty).
            "nodev=1" if not instances or
            not args.parent.startswith("migdev") else None,
            f"fill_mb={args.fill_mb}" if args.fill_mb else None) if a)
        if append:
            cmd += ["-append", append]
        # Another parent's mdev (the kernel's mtty sample, as a reference
        # point): mtty has DMA logging ops that cannot report where the
        # kernel lacks CONFIG_IOMMUFD_DRIVER (Debian's), so QEMU must track
        # dirty pages through the container (type1) instead.
        other = ("" if args.parent.startswith("migdev")
                 else ",x-device-dirty-page-tracking=off")
        for k, u in enumerate(instances):
            cmd += ["-device", "vfio-pci,sysfsdev=%s/%s,id=migdev%d,"
                    "addr=0x%x,enable-migration=on%s%s" % (
                        MDEV_DEVICES, u, k, DEVICE_SLOT + k,
                        ",migration-events=on" if args.migration_events
                        else "", other)]
        cmd += ["-qmp", qmp_arg]
        for ev in os.environ.get("MIGDEV_QEMU_TRACE", "").split():
            cmd += ["-trace", ev]
        if args.discard_ms:
            # What VFIO_MIG_GET_PRECOPY_INFO told QEMU (11.1: reinit too).
            cmd += ["-trace", "vfio_query_precopy_size"]
        if args.stop_copy_bytes:
            cmd += ["-trace", STOPCOPY_START, "-trace", "vfio_save_block"]
        if args.request_irq:
            cmd += ["-trace", UNPLUG]
        if incoming:
            # As libvirt does: capabilities first, then migrate-incoming.
            cmd += ["-incoming", "defer"]
            if args.paused_dest:
                cmd += ["-S"]
        cmd = flavour.command(cmd, qmp_addr, self.errlog)
        self.cmdline = cmd
        self.proc = host.spawn(cmd, self.errlog)
        try:
            self.qmp = flavour.qmp(qmp_addr, args.timeout, self.errlog)
        except Failure as e:
            self.kill()
            raise Failure(f"QEMU {n} did not start: {e}; "
                          f"{self.stderr_tail()}") from None

    def stderr_tail(self):
        lines = self.host.read(self.errlog).splitlines()[1:]
        return "stderr: " + " | ".join(lines[-5:]) if lines else "no stderr"

    def serial_text(self):
        """The serial log; read once more after QEMU exited, then kept."""
        if self._serial_final is not None:
            return self._serial_final
        done = self.proc.poll() is not None
        text = self.host.read(self.serial)
        if done:
            self._serial_final = text
        return text

    def reinits(self):
        """VFIO_PRECOPY_INFO_REINIT answers this QEMU traced (--discard-ms,
        QEMU 11.1 and later)."""
        return len(REINIT_RE.findall(self.host.read(self.errlog)))

    def stop_copy_bytes(self):
        """--stop-copy-bytes: the device data this source QEMU read after
        its last stop (its data_fd reads in stop-copy); -1 if none traced."""
        text = self.host.read(self.errlog)
        at = text.rfind(STOPCOPY_START)
        if at < 0:
            return -1
        return sum(int(n) for n in SAVE_BLOCK_RE.findall(text[at:]))

    def discards(self):
        """The discards of device memory the guest last reported."""
        m = DISCARDS_RE.findall(self.serial_text())
        return int(m[-1]) if m else 0

    def vfio_states(self):
        """The device states of this QEMU's VFIO_MIGRATION events so far
        (--migration-events), device 0's."""
        return [e["data"]["device-state"] for e in self.qmp.events
                if e.get("event") == "VFIO_MIGRATION" and
                e["data"].get("device-id") == "migdev0"]

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
