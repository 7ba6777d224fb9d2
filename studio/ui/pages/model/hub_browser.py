"""Find a model on a hub, see its details, download it, and hand it to the wizard.

Every network call goes through a ``Caller`` (thread pool); the main thread only fills widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core.hubs import (
    DownloadResult,
    Hub,
    ModelDetails,
    ModelHit,
    SearchPage,
    SearchPager,
    SearchQuery,
    get_hub,
    load_settings,
)
from studio.core.hubs.base import HubKind
from studio.core.hubs.memory import this_pc_memory
from studio.core.this_pc import THIS_PC_NAME
from studio.ui.background import Caller
from studio.ui.i18n import N_, tr
from studio.ui.messages import this_pc
from studio.ui.pages.model.hub_detail import HubDetail
from studio.ui.pages.model.hub_results import ResultsTable
from studio.ui.pages.model.hub_worker import DownloadTask

TASKS = [
    "",
    "text-generation",
    "image-classification",
    "object-detection",
    "automatic-speech-recognition",
    "feature-extraction",
    "image-segmentation",
    "text-classification",
    "translation",
    "summarization",
]
LIBRARIES = ["", "onnx", "transformers", "gguf", "pytorch", "safetensors"]
SORTS = [
    (N_("Most downloaded"), "downloads"),
    (N_("Most liked"), "likes"),
    (N_("Recently updated"), "updated"),
]
HUBS: list[tuple[str, HubKind]] = [
    ("Hugging Face", "huggingface"),
    ("ModelScope", "modelscope"),
    (THIS_PC_NAME, "local"),  # translated as studio/ui/messages.py marks it
]


def _combo(items: list[tuple[str, Any]], tooltip: str) -> QComboBox:
    combo = QComboBox()
    for label, value in items:
        combo.addItem(tr(label), value)
    combo.setToolTip(tooltip)
    return combo


class HubBrowser(QWidget):
    results_shown = Signal(int)
    """Rows now visible (emitted after the table is filled)."""
    details_shown = Signal(str)
    model_chosen = Signal(object)
    """A DownloadResult holding an .onnx file, for the wizard."""

    def __init__(
        self,
        target: Callable[[], tuple[int | None, str]] | None = None,
        hub_factory: Callable[[HubKind], Hub] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.target = target or (lambda: (this_pc_memory(), this_pc()))
        """(memory budget in bytes or None when unknown, target name) for the memory badge."""
        self.hub_factory = hub_factory or (lambda kind: get_hub(kind))
        self.caller = Caller(self)
        self.pager: SearchPager | None = None
        self.pages: list[SearchPage] = []
        self.page_index = -1
        self.download: DownloadTask | None = None
        self.hub: Hub | None = None
        self.answered_at = 0.0

        top = QHBoxLayout()
        self.hub_combo = _combo([(label, kind) for label, kind in HUBS], tr("Where to look"))
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("Search models, e.g. qwen onnx, resnet, whisper…"))
        self.search.setClearButtonEnabled(True)
        self.search_button = QPushButton(tr("Search"))
        self.search_button.setDefault(True)
        self.sign_in_button = QPushButton(tr("Sign in…"))
        self.settings_button = QPushButton(tr("Settings…"))
        self.add_folder_button = QPushButton(tr("Add folder…"))
        self.add_folder_button.setToolTip(
            tr("A folder holding .onnx files or Hugging Face model folders (config.json + weights)")
        )
        for widget in (self.hub_combo, self.search):
            top.addWidget(widget, 1 if widget is self.search else 0)
        for widget in (
            self.search_button,
            self.add_folder_button,
            self.sign_in_button,
            self.settings_button,
        ):
            top.addWidget(widget)
        filters = QHBoxLayout()
        self.task = _combo(
            [(t or N_("Any task"), t or None) for t in TASKS],
            tr("What the model does (the hub's pipeline tag)"),
        )
        self.library = _combo(
            [(lib or N_("Any library"), lib or None) for lib in LIBRARIES],
            tr("Format or framework; 'onnx' models can be used directly"),
        )
        self.author = QLineEdit()
        self.author.setPlaceholderText(tr("Author (optional)"))
        self.author.setMaximumWidth(160)
        self.sort = _combo(SORTS, tr("Order of the results"))
        for widget in (self.task, self.library, self.author, self.sort):
            filters.addWidget(widget)
        filters.addStretch()
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.notice.setObjectName("factLabel")

        self.table = ResultsTable()
        self.prev_button = QPushButton(tr("◀ Previous"))
        self.next_button = QPushButton(tr("Next page ▶"))
        self.page_label = QLabel("")
        pages = QHBoxLayout()
        pages.addWidget(self.prev_button)
        pages.addStretch()
        pages.addWidget(self.page_label)
        pages.addStretch()
        pages.addWidget(self.next_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(pages)
        self.detail = HubDetail()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 4)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)

        self.search.returnPressed.connect(self.start_search)
        self.search_button.clicked.connect(self.start_search)
        for combo in (self.task, self.library, self.sort):
            combo.currentIndexChanged.connect(self._filters_changed)
        self.hub_combo.currentIndexChanged.connect(self._hub_changed)
        self.prev_button.clicked.connect(lambda: self._show_page(self.page_index - 1))
        self.next_button.clicked.connect(self.next_page)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.sign_in_button.clicked.connect(self._sign_in)
        self.settings_button.clicked.connect(self._settings)
        self.add_folder_button.clicked.connect(self._add_folder)
        self.detail.download_requested.connect(self.start_download)
        self.detail.cancel_requested.connect(self.cancel_download)
        self.detail.use_requested.connect(self._use)
        self._update_pages()
        app = QCoreApplication.instance()
        if app is not None:  # closing the app stops a download; its bytes stay for a resume
            app.aboutToQuit.connect(self._stop_download)
        self._hub_changed()

    # --- hub and search ------------------------------------------------------------------------
    def current_kind(self) -> HubKind:
        return self.hub_combo.currentData()  # type: ignore[no-any-return]

    def _hub_changed(self) -> None:
        self.hub = self.hub_factory(self.current_kind())
        reason = self.hub.unavailable_reason()
        kind = self.current_kind()
        self.sign_in_button.setVisible(kind == "huggingface")
        self.add_folder_button.setVisible(kind == "local")
        settings = load_settings()
        if reason:
            self.notice.setText(reason)
        elif self.current_kind() == "huggingface" and settings.is_offline():
            self.notice.setText(
                tr(
                    "Offline: showing only models already downloaded. "
                    "Turn it off in Settings to search the hub."
                )
            )
        elif kind == "huggingface":
            self.notice.setText(tr("Hub: {address}", address=settings.resolved_endpoint()))
        elif kind == "local" and not settings.local_folders:
            self.notice.setText(tr("Add a folder that holds your models to list them here."))
        else:
            self.notice.setText("")
        if reason is None and kind == "local":
            self.start_search()  # only reads this computer's folders
        elif reason is None:
            self.show_downloaded()

    def show_downloaded(self) -> None:
        """Before any search: the models already on this computer (no network needed)."""
        hub = self.hub
        assert hub is not None
        self.pages, self.page_index, self.pager = [], -1, None
        self.page_label.setText("")

        def work() -> tuple[None, SearchPage]:
            seen: dict[str, ModelHit] = {}
            for model in hub.cached():
                seen.setdefault(
                    model.id,
                    ModelHit(
                        id=model.id, size=model.size, cached=True, last_modified=model.last_used
                    ),
                )
            return None, SearchPage(hits=list(seen.values()), number=1, has_more=False)

        self.caller.call("search", work, self._first_page, self._search_failed)

    def _filters_changed(self) -> None:
        if self.pager is not None:
            self.start_search()

    def query(self) -> SearchQuery:
        return SearchQuery(
            text=self.search.text(),
            task=self.task.currentData(),
            library=self.library.currentData(),
            author=self.author.text().strip() or None,
            sort=self.sort.currentData(),
            page_size=20,
        )

    def start_search(self) -> None:
        hub = self.hub
        if hub is None or hub.unavailable_reason():
            return
        self.pages, self.page_index = [], -1
        self.table.setRowCount(0)
        self.page_label.setText(tr("Searching…"))
        query = self.query()

        def work() -> tuple[SearchPager, SearchPage]:
            pager = hub.search(query)
            return pager, pager.next_page()

        self.caller.call("search", work, self._first_page, self._search_failed)

    def _first_page(self, value: tuple[SearchPager | None, SearchPage]) -> None:
        self.pager, page = value
        self._add_page(page)

    def next_page(self) -> None:
        if self.page_index + 1 < len(self.pages):
            self._show_page(self.page_index + 1)
            return
        pager = self.pager
        if pager is None or not self.pages or not self.pages[-1].has_more:
            return
        self.next_button.setEnabled(False)
        self.page_label.setText(tr("Loading…"))
        self.caller.call("search", pager.next_page, self._add_page, self._search_failed)

    def _add_page(self, page: SearchPage) -> None:
        self.pages.append(page)
        self._show_page(len(self.pages) - 1)

    def _search_failed(self, message: str) -> None:
        self.page_label.setText("")
        self.notice.setText(message)
        self._update_pages()

    def _show_page(self, index: int) -> None:
        if not 0 <= index < len(self.pages):
            return
        self.page_index = index
        hits = self.pages[index].hits
        self.table.show_hits(hits)
        self._update_pages()
        if not hits and self.pager is None:
            self.page_label.setText(tr("No downloaded models yet — search above"))
        elif not hits:
            self.page_label.setText(tr("No models found — try fewer words or other filters"))
        self.results_shown.emit(len(hits))

    def _update_pages(self) -> None:
        has_pages = bool(self.pages)
        self.prev_button.setEnabled(self.page_index > 0)
        more = has_pages and (self.page_index + 1 < len(self.pages) or self.pages[-1].has_more)
        self.next_button.setEnabled(bool(more))
        self.page_label.setText(
            tr("Page {number}", number=self.page_index + 1) if has_pages else ""
        )

    # --- details -------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        repo = self.table.selected_repo()
        if repo:
            self.show_details(repo)

    def show_details(self, repo: str) -> None:
        hub = self.hub
        if hub is None:
            return
        budget, target_name = self.target()
        self.detail.show_loading(repo)

        def work() -> tuple[ModelDetails, str]:
            details = hub.info(repo, memory_budget=budget)
            try:
                card = hub.card(repo)
            except Exception:  # the card is a nicety; details without it are still useful
                card = ""
            return details, card

        def done(value: tuple[ModelDetails, str]) -> None:
            details, card = value
            self.detail.show_details(details, target_name, budget is not None)
            self.detail.show_card(card)
            self.details_shown.emit(details.id)
            if details.hub == "local":  # nothing to fetch: check it and offer "Use" at once
                self.start_download(details.id, [])

        self.caller.call("details", work, done, self.detail.show_error)

    # --- download ------------------------------------------------------------------------------
    def start_download(self, repo: str, include: list[str]) -> None:
        hub = self.hub
        if hub is None or (self.download is not None and self.download.running):
            return

        def fetch(on_transfer: Any, cancel: Any) -> DownloadResult:
            return hub.download(
                repo, include=include or None, on_transfer=on_transfer, cancel=cancel
            )

        task = DownloadTask(fetch, self)
        task.transfer.connect(self.detail.show_transfer)
        task.succeeded.connect(self.detail.show_result)
        task.failed.connect(lambda message: self.detail.status.setText(message))
        task.cancelled.connect(
            lambda: self.detail.status.setText(
                tr("Cancelled. What was downloaded is kept; Download again to continue from there.")
            )
        )
        task.finished.connect(lambda: self.detail.set_downloading(False))
        self.download = task
        self.detail.set_downloading(True)
        self.detail.status.setText(tr("Starting…"))
        task.start()

    def _stop_download(self) -> None:
        if self.download is not None:
            self.download.cancel()

    def cancel_download(self) -> None:
        if self.download is not None:
            self.download.cancel()
            self.detail.status.setText(tr("Cancelling…"))

    def _use(self, result: DownloadResult | None) -> None:
        if result is not None:
            self.model_chosen.emit(result)

    # --- dialogs -------------------------------------------------------------------------------
    def _sign_in(self) -> None:
        from studio.ui.pages.model.hub_dialogs import SignInDialog

        SignInDialog(self.caller, self).exec()
        self._hub_changed()

    def _add_folder(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, tr("A folder holding your models"))
        if folder:
            self.add_local_folder(folder)

    def add_local_folder(self, folder: str) -> None:
        from studio.core.hubs import save_settings

        settings = load_settings()
        if folder not in settings.local_folders:
            settings.local_folders = [*settings.local_folders, folder]
            save_settings(settings)
        self._hub_changed()

    def _settings(self) -> None:
        from studio.ui.pages.model.hub_dialogs import HubSettingsDialog

        if HubSettingsDialog(load_settings(), self).exec():
            self._hub_changed()

    def shutdown(self) -> None:
        """Stop background work (window closing, tests)."""
        if self.download is not None:
            self.download.cancel()
        self.caller.wait(10_000)
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(10_000)
