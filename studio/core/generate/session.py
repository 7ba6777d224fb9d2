"""Generate text on this PC with live chunks and timings; the same events a device runner sends."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from studio.core.errors import BadInput
from studio.core.generate.llm_bundle import resolve_llm
from studio.core.generate.settings import GenerationSettings
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.this_pc import THIS_PC_NAME

THIS_PC = THIS_PC_NAME


class GenerationStart(BaseModel):
    type: Literal["start"] = "start"
    prompt_tokens: int
    load_s: float = 0.0
    memory_bytes: int = 0
    where: str = THIS_PC
    model: str = ""


class TokenChunk(BaseModel):
    type: Literal["token"] = "token"
    index: int
    text: str
    tokens: int
    """How many tokens this chunk of text holds."""
    t: float
    """Seconds since generation started."""


class GenerationSummary(BaseModel):
    type: Literal["summary"] = "summary"
    tokens: int
    prompt_tokens: int
    ttft_s: float | None
    prompt_tokens_per_s: float | None
    decode_tokens_per_s: float | None
    total_s: float
    memory_bytes: int
    stopped: bool
    finish: str
    where: str = THIS_PC
    model: str = ""
    text: str = ""

    def line(self) -> str:
        speed = f"{self.decode_tokens_per_s:.1f} tokens/s" if self.decode_tokens_per_s else "n/a"
        ttft = f"{self.ttft_s * 1000:.0f} ms" if self.ttft_s is not None else "n/a"
        prompt = f"{self.prompt_tokens_per_s:.0f} tokens/s" if self.prompt_tokens_per_s else "n/a"
        return (
            f"{self.tokens} tokens at {speed} · first token after {ttft} · prompt "
            f"{self.prompt_tokens} tokens at {prompt} · memory "
            f"{self.memory_bytes / 1024**2:.0f} MB · {self.where}"
            + (" · stopped" if self.stopped else "")
        )


GenerationEvent = GenerationStart | TokenChunk | GenerationSummary


def parse_event(data: dict[str, Any], where: str = THIS_PC, model: str = "") -> GenerationEvent:
    """Turn one runner event (local or from a device's JSON line) into a typed event."""
    kind = data.get("type")
    if kind == "start":
        return GenerationStart.model_validate({**data, "where": where, "model": model})
    if kind == "token":
        return TokenChunk.model_validate(data)
    if kind == "summary":
        return GenerationSummary.model_validate({**data, "where": where, "model": model})
    raise BadInput(
        f"The runner sent an unknown event '{kind}'",
        "Update the bundle's runner by exporting it again",
    )


# One loaded model per folder per process: a presentation loop must not reload (or leak) it.
_LOADED: dict[str, Any] = {}


def load(folder: Path) -> Any:
    from studio.core.generate.llm_runner import LoadedModel
    from studio.core.ovgenai import is_ov_llm
    from studio.core.ovgenai.session import OvLoaded

    key = str(folder.resolve())
    if key not in _LOADED:
        _LOADED.clear()
        try:
            _LOADED[key] = OvLoaded(key) if is_ov_llm(folder) else LoadedModel(key)
        except Exception as exc:  # onnxruntime-genai raises plain RuntimeError for bad models
            raise BadInput(
                f"Could not load the language model in {folder} ({exc})",
                "Export the model again; the folder may be incomplete",
            ) from exc
    return _LOADED[key]


def generate_stream(
    model: str | Path | None,
    prompt: str,
    settings: GenerationSettings | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[GenerationEvent]:
    """Yield start, token chunks in order, then a summary (with the full text)."""

    if not prompt or not prompt.strip():
        raise BadInput("The prompt is empty", "Type something for the model to continue")
    settings = settings or GenerationSettings()
    folder = resolve_llm(model)
    loaded = load(folder)
    text: list[str] = []
    try:
        raw_events = primed_events(loaded, prompt, should_stop, settings)
    except ValueError as exc:  # the prompt does not fit the model's context
        raise BadInput(str(exc).rstrip("."), "") from exc
    for raw in raw_events:
        event = parse_event(raw, THIS_PC, folder.name)
        if isinstance(event, TokenChunk):
            text.append(event.text)
        elif isinstance(event, GenerationSummary):
            event.text = "".join(text)
        yield event


def primed_events(
    loaded: Any, prompt: str, should_stop: Callable[[], bool], settings: GenerationSettings
) -> Iterator[dict[str, Any]]:
    """Start the runner's generator and run it up to its first event, so input errors surface
    here (as exceptions) rather than in the middle of the caller's loop."""
    from studio.core.generate.llm_runner import stream_generation
    from studio.core.ovgenai.session import OvLoaded, stream_ov

    stream = stream_ov if isinstance(loaded, OvLoaded) else stream_generation
    events = stream(loaded, prompt, should_stop=should_stop, **settings.runner_kwargs())
    first = next(events)
    return itertools.chain([first], events)


def generate_job(
    model: str | None,
    prompt: str,
    settings: dict[str, Any] | None = None,
    stop_file: str | None = None,
    report: Reporter = NULL_REPORTER,
) -> GenerationSummary:
    """Job target: stream each event through ``report.event``; creating ``stop_file`` stops early.

    A stop file (rather than killing the worker) lets generation end cleanly with its summary.
    """
    parsed = GenerationSettings.model_validate(settings or {})
    summary: GenerationSummary | None = None
    for event in generate_stream(
        model, prompt, parsed, lambda: bool(stop_file and os.path.exists(stop_file))
    ):
        report.event(event.model_dump(mode="json"))
        if isinstance(event, GenerationSummary):
            summary = event
    assert summary is not None
    return summary
