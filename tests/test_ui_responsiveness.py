"""What keeps the UI thread free while jobs run (measured by benchmarks/bench_ui_lag.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from studio.core.jobs import JobSpec
from studio.ui.job_panel import JobPanel
from studio.ui.jobs_qt import JobManager, _EventPump

TIMEOUT = 60_000


def test_job_children_run_below_the_window_priority(qtbot: Any) -> None:
    manager = JobManager()
    job = manager.start(JobSpec(title="niceness", target="tests.support.job_targets:own_niceness"))
    with qtbot.waitSignal(job.succeeded, timeout=TIMEOUT) as done:
        pass
    expected = min(19, os.nice(0) + _EventPump.CHILD_NICENESS)
    assert done.args[0] == expected
    manager.shutdown()


def test_a_burst_of_log_lines_reaches_the_panel_in_order(qtbot: Any) -> None:
    manager = JobManager()
    panel = JobPanel(manager)
    qtbot.addWidget(panel)
    job = manager.start(
        JobSpec(
            title="logs", target="tests.support.job_targets:many_log_lines", kwargs={"lines": 300}
        )
    )
    qtbot.waitSignal(job.finished, timeout=TIMEOUT).wait()
    wanted = [f"line {i}" for i in range(300)]
    qtbot.waitUntil(
        lambda: (
            [line for line in panel.log_view.toPlainText().splitlines() if line.startswith("line ")]
            == wanted
        ),
        timeout=5_000,
    )
    manager.shutdown()


def test_charts_are_built_when_shown_not_when_a_profile_arrives(
    qtbot: Any, demo_model: Path
) -> None:
    from studio.core.analyze.profile import profile_model
    from studio.ui.pages.inspect.profile_charts import ProfileCharts

    result = profile_model(demo_model, runs=2)
    charts = ProfileCharts()
    qtbot.addWidget(charts)
    charts.show_profile(result)
    assert charts.plot is None  # hidden: nothing built yet
    charts.show()
    qtbot.waitExposed(charts)
    assert charts.plot is not None and charts.stack.currentWidget() is charts.plot
