"""Signing in to a hub: check the token with the hub, then keep it in the keyring."""

from __future__ import annotations

from studio.core.errors import BadInput
from studio.core.hubs.hf_context import HubContext, HubError, with_retries
from studio.core.hubs.tokens import TokenStatus, save_token
from studio.core.messages import Fix, message


def check_token(token: str, ctx: HubContext | None = None) -> str:
    """The account name the token belongs to; BadInput if the hub rejects it."""
    from huggingface_hub import HfApi

    ctx = ctx or HubContext.current()
    api = HfApi(endpoint=ctx.endpoint, token=token)
    try:
        who = with_retries(ctx, "sign-in", lambda: api.whoami(token=token))
    except BadInput as exc:
        raise BadInput(
            "The hub rejected this token",
            "Copy a valid token from your account's Access Tokens page",
        ) from exc
    return str(who.get("name") or "")


def sign_in(
    token: str, hub: str = "huggingface", *, check: bool = True, ctx: HubContext | None = None
) -> tuple[TokenStatus, str | None]:
    """Keep ``token``; the user is None when it was not checked (``check`` off, or a hub
    whose tokens cannot be checked here)."""
    token = token.strip()
    user = None
    if check and hub == "huggingface":
        ctx = ctx or HubContext.current()
        if ctx.offline:
            raise HubError(msg=message("hub.offline_check", Fix(action="sign_in_no_check")))
        user = check_token(token, ctx)
    return save_token(token, hub), user
