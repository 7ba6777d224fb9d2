"""The window knows pages only as StepPage: it builds them through pages/wizard.py and asks each
to shut down on close; the process-wide start-up tuning lives in the app, not in the window."""

from __future__ import annotations

import sys

from studio.ui.main_window import MainWindow
from studio.ui.pages.wizard import STEP_NAMES
from studio.ui.widgets import StepPage


class _WorkerPage(StepPage):
    """A page that runs something outside the job manager, as the Demo step's chat does."""

    def __init__(self) -> None:
        super().__init__()
        self.ended = False

    def shutdown(self) -> None:
        self.ended = True


def test_closing_the_window_shuts_every_page_down(qtbot) -> None:
    # The window called shutdown only on pages it recognised by class (isinstance DemoPage).
    win = MainWindow()
    qtbot.addWidget(win)
    assert len(win.pages) == len(STEP_NAMES)
    extra = _WorkerPage()
    win.pages.append(extra)
    win.close()
    assert extra.ended


def test_the_app_not_the_window_tunes_the_process() -> None:
    import studio.ui.app as app
    import studio.ui.main_window as main_window

    assert not hasattr(main_window, "prefer_ui_thread")
    before, runtime = sys.getswitchinterval(), dict(app._runtime)
    try:
        app.prefer_ui_thread()
        assert sys.getswitchinterval() == app.GIL_SWITCH_INTERVAL_S
    finally:  # the test session keeps Python's defaults
        sys.setswitchinterval(before)
        app._runtime.update(runtime)
