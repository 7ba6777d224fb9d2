"""The Optimize step's Advanced expander: method, sample data, layers kept in float, and every
option the chosen method declares (the form is built from the method's parameter list)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.bundle.recipe import Optimize
from studio.core.compress import METHOD_LABELS, Method, method_params
from studio.core.compress.methods import Param
from studio.ui.i18n import N_, tr

SKIP = {"keep_float"}  # edited in its own row


def get_option(optimize: Optimize, dotted: str) -> Any:
    value: Any = optimize
    for part in dotted.split("."):
        value = getattr(value, part)
    return value.value if hasattr(value, "value") else value


def set_option(optimize: Optimize, dotted: str, value: Any) -> None:
    *groups, name = dotted.split(".")
    target: Any = optimize
    for part in groups:
        target = getattr(target, part)
    setattr(target, name, value)


GROUP_TITLES = {
    "int8": "INT8",
    "int4": "INT4",
    "fp16": "FP16",
    "image": N_("Images"),
    "prune": N_("Prune"),
    "channels": N_("Channels"),
    "auto": N_("Auto"),
}


def friendly(dotted: str) -> str:
    """``int8.calibrate_method`` → ``INT8 · Calibrate method`` (the description is the tooltip)."""
    *group, name = dotted.split(".")
    text = name.replace("_", " ").capitalize().replace("Qnn", "QNN-style config")
    text = tr(text)  # option names from core; the common ones are in the catalogue
    return f"{tr(GROUP_TITLES.get(group[0], group[0]))} · {text}" if group else text


class AdvancedPanel(QWidget):
    """Hidden until the user opens it; every change lands in ``optimize`` (the recipe)."""

    changed = Signal()

    def __init__(self, optimize: Optimize, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.optimize = optimize
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.toggle = QToolButton()
        self.toggle.setObjectName("advancedToggle")
        self.toggle.setText(tr("Advanced ▸"))
        self.toggle.setCheckable(True)
        self.toggle.toggled.connect(self._expand)
        layout.addWidget(self.toggle)
        self.body = QWidget()
        body_layout = QVBoxLayout(self.body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        self.form = QFormLayout()
        self.params_form = QFormLayout()
        body_layout.addLayout(self.form)
        body_layout.addLayout(self.params_form)
        layout.addWidget(self.body)
        self.body.hide()
        self.editors: dict[str, QWidget] = {}
        self._build_fixed_rows()
        self.bind(optimize)

    def bind(self, optimize: Optimize) -> None:
        """Show ``optimize`` (the recipe's section, which a preset may have replaced)."""
        self.optimize = optimize
        self.method.blockSignals(True)
        self.method.setCurrentIndex(self.method.findData(optimize.method.value))
        self.method.blockSignals(False)
        self.calib.setText(optimize.calibration or "")
        self.evaluation.setText(optimize.evaluation or "")
        self.keep.setText(", ".join(optimize.keep_float))
        self._rebuild_params()

    def _expand(self, on: bool) -> None:
        self.toggle.setText(tr("Advanced ▾") if on else tr("Advanced ▸"))
        self.body.setVisible(on)

    def _build_fixed_rows(self) -> None:
        self.method = QComboBox()
        self.method.setObjectName("methodCombo")
        for method in Method:
            self.method.addItem(tr(METHOD_LABELS[method]), method.value)  # core_texts.py
        self.method.currentIndexChanged.connect(self._method_changed)
        self.form.addRow(
            self._label(tr("Method"), tr("How the model is made smaller")), self.method
        )
        self.calib = self._path_row(
            "calibration",
            tr("Calibration samples"),
            tr(
                "A few real inputs used to choose 8-bit ranges: an image "
                "folder, a prompts .txt, or .npz/.npy arrays"
            ),
        )
        self.evaluation = self._path_row(
            "evaluation",
            tr("Evaluation samples"),
            tr("Inputs kept apart from calibration, used to measure how far the outputs drift"),
        )
        self.keep = QLineEdit()
        self.keep.setObjectName("keepFloat")
        self.keep.setPlaceholderText(tr("e.g. Softmax, LayerNormalization, /head/Gemm"))
        self.keep.editingFinished.connect(self._keep_changed)
        self.form.addRow(
            self._label(
                tr("Keep in float"), tr("Node names or op types left unquantized (mixed precision)")
            ),
            self.keep,
        )

    def _rebuild_params(self) -> None:
        # Only the per-method rows are rebuilt; the widget that triggered this stays alive.
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self.editors.clear()
        for param in method_params(self.optimize.method):
            if param.name in SKIP:
                continue
            editor = self._editor(param)
            self.editors[param.name] = editor
            self.params_form.addRow(
                self._label(friendly(param.name), tr(param.description)), editor
            )

    @staticmethod
    def _label(text: str, tip: str) -> QLabel:
        label = QLabel(text)
        label.setToolTip(tip)
        return label

    def _path_row(self, field: str, title: str, tip: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"{field}Path")
        edit.setPlaceholderText(
            tr("none: random inputs (poor calibration)")
            if field == "calibration"
            else tr("none: held-out calibration samples")
        )
        edit.editingFinished.connect(lambda: self._set_path(field, edit.text().strip()))
        files = QPushButton(tr("File…"))
        folder = QPushButton(tr("Image folder…"))
        files.clicked.connect(lambda: self._browse(field, edit, folder=False))
        folder.clicked.connect(lambda: self._browse(field, edit, folder=True))
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(files)
        row.addWidget(folder)
        holder = QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.form.addRow(self._label(title, tip), holder)
        return edit

    def _browse(self, field: str, edit: QLineEdit, folder: bool) -> None:
        if folder:
            path = QFileDialog.getExistingDirectory(self, tr("Image folder"))
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, tr("Samples"), "", tr("Samples (*.npz *.npy *.txt *.jsonl)")
            )
        if path:
            edit.setText(path)
            self._set_path(field, path)

    def _set_path(self, field: str, value: str) -> None:
        setattr(self.optimize, field, value or None)
        self.changed.emit()

    def _keep_changed(self) -> None:
        self.optimize.keep_float = [p.strip() for p in self.keep.text().split(",") if p.strip()]
        self.changed.emit()

    def _method_changed(self) -> None:
        self.optimize.method = Method(self.method.currentData())
        self._rebuild_params()
        self.changed.emit()

    def _editor(self, param: Param) -> QWidget:
        value = get_option(self.optimize, param.name)
        if param.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(lambda v, n=param.name: self._set(n, v))
            editor: QWidget = box
        elif param.kind == "choice":
            combo = QComboBox()
            if value is None:
                combo.addItem(tr("(automatic)"), None)
            for choice in param.choices:
                combo.addItem(choice, choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            combo.currentIndexChanged.connect(
                lambda _i, n=param.name, c=combo: self._set(n, c.currentData())
            )
            editor = combo
        elif param.kind in ("int", "float"):
            spin = QSpinBox() if param.kind == "int" else QDoubleSpinBox()
            if isinstance(spin, QDoubleSpinBox):
                spin.setDecimals(4)
                spin.setSingleStep(0.01)
            low = param.minimum or 0
            high = param.maximum or 10**6
            optional = param.default is None
            if optional:  # one step below the minimum stands for "not set"
                low -= 1
                spin.setSpecialValueText(tr("(automatic)"))
            spin.setRange(
                int(low) if param.kind == "int" else low, int(high) if param.kind == "int" else high
            )
            spin.setValue(value if value is not None else spin.minimum())
            spin.valueChanged.connect(
                lambda v, n=param.name, s=spin, o=optional: self._set(
                    n, None if o and v == s.minimum() else v
                )
            )
            editor = spin
        else:
            edit = QLineEdit(
                ""
                if value is None
                else ", ".join(map(str, value))
                if isinstance(value, list)
                else str(value)
            )
            edit.editingFinished.connect(lambda n=param.name, e=edit: self._set_text(n, e))
            editor = edit
        editor.setToolTip(tr(param.description))  # core_texts.py lists the known ones
        editor.setObjectName(f"param-{param.name}")
        return editor

    def _set(self, name: str, value: Any) -> None:
        try:
            set_option(self.optimize, name, value)
        except ValueError:
            return  # the recipe keeps its last valid value
        self.changed.emit()

    def _set_text(self, name: str, edit: QLineEdit) -> None:
        text = edit.text().strip()
        try:
            value: Any = (
                [float(v) for v in text.replace("x", ",").split(",") if v.strip()] if text else None
            )
            if name == "image.size" and value is not None:
                value = [int(v) for v in value]
            self._set(name, value)
        except ValueError:
            edit.setText("")
