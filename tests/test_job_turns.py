"""Jobs that time things on this PC take turns; other jobs do not wait for them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from studio.core.jobs import JobSpec, JobState
from studio.ui.job_panel import JobPanel
from studio.ui.jobs_qt import JobManager, QtJob
from studio.ui.widgets import JobProgress

TIMEOUT = 60_000
TARGETS = "tests.support.job_targets"


def _timing(manager: JobManager, title: str, target: str, **kwargs: Any) -> QtJob:
    return manager.start(
        JobSpec(title=title, target=f"{TARGETS}:{target}", kwargs=kwargs), measures=True
    )


def _panel_text(panel: JobPanel, job: QtJob) -> str:
    return panel.items[panel.manager.jobs.index(job)].text()


def test_timing_jobs_run_one_at_a_time_in_order(qtbot: Any, tmp_path: Path) -> None:
    manager = JobManager()
    panel = JobPanel(manager)
    qtbot.addWidget(panel)
    progress = JobProgress()
    qtbot.addWidget(progress)
    go = tmp_path / "go"
    first = _timing(manager, "Check on every chip", "wait_for_file", path=str(go))
    second = _timing(manager, "Measure", "count_up", steps=2)
    third = _timing(manager, "Demo run", "count_up", steps=1)
    progress.track(second)
    # A job that times nothing (writing a bundle) is not held back.
    other = manager.start(
        JobSpec(title="Write bundle", target=f"{TARGETS}:count_up", kwargs={"steps": 1})
    )
    qtbot.waitSignal(other.succeeded, timeout=TIMEOUT).wait()

    assert not second.started and second.waiting_for is first and third.waiting_for is first
    assert second.handle.pid is None  # no process yet: nothing competes with the first
    assert progress.label.text().startswith("Waiting for “Check on every chip” to finish")
    assert _panel_text(panel, second).endswith("waiting its turn")
    item = panel.items[manager.jobs.index(second)]
    assert item.toolTip().startswith("Waiting for “Check on every chip” to finish")

    go.touch()
    qtbot.waitSignal(third.succeeded, timeout=TIMEOUT).wait()
    first_end = first.handle.started_at + first.handle.duration
    second_end = second.handle.started_at + second.handle.duration
    assert first_end <= second.handle.started_at and second_end <= third.handle.started_at
    assert "step 2" in progress.label.text()  # the waiting line gave way to its progress
    manager.shutdown()


def test_a_waiting_job_cancels_without_starting_and_the_next_runs(
    qtbot: Any, tmp_path: Path
) -> None:
    manager = JobManager()
    go = tmp_path / "go"
    first = _timing(manager, "Measure", "wait_for_file", path=str(go))
    waiting = _timing(manager, "Optimize", "count_up", steps=1)
    after = _timing(manager, "Demo run", "count_up", steps=1)
    with qtbot.waitSignal(waiting.cancelled, timeout=TIMEOUT):
        waiting.cancel()
    assert waiting.handle.pid is None and waiting.handle.state is JobState.CANCELLED
    time.sleep(0.2)
    assert not after.started  # still behind the first
    go.touch()
    qtbot.waitSignal(after.succeeded, timeout=TIMEOUT).wait()
    assert first.handle.state is JobState.SUCCEEDED
    manager.shutdown()
