"""One long-lived generation worker process per loaded model.

The chat and the booth's auto-play send prompt after prompt; starting a child process (and loading
the model) for each answer costs 1–3 s before the first token and leaves a little native memory
behind in the GUI every time. This worker loads the model once and answers prompts sent over a
pipe, streaming back the same events as a job (``EventMessage`` with a start/token/summary dict,
then a ``ResultMessage`` holding the ``GenerationSummary``, or an ``ErrorMessage``).

Stop ends only the current answer: the parent raises a shared "stop every request up to N"
counter that the generation loop checks between tokens, so the model stays loaded. If the process
dies (crash, out of memory, killed), the answer in flight ends with one plain error line and the
next prompt starts a fresh worker.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import multiprocessing
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from pydantic import BaseModel

from studio.core.errors import StudioError
from studio.core.jobs.messages import (
    SCHEMA_VERSION,
    ErrorMessage,
    EventMessage,
    JobMessage,
    ResultMessage,
)
from studio.core.jobs.runner import describe_exit
from studio.core.privacy import keep_private

log = logging.getLogger("studio")

# Spawn, not fork: the parent may be a Qt app with threads (see studio/core/jobs/runner.py).
_CONTEXT = multiprocessing.get_context("spawn")
SHUTDOWN_TIMEOUT_S = 5.0


class WorkerReady(BaseModel):
    """Sent once by the worker after it loaded the model (so a parent can count loads)."""

    version: int = SCHEMA_VERSION
    kind: str = "ready"
    load_s: float
    pid: int
    model: str


def crash_line(exitcode: int | None) -> str:
    """The one plain line the UI shows when the worker died in the middle of an answer."""
    return (
        f"The model stopped unexpectedly ({describe_exit(exitcode)}). "
        "The next prompt starts it again."
    )


# --- the child process ---------------------------------------------------------------------


def worker_main(conn: Connection, model: str | None, stop_upto: Any) -> None:
    """Load ``model`` once, then answer ``(request_id, prompt, settings)`` until told to quit.

    ``None`` on the pipe, or the parent going away (end of pipe), ends the process.
    """
    from studio.core.generate.llm_bundle import resolve_llm
    from studio.core.generate.session import GenerationSummary, generate_stream, load
    from studio.core.generate.settings import GenerationSettings

    faulthandler.enable(file=sys.stderr)
    try:
        folder = resolve_llm(model)
        started = time.perf_counter()
        load(folder)
        conn.send(
            WorkerReady(
                load_s=round(time.perf_counter() - started, 4), pid=os.getpid(), model=folder.name
            )
        )
    except StudioError as exc:
        _send_error(conn, exc.message, True, exc.exit_code)
        return
    except Exception as exc:
        _send_error(conn, f"{type(exc).__name__}: {exc}", False, 1)
        return
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if request is None:
            return
        request_id, prompt, settings = request

        def should_stop(rid: int = request_id) -> bool:
            return bool(stop_upto.value >= rid)

        try:
            summary: GenerationSummary | None = None
            parsed = GenerationSettings.model_validate(settings or {})
            for event in generate_stream(model, prompt, parsed, should_stop):
                conn.send(EventMessage(data=event.model_dump(mode="json")))
                if isinstance(event, GenerationSummary):
                    summary = event
            conn.send(ResultMessage(value=summary))
        except StudioError as exc:
            _send_error(conn, exc.message, True, exc.exit_code)
        except (EOFError, OSError, BrokenPipeError):
            return
        except Exception as exc:
            _send_error(conn, f"{type(exc).__name__}: {exc}", False, 1)


def _send_error(conn: Connection, message: str, user_error: bool, exit_code: int) -> None:
    with contextlib.suppress(OSError, ValueError):
        conn.send(
            ErrorMessage(
                message=message,
                user_error=user_error,
                exit_code=exit_code,
                details=traceback.format_exc(),
            )
        )


# --- the parent side -----------------------------------------------------------------------


class GenerationWorker:
    """The parent's handle on one worker process for one model. Not Qt; use from one thread,
    except ``stop``, ``kill`` and ``shutdown``, which are safe from any thread."""

    def __init__(self, model: str | None) -> None:
        self.model = model
        self.loads = 0
        """How many times a worker process loaded the model (one per process started)."""
        self.restarts = 0
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._stop_upto = _CONTEXT.Value("q", 0)
        self._next_id = 0
        self._id_lock = threading.Lock()
        self._closed = False
        self._ready = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def new_request(self) -> int:
        """An id for the next prompt; ``stop(id)`` may be called before or after sending it."""
        with self._id_lock:
            self._next_id += 1
            return self._next_id

    def stop(self, request_id: int) -> None:
        """End the answer to ``request_id`` (and any earlier one) after the current token."""
        with self._stop_upto.get_lock():
            self._stop_upto.value = max(self._stop_upto.value, request_id)

    def _start(self) -> None:
        parent_conn, child_conn = _CONTEXT.Pipe(duplex=True)
        self._process = _CONTEXT.Process(
            target=worker_main,
            args=(child_conn, self.model, self._stop_upto),
            name=f"studio-generate:{self.model or 'demo'}",
            daemon=True,  # dies with the app even if shutdown is never called
        )
        self._ready = False
        keep_private()  # the worker inherits the environment, before it loads onnxruntime-genai
        self._process.start()
        child_conn.close()
        self._conn = parent_conn

    def _discard(self) -> int | None:
        """Forget a dead (or dying) process and return its exit code."""
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        code: int | None = None
        if process is not None:
            process.join(2)
            if process.is_alive():
                process.kill()
                process.join(2)
            code = process.exitcode
            with contextlib.suppress(ValueError):
                process.close()
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        return code

    def send(
        self, prompt: str, settings: dict[str, Any] | None = None, request_id: int | None = None
    ) -> int:
        """Send one prompt (starting the worker if none is running) and return its request id.

        A worker that died while idle is replaced quietly: no answer was lost.
        """
        if self._closed:
            raise StudioError("The generation worker was shut down")
        rid = request_id if request_id is not None else self.new_request()
        if self._process is not None and not self._process.is_alive():
            code = self._discard()
            log.warning(
                "generation worker ended while idle (%s); starting a new one", describe_exit(code)
            )
            self.restarts += 1
        if self._process is None:
            self._start()
        assert self._conn is not None
        with contextlib.suppress(OSError, ValueError):  # it died just now; receive() says so
            self._conn.send((rid, prompt, settings or {}))
        return rid

    def receive(self, poll_interval: float = 0.05) -> Iterator[JobMessage]:
        """Yield the answer's events, ending with a ResultMessage or an ErrorMessage."""
        conn, process = self._conn, self._process
        if conn is None or process is None:
            yield ErrorMessage(message=crash_line(None), user_error=False)
            return
        while True:
            try:
                if not conn.poll(poll_interval):
                    if not process.is_alive() and not conn.poll(0):
                        break
                    continue
                message = conn.recv()
            except (EOFError, OSError, ValueError):
                break
            if isinstance(message, WorkerReady):
                self.loads += 1
                self._ready = True
                continue
            if getattr(message, "version", None) != SCHEMA_VERSION:
                continue
            yield message
            if isinstance(message, ErrorMessage) and not self._ready:
                # The model could not be loaded (the worker ends); the next prompt tries again.
                self._discard()
            if isinstance(message, (ResultMessage, ErrorMessage)):
                return
        code = self._discard()
        if not self._closed:
            self.restarts += 1
            yield ErrorMessage(message=crash_line(code), user_error=False, exit_code=1)
        else:
            yield ErrorMessage(message="Cancelled.", user_error=True, exit_code=130)

    def answer(self, prompt: str, settings: dict[str, Any] | None = None) -> Iterator[JobMessage]:
        """``send`` then ``receive`` in one go."""
        self.send(prompt, settings)
        yield from self.receive()

    def kill(self) -> None:
        """End the process now (a Stop that was not heard); the answer reports it."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def shutdown(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Ask the worker to quit, then make sure it is gone. Safe to call twice."""
        self._closed = True
        process, conn = self._process, self._conn
        if process is None:
            return
        with self._stop_upto.get_lock():
            self._stop_upto.value = 2**62  # end an answer in flight
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send(None)
        process.join(timeout)
        if process.is_alive():
            process.terminate()
            process.join(2)
        if process.is_alive():
            process.kill()
            process.join(2)
