"""The Chinese UI: every wrapped string has a translation, nothing visible is left unwrapped,
the language is chosen the documented way, and the window in Chinese is not clipped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from studio.ui import i18n
from studio.ui.i18n import CHINESE, ENGLISH, N_, tr, trn
from studio.ui.i18n_scan import formatted_wrappers, unwrapped_literals, wrapped_strings
from tests.conftest import REPO

UI = REPO / "studio" / "ui"
FIELD = re.compile(r"\{(\w*)[^{}]*\}")
TAG = re.compile(r"</?\w+[^>]*>")


def _catalogue() -> dict[str, str]:
    return i18n.load_catalogue(CHINESE)  # type: ignore[return-value]


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language(CHINESE)
    yield
    i18n.set_language(ENGLISH)


def test_every_wrapped_string_has_a_chinese_translation() -> None:
    catalogue = _catalogue()
    missing = sorted(
        {f"{f.file}:{f.line}: {f.text!r}" for f in wrapped_strings(UI) if not catalogue.get(f.text)}
    )
    assert not missing, "add these to assets/translations/zh_CN.json:\n" + "\n".join(missing)


def test_the_catalogue_has_no_stale_entries() -> None:
    keys = {f.text for f in wrapped_strings(UI)}
    stale = sorted(set(_catalogue()) - keys)
    assert not stale, "no longer used (scripts/update_translations.py --write drops them):\n" + (
        "\n".join(map(repr, stale))
    )


def test_translations_keep_every_placeholder_and_tag() -> None:
    for english, chinese in _catalogue().items():
        assert sorted(FIELD.findall(english)) == sorted(FIELD.findall(str(chinese))), english
        assert sorted(TAG.findall(english)) == sorted(TAG.findall(str(chinese))), english


def test_no_visible_literal_is_left_unwrapped() -> None:
    found = [f"{f.file}:{f.line}: {f.text!r}" for f in unwrapped_literals(UI)]
    assert not found, "wrap these in tr() (studio/ui/i18n.py):\n" + "\n".join(found)


def test_no_wrapper_gets_an_already_formatted_string() -> None:
    found = [f"{f.file}:{f.line}: {f.text}" for f in formatted_wrappers(UI)]
    assert not found, 'use tr("… {name} …", name=value), not tr(f"…"):\n' + "\n".join(found)


def test_the_scanner_catches_what_it_should(tmp_path) -> None:
    (tmp_path / "page.py").write_text(
        "QPushButton('Open folder')\n"
        "label.setToolTip(f'{n} layers')\n"
        "tabs.addTab(widget, 'Charts')\n"
        "QLabel(tr('Fine'))\n"
        "QLabel(f'{ms:.1f} ms')\n"
        "QMenu('语言 / Language')\n"
        "tr(f'{x} done')\n"
        "big_label('', 'hugeValue')\n"
        "badges.setText(f\"<span style='color:{c}'>{m}</span>\")\n"
        'badges.setText(f"<b>{m}</b> files")\n'
        "log.warning('reader did not end')\n"
        "def ready(self):\n    return False, 'Measuring…'\n",
        encoding="utf-8",
    )
    assert sorted(f.text for f in unwrapped_literals(tmp_path)) == [
        " layers",
        "<b></b> files",
        "Charts",
        "Measuring…",
        "Open folder",
    ]
    assert [f.text for f in wrapped_strings(tmp_path)] == ["Fine"]
    assert len(formatted_wrappers(tmp_path)) == 1


def test_tr_fills_placeholders_and_falls_back_to_english(chinese: None) -> None:
    assert tr("Cancel") == "取消"
    assert tr("Loaded from {path}", path="/m.onnx") == "已从 /m.onnx 加载"
    assert tr("A sentence nobody translated {x}", x=1) == "A sentence nobody translated 1"
    assert N_("Cancel") == "Cancel"


def test_trn_picks_the_english_plural_and_the_single_chinese_form() -> None:
    assert trn("{n} file", "{n} files", 1) == "1 file"
    assert trn("{n} file", "{n} files", 3) == "3 files"
    i18n._catalogue = {
        "{n} file": "{n} 个文件",
        "{n} run of {what}": ["{n} run: {what}", "{n} runs: {what}"],
    }
    try:
        assert trn("{n} file", "{n} files", 3) == "3 个文件"
        assert trn("{n} run of {what}", "{n} runs of {what}", 2, what="x") == "2 runs: x"
    finally:
        i18n.set_language(ENGLISH)


def test_language_order_is_flag_env_saved_then_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    assert i18n.choose_language(None, ["zh-Hans-CN", "en-US"]) == CHINESE
    assert i18n.choose_language(None, ["zh-TW"]) == CHINESE
    assert i18n.choose_language(None, ["de-DE", "en-GB"]) == ENGLISH
    assert i18n.choose_language(None, ["fr-FR"]) == ENGLISH
    i18n.save_language(CHINESE)
    assert i18n.choose_language(None, ["en-US"]) == CHINESE
    monkeypatch.setenv(i18n.ENV_VAR, "en_US.UTF-8")
    assert i18n.choose_language(None, ["zh-CN"]) == ENGLISH
    assert i18n.choose_language("zh_CN", ["en-US"]) == CHINESE
    i18n.save_language(None)
    monkeypatch.delenv(i18n.ENV_VAR)
    assert i18n.choose_language(None, ["en-US"]) == ENGLISH


def test_a_damaged_language_setting_means_follow_the_system() -> None:
    from studio.core.paths import config_dir

    (config_dir() / i18n.SETTINGS_FILE).write_text("{not json", encoding="utf-8")
    assert i18n.saved_language() is None
    (config_dir() / i18n.SETTINGS_FILE).write_text(json.dumps({"language": "xx"}), encoding="utf-8")
    assert i18n.saved_language() is None


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        i18n.set_language("klingon")
    result = subprocess.run(
        [sys.executable, "-m", "studio", "--lang", "klingon"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "invalid choice: 'klingon'" in result.stderr


def test_studio_lang_opens_the_app_in_that_language(monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.ui.app
    from studio.cli import main

    opened: list[str | None] = []
    monkeypatch.setattr(studio.ui.app, "run_gui", lambda lang=None: opened.append(lang) or 0)
    assert main(["--lang", "zh_CN"]) == 0
    assert opened == ["zh_CN"]


def test_qt_translations_for_standard_dialogs_are_loaded(qapp) -> None:
    from PySide6.QtCore import QCoreApplication, QLocale

    from studio.ui.app import install_qt_translations

    translators = install_qt_translations(qapp, CHINESE)
    try:
        assert translators, "the PySide6 wheel should ship qtbase_zh_CN.qm"
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"


def test_main_window_in_chinese_shows_chinese_steps_and_unclipped_buttons(qtbot, chinese) -> None:
    from PySide6.QtWidgets import QApplication, QPushButton

    from studio.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    try:
        steps = [win.steps.item(i).text() for i in range(win.steps.count())]
        assert steps == ["1  模型", "2  目标芯片", "3  优化", "4  分析", "5  部署", "6  演示"]
        assert win.next_button.text() == "下一步(&N)"
        assert win.back_button.text() == "上一步(&B)"
        assert win.pages[0].findChild(type(win.pages[0].demo_button)).text() == "使用演示模型"
        assert win.menuBar().actions()[0].text() == "文件(&F)"
        qtbot.waitUntil(lambda: win.next_button.isEnabled(), timeout=60_000)
        # Every step's own buttons get their full width in Chinese (shown without starting jobs).
        checked = 0
        for index, page in enumerate(win.pages):
            win.stack.setCurrentIndex(index)
            QApplication.processEvents()
            for button in page.findChildren(QPushButton):
                if button.isVisible():
                    assert button.width() >= button.sizeHint().width(), (index, button.text())
                    checked += 1
        assert checked >= 10
        # …and no step needs much more room in Chinese than in English.
        chinese_widths = [page.minimumSizeHint().width() for page in win.pages]
        i18n.set_language(ENGLISH)
        english = MainWindow()
        qtbot.addWidget(english)
        try:
            english_widths = [page.minimumSizeHint().width() for page in english.pages]
        finally:
            english.jobs.shutdown()
        for step, (zh, en) in enumerate(zip(chinese_widths, english_widths, strict=True)):
            assert zh <= en * 1.05 + 20, f"step {step + 1}: {zh} px in Chinese, {en} in English"
        win.stack.setCurrentIndex(0)
        for text in steps:  # step names fit the fixed-width step list (item padding 8 px a side)
            assert win.steps.fontMetrics().horizontalAdvance(text) + 16 < win.steps.width()
    finally:
        win.jobs.shutdown()
        # The window warms heavy imports up in a thread; let it finish before the process ends.
        for thread in threading.enumerate():
            if thread.name == "studio-warm-up":
                thread.join(60)


def test_language_menu_remembers_the_choice_and_says_when_it_applies(qtbot) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

    from studio.ui.language_menu import LanguageMenu

    parent = QWidget()
    qtbot.addWidget(parent)
    menu = LanguageMenu(parent)
    assert [a.text() for a in menu.actions()] == ["Follow the system", "English", "简体中文"]
    menu.choices[CHINESE].trigger()
    assert i18n.saved_language() == CHINESE
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    note = next(b for b in boxes if b.objectName() == "languageRestartNote")
    assert "next time you start" in note.text() and "下次启动" in note.text()
    note.close()
    menu.choices[None].trigger()
    assert i18n.saved_language() is None


def test_core_texts_shown_translated_still_exist_in_core() -> None:
    import ast

    from studio.ui.core_texts import (
        METHOD_TEXTS,
        OPTION_TEXTS,
        PRESET_TEXTS,
        RESULT_TEXTS,
    )

    constants: set[str] = set()
    templates: list[re.Pattern[str]] = []  # f"Fastest on {unit}" → Fastest on (.*)
    for path in (REPO / "studio" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                parts = [
                    re.escape(v.value) if isinstance(v, ast.Constant) else "(.*)"
                    for v in node.values
                ]
                literal = sum(len(v.value) for v in node.values if isinstance(v, ast.Constant))
                if literal >= 8:  # f"{a}: {b}" would match anything
                    templates.append(re.compile("".join(parts)))
    reworded = [
        text
        for text in PRESET_TEXTS + METHOD_TEXTS + OPTION_TEXTS + RESULT_TEXTS
        if text not in constants and not any(t.fullmatch(text) for t in templates)
    ]
    assert not reworded, "core no longer says these; update studio/ui/core_texts.py:\n" + (
        "\n".join(reworded)
    )


def test_every_optimize_option_has_a_translated_name_and_tooltip(chinese: None) -> None:
    from studio.core.compress import METHOD_LABELS, Method, method_params
    from studio.ui.pages.optimize.optimize_advanced import SKIP, friendly

    untranslated = [
        f"method label {label!r}" for label in METHOD_LABELS.values() if tr(label) == label
    ]
    for method in Method:
        for param in method_params(method):
            if param.name in SKIP:
                continue
            shown = friendly(param.name).split(" · ")[-1]
            if not re.search(r"[\u3400-\u9fff]", shown):
                untranslated.append(f"{param.name}: name {shown!r}")
            if tr(param.description) == param.description:
                untranslated.append(f"{param.name}: tooltip {param.description!r}")
    assert not untranslated, "add to studio/ui/core_texts.py and zh_CN.json:\n" + "\n".join(
        untranslated
    )


def test_fixed_core_sentences_are_translated(chinese: None) -> None:
    from studio.ui.i18n import tr_core

    assert tr_core("same size") == "大小不变"
    unknown = "A sentence core says that nobody listed"
    assert tr_core(unknown) == unknown
    i18n.set_language(ENGLISH)
    assert tr_core("same size") == "same size"
