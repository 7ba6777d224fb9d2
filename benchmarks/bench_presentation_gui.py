"""Memory of the GUI process while presentation mode auto-plays the preset prompts.

Each answer runs in a fresh worker process (so the model's memory is returned after every
answer); this measures what stays behind in the GUI itself: widgets, runs, job pumps.

    python benchmarks/bench_presentation_gui.py [--answers 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time


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

    import studio.ui.presentation as presentation
    from studio.core.generate.llm_runner import memory_in_use
    from studio.ui.presentation import PresentationWindow

    app = QApplication([])
    presentation.LOOP_PAUSE_MS = 50
    window = PresentationWindow(None)
    window.show_presentation()
    samples: list[tuple[int, float]] = []
    loop = QEventLoop()

    def on_answer(_summary: object) -> None:
        if window.answers == args.warmup or window.answers % 25 == 0:
            samples.append((window.answers, memory_in_use() / 2**20))
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
    }
    window.leave()
    app.processEvents()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"GUI memory over {args.answers} auto-play answers: {before:.1f} → {after:.1f} MB "
            f"({result['growth']:+.1%}) in {seconds:.0f} s"
        )


if __name__ == "__main__":
    main()
