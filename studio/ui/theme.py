"""Fusion style with one restrained accent colour; follows the system's light or dark scheme."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#2f6fde"

STYLE = """
QLabel#pageTitle { font-size: 20pt; font-weight: 600; }
QLabel#pageIntro { font-size: 11pt; color: palette(mid); }
QLabel#cardTitle { font-size: 14pt; font-weight: 600; }
QLabel#bigValue { font-size: 15pt; font-weight: 600; }
QLabel#hugeValue { font-size: 22pt; font-weight: 700; }
QLabel#factLabel { color: palette(mid); }
QLabel#factValue { font-size: 13pt; font-weight: 600; }
QLabel#readyReason { color: palette(mid); }
QFrame#card { border: 1px solid palette(midlight); border-radius: 8px; background: palette(base); }
QPushButton#primaryButton, QPushButton#nextButton {
    background: ACCENT_COLOR; color: white; border: none; border-radius: 5px; padding: 6px 16px;
}
QPushButton#primaryButton:disabled, QPushButton#nextButton:disabled { background: palette(mid); }
QListWidget#stepList { font-size: 12pt; border: none; background: transparent; }
QListWidget#stepList::item { padding: 10px 8px; border-radius: 5px; }
QListWidget#stepList::item:selected { background: ACCENT_COLOR; color: white; }
""".replace("ACCENT_COLOR", ACCENT)


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    scheme = QGuiApplication.styleHints().colorScheme()
    palette = app.palette()
    from PySide6.QtCore import Qt

    if scheme == Qt.ColorScheme.Dark:
        palette.setColor(QPalette.ColorRole.Mid, QColor("#9aa0a6"))
    else:
        palette.setColor(QPalette.ColorRole.Mid, QColor("#5f6368"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    app.setPalette(palette)
    font = app.font()
    # Noto Sans CJK (or the platform's CJK font) renders Chinese; Qt falls back automatically.
    font.setFamilies([font.family(), "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC"])
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    app.setFont(font)
    app.setStyleSheet(STYLE)
