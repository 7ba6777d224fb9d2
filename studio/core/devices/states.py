"""adb's device states in plain words, each with what the user should do."""

from __future__ import annotations

import re

from studio.core.devices.models import DeviceState

_STATES: dict[str, tuple[DeviceState, str, str]] = {
    "device": (DeviceState.READY, "Ready", ""),
    "unauthorized": (
        DeviceState.UNAUTHORIZED,
        "Not authorized",
        "Unlock the phone and tap 'Allow' on the 'Allow USB debugging?' prompt. No prompt? Unplug "
        "and reconnect the cable, or in Developer options tap 'Revoke USB debugging "
        "authorizations' and reconnect",
    ),
    "authorizing": (
        DeviceState.CONNECTING,
        "Waiting for approval",
        "Unlock the phone and tap 'Allow' on the 'Allow USB debugging?' prompt",
    ),
    "connecting": (DeviceState.CONNECTING, "Connecting", "Wait a moment"),
    "offline": (
        DeviceState.OFFLINE,
        "Not answering",
        "Unplug and reconnect the device (for Wi-Fi: check it is on the same network and press "
        "Connect again); if it stays offline, restart the device",
    ),
    "no": (
        DeviceState.NO_PERMISSION,
        "No permission to use it",
        "This computer may not open the USB device: add a udev rule for it (see README, "
        "'USB permissions on Linux') and reconnect",
    ),
}
_OTHER_MODES = {"bootloader", "recovery", "rescue", "sideload", "host", "fastbootd"}


def explain(adb_state: str) -> tuple[DeviceState, str, str]:
    """adb state text → (state, short status, fix)."""
    word = adb_state.strip().split(" ")[0].lower()
    if word in _STATES:
        return _STATES[word]
    if word in _OTHER_MODES:
        return (
            DeviceState.OTHER_MODE,
            f"In {word} mode",
            "Restart the device normally (into Android) and reconnect it",
        )
    return (DeviceState.OFFLINE, f"Unknown state '{adb_state}'", "Unplug and reconnect the device")


_HOST_PORT = re.compile(r"^[\w.\-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$")


def transport_of(serial: str) -> str:
    return "wifi" if _HOST_PORT.match(serial) else "usb"


def is_host_port(text: str) -> bool:
    if not _HOST_PORT.match(text):
        return False
    return 0 < int(text.rsplit(":", 1)[1]) < 65536
