"""An emulated arm64 Linux board for the device tests: Debian bookworm's arm64 root filesystem,
its programs run as aarch64 through ``proot -q qemu-aarch64-static`` (no root, no binfmt), behind
the virtual ADB device (``VirtualDevice(..., board=Arm64Board())``).

Prepared once, with network, by ``python -m tests.support.arm64_board --prepare`` (.ci/run does it
before the tests): the root filesystem (``mmdebstrap --variant=extract``: Debian's packages
unpacked, Python 3.11 and the C++ runtime included, ~180 MB) and the studio's wheel cache for it
(onnxruntime, onnxruntime-genai, numpy for linux-aarch64 cp311, ~50 MB), both under
``~/.cache/edge-studio-tests`` (or $EDGE_STUDIO_TEST_CACHE). Tests never reach the network: they
use these folders, and FAIL naming the command above when they are missing.

Each board gets its own ``/opt`` and ``/tmp`` (bound from the virtual device's sandbox folder),
so tests share the read-only root filesystem and never write into it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("EDGE_STUDIO_TEST_CACHE", Path.home() / ".cache/edge-studio-tests"))
ROOTFS = CACHE / "arm64-rootfs"
STUDIO_CACHE = CACHE / "arm64-studio-cache"  # a STUDIO_CACHE_DIR holding the board's wheels
PREPARE = f"{sys.executable} -m tests.support.arm64_board --prepare"
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
# What a vendor's Debian image has: a shell and its tools, Python 3, the C++ runtime.
PACKAGES = [
    "base-files",
    "dash",
    "bash",
    "coreutils",
    "grep",
    "sed",
    "findutils",
    "gzip",
    "tar",
    "procps",
    "python3",
    "python3-minimal",
    "libpython3.11-stdlib",
    "libstdc++6",
    "libgcc-s1",
]
HOST_TOOLS = ("mmdebstrap", "proot", "qemu-aarch64-static")
MODEL = "AXera AX650N DEMO Board"
# df inside the board reports the simulated storage (like the virtual phone's df), so a test can
# make the board "full".
DF_SCRIPT = """#!/bin/sh
cap=$(cat /.board/capacity)
used=$(du -sk /opt /tmp 2>/dev/null | cut -f1 | { s=0; while read n; do s=$((s+n)); done; echo $s; })
avail=$((cap / 1024 - used)); [ $avail -lt 0 ] && avail=0
echo "Filesystem     1K-blocks     Used Available Use% Mounted on"
echo "/dev/mmcblk0p2 $((cap / 1024)) $used $avail 1% /"
"""


def missing() -> str:
    """Why the board cannot start here, with the command that fixes it; '' when it can."""
    tools = [t for t in HOST_TOOLS if shutil.which(t) is None]
    if tools:
        return (
            f"{', '.join(tools)} not installed: apt-get install -y mmdebstrap proot "
            f"qemu-user-static, then {PREPARE}"
        )
    if not (ROOTFS / ".complete").is_file() or not (STUDIO_CACHE / ".complete").is_file():
        return f"The emulated arm64 board is not prepared: run {PREPARE}"
    return ""


@dataclass(frozen=True)
class Arm64Board:
    """How the virtual device's shell runs commands on the board."""

    rootfs: Path = ROOTFS
    model: str = MODEL

    def make_filesystem(self, root: Path, capacity: int) -> None:
        for folder in ("opt", "tmp", "board"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        (root / "board/model").write_text(self.model + "\0", encoding="utf-8")
        (root / "board/capacity").write_text(str(capacity), encoding="utf-8")
        df = root / "board/df"
        df.write_text(DF_SCRIPT, encoding="utf-8")
        df.chmod(0o755)

    def argv(self, root: Path, command: str) -> list[str]:
        binds = [
            f"{root}/opt:/opt",
            f"{root}/tmp:/tmp",
            f"{root}/board:/.board",
            f"{root}/board/df:/usr/local/bin/df",
            "/proc",  # /sys is left out: onnxruntime's cpuinfo crashes on the host's x86 one
            f"{root}/board/model:/proc/device-tree/model",
            "/dev",
        ]
        return [
            "proot",
            "-q",
            "qemu-aarch64-static",
            "-r",
            str(self.rootfs),
            *[arg for bind in binds for arg in ("-b", bind)],
            "-w",
            "/",
            "/bin/sh",
            "-c",
            command,
        ]

    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "PROOT_NO_SECCOMP": "1",
        }


def _build_rootfs() -> None:
    if (ROOTFS / ".complete").is_file():
        return
    partial = ROOTFS.with_name(ROOTFS.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(
        [
            "mmdebstrap",
            "--arch=arm64",
            "--variant=extract",
            f"--include={','.join(PACKAGES)}",
            "bookworm",
            str(partial),
            MIRROR,
        ],
        check=True,
    )
    for folder in ("opt", "proc/device-tree", "usr/local/bin", ".board"):
        (partial / folder).mkdir(parents=True, exist_ok=True)
    (partial / "usr/local/bin/df").touch()  # bind targets must exist
    (partial / "proc/device-tree/model").touch()
    (partial / ".complete").touch()
    shutil.rmtree(ROOTFS, ignore_errors=True)
    partial.rename(ROOTFS)


def _fill_wheel_cache() -> None:
    """The studio's own download (the code under test) fills the cache, for the board's Python as
    the board reports it."""
    from studio.core.devices.setup.probe import PROBE_SCRIPT, DevicePlatform
    from studio.core.devices.setup.wheels import fetch_wheels

    root = CACHE / "probe-board"
    Arm64Board().make_filesystem(root, 8 << 30)
    out = subprocess.run(
        Arm64Board().argv(root, PROBE_SCRIPT),
        env=Arm64Board().env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    python = out.split("@@python")[1].split()
    plat = DevicePlatform(
        "arm64-board", False, "aarch64", python[0], python[1], " ".join(python[2:4])
    )
    os.environ["STUDIO_CACHE_DIR"] = str(STUDIO_CACHE)
    wheels = fetch_wheels(plat)
    print(f"wheels for {plat.describe()}: {', '.join(w.name for w in wheels)}")
    (STUDIO_CACHE / ".complete").touch()


def prepare() -> None:
    started = time.monotonic()
    tools = [t for t in HOST_TOOLS if shutil.which(t) is None]
    if tools:
        raise SystemExit("install first: apt-get install -y mmdebstrap proot qemu-user-static")
    CACHE.mkdir(parents=True, exist_ok=True)
    _build_rootfs()
    _fill_wheel_cache()
    size = sum(p.stat().st_size for p in CACHE.rglob("*") if p.is_file() and not p.is_symlink())
    print(
        f"arm64 board ready in {time.monotonic() - started:.0f} s, {size / 1e6:.0f} MB in {CACHE}"
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["--prepare"]:
        raise SystemExit(f"usage: {PREPARE}")
    prepare()
