"""Generate on a phone or board: deploy the LLM bundle if needed, run its runner over adb, and
turn the runner's JSON lines into the same events a run on this PC gives."""

from __future__ import annotations

import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from studio.core.bundle.folder import MANIFEST
from studio.core.errors import BadInput, StudioError
from studio.core.generate.llm_bundle import resolve_llm
from studio.core.generate.session import (
    GenerationEvent,
    GenerationStart,
    GenerationSummary,
    TokenChunk,
)
from studio.core.generate.settings import GenerationSettings
from studio.core.progress import NULL_REPORTER, Reporter

_DONE = object()
# The first runner version whose generate takes temperature, top-p, top-k, … (studio/runner).
SETTINGS_RUNNER = (1, 1)


def _check_bundle(model: str | Path | None) -> Path:
    folder = resolve_llm(model)
    if not (folder / MANIFEST).is_file():
        raise BadInput(
            f"{folder} is not a studio bundle, so it cannot be sent to a device",
            "Export it with `studio llm-export` first",
        )
    if not (folder / "runner" / "generate.py").is_file():
        raise BadInput(
            f"{folder} has no on-device generation runner (an older export)",
            "Export the model again with `studio llm-export`",
        )
    return folder


def runner_version(folder: Path) -> tuple[int, ...]:
    """The version of the runner a bundle carries (read from its runner/runner.py)."""
    try:
        text = (folder / "runner" / "runner.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return (0,)
    match = re.search(r'^RUNNER_VERSION = "(\d+(?:\.\d+)*)"', text, re.MULTILINE)
    return tuple(int(part) for part in match.group(1).split(".")) if match else (0,)


def runner_sampling(folder: Path, settings: GenerationSettings) -> dict[str, float | int]:
    """The settings to send to the bundle's device runner besides prompt and token limit.

    A bundle exported before runner 1.1 cannot take them: it always samples with the defaults.
    That is fine when the user kept the defaults; otherwise say so rather than silently ignore.
    """
    if runner_version(folder) >= SETTINGS_RUNNER:
        return settings.sampling()
    if settings.sampling() != GenerationSettings().sampling():
        raise BadInput(
            f"{folder.name} was exported by an older studio whose device runner cannot take "
            "temperature, top-p, top-k or seed",
            "Export the model again with `studio llm-export`, or use the default settings",
        )
    return {}


def _summary_from_tokens(
    chunks: list[TokenChunk], prompt_tokens: int, started: float, where: str, model: str
) -> GenerationSummary:
    """What is known when a device run was stopped before it could send its own summary."""
    tokens = sum(c.tokens for c in chunks)
    first = chunks[0].t if chunks else None
    last = chunks[-1].t if chunks else 0.0
    speed = (
        (tokens - 1) / (last - first) if first is not None and tokens > 1 and last > first else None
    )
    return GenerationSummary(
        tokens=tokens,
        prompt_tokens=prompt_tokens,
        ttft_s=first,
        prompt_tokens_per_s=None,
        decode_tokens_per_s=round(speed, 2) if speed else None,
        total_s=round(time.monotonic() - started, 3),
        memory_bytes=0,
        stopped=True,
        finish="stop",
        where=where,
        model=model,
        text="".join(c.text for c in chunks),
    )


def generate_on_device(
    model: str | Path | None,
    prompt: str,
    serial: str,
    settings: GenerationSettings | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    report: Reporter = NULL_REPORTER,
    trust_bundle_runner: bool = False,
) -> Iterator[GenerationEvent]:
    """Yield start, token chunks and a summary from a generation running on ``serial``."""
    from studio.core.bundle.runner_protocol import (
        ErrorEvent,
        LogEvent,
        ResultEvent,
        TokenEvent,
    )
    from studio.core.devices.deploy import deploy_bundle
    from studio.core.devices.run import run_on_device

    if not prompt or not prompt.strip():
        raise BadInput("The prompt is empty", "Type something for the model to continue")
    settings = settings or GenerationSettings()
    folder = _check_bundle(model)
    sampling = runner_sampling(folder, settings)
    report.progress(0.0, f"Sending the model to {serial} (files already there are skipped)")
    deploy_bundle(folder, serial, report=report.sub(0.0, 0.5))
    events: queue.Queue[Any] = queue.Queue()
    cancel = threading.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["run"] = run_on_device(
                folder,
                serial,
                "generate",
                prompt=prompt,
                max_tokens=settings.max_new_tokens,
                sampling=sampling,
                on_event=events.put,
                cancel=cancel,
                trust_bundle_runner=trust_bundle_runner,
            )
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            events.put(_DONE)

    started = time.monotonic()
    threading.Thread(target=work, name=f"generate-on-{serial}", daemon=True).start()
    chunks: list[TokenChunk] = []
    prompt_tokens = 0
    summary: GenerationSummary | None = None
    error: ErrorEvent | None = None
    while True:
        try:
            event = events.get(timeout=0.1)
        except queue.Empty:
            event = None
        if should_stop() and not cancel.is_set():
            cancel.set()
        if event is _DONE:
            break
        if isinstance(event, LogEvent) and "prompt_tokens" in (event.model_extra or {}):
            extra = event.model_extra or {}
            prompt_tokens = int(extra["prompt_tokens"])
            yield GenerationStart(
                prompt_tokens=prompt_tokens,
                memory_bytes=int(extra.get("memory_bytes", 0)),
                where=serial,
                model=folder.name,
            )
        elif isinstance(event, TokenEvent):
            extra = event.model_extra or {}
            chunk = TokenChunk(
                index=event.index,
                text=event.text,
                tokens=int(extra.get("tokens", 1)),
                t=float(extra.get("t", time.monotonic() - started)),
            )
            chunks.append(chunk)
            yield chunk
        elif isinstance(event, ResultEvent):
            data = {k: v for k, v in event.data.items() if k in GenerationSummary.model_fields}
            try:
                summary = GenerationSummary.model_validate(
                    {**data, "type": "summary", "where": serial, "model": folder.name}
                )
            except ValidationError as exc:  # a bundle's own hook answered something else
                error = ErrorEvent(
                    message=f"the runner's result is not a generation summary "
                    f"({exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']})",
                    fix="Rebuild the bundle with this studio",
                    code="bad_result",
                )
        elif isinstance(event, ErrorEvent):
            error = event
    if "error" in outcome:
        failure = outcome["error"]
        raise (
            failure
            if isinstance(failure, StudioError)
            else StudioError(f"Generation on {serial} failed ({failure})", "See the job log")
        )
    if summary is None and cancel.is_set():
        summary = _summary_from_tokens(chunks, prompt_tokens, started, serial, folder.name)
    if summary is None:
        run = outcome.get("run")
        message = (error.message if error else "") or (run.error if run else "no answer")
        fix = (error.fix if error else "") or (run.fix if run else "")
        raise BadInput(f"Generation on {serial} failed: {message}", fix or "See the job log")
    yield summary


def generate_on_device_job(
    model: str | None,
    prompt: str,
    serial: str,
    settings: dict[str, Any] | None = None,
    stop_file: str | None = None,
    report: Reporter = NULL_REPORTER,
) -> GenerationSummary:
    """Job target for the Demo step: like session.generate_job, but on a device over adb."""
    parsed = GenerationSettings.model_validate(settings or {})
    summary: GenerationSummary | None = None
    for event in generate_on_device(
        model, prompt, serial, parsed, lambda: bool(stop_file and os.path.exists(stop_file)), report
    ):
        report.event(event.model_dump(mode="json"))
        if isinstance(event, GenerationSummary):
            summary = event
    assert summary is not None
    return summary
