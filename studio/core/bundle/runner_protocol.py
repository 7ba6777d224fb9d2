"""The line-delimited JSON the on-device runner prints on stdout, one event per line.

The runner (studio/runner/runner.py) runs on phones and boards with only the standard library and
onnxruntime, so it writes plain dicts; this module is the contract it must honour and what the
studio parses the stream into. Every event carries ``v`` (the protocol version) and ``type``. A
runner speaking a newer protocol is refused with a clear message instead of being misread.

Generation (the Demo step) uses the same stream: ``token`` events while text is produced, then a
``result`` whose ``data`` is a ``GenerateResult``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from studio.core.errors import BadInput

PROTOCOL_VERSION = 1


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    v: int = PROTOCOL_VERSION


class HelloEvent(_Event):
    """First line: who is running, with what."""

    type: Literal["hello"] = "hello"
    runner_version: str
    mode: str
    runtime: str = Field(description="e.g. 'onnxruntime 1.32.0'")
    python: str = ""
    providers: list[str] = []


class ProgressEvent(_Event):
    type: Literal["progress"] = "progress"
    fraction: float
    message: str = ""


class LogEvent(_Event):
    type: Literal["log"] = "log"
    message: str


class TimingEvent(_Event):
    """One measured duration, e.g. model load or one benchmark run."""

    type: Literal["timing"] = "timing"
    name: str
    ms: float


class TokenEvent(_Event):
    """A piece of generated text, streamed as it is produced."""

    type: Literal["token"] = "token"
    text: str
    index: int
    tokens_per_s: float | None = None


class ResultEvent(_Event):
    type: Literal["result"] = "result"
    mode: str
    data: dict[str, Any]


class ErrorEvent(_Event):
    type: Literal["error"] = "error"
    message: str
    fix: str = ""
    code: str = "error"


class DoneEvent(_Event):
    type: Literal["done"] = "done"
    ok: bool
    seconds: float


RunnerEvent = Annotated[
    HelloEvent
    | ProgressEvent
    | LogEvent
    | TimingEvent
    | TokenEvent
    | ResultEvent
    | ErrorEvent
    | DoneEvent,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[RunnerEvent] = TypeAdapter(RunnerEvent)


class BenchResult(BaseModel):
    """``result.data`` for ``bench``: latency of one inference, over ``runs`` timed runs."""

    runs: int
    warmup: int
    median_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    load_ms: float | None = None


class GenerateResult(BaseModel):
    """``result.data`` for ``generate``."""

    text: str
    tokens: int
    tokens_per_s: float
    time_to_first_token_ms: float | None = None


def parse_event(line: str) -> RunnerEvent | None:
    """One stdout line → an event; None for lines that are not protocol JSON (stray prints)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or "type" not in raw:
        return None
    version = raw.get("v", PROTOCOL_VERSION)
    if isinstance(version, int) and version > PROTOCOL_VERSION:
        raise BadInput(
            f"The runner on the device speaks protocol version {version}, newer than this studio "
            f"({PROTOCOL_VERSION})",
            "Update Edge Deploy Studio, or deploy the bundle again from this studio",
        )
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError:
        return None


def dump_event(event: BaseModel) -> str:
    return event.model_dump_json()
