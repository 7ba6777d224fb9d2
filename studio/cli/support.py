"""What every CLI command shares: output in human or JSON form, progress bars, error handling."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from studio.core.progress import Reporter


def emit_json(value: Any) -> None:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    else:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=_default)
    sys.stdout.write(text + "\n")


def _default(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


class StderrBar:
    """A one-line progress bar on stderr, shown only once work has run for over a second."""

    def __init__(self, enabled: bool | Literal["always"] = True, delay: float = 1.0) -> None:
        self.enabled = (enabled and sys.stderr.isatty()) or enabled == "always"
        self.start = time.monotonic()
        self.delay = delay
        self.drawn = False

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled or time.monotonic() - self.start < self.delay:
            return
        width = 30
        filled = int(width * fraction)
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% {message[:60]:<60}"
        )
        sys.stderr.write(line)
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


TRACKING_PREFIX = "Run tracking:"


def show_tracking_note(line: str) -> None:
    """A job's log stays quiet, except the one line saying a run was kept for later."""
    if line.startswith(TRACKING_PREFIX):
        print(line, file=sys.stderr)


def reporter_for(args: argparse.Namespace) -> tuple[Reporter, StderrBar]:
    bar = StderrBar(enabled=not getattr(args, "quiet", False))
    return Reporter(on_progress=bar, on_log=show_tracking_note), bar


Handler = Callable[[argparse.Namespace], int]


# Set to 1 to run a command's work in the CLI's own process (to step through it in a debugger).
IN_PROCESS_ENV = "STUDIO_CLI_IN_PROCESS"


def run_isolated(
    args: argparse.Namespace, target: str, outputs: list[str | None] | None = None, **kwargs: Any
) -> Any:
    """Run the core function ``target`` ("module:function") in a job child process, drawing its
    progress on stderr, and return its result.

    onnxruntime is native code: a model that crashes it (a segfault while a session opens) must
    fail the command with one line, not kill it. The child's own stderr (native libraries'
    chatter, a crash's stack dump) goes to a log file kept only if the job fails. ``outputs``:
    paths the function writes, whose hidden partial siblings are removed if the child dies."""
    from studio.core.errors import JobFailed
    from studio.core.jobs.child import resolve_target
    from studio.core.jobs.runner import JobSpec, run_job

    report, bar = reporter_for(args)
    try:
        if os.environ.get(IN_PROCESS_ENV) == "1":
            return resolve_target(target)(**kwargs, report=report)
        log_file = _log_path(args.command)
        spec = JobSpec(
            title=args.command,
            target=target,
            kwargs=kwargs,
            outputs=[Path(p) for p in outputs or [] if p],
            native_log=log_file,
        )
        log: list[str] = []

        def on_log(line: str) -> None:
            log.append(line)
            show_tracking_note(line)

        try:
            result = run_job(spec, on_progress=bar, on_log=on_log)
        except JobFailed as exc:
            raise JobFailed(f"{args.command} {exc.what}", _keep_log(log_file, log)) from exc
        except BaseException:
            _drop(log_file)
            raise
        _drop(log_file)
        return result
    finally:
        bar.close()


def _log_path(command: str) -> Path | None:
    from studio.core.paths import cache_dir

    folder = cache_dir() / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def _drop(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def _keep_log(path: Path | None, lines: list[str]) -> str:
    """Add the job's own log to the native one; the fix names the file to send us."""
    if path is None:
        return "Please report it"
    try:
        with path.open("a", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
    except OSError:
        return "Please report it"
    return f"Its log is in {path}; please report it with that file"
