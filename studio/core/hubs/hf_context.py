"""Everything a Hugging Face call needs, resolved at call time, and its errors in plain words."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, TypeVar

from studio.core.errors import BadInput, JobCancelled, StudioError
from studio.core.hubs.settings import HubSettings, load_settings

T = TypeVar("T")

DEFAULT_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


class HubError(StudioError):
    """The hub could not be reached or failed; not the user's input."""

    exit_code = 1


class DownloadCancelled(JobCancelled):
    pass


class DownloadCorrupted(StudioError):
    """A file's bytes did not match the hash the hub gave for it, again after a retry."""


def hf_cache_dir() -> Path:
    """The standard Hugging Face cache, where every HF tool looks (read at call time)."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


@dataclass
class HubContext:
    endpoint: str
    token: str | None
    cache_dir: Path
    offline: bool
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    max_workers: int = 4
    cancel: threading.Event = field(default_factory=threading.Event)
    load_token: bool = False
    """Read the token from the keyring at first use, not when the context is made: that can take
    ~0.4 s (or ask to unlock the keyring), which must not happen on the UI thread."""

    @classmethod
    def current(cls, settings: HubSettings | None = None, **overrides: object) -> HubContext:
        refresh_session_for_proxies()
        settings = settings or load_settings()
        values: dict[str, object] = {
            "endpoint": settings.resolved_endpoint(),
            "token": None,
            "load_token": True,
            "cache_dir": hf_cache_dir(),
            "offline": settings.is_offline(),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def auth(self) -> str | bool:
        if self.load_token:
            from studio.core.hubs.tokens import get_token

            self.token, self.load_token = get_token("huggingface"), False
        # False, not None: None would make huggingface_hub read its own plaintext token file.
        return self.token or False

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise DownloadCancelled(
                "Download cancelled", "Start it again to resume where it stopped"
            )

    def web_url(self, repo: str) -> str:
        return f"{self.endpoint}/{repo}"


_seen_proxies: dict[str, str] | None = None


def refresh_session_for_proxies() -> None:
    """Make huggingface_hub's shared HTTP client follow the system's current proxy settings.

    The client reads them (HTTPS_PROXY & co., or the Windows/macOS system settings through
    urllib's getproxies) once, when it is created; a proxy changed while the studio runs would
    otherwise be ignored until a restart.
    """
    global _seen_proxies
    from urllib.request import getproxies

    proxies = getproxies()
    if _seen_proxies is not None and proxies != _seen_proxies:
        from huggingface_hub import close_session

        close_session()
    _seen_proxies = proxies


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def is_transient(exc: BaseException) -> bool:
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, httpx2.TransportError):
        return True
    return isinstance(exc, HfHubHTTPError) and (_status(exc) or 0) >= 500


def with_retries(ctx: HubContext, what: str, call: Callable[[], T]) -> T:
    """Run ``call``, retrying server errors and dropped connections with growing pauses."""
    attempt = 0
    while True:
        ctx.check_cancel()
        try:
            return call()
        except StudioError:
            raise
        except Exception as exc:
            if not is_transient(exc) or attempt >= len(ctx.retry_delays):
                error = translate(exc, ctx, what, attempts=attempt + 1)
                if error is exc:
                    raise
                raise error from exc
            # Wait, but wake at once on Cancel.
            if ctx.cancel.wait(ctx.retry_delays[attempt]):
                ctx.check_cancel()
            attempt += 1


def check_repo_id(repo: str) -> str:
    """``owner/name`` as the hub allows it, or a BadInput saying how to write it."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    repo = repo.strip()
    try:
        validate_repo_id(repo)
    except HFValidationError as exc:
        raise BadInput(
            f"'{repo}' is not a valid model name",
            "Write it as owner/name, e.g. microsoft/resnet-50 (letters, digits, - _ .)",
        ) from exc
    return repo


def reraise(exc: BaseException, ctx: HubContext, what: str) -> NoReturn:
    error = translate(exc, ctx, what)
    if error is exc:
        raise exc
    raise error from exc


def translate(exc: BaseException, ctx: HubContext, what: str, attempts: int = 1) -> BaseException:
    """A StudioError saying what happened and what to do, or ``exc`` itself if it is a bug."""
    import httpx2
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(exc, StudioError):
        return exc
    repo = getattr(exc, "repo_id", None) or what
    if isinstance(exc, GatedRepoError):
        if _status(exc) == 403 or ctx.auth:
            return BadInput(
                f"{repo} is gated and your account has not been given access yet",
                f"Request access at {ctx.web_url(repo)}, wait for approval, then retry",
            )
        return BadInput(
            f"{repo} is gated: you must accept its terms and sign in to download it",
            f"Request access at {ctx.web_url(repo)}, then sign in (studio hub login)",
        )
    if isinstance(exc, RevisionNotFoundError):
        return BadInput(
            f"{what}: that revision does not exist",
            "Use a branch, tag or commit hash that exists (the default is main)",
        )
    if isinstance(exc, RemoteEntryNotFoundError):
        return BadInput(f"{what}: the file does not exist in this repo", "Check the file name")
    if isinstance(exc, RepositoryNotFoundError):
        return BadInput(
            f"No model named '{repo}' on {ctx.endpoint}",
            "Check the name (owner/model); private models need you to sign in",
        )
    if isinstance(exc, OfflineModeIsEnabled):
        return BadInput(
            "Offline mode is on", "Turn it off in hub settings (or unset HF_HUB_OFFLINE)"
        )
    if isinstance(exc, HfHubHTTPError):
        status = _status(exc)
        if status == 401:
            return BadInput(
                "The hub rejected your token (it is wrong or was revoked)",
                "Sign in again with a valid token (studio hub login), or sign out",
            )
        if status == 403:
            return BadInput(
                f"Your token may not read {repo}", "Use a token with read access to this repo"
            )
        if status is not None and status >= 500:
            tries = f" after {attempts} tries" if attempts > 1 else ""
            return HubError(
                f"The hub at {ctx.endpoint} is failing (HTTP {status}){tries}",
                "Try again later, or pick a mirror in hub settings",
            )
        return HubError(f"The hub answered HTTP {status} for {what}", "Try again later")
    if isinstance(exc, httpx2.TransportError):
        tries = f" after {attempts} tries" if attempts > 1 else ""
        return HubError(
            f"Cannot reach {ctx.endpoint}{tries} ({type(exc).__name__})",
            "Check the connection or proxy, pick a mirror in hub settings, or turn on "
            "offline mode to use models already downloaded",
        )
    return exc
