"""README command 1 on a plain Linux desktop: the app opens, or says in one line what to install
(Qt's xcb plugin aborted the process blaming the wrong library)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.ui.system_libs import XCB_LIBRARIES, install_line, missing_libraries
from tests.support.elf_needed import needed

ROOT = Path(__file__).resolve().parents[1]
GLIBC = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2"}
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 is Linux's")


def _qt_dir() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt"


@linux_only
def test_the_check_knows_every_system_library_qts_window_plugin_loads() -> None:
    qt = _qt_dir()
    files = [qt / "plugins/platforms/libqxcb.so"] + [
        qt / "lib" / f"libQt6{name}.so.6" for name in ("XcbQpa", "Gui", "Core", "DBus")
    ]
    system = {
        name
        for file in files
        for name in needed(file)
        if not name.startswith(("libQt6", "libicu")) and name not in GLIBC
    }
    assert system - set(XCB_LIBRARIES) == set()


@linux_only
def test_a_missing_library_is_named_with_the_line_that_installs_it(tmp_path: Path) -> None:
    assert missing_libraries(["libc.so.6", "libstudio-absent.so.3"]) == ["libstudio-absent.so.3"]
    release = tmp_path / "os-release"
    wanted = ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-shm.so.0"]
    for text, line in [
        (
            'ID=ubuntu\nID_LIKE="debian"\n',
            "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libxcb-shm0",
        ),
        ('ID="fedora"\n', "sudo dnf install xcb-util-wm xcb-util-keysyms libxcb"),
        ("ID=manjaro\nID_LIKE=arch\n", "sudo pacman -S xcb-util-wm xcb-util-keysyms libxcb"),
    ]:
        release.write_text(text)
        assert install_line(wanted, release) == line


def _start(display: str, env_extra: dict[str, str], tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=display, PYTHONPATH=str(ROOT), STUDIO_ADB_AUTOSTART="0", **env_extra)
    for name in ("STUDIO_DATA_DIR", "STUDIO_CONFIG_DIR", "STUDIO_CACHE_DIR"):
        env[name] = str(tmp_path / name.lower())
    return env


@linux_only
def test_no_desktop_or_missing_libraries_give_one_line_not_qts_abort(tmp_path: Path) -> None:
    # Display :97 has no server here: with every library present the app says so in one line;
    # with one missing (a bare Debian lacks libxcb-icccm4) it names what to install.
    env = _start(":97", {}, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "studio"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: The app cannot open a window"), lines
    if missing_libraries():
        assert "apt-get install" in lines[0] or "dnf install" in lines[0] or "pacman" in lines[0]


@pytest.fixture
def desktop(request: pytest.FixtureRequest) -> Iterator[str]:
    """An Xvfb screen of the given size with openbox managing windows (title bars and all)."""
    if not (shutil.which("Xvfb") and shutil.which("openbox")):
        pytest.skip("needs Debian's xvfb and openbox (.ci/run installs them)")
    width, height = request.param
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=[write],
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        display = ":" + pipe.readline().strip()
    wm = subprocess.Popen(
        ["openbox"], env={**os.environ, "DISPLAY": display}, stderr=subprocess.DEVNULL
    )
    try:
        yield display
    finally:
        for process in (wm, xvfb):
            process.terminate()
            process.wait(10)


@linux_only
@pytest.mark.parametrize("desktop", [(1366, 768)], indirect=True)
def test_readme_command_1_opens_the_app_whole_on_a_desktop(desktop: str, tmp_path: Path) -> None:
    env = _start(desktop, {}, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.desktop_app", str(tmp_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads((tmp_path / "facts.json").read_text())
    assert facts["opened"], done.stderr[-3000:]
    x, y, w, h = facts["frame"]
    ax, ay, aw, ah = facts["available"]
    assert facts["frame"] != facts["inside"], "openbox should have framed the window"
    assert ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah, facts
    assert facts["buttons_on_screen"], facts
    assert (tmp_path / "screen.png").stat().st_size > 10_000
