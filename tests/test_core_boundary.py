"""studio.core must never import Qt: it runs headless, in job children and in the CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "studio" / "core"
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "studio.ui", "PyQt5", "PyQt6")


def test_no_qt_import_statement_under_core() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []


def test_every_core_module_imports_with_qt_unavailable() -> None:
    """Import all of studio.core in a fresh interpreter where importing Qt raises."""
    script = f"""
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")!r}:
            raise ImportError('Qt is not allowed in studio.core: ' + name)
        return None
sys.meta_path.insert(0, Block())
import studio.core
for info in pkgutil.walk_packages(studio.core.__path__, 'studio.core.'):
    importlib.import_module(info.name)
print('ok')
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
