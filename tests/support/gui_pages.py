"""Wizard pages standing alone, for GUI tests: a fresh state and job manager each, shut down after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.ui.jobs_qt import JobManager
from studio.ui.pages.optimize.optimize_page import OptimizePage
from studio.ui.state import WizardState


@pytest.fixture(name="page")
def optimize_page(qtbot) -> Iterator[OptimizePage]:
    state = WizardState()
    jobs = JobManager()
    widget = OptimizePage(state, jobs)
    widget.resize(1100, 900)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    jobs.shutdown()
