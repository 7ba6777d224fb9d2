"""Functions the job tests run in child processes (importable by module:function name)."""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

from studio.core.atomic import atomic_path
from studio.core.errors import BadInput, JobCancelled
from studio.core.jobs.messages import SCHEMA_VERSION, ProgressMessage, ResultMessage
from studio.core.progress import Reporter


def count_up(steps: int, report: Reporter) -> dict[str, int]:
    for i in range(steps):
        report.progress((i + 1) / steps, f"step {i + 1}")
        report.log(f"did step {i + 1}")
    return {"steps": steps}


def library_advice(report: Reporter) -> str:
    import logging

    logging.warning("Please consider to run pre-processing before quantization.")
    return "done"


def bad_input(report: Reporter) -> None:
    raise BadInput("The file is wrong", "Pick another file")


def taken_output(out: str, report: Reporter) -> None:
    with atomic_path(Path(out)):  # ``out`` exists: an OutputError with a message id
        pass


def hub_offline_check(report: Reporter) -> None:
    from studio.core.hubs.auth import sign_in
    from studio.core.hubs.hf_context import HubContext

    offline = HubContext("http://127.0.0.1:9", None, Path("unused"), offline=True)
    sign_in("hf_" + "x" * 30, ctx=offline)  # offline: a HubError before any keyring or network


def user_cancelled(report: Reporter) -> None:
    raise JobCancelled("The user pressed Cancel in a dialog the job showed", "")


def bug(report: Reporter) -> None:
    raise ZeroDivisionError("division by zero")


def segfault(report: Reporter) -> None:
    report.progress(0.5, "about to crash")
    ctypes.string_at(0)  # reads address 0: a real SIGSEGV in native code


def oom_killed(report: Reporter) -> None:
    # What the kernel's OOM killer does: SIGKILL, no chance to clean up.
    os.kill(os.getpid(), signal.SIGKILL)


def slow_writer(out: str, report: Reporter) -> str:
    target = Path(out)
    with atomic_path(target) as partial:
        partial.write_bytes(b"half")
        for i in range(600):
            report.progress(i / 600, "writing")
            time.sleep(0.05)
        partial.write_bytes(b"complete")
    return str(target)


def killed_while_writing(out: str, report: Reporter) -> None:
    target = Path(out)
    with atomic_path(target) as partial:
        partial.write_bytes(b"half")
        report.progress(0.5, "half written")
        ctypes.string_at(0)


def own_niceness(report: Reporter) -> int:
    """The child's CPU priority (niceness), as the OS sees it."""
    return os.nice(0)


def many_log_lines(lines: int, report: Reporter) -> int:
    for i in range(lines):
        report.log(f"line {i}")
    return lines


def wait_for_file(path: str, report: Reporter) -> str:
    """Run until ``path`` exists (a test's go signal), at most a minute."""
    deadline = time.monotonic() + 60
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path


def environment_value(name: str, report: Reporter) -> str | None:
    """The child's value of one environment variable."""
    return os.environ.get(name)


class _FutureProgress(ProgressMessage):
    version: int = SCHEMA_VERSION + 1


class _FutureResult(ResultMessage):
    version: int = SCHEMA_VERSION + 1


def newer_worker(out: str, report: Reporter) -> str:
    """A worker from a newer studio: every message it sends carries the next schema version.
    It starts writing ``out`` and then takes its time, so a parent that ignored its messages
    would wait for it."""
    from studio.core.jobs import child

    child.ProgressMessage = _FutureProgress  # type: ignore[misc]  # what child_main sends
    child.ResultMessage = _FutureResult  # type: ignore[misc]
    with atomic_path(Path(out)) as partial:
        partial.write_bytes(b"half")
        report.progress(0.5, "half written")
        time.sleep(20)
    return out
