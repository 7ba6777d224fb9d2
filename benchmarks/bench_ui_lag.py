"""Event-loop lag on the Qt main thread while jobs run (goal: no stall > 16 ms).

A 2 ms QTimer probe records how late each tick fires while the wizard runs the demo path
(optimize → measure → bundle → demo run). Reports the worst stall and the 99th percentile, and
the worst stall while only jobs were running (no page switch), which is what "never freezes
while a job runs" means.
Usage: QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui_lag.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")  # as the app does when run as root
    # Leave no adb server running behind us (the Deploy step would start one on port 5037).
    os.environ.setdefault("STUDIO_ADB_AUTOSTART", "0")
    os.environ.setdefault("STUDIO_DATA_DIR", tempfile.mkdtemp(prefix="studio-bench-"))
    os.environ.setdefault("STUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="studio-bench-"))
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow

    app = QApplication([])
    win = MainWindow()
    win.show()
    clock = QElapsedTimer()
    clock.start()
    gaps: list[tuple[float, str]] = []
    phase = {"name": "idle"}
    last = {"t": clock.nsecsElapsed()}

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append(((now - last["t"]) / 1e6, phase["name"]))
        last["t"] = now

    # A watchdog samples the main thread's stack while it is late, to name what stalled it.
    import collections
    import sys
    import threading
    import traceback

    main_id = threading.get_ident()
    culprits: collections.Counter[str] = collections.Counter()
    stop = threading.Event()

    def watchdog() -> None:
        while not stop.wait(0.004):
            if (clock.nsecsElapsed() - last["t"]) / 1e6 > 16:
                frame = sys._current_frames().get(main_id)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-6:]
                    culprits[" <- ".join(f"{f.name}@{f.filename.split('/')[-1]}:{f.lineno}" for f in reversed(stack))] += 1

    threading.Thread(target=watchdog, daemon=True).start()
    probe = QTimer()
    probe.setInterval(2)
    probe.timeout.connect(tick)
    probe.start()

    def pump_until(cond, limit: float = 180.0) -> None:
        end = time.monotonic() + limit
        while not cond() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.001)

    pump_until(lambda: win.next_button.isEnabled())
    for step in range(1, 6):
        phase["name"] = "switch"
        win.go_to(step)
        phase["name"] = "jobs"
        if step == 4:
            win.pages[4].start()
            pump_until(lambda: win.state.bundle_path is not None)
        pump_until(lambda: not win.jobs.running())
    phase["name"] = "done"
    probe.stop()
    stop.set()
    win.jobs.shutdown()

    lags = [g - 2.0 for g, _ in gaps]
    job_lags = [g - 2.0 for g, p in gaps if p == "jobs"]
    print(json.dumps({
        "ticks": len(gaps),
        "worst_stall_ms": round(max(lags), 1),
        "p99_stall_ms": round(sorted(lags)[int(0.99 * len(lags))], 1),
        "median_stall_ms": round(statistics.median(lags), 2),
        "worst_stall_while_jobs_run_ms": round(max(job_lags), 1),
        "jobs": [j.handle.state.value for j in win.jobs.jobs],
        "main_thread_while_late (4 ms samples)": dict(culprits.most_common(8)),
    }, indent=2))


if __name__ == "__main__":
    main()
