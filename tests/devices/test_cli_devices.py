"""`studio devices`, `studio deploy`, `studio device-run` end to end through the real adb server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main
from tests.support.virtual_adb import VirtualDevice


def test_devices_json(phone: VirtualDevice, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    serials = [d["serial"] for d in listing["devices"]]
    assert serials == ["this-pc", phone.address]
    assert listing["devices"][1]["os"] == "Android 14 (API 34)"


def test_devices_human(phone: VirtualDevice, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "SERIAL" in out and phone.address in out and "Virtual Phone 8G3" in out


def test_deploy_then_run(
    phone: VirtualDevice, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", str(bundle), "--device", phone.address]) == 0
    out = capsys.readouterr().out
    assert "Verified on device ✓" in out and "4 files: 3 pushed" in out
    assert main(["deploy", str(bundle), "--json"]) == 0  # the only device is picked
    result = json.loads(capsys.readouterr().out)
    assert result["verified"] and result["pushed"] == []
    assert main(["device-run", str(bundle), "--device", phone.address, "bench", "--runs", "3"]) == 0
    out = capsys.readouterr().out
    assert "median" in out and "p90" in out and "over 3 runs" in out


def test_device_run_streams_json_lines(phone: VirtualDevice, bundle: Path, tmp_path: Path) -> None:
    """A separate process, read line by line while it runs, as another tool would."""
    assert main(["deploy", str(bundle), "-q"]) == 0
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "studio",
            "device-run",
            str(bundle),
            "--device",
            phone.address,
            "bench",
            "--runs",
            "4",
            "--json",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    kinds = [json.loads(line)["type"] for line in proc.stdout]
    assert proc.wait(60) == 0
    assert kinds[0] == "hello" and kinds[-1] == "done" and kinds.count("result") == 1
    assert kinds.count("timing") == 5  # load + 4 runs


def test_generate_without_generator_exits_1(
    phone: VirtualDevice, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", str(bundle), "-q"]) == 0
    capsys.readouterr()
    assert main(["device-run", str(bundle), "--device", phone.address, "generate"]) == 1
    assert "no text-generation model" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["deploy", "{missing}"], "does not exist"),
        (["deploy", "{bundle}", "--device", "nope:5555"], "No device 'nope:5555'"),
        (["deploy", "{bundle}"], "No phone or board is ready"),
        (["devices", "--connect", "not-an-address"], "is not HOST:PORT"),
        (["device-run", "{bundle}", "--device", "this-pc", "bench"], "Deploy it first"),
        (
            ["device-run", "{bundle}", "--device", "this-pc", "bench", "--runs", "0"],
            "runs must be 1 or more",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    filled = [a.format(bundle=bundle, missing=tmp_path / "missing") for a in argv]
    assert main(filled) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("error: ")


def test_generate_prints_tokens_as_they_come(
    phone: VirtualDevice, tmp_path: Path, demo_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.core.bundle.folder import create_bundle

    hook = Path(__file__).resolve().parents[1] / "support" / "echo_generate.py"
    bundle = tmp_path / "gen-bundle"
    create_bundle(demo_model, bundle, extra_files={"runner/generate.py": hook})
    assert main(["deploy", str(bundle), "-q"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "device-run",
                str(bundle),
                "--device",
                phone.address,
                "generate",
                "--prompt",
                "edge deploy studio",
                "--trust-bundle-runner",  # echo_generate.py is a hook the studio never shipped
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "edge deploy studio" in out and "3 tokens at" in out and "tokens/s" in out


def test_unauthorized_device_in_the_cli(
    adb, tmp_path: Path, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.devices.conftest import attach

    with VirtualDevice(tmp_path / "locked", unauthorized=True) as locked:
        attach(adb, locked, state="unauthorized")
        try:
            assert main(["devices"]) == 0
            out = capsys.readouterr().out
            assert "Not authorized" in out and "→ Unlock the phone and tap 'Allow'" in out
            assert main(["deploy", str(bundle), "--device", locked.address]) == 2
            err = capsys.readouterr().err
            assert "Not authorized" in err and "Allow USB debugging" in err
            # Connecting again: adb says "already connected"; the list shows what to do.
            assert main(["devices", "--connect", locked.address]) == 0
            assert "→ Unlock the phone" in capsys.readouterr().out
        finally:
            adb.client().disconnect(locked.address)


def test_device_run_output_cut_short_by_the_reader(phone: VirtualDevice, bundle: Path) -> None:
    """`studio device-run ... --json | head -2`: no traceback, and the run on the device stops."""
    assert main(["deploy", str(bundle), "-q"]) == 0
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "studio",
            "device-run",
            str(bundle),
            "--device",
            phone.address,
            "bench",
            "--runs",
            "100000",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = [proc.stdout.readline() for _ in range(2)]
    assert all(json.loads(line) for line in first)
    proc.stdout.close()
    assert proc.wait(60) == 141
    assert b"Traceback" not in proc.stderr.read()
    from tests.devices.test_run import _processes_in
    from tests.support.virtual_adb import wait_until

    assert wait_until(lambda: not _processes_in(phone.root), 10)  # stopped on the device too
