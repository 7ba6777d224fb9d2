"""Before Qt starts on an X11 desktop: are the system libraries its window plugin needs there?

Qt's xcb plugin aborts the process when one is missing, with a message that names the wrong
library (it blamed libxcb-cursor0 while libxcb-icccm4 was the one missing). This module imports
no Qt, so the check runs first and prints one line with the install command for this system.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from studio.core.errors import StudioError

# What PySide6's xcb plugin and the Qt libraries under it load from the system (DT_NEEDED),
# with the package holding each on Debian/Ubuntu (`dpkg -S`), Fedora and Arch.
XCB_LIBRARIES: dict[str, tuple[str, str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-render-util.so.0": (
        "libxcb-render-util0",
        "xcb-util-renderutil",
        "xcb-util-renderutil",
    ),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libz.so.1": ("zlib1g", "zlib", "zlib"),
    "libzstd.so.1": ("libzstd1", "libzstd", "zstd"),
}

# The install command per distribution family (/etc/os-release ID and ID_LIKE), and which
# column of XCB_LIBRARIES names its packages.
INSTALLERS: list[tuple[tuple[str, ...], str, int]] = [
    (("debian", "ubuntu"), "sudo apt-get install", 0),
    (("fedora", "rhel", "centos"), "sudo dnf install", 1),
    (("arch",), "sudo pacman -S", 2),
]


def uses_xcb(env: dict[str, str] | None = None) -> bool:
    """Will Qt pick its X11 plugin? On Linux unless another platform is asked for or the
    session is Wayland (where Qt prefers its Wayland plugin)."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def missing_libraries(names: list[str] | None = None) -> list[str]:
    """The libraries among ``names`` (default: all Qt's xcb plugin needs) the system cannot load."""
    missing = []
    for name in XCB_LIBRARIES if names is None else names:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def _distribution(os_release: Path) -> set[str]:
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    ids: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.update(value.strip().strip("\"'").split())
    return ids


def install_line(missing: list[str], os_release: Path = Path("/etc/os-release")) -> str:
    """The command that installs ``missing`` here; Debian's names when the system is unknown."""
    ids = _distribution(os_release)
    command, column = next(
        ((cmd, col) for family, cmd, col in INSTALLERS if ids & set(family)),
        ("sudo apt-get install", 0),
    )
    packages = dict.fromkeys(XCB_LIBRARIES[n][column] for n in missing if n in XCB_LIBRARIES)
    unknown = [n for n in missing if n not in XCB_LIBRARIES]
    return " ".join([command, *packages, *unknown])


def display_reachable() -> bool:
    """Can this process connect to the X server in DISPLAY? (Qt aborts when it cannot.)"""
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(None, None)  # never NULL: a failed one reports its error
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def check_desktop_libraries(names: list[str] | None = None) -> None:
    """Raise one StudioError naming the missing libraries and the line that installs them."""
    if not uses_xcb():
        return
    missing = missing_libraries(names)
    if missing:
        raise StudioError(
            f"The app cannot open a window: this system lacks {', '.join(missing)}, "
            "which Qt needs on an X11 desktop",
            f"Install them with: {install_line(missing)} (or use the `studio` commands, "
            "which need none of them)",
        )
    display = os.environ.get("DISPLAY", "")
    if not display or not display_reachable():
        where = f"the desktop {display} does not answer" if display else "DISPLAY is not set"
        raise StudioError(
            f"The app cannot open a window: {where}",
            "Start it from a desktop session, or use the `studio` commands",
        )
