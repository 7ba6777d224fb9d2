"""Fixed English sentences that studio/core hands to the GUI, listed so the GUI can show them
translated: ``tr(info.status)`` finds these entries; any other core text stays English.

studio/core stays Qt-free and English (the CLI prints the same words). tests/test_i18n.py checks
that every text here still occurs in studio/core, so a reworded core sentence is noticed.
"""

from __future__ import annotations

from studio.ui.i18n import N_

# studio/core/devices/states.py and this_pc.py: a device's state and what to do about it.
DEVICE_TEXTS = [
    N_("Ready"),
    N_("Not authorized"),
    N_(
        "Unlock the phone and tap 'Allow' on the 'Allow USB debugging?' prompt. No prompt? Unplug "
        "and reconnect the cable, or in Developer options tap 'Revoke USB debugging "
        "authorizations' and reconnect"
    ),
    N_("Waiting for approval"),
    N_("Unlock the phone and tap 'Allow' on the 'Allow USB debugging?' prompt"),
    N_("Connecting"),
    N_("Wait a moment"),
    N_("Not answering"),
    N_(
        "Unplug and reconnect the device (for Wi-Fi: check it is on the same network and press "
        "Connect again); if it stays offline, restart the device"
    ),
    N_("No permission to use it"),
    N_(
        "This computer may not open the USB device: add a udev rule for it (see README, "
        "'USB permissions on Linux') and reconnect"
    ),
    N_("Restart the device normally (into Android) and reconnect it"),
    N_("Unplug and reconnect the device"),
]
