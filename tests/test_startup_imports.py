"""The window must open before the heavy libraries load (cold start goal: ≤ 1.5 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = (
    "onnx",
    "onnxruntime",
    "numpy",
    "torch",
    "transformers",
    "PySide6.QtWebEngineWidgets",
    "pyqtgraph",
    "onnxruntime_genai",
)


def test_the_gui_modules_import_no_heavy_library() -> None:
    script = f"""
import json, sys
from PySide6.QtWidgets import QApplication
from studio.ui.main_window import MainWindow
app = QApplication([])
# Checked before the window exists: once it does, the Model step reads the demo model in a
# worker thread, which rightly imports onnx there.
print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_cli_help_and_version_import_no_model_library() -> None:
    # `studio --help` builds every subcommand's parser; the libraries load when a command runs.
    script = f"""
import contextlib, io, json, sys
from studio.cli import main
for argv in (["--version"], ["--help"], ["compress", "--help"], ["hub", "--help"]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(argv)
print(json.dumps([m for m in {(*HEAVY, "pydantic", "PySide6")!r} if m in sys.modules]))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_qnn_quantization_tools_load_without_torch() -> None:
    # onnxruntime.tools imports torch (seconds) for an export helper the QNN tools never use.
    script = """
import sys
from studio.core.compress.int8 import import_qnn_tools
import_qnn_tools()
from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config
print("torch" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"
