"""Sign-in and hub settings dialogs. They call core functions; nothing here touches the network
on the main thread except through the Caller."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.hubs.settings import KNOWN_MIRRORS, HubSettings, save_settings
from studio.core.hubs.tokens import delete_token, token_status
from studio.ui.background import Caller
from studio.ui.i18n import N_, tr, tr_core
from studio.ui.messages import show, shown_error


class SignInDialog(QDialog):
    """Paste a token once; it goes to the OS keyring (or this session only, and we say so)."""

    def __init__(self, caller: Caller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Sign in to Hugging Face"))
        self.caller = caller
        layout = QVBoxLayout(self)
        intro = QLabel(
            tr(
                "Some models are gated: you accept their terms on the hub's website, then sign in "
                "here with an access token (huggingface.co → Settings → Access Tokens, 'read' is "
                "enough). The token is kept in your system's keyring, never in a file."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("hf_…")
        layout.addWidget(self.token)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.sign_in = QPushButton(tr("Sign in"))
        self.sign_in.setDefault(True)
        self.sign_out = QPushButton(tr("Sign out"))
        close = QPushButton(tr("Close"))
        buttons.addWidget(self.sign_out)
        buttons.addStretch()
        buttons.addWidget(close)
        buttons.addWidget(self.sign_in)
        layout.addLayout(buttons)
        self.sign_in.clicked.connect(self._sign_in)
        self.sign_out.clicked.connect(self._sign_out)
        close.clicked.connect(self.accept)
        self._show_status()

    def _show_status(self) -> None:
        status = token_status()
        text = tr(
            {
                "keyring": N_("You are signed in (token in the system keyring)."),
                "session": N_("You are signed in for this session only."),
                "environment": N_("Using the token from the HF_TOKEN environment variable."),
                "none": N_("You are not signed in."),
            }[status.where]
        )
        if status.note:
            note = show(status.note_message) if status.note_message else tr_core(status.note)
            text += "\n" + note + tr(".")
        self.status.setText(text)
        self.sign_out.setEnabled(status.where in ("keyring", "session"))

    def _sign_in(self) -> None:
        from studio.core.hubs.auth import sign_in

        token = self.token.text().strip()
        if not token:
            self.status.setText(tr("Paste your token first."))
            return
        self.sign_in.setEnabled(False)
        self.status.setText(tr("Checking the token with the hub…"))

        def done(value: object) -> None:
            _status, user = value  # type: ignore[misc]
            self.token.clear()
            self.sign_in.setEnabled(True)
            self._show_status()
            if user:
                self.status.setText(
                    tr("Signed in as {user}. {status}", user=user, status=self.status.text())
                )

        def failed(message: str) -> None:
            self.sign_in.setEnabled(True)
            self.status.setText(message)

        self.caller.call("sign-in", lambda: sign_in(token), done, failed)

    def _sign_out(self) -> None:
        delete_token()
        self._show_status()


class HubSettingsDialog(QDialog):
    """Which hub address to use (a mirror for users in China) and whether to stay offline."""

    def __init__(self, settings: HubSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Hub settings"))
        self.settings = settings
        form = QFormLayout()
        self.endpoint = QComboBox()
        self.endpoint.setEditable(True)
        for name, url in KNOWN_MIRRORS.items():
            self.endpoint.addItem(f"{url}   ({name})", url)
        self.endpoint.setCurrentText(settings.endpoint or KNOWN_MIRRORS["Hugging Face"])
        self.endpoint.setToolTip(
            tr(
                "Where models are searched and downloaded from. A mirror speaks "
                "the same language as huggingface.co and is often faster in China."
            )
        )
        self.offline = QCheckBox(tr("Work offline (use only models already downloaded)"))
        self.offline.setChecked(settings.offline)
        form.addRow(tr("Hub address"), self.endpoint)
        form.addRow("", self.offline)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #c62828")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        note = QLabel(tr("HF_ENDPOINT and HF_HUB_OFFLINE, when set, take precedence."))
        note.setObjectName("factLabel")
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def endpoint_text(self) -> str:
        text = self.endpoint.currentText().strip()
        index = self.endpoint.findText(text)
        if index >= 0:
            return str(self.endpoint.itemData(index))
        return text.split()[0] if text else ""

    def _save(self) -> None:
        try:
            endpoint = self.endpoint_text()
            default = KNOWN_MIRRORS["Hugging Face"]
            self.settings = self.settings.model_copy(update={"offline": self.offline.isChecked()})
            self.settings.endpoint = None if endpoint in ("", default) else endpoint
            save_settings(self.settings)
        except (StudioError, ValueError) as exc:
            message = shown_error(exc) if isinstance(exc, StudioError) else _first_error(exc)
            self.error.setText(message)
            return
        self.accept()


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return tr("Hub address: {problem}", problem=first["msg"].removeprefix("Value error, "))
    return str(exc)
