"""The dev stack's processes found without pid files: by the port they serve and their command line.

A pid file is only a note. When it is gone (``make clean`` used to delete ``.run/`` while the stack ran) the
emulator, the local Stripe and the local Lambda service keep their ports, and ``make emulator`` then fails on a
port in use. This finds them again from ``/proc`` (Linux): a process of this user whose command line is one this
package starts, for the ports of *this* stack (``EMULATOR_PORT``, ``STRIPE_PORT``), so the stacks of other
checkouts or of test sessions on other ports are never touched. A process that listens on one of those ports but
is not one of ours is only named, never stopped.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Found:
    pid: int
    what: str  # "emulator", "MiniStack", "local Stripe", "local Lambda service"
    command: str


def _cmdline(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    return []


def _environ(pid: int) -> dict[str, str]:
    with contextlib.suppress(OSError):
        pairs = (PROC / str(pid) / "environ").read_bytes().decode(errors="replace").split("\0")
        return dict(p.split("=", 1) for p in pairs if "=" in p)
    return {}


def _option(argv: list[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _my_pids() -> list[int]:
    uid = os.getuid()
    pids = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
    return pids


def classify(argv: list[str], environ: dict[str, str], emulator_port: int, stripe_port: int) -> str | None:
    """Which piece of this stack the command line is, or None (another port, another program)."""
    if "tools.devstack" in argv:
        tail = argv[argv.index("tools.devstack") + 1 :]
        if tail[:2] == ["emulator", "serve"] and _option(tail, "--port") == str(emulator_port):
            return "emulator"
        if tail[:2] == ["stripe", "serve"] and _option(tail, "--port") == str(stripe_port):
            return "local Stripe"
        if tail[:2] == ["dev", "run"]:
            endpoint = _option(tail, "--endpoint") or ""
            if endpoint.rstrip("/").endswith(f":{emulator_port}"):
                return "local Lambda service"
        return None
    if "ministack" in argv and environ.get("GATEWAY_PORT") == str(emulator_port):
        return "MiniStack"
    return None


def find(emulator_port: int, stripe_port: int) -> list[Found]:
    """This stack's processes (see the module docstring), emulator and Stripe last so the service stops first."""
    found = []
    for pid in _my_pids():
        argv = _cmdline(pid)
        env = _environ(pid) if "ministack" in argv else {}
        what = classify(argv, env, emulator_port, stripe_port)
        if what is not None:
            found.append(Found(pid, what, " ".join(argv)))
    order = {"local Lambda service": 0, "local Stripe": 1, "emulator": 2, "MiniStack": 2}
    return sorted(found, key=lambda f: (order[f.what], f.pid))


def listeners(port: int) -> list[int]:
    """Pids (of this user) with a listening TCP socket on ``port``, from /proc/net/tcp{,6}."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    pids = []
    for pid in _my_pids():
        with contextlib.suppress(OSError):
            for fd in (PROC / str(pid) / "fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        pids.append(pid)
                        break
    return pids


def describe(pid: int) -> str:
    """``pid N (command line)`` for a message."""
    return f"pid {pid} ({' '.join(_cmdline(pid))[:120] or '?'})"


def port_holder_hint(port: int) -> str:
    """What holds the emulator's port, and the command that frees it (or the ports to use instead)."""
    stripe_port = int(os.environ.get("STRIPE_PORT", "8420"))
    ours = [f for f in find(port, stripe_port) if f.what in ("emulator", "MiniStack")]
    if ours:
        return (
            f"It is this stack's {ours[0].what} (pid {ours[0].pid}), still running without its pid file "
            "(was the run dir deleted?).\n  Stop it with: make emulator-stop"
        )
    holders = ", ".join(describe(pid) for pid in listeners(port)) or "a program of another user"
    return (
        f"It is held by {holders}.\n  Stop that program, or give this stack other ports "
        f"(on every make target): make dev EMULATOR_PORT={port + 1} STRIPE_PORT={stripe_port + 1}"
    )
