"""The hub browser as a person uses it, against the loopback hub: search, details, download."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.hubs import hf_cache, tokens
from studio.core.hubs.hf_context import hf_cache_dir
from studio.core.hubs.settings import load_settings
from studio.ui.pages.model.hub_browser import HubBrowser
from tests.support.hub_fixtures import *  # noqa: F403

WAIT = 10_000


@pytest.fixture
def browser(qtbot, hub_server, memory_keyring, monkeypatch) -> Iterator[HubBrowser]:
    monkeypatch.setenv("HF_ENDPOINT", hub_server.endpoint)
    widget = HubBrowser(target=lambda: (8 * 1024**3, "Test phone"))
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    yield widget
    widget.shutdown()


def search(qtbot, browser: HubBrowser, text: str) -> None:
    browser.search.setText(text)
    with qtbot.waitSignal(browser.results_shown, timeout=WAIT):
        browser.search_button.click()


def rows(browser: HubBrowser) -> list[str]:
    return [browser.table.item(r, 0).text() for r in range(browser.table.rowCount())]


def select(qtbot, browser: HubBrowser, repo: str) -> None:
    row = [r.split()[0] for r in rows(browser)].index(repo)
    with qtbot.waitSignal(browser.details_shown, timeout=WAIT):
        browser.table.selectRow(row)


def test_search_filters_and_pages(qtbot, browser: HubBrowser, hub_server) -> None:
    hub_server.hub.page_size = 2
    search(qtbot, browser, "text")
    assert rows(browser) == ["acme/text-4", "acme/text-3"]
    assert browser.next_button.isEnabled() and not browser.prev_button.isEnabled()
    with qtbot.waitSignal(browser.results_shown, timeout=WAIT):
        browser.next_button.click()
    assert rows(browser) == ["acme/text-2", "acme/text-1"]
    assert browser.page_label.text() == "Page 2"
    requests = hub_server.hub.count("GET", "^/api/models$")
    with qtbot.waitSignal(browser.results_shown, timeout=WAIT):
        browser.prev_button.click()  # an earlier page is shown from memory
    assert rows(browser)[0] == "acme/text-4"
    assert hub_server.hub.count("GET", "^/api/models$") == requests
    hub_server.hub.page_size = 1000
    browser.search.setText("")
    with qtbot.waitSignal(browser.results_shown, timeout=WAIT):
        browser.library.setCurrentIndex(browser.library.findData("onnx"))
    assert rows(browser) == ["acme/tiny-mlp", "bigco/gated-llm  (gated)", "acme/big"]


def test_detail_shows_card_license_params_memory_and_files(qtbot, browser: HubBrowser) -> None:
    search(qtbot, browser, "tiny")
    select(qtbot, browser, "acme/tiny-mlp")
    detail = browser.detail
    assert "License: <b>mit</b>" in detail.badges.text() and "Open access" in detail.badges.text()
    assert detail.facts["Parameters"].text() == "65.8K"
    assert "Fits" in detail.memory.text() and "Test phone" in detail.memory.text()
    assert "Tiny MLP" in detail.card.toPlainText()
    files = [detail.files.item(r, 0).text() for r in range(detail.files.rowCount())]
    assert "onnx/model.onnx" in files
    assert detail.include.text() == "onnx/*"


def test_gated_model_says_so_in_details_and_on_download(qtbot, browser: HubBrowser) -> None:
    search(qtbot, browser, "gated")
    select(qtbot, browser, "bigco/gated-llm")
    assert "Gated" in browser.detail.badges.text()
    browser.detail.include.clear()
    browser.detail.download_button.click()
    qtbot.waitUntil(lambda: "gated" in browser.detail.status.text(), timeout=WAIT)
    assert "Request access" in browser.detail.status.text()


def test_download_with_cancel_then_resume_and_use(qtbot, browser: HubBrowser, hub_server) -> None:
    hub_server.hub.bytes_per_second = 4 * 1024 * 1024
    search(qtbot, browser, "big")
    select(qtbot, browser, "acme/big")
    detail = browser.detail
    with qtbot.waitSignal(detail.bar.valueChanged, timeout=WAIT):
        detail.download_button.click()
    assert detail.cancel_button.isVisible() and not detail.download_button.isEnabled()
    qtbot.waitUntil(lambda: detail.bar.value() > 0, timeout=WAIT)  # a first chunk is in
    assert " of 6.0 MB" in detail.status.text() and "/s" in detail.status.text()
    assert browser.download is not None
    with qtbot.waitSignal(browser.download.cancelled, timeout=WAIT):
        detail.cancel_button.click()
    qtbot.waitUntil(lambda: detail.download_button.isEnabled(), timeout=WAIT)
    assert "Cancelled" in detail.status.text() and not detail.cancel_button.isVisible()
    storage = hf_cache.repo_folder(hf_cache_dir(), "acme/big")
    partial = list((storage / "blobs").glob("*.incomplete"))
    assert partial and partial[0].stat().st_size > 0
    assert not detail.use_button.isEnabled()

    hub_server.hub.bytes_per_second = None
    detail.download_button.click()
    qtbot.waitUntil(lambda: detail.status.text().startswith("Downloaded 1 file"), timeout=WAIT)
    assert detail.use_button.isEnabled()
    with qtbot.waitSignal(browser.model_chosen, timeout=WAIT) as chosen:
        detail.use_button.click()
    assert chosen.args[0].repo == "acme/big" and chosen.args[0].complete


def test_browser_lists_downloaded_models_before_any_search(
    qtbot, hub_server, memory_keyring, monkeypatch, hf_hub
) -> None:
    hf_hub.download("acme/text-2")
    monkeypatch.setenv("HF_ENDPOINT", hub_server.endpoint)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    widget = HubBrowser()
    qtbot.addWidget(widget)
    try:
        qtbot.waitUntil(lambda: rows(widget) == ["acme/text-2  ✓"], timeout=WAIT)
        assert "Offline" in widget.notice.text()
    finally:
        widget.shutdown()


def test_sign_in_dialog_checks_and_stores_the_token(
    qtbot, browser: HubBrowser, memory_keyring
) -> None:
    from studio.ui.pages.model.hub_dialogs import SignInDialog

    dialog = SignInDialog(browser.caller, browser)
    qtbot.addWidget(dialog)
    assert "not signed in" in dialog.status.text()
    dialog.token.setText("hf_wrong")
    dialog.sign_in.click()
    qtbot.waitUntil(lambda: "rejected" in dialog.status.text(), timeout=WAIT)
    assert not memory_keyring.store
    dialog.token.setText("hf_good")
    dialog.sign_in.click()
    qtbot.waitUntil(lambda: "Signed in as alice" in dialog.status.text(), timeout=WAIT)
    assert memory_keyring.store[(tokens.SERVICE, "huggingface")] == "hf_good"
    assert dialog.token.text() == "" and dialog.sign_out.isEnabled()
    dialog.sign_out.click()
    assert not memory_keyring.store and "not signed in" in dialog.status.text()


def test_settings_dialog_refuses_a_bad_address_and_saves_a_mirror(qtbot) -> None:
    from studio.core.hubs.settings import HubSettings
    from studio.ui.pages.model.hub_dialogs import HubSettingsDialog

    dialog = HubSettingsDialog(HubSettings())
    qtbot.addWidget(dialog)
    dialog.endpoint.setCurrentText("not a url")
    dialog._save()
    assert "web address" in dialog.error.text() and load_settings().endpoint is None
    dialog.endpoint.setCurrentText("https://hf-mirror.com")
    dialog.offline.setChecked(True)
    dialog._save()
    assert load_settings().endpoint == "https://hf-mirror.com" and load_settings().offline


def test_model_page_takes_a_hub_model_into_the_recipe(
    qtbot, hub_server, memory_keyring, monkeypatch, hf_hub
) -> None:
    from studio.ui.pages.model.model_page import ModelPage
    from studio.ui.state import WizardState

    monkeypatch.setenv("HF_ENDPOINT", hub_server.endpoint)
    result = hf_hub.download("acme/tiny-mlp", include=["onnx/*"])
    state = WizardState()
    page = ModelPage(state)
    qtbot.addWidget(page)
    try:
        assert page.tabs.tabText(1) == "Find a model online"
        page.tabs.setCurrentIndex(1)
        with qtbot.waitSignal(state.model_changed, timeout=WAIT):
            page.hub_browser.model_chosen.emit(result)
        model = state.recipe.model
        assert (model.source, model.repo, model.file) == (
            "huggingface",
            "acme/tiny-mlp",
            "onnx/model.onnx",
        )
        assert model.revision == result.commit  # pinned: the recipe replays the same bytes
        assert state.summary.parameter_count == 16 * 32 + 32 + 32 * 4
        assert page.tabs.currentIndex() == 0
        requests = len(hub_server.hub.requests)
        assert state.model_path() == Path(result.path) / "onnx/model.onnx"
        assert len(hub_server.hub.requests) == requests  # a pinned commit needs no network
        with qtbot.waitSignal(state.model_changed, timeout=WAIT):
            page.use_model("demo", None)
        assert state.recipe.model.source == "demo" and state.recipe.model.repo is None
        # Open .onnx file… (above the tabs) while the hub tab shows: the card comes to the front.
        page.tabs.setCurrentIndex(1)
        with qtbot.waitSignal(state.model_changed, timeout=WAIT):
            page.use_model("local", Path(result.path) / "onnx/model.onnx")
        assert page.tabs.currentWidget() is page.card
    finally:
        page.hub_browser.shutdown()


def test_local_folder_models_are_listed_and_usable(qtbot, browser: HubBrowser, tmp_path) -> None:
    from tests.support.models import make_mlp

    models = tmp_path / "my-models"
    models.mkdir()
    make_mlp(models / "mlp.onnx")
    browser.hub_combo.setCurrentIndex(browser.hub_combo.findData("local"))
    assert browser.add_folder_button.isVisible() and not browser.sign_in_button.isVisible()
    with qtbot.waitSignal(browser.results_shown, timeout=WAIT):
        browser.add_local_folder(str(models))
    assert len(rows(browser)) == 1 and rows(browser)[0] == f"{models / 'mlp.onnx'}  ✓"
    with qtbot.waitSignal(browser.details_shown, timeout=WAIT):
        browser.table.selectRow(0)
    qtbot.waitUntil(lambda: browser.detail.use_button.isEnabled(), timeout=WAIT)
    assert browser.detail.facts["Parameters"].text() == "672"
    with qtbot.waitSignal(browser.model_chosen, timeout=WAIT) as chosen:
        browser.detail.use_button.click()
    assert chosen.args[0].path == str(models) and chosen.args[0].files == ["mlp.onnx"]
