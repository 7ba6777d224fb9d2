"""`studio device-setup` refusals that need no emulated board: each is one line, exit 2, and
leaves nothing on the device."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core.devices.setup.probe import DevicePlatform
from tests.devices.conftest import AdbServer, attach
from tests.support.virtual_adb import VirtualDevice

LINUX = {"ro.build.version.release": "", "ro.build.version.sdk": ""}


def _fake_python(tmp_path: Path, version: str, libc: str = "glibc 2.31") -> str:
    """A board's python3 as the probe sees it (this PC has no old Python to start)."""
    script = tmp_path / "old-python"
    script.write_text(f"#!/bin/sh\necho {version}; echo cpython; echo {libc}\n")
    script.chmod(0o755)
    return str(script)


def _setup_line(adb: AdbServer, device: VirtualDevice, capsys: pytest.CaptureFixture[str]) -> str:
    attach(adb, device)
    try:
        assert main(["device-setup", device.address]) == 2
    finally:
        adb.client().disconnect(device.address)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert not device.device_path("/data/local/tmp/edge-deploy-studio").exists()
    return err[0]


def test_python_too_old(adb: AdbServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    python = _fake_python(tmp_path, "3.8.10")
    with VirtualDevice(tmp_path / "old", props=LINUX, python=python) as device:
        line = _setup_line(adb, device, capsys)
    assert "has cpython 3.8.10, but onnxruntime needs Python 3.10 or newer" in line


def test_no_python_names_the_vendor_image(
    adb: AdbServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with VirtualDevice(tmp_path / "bare", props=LINUX, python=None) as device:
        line = _setup_line(adb, device, capsys)
    assert "has no python3" in line and "vendor image" in line


def test_android_phone_names_termux(
    phone: VirtualDevice, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["device-setup", phone.address]) == 2
    err = capsys.readouterr().err.strip()
    assert "runs Android" in err and "Termux" in err and "\n" not in err


def test_this_pc_needs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["device-setup", "this-pc"]) == 2
    assert "nothing to install" in capsys.readouterr().err


def test_platform_tags_cover_every_older_glibc() -> None:
    plat = DevicePlatform("b", False, "aarch64", "3.11.2", "cpython", "glibc 2.36")
    tags = plat.pip_platforms()
    assert tags[0] == "manylinux_2_36_aarch64" and "manylinux_2_28_aarch64" in tags
    assert tags[-1] == "manylinux2014_aarch64"
    assert plat.cache_key() == "linux-aarch64-glibc2.36-cp311"
    armv7 = DevicePlatform("b", False, "armv7l", "3.11.2", "cpython", "glibc 2.36")
    assert armv7.arch == ""  # onnxruntime publishes no 32-bit Arm wheels


@pytest.mark.parametrize(
    ("chip", "requirement", "words"),
    [
        ("qualcomm-snapdragon-8-gen-3", "onnxruntime-qnn==2.7.0", "installed beside onnxruntime"),
        ("intel-core-ultra-meteor-lake", "openvino==2026.4.1", "installed beside onnxruntime"),
        ("axera-ax650n", "", "pyaxengine"),
        ("mediatek-dimensity-9300", "", "NNAPI"),
        ("raspberry-pi-5", "", "No runtime of"),
        (None, "", "No runtime of"),
    ],
)
def test_the_chip_makers_runtime_is_offered_where_it_is_a_wheel_and_otherwise_named(
    chip: str | None, requirement: str, words: str
) -> None:
    from studio.core.devices.setup.vendor import vendor_runtime

    found = vendor_runtime(chip)
    assert found.requirement == requirement and words in str(found.note)
