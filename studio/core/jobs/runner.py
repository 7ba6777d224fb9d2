"""Start, watch, cancel and reap job child processes."""

from __future__ import annotations

import contextlib
import enum
import importlib
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.atomic import PARTIAL_PREFIX, settle_partial
from studio.core.errors import JobCancelled, JobFailed, StudioError
from studio.core.jobs.child import child_main
from studio.core.jobs.messages import (
    SCHEMA_VERSION,
    ErrorMessage,
    EventMessage,
    JobMessage,
    LogMessage,
    ProgressMessage,
    ResultMessage,
)
from studio.core.privacy import keep_private
from studio.core.progress import Reporter

# Spawn, not fork: the parent may be a Qt app with threads, and fork would copy their locks.
_CONTEXT = multiprocessing.get_context("spawn")


class JobState(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class JobSpec:
    """What to run: a core function by ``module:function`` name and its keyword arguments.

    The function must accept ``report: Reporter``. ``outputs`` are the final paths it writes;
    on cancel or crash their hidden partial siblings are removed.
    """

    title: str
    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    native_log: Path | None = None
    """Where the child's own stderr goes (native libraries' messages, a crash's stack dump)
    instead of the parent's terminal; None keeps the parent's."""


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "the worker stopped answering"
    if exitcode < 0:
        signum = -exitcode
        if signum == signal.SIGSEGV:
            return "the worker crashed (segmentation fault in a native library)"
        if signum == signal.SIGKILL:
            return "the worker was killed by the system (often: out of memory)"
        if signum == signal.SIGABRT:
            return "the worker aborted (a native library hit an internal error)"
        with contextlib.suppress(ValueError):
            return f"the worker was stopped by signal {signal.Signals(signum).name}"
        return f"the worker was stopped by signal {signum}"
    return f"the worker exited unexpectedly with code {exitcode}"


def remove_partials(outputs: list[Path]) -> None:
    for target in outputs:
        target = Path(target)
        parent = target.parent
        if not parent.is_dir():
            continue
        for entry in parent.iterdir():
            if entry.name.startswith(PARTIAL_PREFIX) and entry.name.endswith("-" + target.name):
                settle_partial(entry)


class JobHandle:
    """One running job. Iterate ``events()`` (from any one thread) until it finishes."""

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        self.state = JobState.PENDING
        self.progress = 0.0
        self.message = ""
        self.logs: list[str] = []
        self.result: Any = None
        self.error: ErrorMessage | None = None
        self.started_at = 0.0
        self.finished_at = 0.0
        self._cancel_requested = False
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Any = None

    def start(self) -> JobHandle:
        parent_conn, child_conn = _CONTEXT.Pipe(duplex=False)
        self._process = _CONTEXT.Process(
            target=child_main,
            args=(child_conn, self.spec.target, self.spec.kwargs, self.spec.native_log),
            name=f"studio-job:{self.spec.title}",
            daemon=True,
        )
        self.started_at = time.monotonic()
        keep_private()  # the child inherits it, also when a script rather than the CLI runs jobs
        self._process.start()
        child_conn.close()
        self._conn = parent_conn
        self.state = JobState.RUNNING
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)

    def cancel(self) -> None:
        """Stop the child now. Safe from any thread, and after it finished."""
        self._cancel_requested = True
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(3)
            if process.is_alive():
                process.kill()

    def events(self, poll_interval: float = 0.1) -> Iterator[JobMessage]:
        """Yield messages as they come; end when the job succeeded, failed or was cancelled."""
        if self.state is JobState.PENDING:
            if self._cancel_requested:
                self.state = JobState.CANCELLED
                self.error = ErrorMessage(message="Cancelled.", user_error=True, exit_code=130)
                yield self.error
                return
            self.start()
        assert self._process is not None
        got_final = False
        while not got_final:
            try:
                ready = self._conn.poll(poll_interval)
            except (OSError, ValueError):
                ready = False
                got_final = True
            if not ready:
                if not self._process.is_alive() or self._cancel_requested:
                    # Drain what is left, then decide how the job ended.
                    with contextlib.suppress(OSError, ValueError):
                        if self._conn.poll(0):
                            continue
                    break
                continue
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            version = getattr(message, "version", None)
            if version != SCHEMA_VERSION:
                yield self._other_schema(version)
                break
            yield from self._apply(message)
            got_final = isinstance(message, (ResultMessage, ErrorMessage))
        yield from self._finish()

    def _apply(self, message: JobMessage) -> Iterator[JobMessage]:
        if isinstance(message, ProgressMessage):
            self.progress, self.message = message.fraction, message.message
        elif isinstance(message, LogMessage):
            self.logs.append(message.line)
        elif isinstance(message, ResultMessage):
            self.result = message.value
            self.state = JobState.SUCCEEDED
        elif isinstance(message, ErrorMessage):
            self.error = message
            self.state = JobState.FAILED
            if message.details:
                self.logs.extend(message.details.rstrip().splitlines())
        yield message

    def _other_schema(self, version: object) -> ErrorMessage:
        """A worker from another install (an update half applied) speaks another message
        schema: its messages cannot be trusted to mean the same, so the job fails, saying so."""
        failed = JobFailed(
            f"The job worker speaks message schema version {version} and this studio "
            f"{SCHEMA_VERSION}",
            "Reinstall Edge Deploy Studio so the app and its worker are the same version",
        )
        self.error = ErrorMessage(
            message=failed.message,
            user_error=True,
            exit_code=failed.exit_code,
            error_class=type(failed).__name__,
        )
        self.state = JobState.FAILED
        self.logs.append(failed.message)
        if self._process is not None and self._process.is_alive():
            self._process.terminate()  # nothing more it says can be read
        return self.error

    def _finish(self) -> Iterator[JobMessage]:
        assert self._process is not None
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        with contextlib.suppress(OSError):
            self._conn.close()
        self.finished_at = time.monotonic()
        if self._cancel_requested and self.state is not JobState.SUCCEEDED:
            self.state = JobState.CANCELLED
            self.error = ErrorMessage(message="Cancelled.", user_error=True, exit_code=130)
            remove_partials(self.spec.outputs)
            yield self.error
        elif self.state is JobState.RUNNING:
            reason = describe_exit(self._process.exitcode)
            self.state = JobState.FAILED
            self.error = ErrorMessage(message=f"failed: {reason}", user_error=False)
            self.logs.append(self.error.message)
            remove_partials(self.spec.outputs)
            yield self.error
        elif self.state is JobState.FAILED:
            remove_partials(self.spec.outputs)

    @property
    def duration(self) -> float:
        end = self.finished_at or time.monotonic()
        return end - self.started_at if self.started_at else 0.0


def run_job(
    spec: JobSpec,
    on_progress: Callable[[float, str], None] | None = None,
    on_log: Callable[[str], None] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """Run a job to completion in a child process and return its result or raise its error."""
    handle = JobHandle(spec)
    reporter = Reporter(on_progress, on_log)
    try:
        for message in handle.events():
            if isinstance(message, ProgressMessage):
                reporter.progress(message.fraction, message.message)
            elif isinstance(message, LogMessage) and on_log:
                on_log(message.line)
            elif isinstance(message, EventMessage) and on_event:
                on_event(message.data)
    except BaseException:
        handle.cancel()
        for _ in handle.events():
            pass
        raise
    return raise_for_outcome(handle)


def raise_for_outcome(handle: JobHandle) -> Any:
    if handle.state is JobState.SUCCEEDED:
        return handle.result
    error = handle.error
    if handle.state is JobState.CANCELLED:
        raise JobCancelled("Cancelled", "")
    if error is not None and error.user_error:
        raise _user_error(error)
    raise JobFailed(
        error.message if error else "failed: unknown reason", "See the job log for details"
    )


def _user_error(error: ErrorMessage) -> StudioError:
    """The child's StudioError as the same class, message and exit code in this process."""
    cls = _error_class(error.error_class)
    if not (isinstance(cls, type) and issubclass(cls, StudioError)):
        cls = StudioError
    raised = cls(error.message) if error.msg is None else cls(msg=error.msg)
    raised.exit_code = error.exit_code
    return raised


def _error_class(name: str) -> object:
    """The class an ErrorMessage names; only studio's own core modules are imported for it."""
    from studio.core import errors

    module, _, qualname = name.rpartition(":")
    if not module:
        return getattr(errors, name, None)
    if not module.startswith("studio.core."):
        return None
    try:
        found: object = importlib.import_module(module)
    except ImportError:
        return None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found
