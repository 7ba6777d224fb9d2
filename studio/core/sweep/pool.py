"""Trials on a local process pool: each phase a job child, timing phases alone on the machine.

Compress phases run ``workers`` at a time. A timing phase waits for the running trials to end,
then runs with nothing beside it (and holds the machine's timing slot against other studio
processes); work resumes when it ends. Timing phases go first, so results arrive steadily.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.core.jobs import JobHandle, JobSpec, JobState, ProgressMessage
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.sweep.trial import Trial, TrialResult

WORK = "studio.core.sweep.trial:work"
TIMING = "studio.core.sweep.trial:timing"
OnResult = Callable[[TrialResult], None]


def default_workers() -> int:
    import os

    return max(1, os.cpu_count() or 1)


class _Pool:
    def __init__(self, trials: list[Trial], outputs: dict[int, Path], workers: int) -> None:
        self.work: deque[Trial] = deque(trials)
        self.timing: deque[TrialResult] = deque()
        self.outputs = outputs
        self.workers = max(1, workers)
        self.running: dict[int, tuple[JobHandle, str]] = {}
        self.events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.progress = {t.index: 0.0 for t in trials}
        self.exclusive = False
        self.started: dict[tuple[int, str], float] = {}

    def _start(self, index: int, kind: str, spec: JobSpec) -> None:
        handle = JobHandle(spec)
        self.running[index] = (handle, kind)
        threading.Thread(target=self._watch, args=(index, kind, handle), daemon=True).start()

    def _watch(self, index: int, kind: str, handle: JobHandle) -> None:
        self.started[(index, kind)] = time.time()
        for message in handle.events():
            if isinstance(message, ProgressMessage):
                self.events.put(("progress", index, kind, message.fraction, message.message))
        self.events.put(("done", index, kind, handle))

    def launch(self) -> None:
        """Start what may start now: a timing phase alone, else compress phases up to workers."""
        while not self.exclusive:
            if self.timing:
                if self.running:
                    return  # the timing phase waits for the machine to be quiet
                result = self.timing.popleft()
                spec = JobSpec(f"Time {result.trial.label()}", TIMING, {"result": result})
                self._start(result.trial.index, "timing", spec)
                self.exclusive = True
                return
            if not self.work or len(self.running) >= self.workers:
                return
            trial = self.work.popleft()
            out = self.outputs[trial.index]
            kwargs = {"trial": trial, "out": str(out)}
            self._start(trial.index, "work", JobSpec(trial.label(), WORK, kwargs, [out]))

    @property
    def busy(self) -> bool:
        return bool(self.work or self.timing or self.running)

    def cancel(self) -> None:
        for handle, _ in list(self.running.values()):
            handle.cancel()


def run_pool(
    trials: list[Trial],
    outputs: dict[int, Path],
    *,
    workers: int | None = None,
    cancel: threading.Event | None = None,
    report: Reporter = NULL_REPORTER,
    on_result: OnResult | None = None,
) -> list[TrialResult]:
    """Run ``trials`` (writing ``outputs[trial.index]``); every trial gets one result, in the
    order they finished. ``cancel`` set: every running trial is stopped, the rest not started."""
    pool = _Pool(trials, outputs, workers or default_workers())
    by_index = {t.index: t for t in trials}
    results: list[TrialResult] = []

    def finish(result: TrialResult) -> None:
        pool.progress[result.trial.index] = 1.0
        results.append(result)
        if on_result is not None:
            on_result(result)

    try:
        while pool.busy and not (cancel is not None and cancel.is_set()):
            pool.launch()
            try:
                event = pool.events.get(timeout=0.1)
            except queue.Empty:
                continue
            _apply(pool, event, by_index, finish)
            done = sum(pool.progress.values()) / max(len(trials), 1)
            report.progress(done, f"{len(results)} of {len(trials)} trials finished")
    finally:
        pool.cancel()  # nothing when all ended; on cancel or Ctrl+C every child stops here
        while pool.running:
            _apply(pool, pool.events.get(), by_index, finish, cancelled=True)
    for trial in [*pool.work, *(r.trial for r in pool.timing)]:
        finish(TrialResult(trial=trial, status="cancelled"))
    return results


def _apply(
    pool: _Pool,
    event: tuple[Any, ...],
    by_index: dict[int, Trial],
    finish: OnResult,
    cancelled: bool = False,
) -> None:
    if event[0] == "progress":
        _, index, kind, fraction, _message = event
        trial = by_index[index]
        share = (0.0, 0.6) if trial.measure else (0.0, 1.0)
        if kind == "timing":
            share = (0.6, 1.0)
        pool.progress[index] = share[0] + (share[1] - share[0]) * fraction
        return
    _, index, kind, handle = event
    pool.running.pop(index, None)
    if kind == "timing":
        pool.exclusive = False
    trial = by_index[index]
    span = (kind, pool.started.get((index, kind), time.time()), time.time())
    if handle.state is JobState.SUCCEEDED:
        result: TrialResult = handle.result
        result = result.model_copy(update={"spans": [*result.spans, span]})
        if kind == "work" and trial.measure and not cancelled:
            pool.timing.append(result)
        elif kind == "work" and trial.measure:
            finish(TrialResult(trial=trial, status="cancelled"))
        else:
            finish(result)
    elif handle.state is JobState.CANCELLED or cancelled:
        finish(TrialResult(trial=trial, status="cancelled"))
    else:
        error = handle.error.message if handle.error else "failed"
        finish(TrialResult(trial=trial, status="failed", error=error))
