"""adb's device states in plain words, each with what the user should do."""

from __future__ import annotations

import re

from studio.core.devices.models import DeviceState
from studio.core.messages import Message, message

# adb state word → our state and the message id of its status ("<id>.fix": what to do).
_STATES: dict[str, tuple[DeviceState, str]] = {
    "device": (DeviceState.READY, "device.ready"),
    "unauthorized": (DeviceState.UNAUTHORIZED, "device.unauthorized"),
    "authorizing": (DeviceState.CONNECTING, "device.authorizing"),
    "connecting": (DeviceState.CONNECTING, "device.connecting"),
    "offline": (DeviceState.OFFLINE, "device.offline"),
    "no": (DeviceState.NO_PERMISSION, "device.no_permission"),
}
_OTHER_MODES = {"bootloader", "recovery", "rescue", "sideload", "host", "fastbootd"}


def explain_messages(adb_state: str) -> tuple[DeviceState, Message, Message | None]:
    """adb state text → (state, short status, fix or None when ready) as messages."""
    word = adb_state.strip().split(" ")[0].lower()
    if word in _STATES:
        state, id = _STATES[word]
        fix = message(f"{id}.fix") if state is not DeviceState.READY else None
        return state, message(id), fix
    if word in _OTHER_MODES:
        return (
            DeviceState.OTHER_MODE,
            message("device.other_mode", mode=word),
            message("device.other_mode.fix"),
        )
    return (
        DeviceState.OFFLINE,
        message("device.unknown", state=adb_state),
        message("device.unknown.fix"),
    )


def explain(adb_state: str) -> tuple[DeviceState, str, str]:
    """adb state text → (state, short status, fix) in English."""
    state, status, fix = explain_messages(adb_state)
    return state, status.english(), fix.english() if fix else ""


_HOST_PORT = re.compile(r"^[\w.\-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$")


def transport_of(serial: str) -> str:
    return "wifi" if _HOST_PORT.match(serial) else "usb"


def is_host_port(text: str) -> bool:
    if not _HOST_PORT.match(text):
        return False
    return 0 < int(text.rsplit(":", 1)[1]) < 65536
