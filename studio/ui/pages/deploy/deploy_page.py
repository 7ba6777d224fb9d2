"""Step 5, Deploy: write the bundle folder, verify every file, and show where it is."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from studio.core.bundle.folder import Manifest, VerifyResult, verify_bundle
from studio.core.bundle.steps import BundleRequest, bundle, step_target
from studio.core.chips.catalogue import get_chip
from studio.core.errors import StudioError
from studio.core.jobs import JobSpec
from studio.core.paths import data_dir
from studio.ui.background import run_in_thread
from studio.ui.i18n import N_, join_sentences, tr, trn
from studio.ui.jobs_qt import JobManager
from studio.ui.npu_placement import pulsar2_note
from studio.ui.pages.deploy.device_list import DeviceListWidget
from studio.ui.state import WizardState
from studio.ui.widgets import Card, JobProgress, JobStepPage, big_label, show_error


def free_bundle_folder(name: str) -> Path:
    """A new folder under the studio's bundles folder; never one that already exists."""
    root = data_dir() / "bundles"
    root.mkdir(parents=True, exist_ok=True)
    candidate = root / name
    index = 2
    while candidate.exists():
        candidate = root / f"{name}-{index}"
        index += 1
    return candidate


def kit_note(chip_id: str) -> str:
    """For a chip whose final compile happens elsewhere (Axera's Pulsar2), where and what to run."""
    with contextlib.suppress(StudioError):
        chip = get_chip(chip_id)
        if chip.npu is not None and "pulsar2" in chip.npu.runtime.lower():
            return join_sentences(
                [
                    pulsar2_note(),
                    tr(
                        "Build the kit with: studio compile MODEL --chip {chip} --out KIT; then, "
                        "in the kit folder, run pulsar2/build.sh inside Axera's Pulsar2 Docker "
                        "image and copy the .axmodel it writes to the board.",
                        chip=chip_id,
                    ),
                ]
            )
    return ""


class DeployPage(JobStepPage):
    title = N_("5 · Deploy")
    explanation = N_(
        "The studio packs the model, a manifest with a fingerprint (SHA-256) of every file, the "
        "recipe and a README into one folder, then checks every file. Copy that folder to the device."
    )

    def __init__(self, state: WizardState, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(state, jobs, parent)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Bundle folder:")))
        self.folder = QLineEdit()
        self.folder.setObjectName("bundleFolder")
        row.addWidget(self.folder, 1)
        browse = QPushButton(tr("Change…"))
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        self.outer.addLayout(row)
        buttons = QHBoxLayout()
        self.write_button = QPushButton(tr("Create bundle"))
        self.write_button.setObjectName("primaryButton")
        self.write_button.clicked.connect(self.start)
        self.open_button = QPushButton(tr("Open folder"))
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open_folder)
        buttons.addWidget(self.write_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch()
        self.outer.addLayout(buttons)
        self.progress = JobProgress()
        self.outer.addWidget(self.progress)
        self.card = Card()
        self.verdict = big_label(tr("No bundle yet."))
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setObjectName("factLabel")
        self.card.body.addWidget(self.verdict)
        self.card.body.addWidget(self.detail)
        self.outer.addWidget(self.card)
        # Axera: the bundle is not what the board loads; Pulsar2 (Docker) compiles it.
        self.kit_note = QLabel()
        self.kit_note.setWordWrap(True)
        self.kit_note.setObjectName("kitNote")
        self.outer.addWidget(self.kit_note)
        self._show_kit_note()
        state.target_changed.connect(self._show_kit_note)
        state.recipe_replaced.connect(self._show_kit_note)
        # Phones, boards and this PC: push the verified bundle there and run it (issue 7).
        self.devices = DeviceListWidget(jobs)
        self.outer.addWidget(self.devices)
        self.outer.addStretch()
        state.optimized.connect(self._stale)
        state.model_changed.connect(self._stale)

    def _show_kit_note(self) -> None:
        text = kit_note(self.state.recipe.target.chip)
        self.kit_note.setText(text)
        self.kit_note.setVisible(bool(text))

    def _stale(self) -> None:
        self.state.bundle_path = None
        self.folder.clear()
        self.verdict.setText(tr("No bundle yet."))
        self.detail.setText("")
        self.open_button.setEnabled(False)
        self.devices.set_bundle(None)

    def showEvent(self, event: QShowEvent) -> None:
        # Suggested as the page appears, not in entered() (a moment later): no empty field flashes.
        super().showEvent(event)
        self._suggest_folder()

    def _suggest_folder(self) -> None:
        if not self.folder.text().strip():
            with contextlib.suppress(StudioError):  # a bad model: the Model step explains it
                stem = self.state.model_path().stem
                chip = self.state.recipe.target.chip
                self.folder.setText(str(free_bundle_folder(f"{stem}-{chip}")))

    def ready(self) -> tuple[bool, str]:
        if self.job_running():
            return False, tr("Writing the bundle…")
        if self.state.bundle_path is None:
            return False, tr("Click Create bundle first: Demo runs the bundle it writes.")
        return True, ""

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("Where should the bundle go?"))
        if path:
            self.folder.setText(str(Path(path) / Path(self.folder.text() or "bundle").name))

    def start(self) -> None:
        self._suggest_folder()  # an empty field is Path("."): the folder the app started in
        out = Path(self.folder.text()).expanduser()
        source_path = self.state.model_path()
        request = BundleRequest.from_recipe(
            self.state.recipe,
            source_path,
            self.state.deployable_model(),
            out,
            self.state.compress_result,
            self.state.profile_result,
        )
        self.job = self.jobs.start(
            JobSpec(
                title=tr("Bundle {name}", name=source_path.stem),
                target=step_target(bundle),
                kwargs={"request": request},
                outputs=[out],
            )
        )
        self.progress.track(self.job)
        self.write_button.setEnabled(False)
        self.job.succeeded.connect(lambda manifest: self._written(out, manifest))
        self.job.failed.connect(
            lambda message: show_error(self, message, tr("The bundle could not be written"))
        )
        self.job.finished.connect(
            lambda: (self.write_button.setEnabled(True), self.ready_changed.emit())
        )
        self.ready_changed.emit()

    def _written(self, out: Path, manifest: Manifest) -> None:
        self.state.manifest = manifest

        def shown(result: VerifyResult) -> None:
            if result.ok:
                self.state.bundle_path = out
                self.verdict.setText(
                    trn(
                        "Verified ✓  the {n} file matches the manifest",
                        "Verified ✓  all {n} files match the manifest",
                        result.checked,
                    )
                )
                self.detail.setText(tr("Bundle folder: {path}", path=out))
                self.open_button.setEnabled(True)
                self.devices.set_bundle(out)
                self.state.bundled.emit()
            else:
                self.verdict.setText(tr("✗ The bundle does not match its manifest"))
                self.detail.setText("; ".join(result.problems()))
            self.ready_changed.emit()

        run_in_thread(lambda: verify_bundle(out), shown, lambda m: show_error(self, m))

    def _open_folder(self) -> None:
        if self.state.bundle_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.state.bundle_path)))
