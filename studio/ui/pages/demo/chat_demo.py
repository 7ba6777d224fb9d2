"""The Demo step's chat: prompt, streaming answer, live speed, Stop, settings, two models side by side.

On this PC each model is kept loaded in one long-lived worker process (studio/core/generate/
worker.py) that answers prompt after prompt; on a phone or board each answer is a background job
over adb. This module only shows what comes back.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QHideEvent, QShowEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.generate.llm_bundle import GENAI_CONFIG, demo_lm_reference_path
from studio.core.generate.presentation import PRESETS
from studio.core.generate.session import GenerationSummary
from studio.core.generate.settings import GenerationSettings
from studio.ui.background import Relay
from studio.ui.i18n import N_, tr, trn
from studio.ui.jobs_qt import JobManager
from studio.ui.messages import this_pc
from studio.ui.pages.demo.generation_run import THIS_PC, GenerationRun
from studio.ui.pages.demo.generation_worker_qt import QtGenerationWorker
from studio.ui.runtime_install import InstallRuntimeButton, installed_text
from studio.ui.widgets import Card, JobProgress, show_error


def mb(value: int) -> str:
    return f"{value / 1024**2:.0f} MB" if value else "–"


def speed_text(tokens_per_s: float) -> str:
    return f"{tokens_per_s:.0f}" if tokens_per_s >= 10 else f"{tokens_per_s:.1f}"


def model_label(path: str | None) -> str:
    if not path:
        return tr("Demo model (INT4, shipped with the studio)")
    folder = Path(path)
    if folder == demo_lm_reference_path():
        return tr("Demo model (INT8, twice the bytes of INT4)")
    return folder.name


class StatTile(QWidget):
    """A figure in large type with a small caption under it and a tooltip explaining it."""

    def __init__(self, caption: str, tooltip: str, big: bool = False) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.value = QLabel("–")
        self.value.setObjectName("hugeValue" if big else "factValue")
        self.caption = QLabel(caption)
        self.caption.setObjectName("factLabel")
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        self.setToolTip(tooltip)

    def set(self, text: str) -> None:
        self.value.setText(text)


class ChatPane(Card):
    """One model: its name, where it runs, the conversation and its live figures."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = QLabel(title)
        self.title.setObjectName("cardTitle")
        self.where = QLabel(tr("Runs on: {place}", place=this_pc()))
        self.where.setObjectName("factLabel")
        self.history = QTextBrowser()
        self.history.setMinimumHeight(160)
        self.history.setPlaceholderText(tr("Answers appear here as the model writes them."))
        stats = QGridLayout()
        self.speed = StatTile(
            tr("tokens per second"),
            tr("How fast the model writes once it has started: generated tokens ÷ seconds (live)."),
            big=True,
        )
        self.ttft = StatTile(
            tr("first token after"),
            tr(
                "Time from pressing Send until the first "
                "word appears: reading the prompt plus the first step."
            ),
        )
        self.prompt_speed = StatTile(
            tr("prompt reading"),
            tr("How fast the model reads your prompt (prompt tokens ÷ seconds)."),
        )
        self.memory = StatTile(tr("memory in use"), tr("Memory the generating process is using."))
        for column, tile in enumerate((self.speed, self.ttft, self.prompt_speed, self.memory)):
            stats.addWidget(tile, 0, column)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.where)
        self.body.addLayout(head)
        self.body.addWidget(self.history, 1)
        self.body.addLayout(stats)

    def begin(self, prompt: str) -> None:
        for tile in (self.speed, self.ttft, self.prompt_speed, self.memory):
            tile.set("…")
        self.history.append(tr("<p><b>You:</b> {prompt}</p>", prompt=html.escape(prompt)))
        self.history.append(tr("<b>Model:</b> "))
        self.history.moveCursor(QTextCursor.MoveOperation.End)

    def add_text(self, text: str) -> None:
        cursor = self.history.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        # Plain text, whatever the label before it ends with: a translation of "<b>Model:</b> "
        # without the trailing space (as in Chinese) would otherwise make the answer bold.
        cursor.insertText(text, QTextCharFormat())
        self.history.setTextCursor(cursor)
        self.history.ensureCursorVisible()

    def show_live(self, run: GenerationRun) -> None:
        if run.live.tokens_per_s:
            self.speed.set(speed_text(run.live.tokens_per_s))
        if run.live.first_t is not None:
            self.ttft.set(f"{run.live.first_t * 1000:.0f} ms")
        self.memory.set(mb(run.live.memory_bytes))

    def finish(self, summary: GenerationSummary | None, problem: str = "") -> None:
        if summary is None:
            line = problem or tr("(no answer — see the jobs panel)")
            self.history.append(f"<i>{html.escape(line)}</i>")
            return
        if summary.decode_tokens_per_s:
            self.speed.set(speed_text(summary.decode_tokens_per_s))
        if summary.ttft_s is not None:
            self.ttft.set(f"{summary.ttft_s * 1000:.0f} ms")
        if summary.prompt_tokens_per_s:
            self.prompt_speed.set(f"{summary.prompt_tokens_per_s:.0f} tok/s")
        self.memory.set(mb(summary.memory_bytes))
        if summary.stopped:
            count = trn("{n} token (stopped)", "{n} tokens (stopped)", summary.tokens)
        else:
            count = trn("{n} token", "{n} tokens", summary.tokens)
        self.history.append(f"<span style='color:gray'>{count}</span>")


class SettingsPanel(QWidget):
    """Generation settings with safe defaults; hidden until asked for."""

    def __init__(self) -> None:
        super().__init__()
        defaults = GenerationSettings()
        form = QFormLayout(self)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 4096)
        self.max_tokens.setValue(defaults.max_new_tokens)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(defaults.temperature)
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(defaults.top_p)
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 1000)
        self.top_k.setValue(defaults.top_k)
        fields = GenerationSettings.model_fields
        for label, widget, key in (
            (N_("Longest answer (tokens)"), self.max_tokens, "max_new_tokens"),
            (N_("Temperature"), self.temperature, "temperature"),
            ("Top-p", self.top_p, "top_p"),
            ("Top-k", self.top_k, "top_k"),
        ):
            widget.setToolTip(fields[key].description or "")  # from core: English
            form.addRow(tr(label), widget)

    def settings(self) -> GenerationSettings:
        return GenerationSettings(
            max_new_tokens=self.max_tokens.value(),
            temperature=round(self.temperature.value(), 2),
            top_p=round(self.top_p.value(), 2),
            top_k=self.top_k.value(),
        )


class ChatDemo(QWidget):
    """Prompt box, one or two chat panes, Stop, settings and the way into presentation mode."""

    run_finished = Signal()

    def __init__(self, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.models: list[str | None] = [None, str(demo_lm_reference_path())]
        self.runs: list[GenerationRun] = []
        self.workers: dict[str | None, QtGenerationWorker] = {}
        """One worker process per model in use on this PC, started at its first prompt."""
        self.queue: list[int] = []
        self.presentation = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        top = QHBoxLayout()
        self.choose = QPushButton(tr("Choose model…"))
        self.choose.setToolTip(
            tr(
                "A language-model bundle made by the studio (a folder with "
                "genai_config.json). The shipped demo model is used until then."
            )
        )
        self.choose.clicked.connect(lambda: self._choose(0))
        self.where = QComboBox()
        self.where.addItem(this_pc(), THIS_PC)
        self.watcher = None
        self._bridge = Relay()
        self._bridge.message.connect(self._show_devices)
        self.where.setToolTip(
            tr(
                "Where the model runs. Phones and boards appear here once the "
                "bundle is deployed to them (Deploy step)."
            )
        )
        self.compare = QCheckBox(tr("Compare two models side by side"))
        self.compare.setToolTip(
            tr(
                "Same prompt, one model after the other, so each gets the "
                "whole processor (e.g. INT8 vs INT4)."
            )
        )
        self.compare.toggled.connect(self._toggle_compare)
        self.present = QPushButton(tr("Presentation mode"))
        self.present.setToolTip(
            tr("Full screen, large type, preset prompts, auto-play for a booth.")
        )
        self.present.clicked.connect(self.open_presentation)
        top.addWidget(self.choose)
        top.addWidget(QLabel(tr("Runs on:")))
        top.addWidget(self.where)
        top.addWidget(self.compare)
        self.install_progress = JobProgress()
        self.install_runtime = InstallRuntimeButton(jobs, self.install_progress)
        self.install_runtime.installed.connect(
            lambda r: self.panes[0].history.append(f"<i>{html.escape(installed_text(r))}</i>")
        )
        self.install_runtime.failed.connect(
            lambda m: show_error(self, m, tr("The runtime was not installed"))
        )
        top.addWidget(self.install_runtime)
        top.addStretch()
        top.addWidget(self.present)
        layout.addLayout(top)
        layout.addWidget(self.install_progress)
        # What the shipped model is, so "hello" → "for he is the LORD" reads as intended.
        self.about_demo = QLabel(
            tr(
                "The demo model is tiny (21 M parameters) and learned only the King James Bible "
                "and Tang poems: it continues text in that style fast, it does not answer "
                "questions. Try a prompt below, or choose your own model."
            )
        )
        self.about_demo.setWordWrap(True)
        self.about_demo.setObjectName("pageIntro")
        layout.addWidget(self.about_demo)

        panes = QHBoxLayout()
        self.panes = [ChatPane(model_label(self.models[0])), ChatPane(model_label(self.models[1]))]
        self.choose_second = QPushButton(tr("Choose second model…"))
        self.choose_second.clicked.connect(lambda: self._choose(1))
        self.choose_second.hide()
        top.insertWidget(1, self.choose_second)
        for pane in self.panes:
            panes.addWidget(pane, 1)
        self.panes[1].hide()
        layout.addLayout(panes, 1)

        presets = QHBoxLayout()
        presets.addWidget(QLabel(tr("Try:")))
        for preset in PRESETS:
            button = QPushButton(preset.label)
            button.setToolTip(preset.prompt)
            button.clicked.connect(lambda _=False, p=preset.prompt: self.send(p))
            presets.addWidget(button)
        presets.addStretch()
        layout.addLayout(presets)

        row = QHBoxLayout()
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText(
            tr("Type a prompt for the model to continue, then press Enter")
        )
        self.prompt.returnPressed.connect(lambda: self.send(self.prompt.text()))
        self.send_button = QPushButton(tr("Send"))
        self.send_button.setObjectName("primaryButton")
        self.send_button.clicked.connect(lambda: self.send(self.prompt.text()))
        self.stop_button = QPushButton(tr("Stop"))
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.settings_toggle = QToolButton()
        self.settings_toggle.setText(tr("Settings ▸"))
        self.settings_toggle.setCheckable(True)
        self.settings_toggle.toggled.connect(self._toggle_settings)
        row.addWidget(self.prompt, 1)
        row.addWidget(self.send_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.settings_toggle)
        layout.addLayout(row)
        self.settings_panel = SettingsPanel()
        self.settings_panel.hide()
        layout.addWidget(self.settings_panel)

    # --- where it runs: this PC, or a ready phone/board seen by adb ------------------------

    def showEvent(self, event: QShowEvent) -> None:
        if self.watcher is None:
            from studio.core.devices.listing import DeviceWatcher

            self.watcher = DeviceWatcher(self._bridge.message.emit, include_this_pc=False).start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.stop_watching()
        super().hideEvent(event)

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def _show_devices(self, listing: object) -> None:
        current = self.current_where()
        self.where.blockSignals(True)
        self.where.clear()
        self.where.addItem(this_pc(), THIS_PC)
        for info in getattr(listing, "devices", []):
            if info.kind != "this-pc" and info.ready:
                name = " ".join(p for p in (info.manufacturer, info.model) if p) or info.serial
                self.where.addItem(f"{name} ({info.serial})", info.serial)
        index = self.where.findData(current)
        self.where.setCurrentIndex(max(index, 0))
        self.where.blockSignals(False)

    # --- user actions ---------------------------------------------------------------------

    def _toggle_settings(self, shown: bool) -> None:
        self.settings_panel.setVisible(shown)
        self.settings_toggle.setText(tr("Settings ▾") if shown else tr("Settings ▸"))

    def _toggle_compare(self, on: bool) -> None:
        self.panes[1].setVisible(on)
        self.choose_second.setVisible(on)
        self._drop_unused_workers()

    # --- one worker process per model in use ------------------------------------------------

    def worker_for(self, model: str | None) -> QtGenerationWorker:
        worker = self.workers.get(model)
        if worker is None:
            worker = self.workers[model] = QtGenerationWorker(model, self)
        return worker

    def _models_in_use(self) -> set[str | None]:
        used = {self.models[0], self.models[1]} if self.compare.isChecked() else {self.models[0]}
        if self.presentation is not None and self.presentation.isVisible():
            used.add(self.presentation.model)
        return used

    def _drop_unused_workers(self) -> None:
        """A model no pane shows any more is unloaded (its worker process ends)."""
        if self.running():
            return  # checked again when the current answer is done
        for model in list(self.workers):
            if model not in self._models_in_use():
                self.workers.pop(model).shutdown()

    def shutdown(self) -> None:
        """Stop every answer and end every worker process (leaving the app)."""
        self.stop()
        for worker in self.workers.values():
            worker.shutdown()
        self.workers.clear()
        if self.presentation is not None:
            self.presentation.shutdown()

    def _choose(self, index: int) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Choose a language-model bundle"))
        if folder:
            self.set_model(index, folder)

    def set_model(self, index: int, folder: str | None) -> None:
        if folder and not (Path(folder) / GENAI_CONFIG).is_file():
            show_error(
                self,
                tr(
                    "{folder} holds no language model ({config} is missing). "
                    "Choose a bundle made by the studio's LLM export.",
                    folder=folder,
                    config=GENAI_CONFIG,
                ),
            )
            return
        self.models[index] = folder
        self.panes[index].title.setText(model_label(folder))
        self.about_demo.setVisible(self.models[0] is None)
        self._drop_unused_workers()

    def current_where(self) -> str:
        return str(self.where.currentData() or THIS_PC)

    def send(self, prompt: str) -> None:
        if self.running() or not prompt.strip():
            return
        self.prompt.setText(prompt)
        self.queue = [0, 1] if self.compare.isChecked() else [0]
        self._start_next(prompt)

    def _start_next(self, prompt: str) -> None:
        if not self.queue:
            self._set_busy(False)
            self.run_finished.emit()
            return
        index = self.queue.pop(0)
        pane = self.panes[index]
        where = self.current_where()
        pane.where.setText(tr("Runs on: {place}", place=self.where.currentText()))
        pane.begin(prompt)
        model = self.models[index]
        run = GenerationRun(
            model,
            prompt,
            self.settings_panel.settings(),
            self.jobs,
            where,
            self,
            worker=None if where else self.worker_for(model),
        )
        run.chunk.connect(pane.add_text)
        run.chunk.connect(lambda _t, r=run, p=pane: p.show_live(r))
        run.started.connect(lambda _d, r=run, p=pane: p.show_live(r))
        run.failed.connect(lambda message: show_error(self, message, tr("Generation failed")))
        run.failed.connect(lambda message, w=where: self.install_runtime.offer(w, message))
        run.finished.connect(
            lambda summary, r=run, p=pane, text=prompt: self._done(p, summary, text, r.problem)
        )
        self.runs = [run]
        self._set_busy(True)
        run.start()

    def _done(
        self, pane: ChatPane, summary: GenerationSummary | None, prompt: str, problem: str
    ) -> None:
        pane.finish(summary, problem)
        for run in self.runs:
            run.deleteLater()
        self.runs = []
        if summary is not None and summary.stopped:
            self.queue = []
        if not self.queue:
            self._drop_unused_workers()
        self._start_next(prompt)

    def stop(self) -> None:
        self.queue = []
        for run in self.runs:
            run.stop()

    def running(self) -> bool:
        return any(run.running for run in self.runs)

    def _set_busy(self, busy: bool) -> None:
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy)

    def open_presentation(self) -> None:
        from studio.ui.pages.demo.presentation import PresentationWindow

        if self.presentation is not None:
            self.presentation.shutdown()
        where = self.current_where()
        # The booth shares the chat's worker, so the model is not loaded a second time.
        self.presentation = PresentationWindow(
            self.models[0],
            where,
            self.where.currentText(),
            worker=None if where else self.worker_for(self.models[0]),
        )
        self.presentation.show_presentation()
