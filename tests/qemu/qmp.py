# SPDX-License-Identifier: GPL-2.0
"""A minimal QMP client, for the ping-pong harness (pingpong.py)."""

import json
import socket
import time

from hosts import Failure


class QMP:
    """A minimal QMP client: one command at a time, events set aside."""

    def __init__(self, path, timeout):
        """@path: a Unix socket's path, or (address, port) for TCP."""
        deadline = time.monotonic() + timeout
        family = socket.AF_UNIX if isinstance(path, str) else socket.AF_INET
        while True:
            try:
                self.sock = socket.socket(family, socket.SOCK_STREAM)
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
