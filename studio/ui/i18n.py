"""The GUI's languages: wrap every user-visible string in ``tr()``; catalogues are JSON files.

How to use it (the whole API):

    from studio.ui.i18n import tr, trn, N_

    QPushButton(tr("Open folder…"))
    label.setText(tr("{ms:.3f} ms per run on this PC", ms=run.latency_ms))
    label.setText(trn("{n} file", "{n} files", count))   # {n} is filled in for you
    TITLE = N_("Model")   # a module-level constant: marked here, translated where shown: tr(TITLE)

Placeholders are ``str.format`` fields filled from keyword arguments, never concatenation, so a
translation can move them. The English text is the key: ``assets/translations/zh_CN.json`` maps
it to the Chinese text (``trn`` entries are keyed by the singular; Chinese has one form; a language
with plural forms may give a list ``[one, other]``). tests/test_i18n.py fails when a wrapped
string has no entry or a visible literal is not wrapped.

The language is chosen once at start-up (``studio --lang``, ``STUDIO_LANG``, the saved choice from
the "语言 / Language" menu, then the system locale) and applies on the next start when changed.
Core's messages with an id (studio/core/messages) are shown by studio/ui/messages.py in the
current language; of core's plain English, only the fixed sentences listed in
studio/ui/core_texts.py are translated (``tr_core(text)``).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from studio.core.paths import assets_dir, config_dir

ENGLISH = "en"
CHINESE = "zh_CN"
# Each language's name in itself, so anyone can find theirs in the menu.
LANGUAGES: dict[str, str] = {ENGLISH: "English", CHINESE: "简体中文"}
ENV_VAR = "STUDIO_LANG"
SETTINGS_FILE = "language.json"

_catalogue: dict[str, str | list[str]] = {}
_language = ENGLISH


def N_(text: str) -> str:
    """Mark a string for translation where it is defined; call ``tr(value)`` where it is shown."""
    return text


def tr(text: str, /, **values: Any) -> str:
    """``text`` in the current language, with ``{name}`` fields filled from ``values``."""
    found = _catalogue.get(text, text)
    translated = found if isinstance(found, str) else found[-1]
    return translated.format(**values) if values else translated


def trn(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """Text that depends on a count ``n``; ``{n}`` and any ``values`` are filled in."""
    found = _catalogue.get(singular)
    if found is None:
        chosen = singular if n == 1 else plural
    elif isinstance(found, str):
        chosen = found
    else:
        chosen = found[0] if n == 1 else found[-1]
    return chosen.format(n=n, **values)


def tr_core(text: str) -> str:
    """A fixed sentence studio/core produced, translated when studio/ui/core_texts.py lists it;
    otherwise the English sentence unchanged. (Sentences with fields are messages with an id:
    studio/ui/messages.py.)"""
    return tr(text) if text else text


def join_sentences(sentences: list[str]) -> str:
    """Sentences one after another: a space between them in English, none in Chinese."""
    gap = "" if _language == CHINESE else " "
    return gap.join(s for s in sentences if s)


def current_language() -> str:
    return _language


def catalogue_path(language: str) -> Path:
    return assets_dir() / "translations" / f"{language}.json"


def load_catalogue(language: str) -> dict[str, str | list[str]]:
    """The catalogue of ``language`` (English needs none)."""
    if language == ENGLISH:
        return {}
    data = json.loads(catalogue_path(language).read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("@")}


def set_language(language: str) -> None:
    """Switch the catalogue used by ``tr``; widgets built afterwards use it."""
    global _catalogue, _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    try:
        catalogue = load_catalogue(language)
    except (OSError, ValueError):
        # A broken install shows English rather than no window at all.
        logging.getLogger("studio").exception("could not load the %s translation", language)
        language, catalogue = ENGLISH, {}
    _catalogue, _language = catalogue, language


def normalize(name: str | None) -> str | None:
    """``zh``, ``zh_CN``, ``zh-Hans-CN``, ``zh_CN.UTF-8`` → ``zh_CN``; ``en_US`` → ``en``."""
    if not name:
        return None
    lowered = name.strip().replace("-", "_").lower()
    if lowered in ("c", "posix"):
        return ENGLISH
    if lowered.startswith("zh"):
        return CHINESE
    if lowered.startswith("en"):
        return ENGLISH
    return None


def saved_language() -> str | None:
    """The choice made in the app's Language menu, if any (None: follow the system)."""
    try:
        data = json.loads((config_dir() / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("language") if isinstance(data, dict) else None
    return value if value in LANGUAGES else None


def save_language(language: str | None) -> None:
    """Remember the choice for the next start; None means follow the system again."""
    path = config_dir() / SETTINGS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"language": language}), encoding="utf-8")
    tmp.replace(path)


def system_language(locale_names: list[str]) -> str:
    """``locale_names``: the system's UI languages, most preferred first (QLocale.uiLanguages)."""
    for name in locale_names:
        language = normalize(name)
        if language is not None:
            return language
    return ENGLISH


def choose_language(requested: str | None, locale_names: list[str]) -> str:
    """``--lang`` first, then ``STUDIO_LANG``, then the saved choice, then the system locale."""
    for candidate in (requested, os.environ.get(ENV_VAR)):
        language = normalize(candidate)
        if language is not None:
            return language
    return saved_language() or system_language(locale_names)
