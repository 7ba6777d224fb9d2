"""Drive the wizard through the demo path offscreen and save a screenshot of every step.

With step 6 it also saves the chat demo (6-demo-chat.png): the demo LM in INT4 and INT8 side by
side, answering one preset prompt on this PC.

Usage: python scripts/take_screenshots.py [--out docs/screenshots] [--lang zh_CN] [--steps 1,3]
Writes to temporary user folders, so it never touches your own studio data.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

STEPS = ["model", "target", "optimize", "inspect", "deploy", "demo"]


def save_chat(page, settle, path: Path) -> None:
    """The demo LM in INT4 and INT8 answering one preset prompt side by side."""
    chat = page.chat
    page.tabs.setCurrentWidget(chat)
    chat.compare.setChecked(True)
    chat.settings_panel.max_tokens.setValue(60)
    finished: list[bool] = []
    chat.run_finished.connect(lambda: finished.append(True))
    chat.send("In the beginning")
    settle(lambda: bool(finished))
    chat.grab().save(str(path))
    chat.shutdown()  # its generation worker processes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--lang", default="en", help="en or zh_CN; zh_CN files are named zh_CN-…")
    parser.add_argument("--steps", default="1,2,3,4,5,6", help="which steps to save, e.g. 1,3")
    parser.add_argument("--size", default="1366x768", help="window size, e.g. 1440x900")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    # Leave no adb server running behind us (the Deploy step would start one on port 5037).
    os.environ.setdefault("STUDIO_ADB_AUTOSTART", "0")
    scratch = tempfile.mkdtemp(prefix="studio-shots-")
    for name in ("STUDIO_DATA_DIR", "STUDIO_CONFIG_DIR", "STUDIO_CACHE_DIR"):
        os.environ[name] = os.path.join(scratch, name.lower())

    from PySide6.QtWidgets import QApplication

    from studio.ui.app import start_language
    from studio.ui.main_window import MainWindow
    from studio.ui.theme import apply_theme

    app = QApplication([])
    start_language(app, args.lang)
    apply_theme(app)
    win = MainWindow()
    width, height = (int(n) for n in args.size.split("x"))
    win.resize(width, height)
    win.show()

    def settle(cond, limit: float = 180.0) -> None:
        end = time.monotonic() + limit
        while time.monotonic() < end and not cond():
            app.processEvents()
            time.sleep(0.02)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)

    wanted = {int(n) - 1 for n in args.steps.split(",")}
    for index, step in enumerate(STEPS[: max(wanted) + 1]):
        win.go_to(index)
        settle(lambda: False, 0.2)  # a step starts its work a moment after it is shown
        if step == "deploy":
            win.pages[index].start()
            settle(lambda: win.state.bundle_path is not None)
        settle(lambda: not win.jobs.running() and win.current_page().ready()[0])
        if index not in wanted:
            continue
        prefix = "" if args.lang == "en" else f"{args.lang}-"
        path = out / f"{prefix}{index + 1}-{step}.png"
        win.grab().save(str(path))
        print(path)
        if step == "demo":
            chat_path = out / f"{prefix}{index + 1}-{step}-chat.png"
            save_chat(win.pages[index], settle, chat_path)
            print(chat_path)
    win.jobs.shutdown()


if __name__ == "__main__":
    main()
