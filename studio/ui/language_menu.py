"""The Language menu: follow the system, English or 简体中文; remembered, applied on restart."""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from studio.ui.i18n import (
    LANGUAGES,
    N_,
    current_language,
    load_catalogue,
    save_language,
    saved_language,
    system_language,
    tr,
)

RESTART_NOTE = N_("The new language is used the next time you start the studio.")


def note_in(language: str) -> str:
    """The restart note in ``language`` (the user just picked it, so they can read it)."""
    try:
        found = load_catalogue(language).get(RESTART_NOTE, RESTART_NOTE)
    except (OSError, ValueError):
        return RESTART_NOTE
    return found if isinstance(found, str) else RESTART_NOTE


class LanguageMenu(QMenu):
    """Bilingual title on purpose: someone stuck in a language they cannot read still finds it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("语言 / Language", parent)
        self.setObjectName("languageMenu")
        group = QActionGroup(self)
        saved = saved_language()
        self.choices: dict[str | None, QAction] = {}
        options: list[tuple[str | None, str]] = [(None, tr("Follow the system"))]
        options += list(LANGUAGES.items())
        for code, name in options:
            action = QAction(name, self, checkable=True)
            action.setChecked(code == saved)
            action.triggered.connect(lambda _=False, c=code: self.choose(c))
            group.addAction(action)
            self.addAction(action)
            self.choices[code] = action

    def choose(self, language: str | None) -> None:
        save_language(language)
        effective = language or system_language(QLocale.system().uiLanguages())
        if effective == current_language():
            return
        lines = dict.fromkeys([tr(RESTART_NOTE), note_in(effective)])  # once if they are equal
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "语言 / Language",
            "\n".join(lines),
            QMessageBox.StandardButton.Ok,
            self.parentWidget(),
        )
        box.setObjectName("languageRestartNote")
        box.open()
