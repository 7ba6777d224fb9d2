"""Memory of the GUI process while presentation mode auto-plays the preset prompts.

Every answer comes from the one long-lived generation worker process that keeps the model loaded;
this measures what stays behind in the GUI itself per answer: widgets, runs, signal links. The
worker's own memory (sampled from its process) is reported too.

    python benchmarks/bench_presentation_gui.py [--answers 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time


def process_rss_mb(pid: int | None) -> float:
    """Resident memory of another process (the generation worker), from /proc."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # No adb server is needed or started for a This-PC presentation.
    os.environ.setdefault("STUDIO_ADB_AUTOSTART", "0")

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    import studio.ui.pages.demo.presentation as presentation
    from studio.core.generate.llm_runner import memory_in_use
    from studio.ui.pages.demo.presentation import PresentationWindow

    app = QApplication([])
    presentation.LOOP_PAUSE_MS = 50
    window = PresentationWindow(None)
    window.show_presentation()
    samples: list[tuple[int, float]] = []
    worker_samples: list[tuple[int, float]] = []
    loop = QEventLoop()

    def on_answer(_summary: object) -> None:
        if window.answers == args.warmup or window.answers % 25 == 0:
            samples.append((window.answers, memory_in_use() / 2**20))
            worker_pid = window.worker.pid if window.worker is not None else None
            worker_samples.append((window.answers, round(process_rss_mb(worker_pid), 1)))
        if window.answers >= args.warmup + args.answers:
            window.set_auto_loop(False)
            QTimer.singleShot(500, loop.quit)

    window.answer_finished.connect(on_answer)
    start = time.perf_counter()
    window.set_auto_loop(True)
    loop.exec()
    seconds = time.perf_counter() - start
    before = next(mb for n, mb in samples if n >= args.warmup)
    after = memory_in_use() / 2**20
    result = {
        "answers": args.answers,
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "growth": round((after - before) / before, 4),
        "seconds": round(seconds, 1),
        "samples_mb": samples,
        "worker_samples_mb": worker_samples,
        "worker_loads": window.worker.core.loads if window.worker is not None else None,
    }
    window.leave()
    app.processEvents()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"GUI memory over {args.answers} auto-play answers: {before:.1f} → {after:.1f} MB "
            f"({result['growth']:+.1%}) in {seconds:.0f} s; worker process "
            f"{worker_samples[0][1]} → {worker_samples[-1][1]} MB, "
            f"model loaded {result['worker_loads']} time(s)"
        )


if __name__ == "__main__":
    main()
