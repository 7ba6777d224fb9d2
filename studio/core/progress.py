"""Progress as plain events, so one core function drives a terminal bar, a Qt bar or a job pipe."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("studio")


@dataclass
class Reporter:
    """Receives progress (0..1 and a short message) and log lines from core functions.

    ``on_progress`` and ``on_log`` are plain callables; the default drops everything, so core
    functions can always call ``report.progress(...)`` without checking.
    """

    on_progress: Callable[[float, str], None] | None = None
    on_log: Callable[[str], None] | None = None
    on_event: Callable[[dict[str, Any]], None] | None = None
    _span: tuple[float, float] = field(default=(0.0, 1.0), repr=False)

    def progress(self, fraction: float, message: str = "") -> None:
        lo, hi = self._span
        value = lo + (hi - lo) * min(max(fraction, 0.0), 1.0)
        if self.on_progress is not None:
            self.on_progress(value, message)

    def log(self, line: str) -> None:
        log.info(line)
        if self.on_log is not None:
            self.on_log(line)

    def event(self, data: dict[str, Any]) -> None:
        """A structured record for live views (e.g. one generated token chunk); JSON-safe values."""
        if self.on_event is not None:
            self.on_event(data)

    def sub(self, start: float, end: float) -> Reporter:
        """A reporter for one stage that maps its 0..1 onto [start, end] of this one."""
        lo, hi = self._span
        span = (lo + (hi - lo) * start, lo + (hi - lo) * end)
        return Reporter(self.on_progress, self.on_log, self.on_event, span)

    def iterate(self, items: Iterable[T], total: int, message: str) -> Iterator[T]:
        for index, item in enumerate(items):
            self.progress(index / max(total, 1), f"{message} {index + 1}/{total}")
            yield item
        self.progress(1.0, message)


NULL_REPORTER = Reporter()
