"""The device list of the Deploy step: phones, boards and this PC, with state and what to do,
hot-plug, Wi-Fi connect, push with progress and Cancel, "Verified on device ✓", on-device bench.

Only binds widgets to core: listing/watching is studio.core.devices.listing (its thread), push and
bench run as jobs (studio.core.devices.deploy / run) through the job manager.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.bundle.steps import DeployRequest, deploy, step_target
from studio.core.devices.listing import DeviceListing, DeviceWatcher, connect
from studio.core.devices.models import DeviceInfo, DeviceState
from studio.core.errors import StudioError
from studio.core.jobs import JobSpec
from studio.core.this_pc import THIS_PC_ID
from studio.core.units import human_size
from studio.ui.background import Relay, run_in_thread
from studio.ui.i18n import tr, trn
from studio.ui.jobs_qt import JobManager, QtJob
from studio.ui.messages import show, this_pc
from studio.ui.runtime_install import InstallRuntimeButton, installed_text
from studio.ui.widgets import Card, JobProgress, big_label

_DOT = {DeviceState.READY: "#1e8e3e", DeviceState.CONNECTING: "#f29900"}
_DOT_OTHER = "#d93025"


class DeviceRow(QFrame):
    """One device: a coloured state dot, its name, a line of facts, and the fix if not ready."""

    def __init__(self, info: DeviceInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setObjectName("deviceRow")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        dot = QLabel("●")
        dot.setStyleSheet(f"color: {_DOT.get(info.state, _DOT_OTHER)}; font-size: 16pt;")
        status = show(info.status_message) if info.status_message else tr(info.status)
        dot.setToolTip(status)
        layout.addWidget(dot, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(2)
        where = {"wifi": " (Wi-Fi)", "usb": " (USB)"}.get(info.transport, "")
        serial = info.serial if info.title() != info.serial else ""
        title = this_pc() if info.kind == THIS_PC_ID else info.title()
        self.name = QLabel(
            f"<b>{title}</b>  <span style='color:gray'>{serial}{where}</span> — {status}"
        )
        text.addWidget(self.name)
        self.facts = QLabel(info.summary())
        self.facts.setObjectName("factLabel")
        self.facts.setWordWrap(True)
        self.facts.setVisible(bool(self.facts.text()))
        text.addWidget(self.facts)
        self.fix = QLabel(show(info.fix_message) if info.fix_message else info.fix)
        self.fix.setObjectName("deviceFix")
        self.fix.setWordWrap(True)
        self.fix.setStyleSheet("color: #b06000;")
        self.fix.setVisible(bool(info.fix))
        text.addWidget(self.fix)
        layout.addLayout(text, 1)


class DeviceListWidget(QWidget):
    """Device list + actions for one bundle (set with ``set_bundle``)."""

    deployed = Signal(object)  # DeployResult
    benchmarked = Signal(object)  # RunOutcome

    def __init__(self, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.bundle: Path | None = None
        self.listing = DeviceListing(devices=[])
        self.watcher: DeviceWatcher | None = None
        self.job: QtJob | None = None
        self.verified: dict[str, str] = {}  # serial → "bundle|folder" pushed and verified there
        self._chosen: str | None = None  # what the user picked; kept across hot-plug updates
        self._refilling = False
        self._bridge = Relay(self)
        self._bridge.message.connect(self._show_listing)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        title = QLabel(tr("Devices"))
        title.setObjectName("cardTitle")
        head.addWidget(title)
        head.addStretch()
        self.address = QLineEdit()
        self.address.setPlaceholderText("192.168.1.20:5555")
        self.address.setToolTip(
            tr(
                "A phone with Wireless debugging on, or a board running adb "
                "over the network: its address and port"
            )
        )
        self.address.setMaximumWidth(200)
        self.address.returnPressed.connect(self.connect_address)
        self.connect_button = QPushButton(tr("Connect over Wi-Fi"))
        self.connect_button.clicked.connect(self.connect_address)
        head.addWidget(self.address)
        head.addWidget(self.connect_button)
        outer.addLayout(head)
        self._connect_message = ""  # the answer to the last Wi-Fi connect, kept across refreshes
        self.notice = QLabel(tr("Looking for devices…"))
        self.notice.setObjectName("deviceNotice")
        self.notice.setWordWrap(True)
        outer.addWidget(self.notice)

        self.list = QListWidget()
        self.list.setObjectName("deviceList")
        # A light selection keeps the rows' own text colours readable.
        self.list.setStyleSheet(
            "QListWidget#deviceList::item { border-bottom: 1px solid palette(midlight); }"
            "QListWidget#deviceList::item:selected { background: rgba(47, 111, 222, 40);"
            " border: 1px solid #2f6fde; border-radius: 4px; }"
        )
        self.list.currentItemChanged.connect(self._selection_changed)
        outer.addWidget(self.list)

        where = QHBoxLayout()
        where.addWidget(QLabel(tr("Folder on the device:")))
        self.remote_dir = QLineEdit()
        self.remote_dir.setObjectName("remoteDir")
        self.remote_dir.setToolTip(tr("Leave empty for the usual place; it is shown greyed out"))
        self.remote_dir.textChanged.connect(lambda _text: self._update_buttons())
        where.addWidget(self.remote_dir, 1)
        outer.addLayout(where)
        actions = QHBoxLayout()
        self.push_button = QPushButton(tr("Push to device"))
        self.push_button.setObjectName("primaryButton")
        self.push_button.setToolTip(
            tr("Copy the bundle to the device, then check every file's fingerprint (SHA-256) there")
        )
        self.push_button.clicked.connect(self.push)
        self.bench_button = QPushButton(tr("Measure speed on device"))
        self.bench_button.setToolTip(
            tr(
                "Run the model on the device many times and report the "
                "typical (median) and slow-case (p90) time of one run"
            )
        )
        self.bench_button.clicked.connect(self.bench)
        self.runs = QSpinBox()
        self.runs.setRange(1, 10000)
        self.runs.setValue(20)
        self.runs.setSuffix(trn(" run", " runs", self.runs.value()))
        self.runs.valueChanged.connect(lambda n: self.runs.setSuffix(trn(" run", " runs", n)))
        self.progress = JobProgress()
        self.install_button = InstallRuntimeButton(jobs, self.progress)
        self.install_button.installed.connect(
            lambda r: self._say_bench(tr("Runtime installed ✓"), installed_text(r))
        )
        self.install_button.failed.connect(lambda m: self._say_bench(tr("✗ Not installed"), m))
        actions.addWidget(self.push_button)
        actions.addWidget(self.bench_button)
        actions.addWidget(self.runs)
        actions.addWidget(self.install_button)
        actions.addStretch()
        outer.addLayout(actions)
        outer.addWidget(self.progress)
        self.card = Card()
        # Two results side by side in one card: the push ("Verified on device ✓") and the speed.
        self.verdict = big_label("")
        self.detail = QLabel("")
        self.bench_verdict = big_label("")
        self.bench_detail = QLabel("")
        for label in (self.detail, self.bench_detail):
            label.setWordWrap(True)
            label.setObjectName("factLabel")
        for label in (self.verdict, self.detail, self.bench_verdict, self.bench_detail):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.card.body.addWidget(label)
        self.bench_verdict.hide()
        self.bench_detail.hide()
        self.card.hide()
        outer.addWidget(self.card)
        outer.addStretch()
        self._update_buttons()

    # -- watching -------------------------------------------------------------------------
    def start_watching(self) -> None:
        if self.watcher is None:
            self.watcher = DeviceWatcher(self._bridge.message.emit).start()

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.start_watching()

    def hideEvent(self, event: QHideEvent) -> None:
        self.stop_watching()
        super().hideEvent(event)

    def _show_listing(self, listing: DeviceListing) -> None:
        self.listing = listing
        self._refilling = True
        self.list.clear()
        for info in listing.devices:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, info.serial)
            row = DeviceRow(info)
            item.setSizeHint(row.sizeHint())
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
        self._fit_height()
        serials = [d.serial for d in listing.devices]
        phones = [d.serial for d in listing.devices if d.kind != "this-pc" and d.ready]
        # Keep what the user chose; else the first ready phone (one just plugged in); else this PC.
        choice = (
            self._chosen
            if self._chosen in serials
            else (phones[0] if phones else serials[0] if serials else None)
        )
        if choice is not None:
            self.list.setCurrentRow(serials.index(choice))
        self._refilling = False
        if listing.adb_problem:
            text = tr("Phones and boards cannot be listed: {problem}", problem=listing.adb_problem)
        elif len(listing.devices) <= 1:
            text = tr(
                "No phone or board found. Plug one in with USB debugging on, or "
                "connect over Wi-Fi. This PC works right away."
            )
        else:
            text = tr("Choose where to run the bundle.")
        # A list refresh must not wipe the answer to the user's last Wi-Fi connect.
        connect = self._connect_message
        self.notice.setText(f"{connect}\n{text}" if connect else text)
        self._update_buttons()

    def _fit_height(self) -> None:
        """As tall as its rows (no empty box), scrolling only past five devices."""
        heights = [self.list.sizeHintForRow(i) for i in range(min(self.list.count(), 5))]
        self.list.setFixedHeight(max(sum(heights) + 2 * self.list.frameWidth() + 4, 60))

    def _selection_changed(self) -> None:
        if not self._refilling:
            device = self.selected()
            self._chosen = device.serial if device else None
        self._update_buttons()

    def selected(self) -> DeviceInfo | None:
        item = self.list.currentItem()
        if item is None:
            return None
        serial = item.data(Qt.ItemDataRole.UserRole)
        return next((d for d in self.listing.devices if d.serial == serial), None)

    # -- actions -----------------------------------------------------------------------------
    def set_bundle(self, bundle: Path | None) -> None:
        self.bundle = bundle
        self.verified.clear()
        self.card.hide()
        self._say_bench("", "")
        self._update_buttons()

    def _busy(self) -> bool:
        return self.job is not None and not self.job.is_finished

    def _update_buttons(self) -> None:
        device = self.selected()
        ready = device is not None and device.ready and self.bundle is not None
        self.push_button.setEnabled(ready and not self._busy())
        self.bench_button.setEnabled(
            ready
            and not self._busy()
            and device is not None
            and self.verified.get(device.serial) == self._target_key()
        )
        if self.bundle is None:
            self.push_button.setToolTip(tr("Create the bundle first"))
        if device is not None and device.default_dir and self.bundle is not None:
            self.remote_dir.setPlaceholderText(f"{device.default_dir}/{self._folder_name()}")

    def _folder_name(self) -> str:
        """The folder deploy will use: the model's name, not the bundle path (deploy.py)."""
        from studio.core.bundle.folder import read_manifest
        from studio.core.devices.deploy import device_folder_name

        try:
            return device_folder_name(read_manifest(self.bundle))  # type: ignore[arg-type]
        except StudioError:
            return "…"

    def target(self) -> str | None:
        """The folder the user typed, or None for the device's usual place."""
        return self.remote_dir.text().strip() or None

    def _target_key(self) -> str:
        return f"{self.bundle}|{self.target() or ''}"

    def connect_address(self) -> None:
        address = self.address.text().strip()
        self.connect_button.setEnabled(False)
        self._connect_message = ""
        self.notice.setText(tr("Connecting to {address}…", address=address))

        def done(message: str) -> None:
            self.connect_button.setEnabled(True)
            self._connect_message = message[:1].upper() + message[1:]
            self.notice.setText(self._connect_message)
            if self.watcher is not None:
                self.watcher.forget(address)

        def failed(message: str) -> None:
            self.connect_button.setEnabled(True)
            self._connect_message = message
            self.notice.setText(message)

        run_in_thread(lambda: connect(address), done, failed)

    def _start(self, spec: JobSpec, on_result: Any) -> None:
        self.job = self.jobs.start(spec)
        self.progress.track(self.job)
        self.job.succeeded.connect(on_result)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(
            lambda: self._say(
                tr("Stopped"), tr("Nothing half-pushed is ever taken for a deployed bundle.")
            )
        )
        self.job.finished.connect(self._update_buttons)
        self._update_buttons()

    def push(self) -> None:
        device = self.selected()
        if device is None or self.bundle is None:
            return
        self._say(tr("Pushing to {device}…", device=device.title()), "")
        spec = JobSpec(
            title=tr("Push to {device}", device=device.title()),
            target=step_target(deploy),
            kwargs={
                "request": DeployRequest(bundle=self.bundle, device=device.serial, to=self.target())
            },
        )
        self._start(spec, self._pushed)

    def _pushed(self, result: Any) -> None:
        self.verified[result.serial] = self._target_key()
        pushed = human_size(result.bytes_pushed)
        if result.bytes_pushed:
            pushed = tr("{size} at {rate}/s", size=pushed, rate=human_size(int(result.rate)))
        # result.files counts the manifest too; the bundle's own count (Deploy's "all N files
        # match") is the files it lists.
        detail = trn(
            "{n} file and the manifest checked on {serial} in {folder}",
            "{n} files and the manifest checked on {serial} in {folder}",
            result.files - 1,
            serial=result.serial,
            folder=result.remote_dir,
        )
        detail += tr(" — {count} pushed ({size})", count=len(result.pushed), size=pushed)
        if result.skipped:
            detail += tr(", {count} already there", count=len(result.skipped))
        self._say(tr("Verified on device ✓"), detail + tr("."))
        watcher = self.watcher
        if watcher is not None:  # free space changed
            run_in_thread(lambda: watcher.refresh(result.serial), lambda _: None, lambda _: None)
        self.deployed.emit(result)

    def bench(self) -> None:
        device = self.selected()
        if device is None or self.bundle is None:
            return
        self._say_bench(tr("Measuring on {device}…", device=device.title()), "")
        spec = JobSpec(
            title=tr("Speed on {device}", device=device.title()),
            target="studio.core.devices.run:run_on_device",
            kwargs={
                "bundle": str(self.bundle),
                "device": device.serial,
                "mode": "bench",
                "runs": self.runs.value(),
                "to": self.target(),
            },
        )
        self._start(spec, self._benchmarked)
        self.job.failed.disconnect(self._failed)  # type: ignore[union-attr]
        self.job.failed.connect(lambda m: self._say_bench(tr("✗ Could not measure"), m))  # type: ignore[union-attr]
        self.job.failed.connect(lambda m, s=device.serial: self.install_button.offer(s, m))  # type: ignore[union-attr]

    def _benchmarked(self, outcome: Any) -> None:
        bench = outcome.bench() if outcome.ok else None
        if bench is None:
            self._say_bench(
                tr("✗ The model did not run on the device"),
                f"{outcome.error}. {outcome.fix}".strip(" ."),
            )
        else:
            self._say_bench(
                tr("About {ms:.2f} ms per run on the device", ms=bench.median_ms),
                trn(
                    "Median {median:.3f} ms, p90 {p90:.3f} ms over {n} run on {serial} "
                    "({runtime}).",
                    "Median {median:.3f} ms, p90 {p90:.3f} ms over {n} runs on {serial} "
                    "({runtime}).",
                    bench.runs,
                    median=bench.median_ms,
                    p90=bench.p90_ms,
                    serial=outcome.serial,
                    runtime=outcome.runtime.description,
                ),
            )
        self.benchmarked.emit(outcome)

    def _say_bench(self, verdict: str, detail: str) -> None:
        self.bench_verdict.setText(verdict)
        self.bench_detail.setText(detail)
        self.bench_verdict.setVisible(bool(verdict))
        self.bench_detail.setVisible(bool(detail))
        if verdict:
            self.card.show()

    def _failed(self, message: str) -> None:
        self._say(tr("✗ Not done"), message)

    def _say(self, verdict: str, detail: str) -> None:
        self.verdict.setText(verdict)
        self.detail.setText(detail)
        self.card.show()
