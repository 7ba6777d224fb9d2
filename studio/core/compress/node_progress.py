""" "Nodes done" progress from inside onnxruntime's quantizers and converters.

They offer no progress callback, but each calls one function per node (or per weight) from a
module or object we can reach. For the duration of one call we wrap that function with a counter
that reports "quantizing weights: 120 of 410 nodes", and put the original back afterwards. Jobs
run in their own process, so the wrapper never leaks into another job.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from studio.core.progress import Reporter

MIN_INTERVAL_S = 0.1
"""At most ~10 messages a second, plus the first and the last: enough for a smooth bar."""


class NodeCounter:
    def __init__(
        self,
        report: Reporter,
        total: int,
        message: str,
        unit: str = "nodes",
        follows: NodeCounter | None = None,
    ) -> None:
        self.report = report
        self.follows = follows
        """A counter for the stage before this one, closed when this one starts."""
        self.total = max(total, 1)
        self.message = message
        self.unit = unit
        self.done = 0
        self._last = 0.0
        self._sent = (-1, -1)

    def tick(self) -> None:
        if self.done == 0 and self.follows is not None:
            self.follows.finish()
        self.done += 1
        # The estimate of the total can be short (a quantizer may visit nodes it adds itself).
        self.total = max(self.total, self.done)
        now = time.monotonic()
        if self.done == 1 or now - self._last >= MIN_INTERVAL_S:
            self._last = now
            self.send()

    def send(self) -> None:
        if self._sent == (self.done, self.total):
            return
        self._sent = (self.done, self.total)
        self.report.progress(
            self.done / self.total, f"{self.message}: {self.done} of {self.total} {self.unit}"
        )

    def finish(self) -> None:
        """The last message always says all were done."""
        self.done = self.total
        self.send()


@contextlib.contextmanager
def counting_calls(
    owner: Any,
    attribute: str,
    counter: NodeCounter,
    when: Callable[..., bool] | None = None,
) -> Iterator[NodeCounter]:
    """Count the calls to ``owner.attribute`` (a module function or an object's method); with
    ``when``, only the calls whose arguments it accepts."""
    original: Callable[..., Any] = getattr(owner, attribute)

    def counted(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when is None or when(*args, **kwargs):
            counter.tick()
        return result

    setattr(owner, attribute, counted)
    try:
        yield counter
    finally:
        setattr(owner, attribute, original)
    counter.finish()
