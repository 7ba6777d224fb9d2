"""What runs inside the job's child process."""

from __future__ import annotations

import contextlib
import faulthandler
import importlib
import logging
import os
import sys
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from studio.core.atomic import owned_temp_dir
from studio.core.errors import StudioError
from studio.core.jobs.messages import (
    ErrorMessage,
    EventMessage,
    LogMessage,
    ProgressMessage,
    ResultMessage,
    error_class_name,
)
from studio.core.progress import Reporter


class _PipeLogHandler(logging.Handler):
    def __init__(self, conn: Connection) -> None:
        super().__init__(logging.INFO)
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(LogMessage(line=self.format(record)))


def resolve_target(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _stderr_to(path: Path) -> None:
    """Point file descriptor 2 at ``path``: native code writes there directly, not via Python."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 2)
        os.close(fd)


def child_main(
    conn: Connection, target: str, kwargs: dict[str, Any], native_log: Path | None = None
) -> None:
    if native_log is not None:
        _stderr_to(native_log)
    faulthandler.enable(file=sys.stderr)
    handler = _PipeLogHandler(conn)
    logger = logging.getLogger("studio")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    # Libraries log advice on the root logger (onnxruntime's quantizer: "Please consider to run
    # pre-processing", "Axis 1 is out-of-range"): it belongs in the job's log, not the terminal.
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)

    def on_progress(fraction: float, message: str) -> None:
        conn.send(ProgressMessage(fraction=fraction, message=message))

    def on_event(data: dict[str, Any]) -> None:
        conn.send(EventMessage(data=data))

    # Core functions log through the "studio" logger, which already forwards to the pipe.
    reporter = Reporter(on_progress=on_progress, on_event=on_event)
    try:
        try:
            func = resolve_target(target)
            # This process runs only this job: all its temporary files go in one folder that
            # the next job removes if this one is killed (SIGKILL skips every finally block).
            with owned_temp_dir():
                value = func(**kwargs, report=reporter)
            conn.send(ResultMessage(value=value))
        except (BrokenPipeError, EOFError):
            raise
        except StudioError as exc:
            conn.send(
                ErrorMessage(
                    message=exc.message,
                    user_error=True,
                    exit_code=exc.exit_code,
                    error_class=error_class_name(type(exc)),
                    msg=exc.msg,
                    details=traceback.format_exc(),
                )
            )
        except BaseException as exc:
            conn.send(
                ErrorMessage(
                    message=f"{type(exc).__name__}: {exc}",
                    user_error=False,
                    details=traceback.format_exc(),
                )
            )
    except (BrokenPipeError, EOFError):
        # The parent is gone (closed, cancelled or crashed): nobody is listening, so stop quietly.
        pass
    finally:
        with contextlib.suppress(OSError):
            conn.close()
