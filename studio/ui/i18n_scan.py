"""Find the GUI's translatable strings, and visible literals nobody wrapped (no Qt needed).

Used by tests/test_i18n.py and scripts/update_translations.py. It reads the source with ``ast``:
``tr("…")``, ``trn("…", "…", n)`` and ``N_("…")`` are wrapped strings; a string literal (or
f-string) handed straight to a call that puts text on screen (QLabel, setToolTip, …) is not.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

WRAPPERS = {"tr", "trn", "N_"}

# Calls whose string arguments end up on screen. Constructors take the text first; methods
# anywhere in their arguments (addTab(widget, "title"), getOpenFileName(self, "caption", …)).
VISIBLE_CALLS = {
    "QLabel",
    "QPushButton",
    "QCheckBox",
    "QRadioButton",
    "QGroupBox",
    "QToolButton",
    "QAction",
    "QMenu",
    "QDockWidget",
    "QListWidgetItem",
    "QMessageBox",
    "QCommandLinkButton",
    "setText",
    "setToolTip",
    "setWindowTitle",
    "setPlaceholderText",
    "setTitle",
    "setStatusTip",
    "setWhatsThis",
    "setLabelText",
    "setSpecialValueText",
    "setFormat",
    "setInformativeText",
    "setDetailedText",
    "addTab",
    "insertTab",
    "setTabText",
    "setTabToolTip",
    "addMenu",
    "addAction",
    "addRow",
    "setHorizontalHeaderLabels",
    "setVerticalHeaderLabels",
    "setHeaderLabels",
    "setHeaderLabel",
    "showMessage",
    "big_label",
    "show_error",
    "information",
    "warning",
    "critical",
    "question",
    "getOpenFileName",
    "getOpenFileNames",
    "getSaveFileName",
    "getExistingDirectory",
    "getText",
    "getItem",
    "addButton",
    "setButtonText",
    "setAccessibleName",
    "setItemText",
    "setLabel",
    "setSuffix",
    "setPrefix",
}

# Calls where only these keywords are shown (JobSpec's target is a module path, not text).
VISIBLE_KEYWORDS = {"JobSpec": {"title"}}

# Text that is the same in every language: units, symbols and file patterns.
UNTRANSLATED_WORDS = {
    "ms",
    "s",
    "MB",
    "GB",
    "KB",
    "kB",
    "B",
    "x",
    "ONNX",
    "onnx",
    "yaml",
    "npz",
    "png",
    "csv",
    "json",
}
# Arguments that name a place, not text (pyqtgraph's setLabel("bottom", …)).
KEYWORD_VALUES = {"bottom", "left", "right", "top"}
WORD = re.compile(r"[A-Za-z]{2,}")
FILE_NAME = re.compile(r"[\w.*-]*\.\w{1,5}")  # recipe.yaml, *.onnx: file names stay as they are
IDENTIFIER = re.compile(r"\S*(_|[a-z][A-Z])\S*")  # hugeValue, hf_…: object names and prefixes
HTML_TAG = re.compile(r"<[^>]*>")
CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Found:
    file: str
    line: int
    text: str


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def wrapped_strings(root: Path) -> list[Found]:
    """Every literal wrapped in tr / trn / N_ (trn: the singular, which is the catalogue key)."""
    found: list[Found] = []
    for path in _python_files(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) in WRAPPERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append(Found(str(path), node.lineno, first.value))
    return found


def formatted_wrappers(root: Path) -> list[Found]:
    """tr(f"…"): the f-string is filled in before the lookup, so it can never be translated."""
    found: list[Found] = []
    for path in _python_files(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and _name(node.func) in WRAPPERS
                and node.args
                and isinstance(node.args[0], ast.JoinedStr | ast.BinOp)
            ):
                found.append(Found(str(path), node.lineno, ast.unparse(node.args[0])))
    return found


def _needs_translation(text: str) -> bool:
    if (
        text in KEYWORD_VALUES or FILE_NAME.fullmatch(text) or CJK.search(text)
    ):  # already Chinese, or deliberately bilingual ("语言 / Language")
        return False
    if IDENTIFIER.fullmatch(text):
        return False
    text = HTML_TAG.sub(" ", text)
    if text.startswith(("#", "font-", "QLabel", "QPushButton", "QWidget", "QFrame", "http")):
        return False  # colours, style sheets and addresses
    return any(word not in UNTRANSLATED_WORDS for word in WORD.findall(text))


def _literal_texts(node: ast.expr) -> list[str]:
    """The literal text a visible argument carries (not what goes through a wrapper)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value for v in node.values if isinstance(v, ast.Constant))]
    if isinstance(node, ast.BinOp):
        return _literal_texts(node.left) + _literal_texts(node.right)
    if isinstance(node, ast.IfExp):
        return _literal_texts(node.body) + _literal_texts(node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        return [text for element in node.elts for text in _literal_texts(element)]
    return []


def _is_logging(func: ast.expr) -> bool:
    """log.warning("…") goes to the log file, not the screen."""
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("log", "logger", "logging", "LOG")
    )


def _ready_reasons(path: Path, function: ast.FunctionDef) -> list[Found]:
    """StepPage.ready() returns (ok, why); the why is shown beside the Next button."""
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
            for text in _literal_texts(node.value.elts[-1]):
                if _needs_translation(text):
                    found.append(Found(str(path), node.lineno, text))
    return found


def unwrapped_literals(root: Path) -> list[Found]:
    """Literals passed straight to a visible call; wrap them in tr()."""
    found: list[Found] = []
    for path in _python_files(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name == "ready":
                found += _ready_reasons(path, node)
                continue
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if _is_logging(node.func):
                continue
            if name in VISIBLE_KEYWORDS:
                arguments = [k.value for k in node.keywords if k.arg in VISIBLE_KEYWORDS[name]]
            elif name in VISIBLE_CALLS:
                arguments = [
                    *node.args,
                    *(
                        k.value
                        for k in node.keywords
                        if k.arg in ("text", "title", "toolTip", "placeholderText", "windowTitle")
                    ),
                ]
            else:
                continue
            for argument in arguments:
                for text in _literal_texts(argument):
                    if _needs_translation(text):
                        found.append(Found(str(path), node.lineno, text))
    return found
