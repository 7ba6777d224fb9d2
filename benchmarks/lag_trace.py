"""Name what the Qt main thread was doing during each stall (used by bench_ui_lag.py --trace).

`TracingApplication` times every event delivery (QApplication.notify): for each outermost
delivery over a threshold it keeps the event type, the receiver's class and object name, and the
nested deliveries inside it that took ≥ 1 ms (paint events of single widgets, layout requests,
polish, queued slot calls). A sampling thread adds the main thread's Python stack while late.
Costs a few µs per event, so figures taken with tracing on are not the benchmark's figures.
"""

from __future__ import annotations

import collections
import itertools
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

NESTED_MS = 0.7


def describe(receiver: QObject, event: QEvent) -> str:
    try:
        kind = event.type().name
    except AttributeError:
        kind = str(int(event.type()))
    if not isinstance(receiver, QObject):
        # PySide sometimes hands the receiver over wrapped as the wrong type; re-wrap it.
        try:
            import shiboken6

            receiver = shiboken6.wrapInstance(shiboken6.getCppPointer(receiver)[0], QObject)
            return (
                f"{kind}→{receiver.metaObject().className()}"
                f"#{receiver.objectName()}(parent {_parent_name(receiver)})"
            )
        except Exception:
            return f"{kind}→{type(receiver).__name__}"
    name = receiver.objectName()
    cls = type(receiver).__name__
    if cls.startswith("Q") and type(receiver).__module__.startswith("PySide6"):
        # A plain Qt class: the metaobject names the C++ subclass (QWidgetWindow, QScrollBar…).
        cls = receiver.metaObject().className()
    return f"{kind}→{cls}" + (f"#{name}" if name else "")


def _parent_name(obj: QObject) -> str:
    parent = obj.parent()
    return parent.metaObject().className() if parent is not None else "none"


@dataclass
class Delivery:
    what: str
    start: float
    cpu_start: float = 0.0
    ms: float = 0.0
    cpu_ms: float = 0.0
    children: list[Delivery] = field(default_factory=list)


class TracingApplication(QApplication):
    """Records slow outermost event deliveries (with their slow nested deliveries)."""

    def __init__(self, argv: list[str], threshold_ms: float = 8.0) -> None:
        super().__init__(argv)
        self.threshold_ms = threshold_ms
        self.slow: list[tuple[str, Delivery]] = []
        self.outermost: list[tuple[float, float, str, Delivery]] = []  # over 0.5 ms
        self.phase = "idle"
        self._stack: list[Delivery] = []
        self._main = threading.get_ident()

    def notify(self, receiver: QObject, event: QEvent) -> bool:
        if threading.get_ident() != self._main:
            return super().notify(receiver, event)
        node = Delivery(describe(receiver, event), time.perf_counter(), time.thread_time())
        deferred = event.type() == QEvent.Type.DeferredDelete
        calls: collections.Counter[str] = collections.Counter()
        if deferred:  # which Python code runs while a C++ object is deleted

            def profile(frame: object, what: str, arg: object) -> None:
                if what == "call":
                    code = frame.f_code  # type: ignore[attr-defined]
                    calls[f"{code.co_name}@{code.co_filename.rsplit('/', 1)[-1]}"] += 1

            sys.setprofile(profile)
        self._stack.append(node)
        try:
            return super().notify(receiver, event)
        finally:
            self._stack.pop()
            if deferred:
                sys.setprofile(None)
                if calls:
                    node.what += f" (Python calls: {dict(calls.most_common(6))})"
            node.ms = (time.perf_counter() - node.start) * 1000
            node.cpu_ms = (time.thread_time() - node.cpu_start) * 1000
            if self._stack:
                if node.cpu_ms >= NESTED_MS:
                    self._stack[-1].children.append(node)
            else:
                if node.ms >= 0.5:
                    self.outermost.append(
                        (node.start, node.ms, f"[{self.phase}] {node.what}", node)
                    )
                if node.cpu_ms >= self.threshold_ms:
                    self.slow.append((self.phase, node))

    def explain_gaps(self, ticks: list[float], goal_ms: float, sched: list[tuple[int, ...]]) -> str:
        """For each probe gap over the goal: the deliveries inside it and the time in none."""
        lines = []
        events = self.outermost
        j = 0
        for i, (prev, now) in enumerate(itertools.pairwise(ticks)):
            gap = (now - prev) * 1000
            while j < len(events) and events[j][0] < prev:
                j += 1
            if gap <= goal_ms:
                continue
            inside = []
            k = j
            while k < len(events) and events[k][0] < now:
                inside.append(events[k])
                k += 1
            busy = sum(e[1] for e in inside)
            cpu = (sched[i + 1][0] - sched[i][0]) / 1e6
            queued = (sched[i + 1][1] - sched[i][1]) / 1e6
            lines.append(
                f"gap {gap:6.1f} ms: {busy:5.1f} ms in events, "
                f"{gap - busy:5.1f} ms outside any ≥0.5 ms event; main thread "
                f"on CPU {cpu:5.1f} ms, waiting for a CPU {queued:5.1f} ms, "
                f"blocked (GIL, locks) {gap - cpu - queued:5.1f} ms"
            )
            for start, ms, what, node in sorted(inside, key=lambda e: -e[1])[:6]:
                lines.append(
                    f"      {ms:6.1f} ms (CPU {node.cpu_ms:5.1f}) {what} "
                    f"(+{(start - prev) * 1000:.1f})"
                )
                if ms > 8:
                    lines.extend(_children(node, 2, 4))
        return "\n".join(lines)

    def report(self, limit: int = 25) -> str:
        lines = []
        for phase, node in sorted(self.slow, key=lambda p: -p[1].cpu_ms)[:limit]:
            lines.append(f"{node.ms:7.1f} ms (CPU {node.cpu_ms:5.1f})  [{phase}] {node.what}")
            lines.extend(_children(node, 1))
        return "\n".join(lines)


def _children(node: Delivery, depth: int, max_depth: int = 6) -> list[str]:
    if depth > max_depth:
        return []
    lines = []
    for child in sorted(node.children, key=lambda c: -c.cpu_ms)[:8]:
        lines.append(
            f"{'':9}{'  ' * depth}{child.ms:6.1f} ms (CPU {child.cpu_ms:5.1f}) {child.what}"
        )
        lines.extend(_children(child, depth + 1, max_depth))
    return lines


class StackSampler:
    """Samples the main thread's Python stack every `interval` s while `is_late()` says so."""

    def __init__(self, is_late: object, interval: float = 0.002) -> None:
        self.is_late = is_late
        self.interval = interval
        self.samples: collections.Counter[str] = collections.Counter()
        self.others: collections.Counter[str] = collections.Counter()
        self._main = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.is_late():  # type: ignore[operator]
                continue
            frame = sys._current_frames().get(self._main)
            if frame is None:
                continue
            stack = [f for f in traceback.extract_stack(frame) if "lag_trace" not in f.filename]
            text = " <- ".join(
                f"{f.name}@{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(stack[-7:])
            )
            self.samples[text] += 1
            if stack and stack[-1].name == "run_once":  # in Qt's event loop, no Python above
                self._sample_others(frame)

    def _sample_others(self, main_frame: object) -> None:
        """Which other thread runs Python while the main thread waits outside any event: the
        main thread may be waiting for the GIL."""
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if ident in (self._main, threading.get_ident()):
                continue
            stack = traceback.extract_stack(frame)
            top = stack[-1]
            if top.name in (
                "wait",
                "_wait_for_tstate_lock",
                "select",
                "poll",
                "recv",
                "recv_bytes",
                "_recv",
                "_recv_bytes",
                "accept",
                "get",
                "sleep",
                "run",
                "_worker",
            ):
                continue
            text = " <- ".join(
                f"{f.name}@{f.filename.rsplit('/', 1)[-1]}:{f.lineno}"
                for f in reversed(stack[-14:])
            )
            self.others[f"[{names.get(ident, ident)}] {text}"] += 1
