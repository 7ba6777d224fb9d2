"""What every CLI command shares: output in human or JSON form, progress bars, error handling."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any, Literal

from studio.core.errors import BadInput
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


def reporter_for(args: argparse.Namespace) -> tuple[Reporter, StderrBar]:
    bar = StderrBar(enabled=not getattr(args, "quiet", False))
    return Reporter(on_progress=bar), bar


def parse_shapes(values: list[str] | None) -> dict[str, list[int]]:
    """``NAME=1x3x640x640`` → {"NAME": [1, 3, 640, 640]}."""
    shapes: dict[str, list[int]] = {}
    for value in values or []:
        name, sep, dims = value.partition("=")
        try:
            parsed = [int(d) for d in dims.lower().replace("×", "x").split("x")]
        except ValueError:
            parsed = []
        if not sep or not name or not parsed or any(d <= 0 for d in parsed):
            raise BadInput(f"--shape '{value}' is not NAME=DIMS", "Write it like image=1x3x224x224")
        shapes[name] = parsed
    return shapes


Handler = Callable[[argparse.Namespace], int]
