"""The detail pane of the hub browser: card, license, gated status, files, memory, download."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.core.hubs import DownloadResult, ModelDetails, Transfer
from studio.core.units import human_count, human_size
from studio.ui.i18n import N_, tr, trn
from studio.ui.messages import this_pc

VERDICT_COLOURS = {"fits": "#2e7d32", "tight": "#b26a00", "won't fit": "#c62828"}
VERDICT_WORDS = {"fits": N_("Fits"), "tight": N_("Tight"), "won't fit": N_("Won't fit")}
FACTS = {
    "Parameters": N_("Parameters"),
    "Download size": N_("Download size"),
    "Downloads": N_("Downloads"),
    "Updated": N_("Updated"),
}


def default_patterns(details: ModelDetails) -> str:
    """What to fetch by default: the ONNX files when the repo has them, else everything."""
    onnx = [f.path for f in details.files if f.path.endswith((".onnx", ".onnx_data", ".data"))]
    if not onnx:
        return ""
    folders = sorted({p.rsplit("/", 1)[0] + "/*" if "/" in p else p for p in onnx})
    return " ".join(folders)


class HubDetail(QWidget):
    download_requested = Signal(str, list)
    """repo, include patterns (empty: the whole repo)."""
    cancel_requested = Signal()
    use_requested = Signal(object)
    """The DownloadResult of the model to take into the wizard."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.details: ModelDetails | None = None
        self.result: DownloadResult | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        self.title = QLabel(tr("Pick a model on the left to see its details."))
        self.title.setObjectName("cardTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)
        self.badges = QLabel("")
        self.badges.setTextFormat(Qt.TextFormat.RichText)
        self.badges.setWordWrap(True)
        layout.addWidget(self.badges)

        facts = QGridLayout()
        self.facts: dict[str, QLabel] = {}
        for col, (name, text) in enumerate(FACTS.items()):
            label = QLabel(tr(text))
            label.setObjectName("factLabel")
            value = QLabel("–")
            value.setObjectName("factValue")
            facts.addWidget(label, 0, col)
            facts.addWidget(value, 1, col)
            self.facts[name] = value
        self.facts["Parameters"].setToolTip(
            tr("How many numbers (weights) the model has; read from its safetensors files")
        )
        layout.addLayout(facts)
        self.memory = QLabel("")
        self.memory.setWordWrap(True)
        self.memory.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.memory)

        self.tabs = QTabWidget()
        self.card = QTextBrowser()
        self.card.setOpenExternalLinks(True)
        self.files = QTableWidget(0, 3)
        self.files.setHorizontalHeaderLabels([tr("File"), tr("Size"), tr("On this PC")])
        self.files.verticalHeader().hide()
        self.files.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.files.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.tabs.addTab(self.card, tr("Model card"))
        self.tabs.addTab(self.files, tr("Files"))
        layout.addWidget(self.tabs, 1)

        row = QHBoxLayout()
        self.include = QLineEdit()
        self.include.setPlaceholderText(tr("all files — or patterns such as onnx/*"))
        self.include.setToolTip(
            tr(
                "Only files matching these patterns are downloaded (separate several with spaces). "
                "Empty means the whole model."
            )
        )
        self.download_button = QPushButton(tr("Download"))
        self.download_button.setObjectName("primaryButton")
        self.use_button = QPushButton(tr("Use this model"))
        row.addWidget(QLabel(tr("Files:")))
        row.addWidget(self.include, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.use_button)
        layout.addLayout(row)
        progress = QHBoxLayout()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton(tr("Cancel"))
        progress.addWidget(self.bar, 1)
        progress.addWidget(self.cancel_button)
        layout.addLayout(progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.download_button.clicked.connect(self._download)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.use_button.clicked.connect(lambda: self.use_requested.emit(self.result))
        self.set_downloading(False)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for widget in (self.include, self.download_button):
            widget.setEnabled(on)
        self.use_button.setEnabled(on and self.result is not None and self._has_onnx())

    def _has_onnx(self) -> bool:
        return self.result is not None and any(f.endswith(".onnx") for f in self.result.files)

    def set_downloading(self, on: bool) -> None:
        self.bar.setVisible(on)
        self.cancel_button.setVisible(on)
        self.download_button.setEnabled(not on and self.details is not None)
        self.include.setEnabled(not on and self.details is not None)

    def show_loading(self, repo: str) -> None:
        self.title.setText(repo)
        self.badges.setText(tr("Loading details…"))
        self.card.setMarkdown("")
        self.files.setRowCount(0)
        self.memory.setText("")
        self.status.setText("")
        self.details = None
        self.result = None
        self._enable(False)

    def show_error(self, message: str) -> None:
        self.badges.setText(f"<span style='color:#c62828'>{message}</span>")

    def show_details(
        self, details: ModelDetails, target: str | None = None, budget_known: bool = True
    ) -> None:
        target = target or this_pc()
        self.details = details
        self.result = None
        self.title.setText(details.id)
        badges = [tr("License: <b>{license}</b>", license=details.license or tr("not stated"))]
        if details.gated:
            badges.append(
                tr(
                    "<span style='color:#b26a00'><b>Gated</b></span> — you must request "
                    "access on <a href='{url}'>its page</a> and sign in",
                    url=details.url,
                )
            )
        else:
            badges.append(tr("Open access"))
        if details.task:
            badges.append(tr("Task: {task}", task=details.task))
        if details.library:
            badges.append(tr("Library: {library}", library=details.library))
        self.badges.setText(" · ".join(badges))
        self.badges.setOpenExternalLinks(True)
        self.facts["Parameters"].setText(
            human_count(details.parameters) if details.parameters else tr("unknown")
        )
        self.facts["Download size"].setText(human_size(details.total_size))
        self.facts["Downloads"].setText(
            human_count(details.downloads) if details.downloads is not None else "–"
        )
        self.facts["Updated"].setText(
            details.last_modified.strftime("%Y-%m-%d") if details.last_modified else "–"
        )
        self._show_memory(details, target, budget_known)
        self.files.setRowCount(len(details.files))
        for row, f in enumerate(details.files):
            size = QTableWidgetItem(human_size(f.size or 0))
            size.setData(Qt.ItemDataRole.UserRole, f.size or 0)
            for col, item in enumerate(
                (QTableWidgetItem(f.path), size, QTableWidgetItem("✓" if f.cached else ""))
            ):
                self.files.setItem(row, col, item)
        self.files.resizeColumnToContents(1)
        self.include.setText(default_patterns(details))
        self._enable(True)
        if details.local_path and all(f.cached for f in details.files):
            self.status.setText(tr("Downloaded: {path}", path=details.local_path))

    def _show_memory(self, details: ModelDetails, target: str, budget_known: bool) -> None:
        memory = details.memory
        if memory is None:
            self.memory.setText(tr("Memory: cannot estimate (no weight files listed)"))
            return
        if not budget_known:
            self.memory.setText(
                tr(
                    "Needs about {size} of memory; "
                    "{target} does not publish its memory size, so no verdict",
                    size=human_size(memory.needed_bytes),
                    target=target,
                )
            )
            return
        colour = VERDICT_COLOURS[memory.verdict]
        verdict = tr(VERDICT_WORDS.get(memory.verdict, memory.verdict.capitalize()))
        self.memory.setText(
            f"<span style='color:{colour};font-weight:bold'>{verdict}</span> "
            + tr(
                "— needs about {needed} of {budget} memory on {target}",
                needed=human_size(memory.needed_bytes),
                budget=human_size(memory.budget_bytes),
                target=target,
            )
        )
        self.memory.setToolTip(tr("Estimated from the {basis}.", basis=memory.basis))

    def show_card(self, markdown: str) -> None:
        self.card.setMarkdown(markdown or tr("*This model has no model card.*"))

    def _download(self) -> None:
        if self.details is None:
            return
        patterns = self.include.text().split()
        self.download_requested.emit(self.details.id, patterns)

    def show_transfer(self, transfer: Transfer) -> None:
        self.bar.setValue(int(1000 * transfer.done / max(transfer.total, 1)))
        files = (
            tr(
                "file {number} of {total} · ",
                number=min(transfer.files_done + 1, transfer.files_total),
                total=transfer.files_total,
            )
            if transfer.files_total > 1
            else ""
        )
        self.status.setText(files + transfer.text())

    def show_result(self, result: DownloadResult) -> None:
        self.result = result
        self.status.setText(
            trn(
                "Downloaded {n} file ({size}) to {path}",
                "Downloaded {n} files ({size}) to {path}",
                len(result.files),
                size=human_size(result.total_bytes),
                path=result.path,
            )
        )
        if self.details is not None:
            fetched = set(result.files)
            for row in range(self.files.rowCount()):
                item = self.files.item(row, 0)
                if item is not None and item.text() in fetched:
                    self.files.setItem(row, 2, QTableWidgetItem("✓"))
        self._enable(True)
        if not self._has_onnx():
            self.status.setText(
                tr(
                    "{downloaded} — it holds no .onnx file. Download its ONNX files if it "
                    "has some, or convert it first: {command}",
                    downloaded=self.status.text(),
                    command=f"studio convert {result.path} --to onnx --out model.onnx",
                )
            )
