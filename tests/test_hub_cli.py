"""`studio hub …` end to end: real argument parsing, real client, loopback hub."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.hubs import tokens
from tests.support.hub_fixtures import *  # noqa: F403


@pytest.fixture(autouse=True)
def _endpoint(hub_server, memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub_server.endpoint)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_human_and_json(capsys) -> None:
    code, out, _ = run(capsys, "hub", "search", "text", "--sort", "likes", "--limit", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["model", "downloads", "likes"]
    assert [line.split()[0] for line in lines[1:]] == ["acme/text-0", "acme/text-1", "acme/text-2"]
    code, out, _ = run(
        capsys, "hub", "search", "--library", "onnx", "--task", "text-generation", "--json"
    )
    assert code == 0 and [h["id"] for h in json.loads(out)] == ["bigco/gated-llm"]


def test_search_limit_spans_pages(capsys, hub_server) -> None:
    hub_server.hub.page_size = 2
    code, out, _ = run(capsys, "hub", "search", "text", "--limit", "5", "--json")
    assert code == 0 and len(json.loads(out)) == 5
    assert hub_server.hub.count("GET", "^/api/models$") == 3


def test_info_human_and_json(capsys) -> None:
    code, out, _ = run(capsys, "hub", "info", "acme/tiny-mlp", "--memory", "4GB")
    assert code == 0
    assert "license     mit" in out and "65.8K" in out and "Fits: needs about" in out
    assert "onnx/model.onnx" in out
    code, out, _ = run(capsys, "hub", "info", "acme/tiny-mlp", "--json")
    data = json.loads(out)
    assert data["parameters"] == 65792 and data["memory"]["verdict"] == "fits"


def test_download_prints_the_local_path(capsys, hub_server) -> None:
    code, out, err = run(
        capsys,
        "hub",
        "download",
        "acme/tiny-mlp",
        "--include",
        "onnx/*",
        "--include",
        "config.json",
    )
    assert code == 0
    path = Path(out.strip())
    assert (path / "onnx/model.onnx").is_file() and (path / "config.json").is_file()
    assert not (path / "model.safetensors").exists()
    assert "3 files" in err
    code, out, _ = run(capsys, "hub", "download", "acme/tiny-mlp", "--json")
    assert json.loads(out)["reused_bytes"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["hub", "info", "acme/ghost"], "No model named 'acme/ghost'"),
        (["hub", "info", "bad name!"], "'bad name!' is not a valid model name"),
        (["hub", "download", "a/b/c"], "'a/b/c' is not a valid model name"),
        (["hub", "info", "acme/tiny-mlp", "--revision", "v7"], "revision does not exist"),
        (["hub", "download", "bigco/gated-llm"], "gated"),
        (["hub", "download", "acme/tiny-mlp", "--include", "*.gguf"], "No file in acme/tiny-mlp"),
        (["hub", "search", "x", "--limit", "0"], "--limit 0"),
        (["hub", "info", "acme/tiny-mlp", "--memory", "lots"], "--memory 'lots' is not a size"),
        (["hub", "search", "x", "--hub", "modelscope"], "ModelScope support is not installed"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv: list[str], message: str) -> None:
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_server_failure_is_retried_then_works(capsys, hub_server) -> None:
    hub_server.hub.fault("GET", "^/api/models/acme/tiny-mlp$", status=503, times=1)
    code, _, _ = run(capsys, "hub", "info", "acme/tiny-mlp")
    assert code == 0


def test_offline_env_lists_cache_and_downloads_nothing(capsys, monkeypatch, hub_server) -> None:
    run(capsys, "hub", "download", "acme/tiny-mlp", "--include", "onnx/model.onnx")
    before = len(hub_server.hub.requests)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, _ = run(capsys, "hub", "search", "--json")
    assert code == 0 and [h["id"] for h in json.loads(out)] == ["acme/tiny-mlp"]
    code, out, _ = run(capsys, "hub", "download", "acme/tiny-mlp", "--include", "onnx/model.onnx")
    assert code == 0 and Path(out.strip(), "onnx/model.onnx").is_file()
    code, _, err = run(capsys, "hub", "download", "acme/text-1")
    assert code == 2 and "not downloaded on this computer" in err
    assert len(hub_server.hub.requests) == before


def test_login_reads_stdin_checks_and_stores_in_keyring(
    capsys, monkeypatch, memory_keyring
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hf_good\n"))
    code, out, _ = run(capsys, "hub", "login")
    assert code == 0 and "Signed in as alice" in out and "system keyring" in out
    assert memory_keyring.store[(tokens.SERVICE, "huggingface")] == "hf_good"
    assert "hf_good" not in out
    code, out, _ = run(capsys, "hub", "logout")
    assert code == 0 and "Signed out" in out and not memory_keyring.store


def test_login_with_wrong_token_stores_nothing(capsys, monkeypatch, memory_keyring) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hf_nope\n"))
    code, _, err = run(capsys, "hub", "login")
    assert code == 2 and "rejected this token" in err and "hf_nope" not in err
    assert not memory_keyring.store


def test_login_never_takes_the_token_from_argv(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["hub", "login", "hf_good"])
    assert exit_info.value.code == 2


def test_empty_stdin_login_is_bad_input(capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "hub", "login")
    assert code == 2 and "No token was given" in err


def test_signed_in_token_is_used_for_gated_downloads(capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hf_approved\n"))
    assert run(capsys, "hub", "login")[0] == 0
    code, out, _ = run(capsys, "hub", "download", "bigco/gated-llm")
    assert code == 0 and Path(out.strip(), "model.onnx").is_file()


def test_login_without_keyring_says_the_token_was_not_saved(capsys, monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    monkeypatch.setattr("sys.stdin", io.StringIO("hf_good\n"))
    code, out, err = run(capsys, "hub", "login")
    assert code == 1 and "could not be saved" in err and "HF_TOKEN" in err
    assert "hf_good" not in out + err


def test_system_proxy_settings_are_honoured(capsys, monkeypatch, hub_server) -> None:
    """The loopback hub doubles as an HTTP proxy: requests for hub.invalid must go through it."""
    from studio.core.hubs.hf_context import refresh_session_for_proxies

    refresh_session_for_proxies()
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.invalid")
    monkeypatch.setenv("HTTP_PROXY", hub_server.endpoint)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        code, out, err = run(capsys, "hub", "info", "acme/tiny-mlp", "--json")
        assert code == 0, err
        assert json.loads(out)["id"] == "acme/tiny-mlp"
        hosts = [h.get("Host") for m, p, h in hub_server.hub.requests if p.endswith("tiny-mlp")]
        assert hosts == ["hub.invalid"]
    finally:
        monkeypatch.undo()
        refresh_session_for_proxies()


def test_login_json_without_keyring_exits_1_like_the_human_output(capsys, monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    monkeypatch.setattr("sys.stdin", io.StringIO("hf_good\n"))
    code, out, err = run(capsys, "hub", "login", "--json")
    data = json.loads(out)
    assert code == 1 and data["kept"] is False and data["checked"] is True
    assert data["user"] == "alice" and "could not be saved" in err
    assert "hf_good" not in out + err


def test_login_no_check_says_not_checked_and_asks_nothing(
    capsys, monkeypatch, memory_keyring, hub_server
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hf_nope\n"))
    code, out, err = run(capsys, "hub", "login", "--no-check")
    assert code == 0 and "not checked" in out and "valid" not in out + err
    assert memory_keyring.store[(tokens.SERVICE, "huggingface")] == "hf_nope"
    monkeypatch.setattr("sys.stdin", io.StringIO("hf_nope\n"))
    code, out, _ = run(capsys, "hub", "login", "--no-check", "--json")
    data = json.loads(out)
    assert code == 0 and data["checked"] is False and data["kept"] is True
    assert hub_server.hub.count("GET", "whoami") == 0


def test_login_no_check_without_keyring_is_not_called_valid(capsys, monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    for extra in ([], ["--json"]):
        monkeypatch.setattr("sys.stdin", io.StringIO("hf_nope\n"))
        code, _, err = run(capsys, "hub", "login", "--no-check", *extra)
        assert code == 1 and "not checked" in err and "valid" not in err


def test_download_that_always_arrives_damaged_is_one_line_and_exit_2(capsys, hub_server) -> None:
    hub_server.hub.fault("GET", "resolve/.*/model.onnx$", corrupt=True, times=99)
    code, out, err = run(capsys, "hub", "download", "acme/text-2", "-q")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and out == "" and len(lines) == 1, err
    assert "model.onnx arrived damaged" in lines[0] and "Traceback" not in err
