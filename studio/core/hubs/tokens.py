"""Access tokens for model hubs, kept only in the OS keyring.

Where no secure keyring exists (e.g. headless Linux without Secret Service) the token is kept in
this process's memory for the session and the caller is told so. There is deliberately no file
fallback: a plaintext keyring backend (keyrings.alt) is treated as "no secure keyring".
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel

from studio.core.errors import BadInput
from studio.core.messages import Message, message

SERVICE = "EdgeDeployStudio"
_SESSION: dict[str, str] = {}
"""Tokens kept for this session only, when there is no secure keyring."""

Where = Literal["keyring", "session", "environment", "none"]


class TokenStatus(BaseModel):
    hub: str
    where: Where
    backend: str
    """The keyring backend in use, e.g. 'SecretService Keyring' or 'none'."""
    note: str = ""
    note_message: Message | None = None
    """``note`` as data, for the GUI to word in its language."""

    @property
    def signed_in(self) -> bool:
        return self.where != "none"


def _backends() -> list[object]:
    import keyring
    from keyring.backends.chainer import ChainerBackend

    current = keyring.get_keyring()
    return list(current.backends) if isinstance(current, ChainerBackend) else [current]


def _is_secure(backend: object) -> bool:
    cls = type(backend)
    module = cls.__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")):
        return False
    return "plaintext" not in cls.__name__.lower()


def secure_backend() -> object | None:
    """The keyring backend tokens go to, or None when only insecure or failing ones exist."""
    for backend in _backends():
        if _is_secure(backend):
            return backend
    return None


def _backend_name(backend: object | None) -> str:
    if backend is None:
        return "none"
    return str(getattr(backend, "name", type(backend).__name__))


NO_KEYRING = message("hub.no_keyring")
NO_KEYRING_NOTE = NO_KEYRING.english()


def save_token(token: str, hub: str = "huggingface") -> TokenStatus:
    token = token.strip()
    if not token or any(c.isspace() for c in token):
        raise BadInput("The token is empty or contains spaces", "Paste the token exactly as shown")
    backend = secure_backend()
    if backend is not None:
        from keyring.errors import KeyringError

        try:
            backend.set_password(SERVICE, hub, token)  # type: ignore[attr-defined]
            _SESSION.pop(hub, None)
            return TokenStatus(hub=hub, where="keyring", backend=_backend_name(backend))
        except KeyringError as exc:
            note = f"The keyring refused the token ({exc}); it is kept only until the studio closes"
            _SESSION[hub] = token
            return TokenStatus(hub=hub, where="session", backend=_backend_name(backend), note=note)
    _SESSION[hub] = token
    return TokenStatus(
        hub=hub, where="session", backend="none", note=NO_KEYRING_NOTE, note_message=NO_KEYRING
    )


def _from_keyring(hub: str) -> str | None:
    backend = secure_backend()
    if backend is None:
        return None
    from keyring.errors import KeyringError

    try:
        return backend.get_password(SERVICE, hub)  # type: ignore[attr-defined, no-any-return]
    except KeyringError:
        return None


def _from_environment(hub: str) -> str | None:
    # The official tools read HF_TOKEN; honour it so CI and scripts work the same way.
    names = {"huggingface": "HF_TOKEN", "modelscope": "MODELSCOPE_API_TOKEN"}
    value = os.environ.get(names.get(hub, ""), "").strip()
    return value or None


def get_token(hub: str = "huggingface") -> str | None:
    return _SESSION.get(hub) or _from_keyring(hub) or _from_environment(hub)


def token_status(hub: str = "huggingface") -> TokenStatus:
    backend = secure_backend()
    name = _backend_name(backend)
    if hub in _SESSION:
        note = None if backend is not None else NO_KEYRING
        return TokenStatus(
            hub=hub,
            where="session",
            backend=name,
            note=note.english() if note else "",
            note_message=note,
        )
    if _from_keyring(hub):
        return TokenStatus(hub=hub, where="keyring", backend=name)
    if _from_environment(hub):
        return TokenStatus(
            hub=hub,
            where="environment",
            backend=name,
            note=message("hub.env_token").english(),
            note_message=message("hub.env_token"),
        )
    note = None if backend is not None else NO_KEYRING
    return TokenStatus(
        hub=hub,
        where="none",
        backend=name,
        note=note.english() if note else "",
        note_message=note,
    )


def delete_token(hub: str = "huggingface") -> bool:
    """Forget the token everywhere the studio keeps it. True if there was one."""
    had = _SESSION.pop(hub, None) is not None
    backend = secure_backend()
    if backend is not None:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            if backend.get_password(SERVICE, hub) is not None:  # type: ignore[attr-defined]
                backend.delete_password(SERVICE, hub)  # type: ignore[attr-defined]
                had = True
        except (PasswordDeleteError, KeyringError):
            pass
    return had
