"""Stop the adb server the studio started when the studio quits, and only that one.

The rule stays: a server someone else started is never killed. A server the studio started
(``adb start-server`` in adb_server.ensure_server) is stopped at quit unless another program is
still using it. How that is told apart, on Linux:

- ownership: when the studio starts a server it records the pid listening on the port (found
  through /proc/net/tcp and /proc/PID/fd) in the cache folder; at quit the server is ours only if
  that same pid still listens. If ours died and another tool started one since, it is left alone.
- other users: devices connected over the network (``adb connect``) live only in the server, so
  a server holding one is left running. And the adb server has no query for its clients, but every client (``adb shell``,
  ``adb track-devices``, Android Studio) holds a TCP connection to the port while it works. Any
  established connection to the port from a process other than this one keeps the server up.

Without /proc (macOS, Windows) neither can be told, so nothing is recorded and nothing is
stopped: leaving a server running is the safe side.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from studio.core.paths import cache_dir

_LISTEN, _ESTABLISHED = "0A", "01"


def _tcp_sockets() -> list[tuple[int, int, str, int]]:
    """(local port, remote port, state, inode) of every TCP socket on the machine."""
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) < 10:
                    continue
                local = int(fields[1].rsplit(":", 1)[1], 16)
                remote = int(fields[2].rsplit(":", 1)[1], 16)
                rows.append((local, remote, fields[3], int(fields[9])))
    return rows


def _socket_inodes(pid: int | str) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(int(link[8:-1]))
    return inodes


def listener_pid(port: int) -> int | None:
    """The pid of our user's process listening on ``port`` (None: none, or no /proc)."""
    listening = {
        inode for local, _, state, inode in _tcp_sockets() if local == port and state == _LISTEN
    }
    if not listening:
        return None
    for pid in os.listdir("/proc"):
        if pid.isdigit() and _socket_inodes(pid) & listening:
            return int(pid)
    return None


def other_clients(port: int) -> int:
    """Connections to ``port`` held by processes other than this one."""
    mine = _socket_inodes("self")
    return sum(
        1
        for _, remote, state, inode in _tcp_sockets()
        if remote == port and state == _ESTABLISHED and inode not in mine
    )


def _record(port: int) -> Path:
    return cache_dir() / f"adb-server-{port}.pid"


def note_started(port: int) -> None:
    """Called right after the studio started a server on ``port``."""
    pid = listener_pid(port)
    if pid is not None:
        _record(port).write_text(str(pid), encoding="utf-8")


def recorded_pid(port: int) -> int | None:
    """The pid recorded when the studio started a server on ``port``, if it still listens there.
    A stale record (ours died; whatever listens now is another tool's) is removed."""
    record = _record(port)
    try:
        pid = int(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if listener_pid(port) != pid:
        record.unlink(missing_ok=True)
        return None
    return pid


def forget(port: int) -> None:
    _record(port).unlink(missing_ok=True)
