#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""pingpong.py on Debian 12's QEMU 7.2, through the v1 migration region.

Runs tests/qemu/pingpong.py's ping-pong (same checks at every hop: the
migration completes, the guest goes on, no MISMATCH or FATAL on serial)
with the QEMU 7.2 that scripts/qemu72.sh unpacks into a folder, DIR:

- its binary DIR/usr/bin/qemu-system-x86_64, with QEMU_MODULE_DIR at its
  modules (the TCG accelerator is one) and -L at its data directory, then
  at the host's SeaBIOS (Debian ships the BIOS in the seabios package);
- the vfio-pci property of that QEMU, x-enable-migration=on, in place of
  QEMU 10's enable-migration=on: the device migrates through the v1
  migration region, the only protocol QEMU 7.2 speaks;
- migration capabilities QEMU 7.2 does not know (switchover-ack) left out
  when pingpong.py turns them off, an error when it turns them on;
- guest RAM of 32 MiB + 4 KiB (--mem-kib), not a multiple of 256 KiB.
  Under TCG, QEMU before 9.0 loses guest stores during a migration: the
  fast path of its RAM dirty-bitmap sync, taken for a RAM block whose
  size is a multiple of 64 pages, clears the dirty bits without resetting
  the vCPUs' TLBs, so stores through TLB entries that are already marked
  dirty set no bit again, and the last pass leaves those pages behind
  (fixed upstream by commit 03bfc2188f, "physmem: Fix migration dirty
  bitmap coherency with TCG memory access").  The destination then runs
  with stale RAM beside the device's current state, which the guest
  reports as a MISMATCH.  Any other size takes the slow path, which
  resets the TLBs.  --mem-kib 0 keeps pingpong.py's size, to see the bug.

Every hop must also have moved device data through the region: QEMU 7.2
traces each data section it reads (vfio_save_buffer), and their sizes
stand in for the "vfio" bytes that its query-migrate leaves out (so
pingpong.py's --cancel works too).  Usage: pingpong72.py
--qemu72 DIR [--mem-kib KIB] [pingpong.py options]; pingpong.py's own
--qemu is set here.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pingpong  # noqa: E402  (after the path)
from hosts import Failure  # noqa: E402
from qemu import Flavour  # noqa: E402
from qmp import QMP  # noqa: E402

V2_PROP = ",enable-migration=on"
V1_PROP = ",x-enable-migration=on"
# QEMU 7.2 traces every data section it reads; query-migrate has no
# "vfio" bytes once the migration completed, so they are summed from this.
SAVE_BUFFER = "vfio_save_buffer"
SAVE_BUFFER_RE = re.compile(r"^vfio_save_buffer .* size (0x[0-9a-f]+)", re.M)


class Qemu72(Flavour):
    """QEMU 7.2 from @top (scripts/qemu72.sh's folder): its binary, data
    directories and guest RAM of @mem_kib (0: the harness's)."""

    def __init__(self, binary, datadirs, mem_kib):
        self.binary = binary
        self.datadirs = datadirs
        self.mem_kib = mem_kib

    def command(self, cmd, qmp_addr, errlog):
        devs = [i for i, c in enumerate(cmd) if c.startswith("vfio-pci,")]
        if not devs or any(V2_PROP not in cmd[i] for i in devs):
            raise Failure("pingpong72: no vfio-pci device with "
                          f"{V2_PROP[1:]} to switch to {V1_PROP[1:]} in "
                          f"{' '.join(cmd)}")
        cmd = list(cmd)
        cmd[0] = self.binary
        for i in devs:
            cmd[i] = cmd[i].replace(V2_PROP, V1_PROP)
        if self.mem_kib and "-m" in cmd:
            cmd[cmd.index("-m") + 1] = f"{self.mem_kib}K"
        for d in reversed(self.datadirs):
            cmd[1:1] = ["-L", d]
        # Every data section it reads, in its log (QMP72 sums them).
        cmd[1:1] = ["-trace", SAVE_BUFFER]
        return cmd

    def qmp(self, addr, timeout, errlog):
        return QMP72(addr, timeout, errlog)


class QMP72(QMP):
    """QMP of QEMU 7.2: migrate-set-capabilities with only what it knows;
    query-migrate with the device bytes of this migration, from its log
    @errlog."""

    def __init__(self, addr, timeout, errlog):
        self.errlog = errlog
        self.base = 0
        super().__init__(addr, timeout)

    def _device_bytes(self):
        """The data sections this QEMU has read, in bytes; -1 if unknown."""
        try:
            with open(self.errlog, errors="replace") as f:
                text = f.read()
        except OSError:
            return -1
        return sum(int(m, 16) for m in SAVE_BUFFER_RE.findall(text))

    def cmd(self, name, **args):
        if name == "migrate-set-capabilities":
            known = {c["capability"]
                     for c in super().cmd("query-migrate-capabilities")}
            caps = []
            for c in args.get("capabilities", []):
                if c["capability"] in known:
                    caps.append(c)
                elif c["state"]:
                    raise Failure("QEMU 7.2 has no migration capability "
                                  f"{c['capability']}")
            args["capabilities"] = caps
        if name == "migrate":
            # A source may have migrated before (a cancelled migration).
            self.base = self._device_bytes()
        ret = super().cmd(name, **args)
        if name == "query-migrate" and "vfio" not in ret:
            n = self._device_bytes()
            ret["vfio"] = {"transferred": n - self.base if n >= 0 else n}
        return ret


def main():
    argv = sys.argv[1:]
    opts = {"--qemu72": None, "--mem-kib": str((32 << 10) + 4)}
    for opt in opts:
        if opt in argv:
            i = argv.index(opt)
            if i + 1 >= len(argv):
                opts["--qemu72"] = None
                break
            opts[opt] = argv[i + 1]
            del argv[i:i + 2]
    if not opts["--qemu72"] or not opts["--mem-kib"].isdigit():
        print("usage: pingpong72.py --qemu72 DIR [--mem-kib KIB] "
              "[pingpong.py options]", file=sys.stderr)
        return 2
    top = os.path.abspath(opts["--qemu72"])
    mem_kib = int(opts["--mem-kib"])
    binary = os.path.join(top, "usr/bin/qemu-system-x86_64")
    moddir = os.path.join(top, "usr/lib/x86_64-linux-gnu/qemu")
    datadirs = [os.path.join(top, "usr/share/qemu")]
    if os.path.isdir("/usr/share/seabios"):
        datadirs.append("/usr/share/seabios")
    for p in (binary, moddir, datadirs[0]):
        if not os.path.exists(p):
            print(f"pingpong72: no {p} (scripts/qemu72.sh unpacks QEMU 7.2)",
                  file=sys.stderr)
            return 2
    os.environ["QEMU_MODULE_DIR"] = moddir
    print(f"# QEMU 7.2: {binary}, QEMU_MODULE_DIR={moddir}", flush=True)
    rc = pingpong.main(Qemu72(binary, datadirs, mem_kib),
                       argv + ["--qemu", binary])

    # Device data on every hop: the hops went through the v1 region.
    ap = [a for a in argv if a.startswith("--workdir")]
    workdir = None
    if ap:
        workdir = (ap[0].split("=", 1)[1] if "=" in ap[0]
                   else argv[argv.index("--workdir") + 1])
    if rc == 0 and workdir:
        with open(os.path.join(workdir, "hops.json")) as f:
            hops = json.load(f)
        dry = [h["hop"] for h in hops if h["vfio"] <= 0]
        if dry:
            print(f"# FAIL: no device data on hops {dry}", flush=True)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
