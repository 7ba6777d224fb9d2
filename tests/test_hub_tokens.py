"""Tokens live in the OS keyring only; without a secure one they stay in memory, never on disk."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from studio.core.errors import BadInput
from studio.core.hubs import tokens
from tests.support.hub_fixtures import *  # noqa: F403


def test_token_goes_to_the_keyring_and_is_deleted_on_sign_out(memory_keyring) -> None:
    status = tokens.save_token("  hf_secret \n")
    assert status.where == "keyring" and not status.note
    assert memory_keyring.store[(tokens.SERVICE, "huggingface")] == "hf_secret"
    assert tokens.get_token() == "hf_secret"
    assert tokens.token_status().where == "keyring"
    assert tokens.delete_token() is True
    assert tokens.get_token() is None and tokens.token_status().where == "none"
    assert tokens.delete_token() is False


def test_without_secure_keyring_token_is_kept_for_the_session_only(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    status = tokens.save_token("hf_secret")
    assert status.where == "session" and "only until the studio closes" in status.note
    assert tokens.get_token() == "hf_secret"
    assert tokens.token_status().note
    assert tokens.delete_token() and tokens.get_token() is None


def test_plaintext_keyring_is_not_trusted(tmp_path: Path) -> None:
    class PlaintextKeyring(KeyringBackend):  # what keyrings.alt would install
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.written: dict[str, str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.written.get(username)

        def set_password(self, service: str, username: str, password: str) -> None:
            self.written[username] = password

        def delete_password(self, service: str, username: str) -> None:
            self.written.pop(username, None)

    backend = PlaintextKeyring()
    keyring.set_keyring(backend)
    assert tokens.save_token("hf_secret").where == "session"
    assert backend.written == {}


def test_keyring_that_refuses_falls_back_to_session() -> None:
    from keyring.errors import KeyringLocked

    class Locked(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            raise KeyringLocked("locked")

        def delete_password(self, service: str, username: str) -> None:
            pass

    keyring.set_keyring(Locked())
    status = tokens.save_token("hf_secret")
    assert status.where == "session" and "refused" in status.note


@pytest.mark.parametrize("bad", ["", "   ", "hf_a b"])
def test_bad_token_text_is_refused(bad: str) -> None:
    with pytest.raises(BadInput, match="empty or contains spaces"):
        tokens.save_token(bad)


def test_environment_token_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert tokens.get_token() == "hf_env"
    assert tokens.token_status().where == "environment"
