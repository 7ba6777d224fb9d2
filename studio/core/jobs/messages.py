"""The messages a job child sends to its parent. Versioned so a stale worker is detected."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from studio.core.messages import Message

SCHEMA_VERSION = 1


class _Message(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    version: int = SCHEMA_VERSION


class ProgressMessage(_Message):
    kind: Literal["progress"] = "progress"
    fraction: float
    message: str = ""


class LogMessage(_Message):
    kind: Literal["log"] = "log"
    line: str


class EventMessage(_Message):
    """A structured live record from ``Reporter.event`` (e.g. a generated token chunk)."""

    kind: Literal["event"] = "event"
    data: dict[str, Any]


class ResultMessage(_Message):
    kind: Literal["result"] = "result"
    value: Any = None


def error_class_name(cls: type) -> str:
    """How an ErrorMessage names a user error's class: see ``ErrorMessage.error_class``."""
    if cls.__module__ == "studio.core.errors":
        return cls.__name__
    return f"{cls.__module__}:{cls.__qualname__}"


class ErrorMessage(_Message):
    kind: Literal["error"] = "error"
    message: str
    user_error: bool
    """True for a StudioError (the user can fix it); False for a bug or a crash."""
    exit_code: int = 1
    error_class: str = ""
    """For a user error: its class, by name if in studio.core.errors (BadInput, OutputError...),
    else as ``module:Name`` (e.g. a hub's HubError), so the parent raises the same kind with the
    same exit code (error_class_name)."""
    msg: Message | None = None
    """A user error's message as data (studio/core/messages), for the GUI to word it."""
    details: str = ""
    """Traceback or other evidence; goes to the job log, never into a dialog."""


JobMessage = ProgressMessage | LogMessage | EventMessage | ResultMessage | ErrorMessage
