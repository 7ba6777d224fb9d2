"""`studio device-setup` on the emulated arm64 board (tests/support/arm64_board.py): real aarch64
Python under qemu, real onnxruntime wheels from the prepared cache, pushed through the real adb
server. The slow part (push, unpack, the runner's hello under emulation) happens once, in the
module's board fixture, which also pulls the cable in the middle of that first push."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core.devices.deploy import deploy_bundle
from studio.core.devices.listing import get_device
from studio.core.devices.run import run_on_device
from studio.core.devices.setup import RuntimeSetupResult, setup_device_runtime
from studio.core.devices.setup.layout import MARKER, RUNTIME_DIR
from studio.core.errors import OutputError
from tests.devices.conftest import AdbServer, attach
from tests.support import arm64_board
from tests.support.virtual_adb import VirtualDevice

RUNTIME = f"/opt/edge-deploy-studio/{RUNTIME_DIR}"


@pytest.fixture(scope="module")
def prepared() -> None:
    problem = arm64_board.missing()
    if problem:
        pytest.fail(problem)  # never a skip: CI prepares it, and a silent skip hides a break


@pytest.fixture
def board_cache(prepared: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(arm64_board.STUDIO_CACHE))


@pytest.fixture(scope="module")
def installed(
    prepared: None, adb: AdbServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[VirtualDevice, RuntimeSetupResult]]:
    """A board with the runtime installed, the first push cut by a pulled cable and resumed."""
    root = tmp_path_factory.mktemp("arm64-board")
    with (
        pytest.MonkeyPatch.context() as mp,
        VirtualDevice(root, board=arm64_board.Arm64Board(), drop_after_bytes=12 << 20) as device,
    ):
        mp.setenv("ANDROID_ADB_SERVER_PORT", str(adb.port))
        mp.setenv("STUDIO_CACHE_DIR", str(arm64_board.STUDIO_CACHE))
        attach(adb, device)
        try:
            with pytest.raises(OutputError, match="connection to .* was lost"):
                setup_device_runtime(device.address)
            # Nothing half-installed looks complete: no runtime folder, no marker.
            assert not device.device_path(RUNTIME).exists()
            adb.client().disconnect(device.address)
            attach(adb, device)
            result = setup_device_runtime(device.address)
            yield device, result
        finally:
            adb.client().disconnect(device.address)


def test_board_is_listed_as_the_ax650n(installed: tuple[VirtualDevice, RuntimeSetupResult]) -> None:
    device, _ = installed
    info = get_device(device.address).describe()
    assert info.abi == "aarch64" and info.chip_id == "axera-ax650n"
    assert info.os.startswith("Debian GNU/Linux 12")


def test_setup_installs_resumes_and_then_is_a_noop(
    installed: tuple[VirtualDevice, RuntimeSetupResult], board_cache: None
) -> None:
    device, first = installed
    assert first.action == "installed" and first.python.startswith("3.11")
    assert first.runtime.startswith("onnxruntime ") and "CPUExecutionProvider" in first.providers
    assert any(w.startswith("onnxruntime_genai-") for w in first.wheels)
    # The AX650N's own runtime is not a wheel: installed without it, and the result says so.
    assert first.vendor == "" and first.vendor_note is not None
    assert "pyaxengine" in str(first.vendor_note)
    total = sum(
        (arm64_board.STUDIO_CACHE / "device-runtime").rglob(w).__next__().stat().st_size
        for w in first.wheels
    )
    assert 0 < first.bytes_pushed < total  # the wheels that arrived before the cut were kept
    folder = device.device_path(RUNTIME)
    assert json.loads((folder / MARKER).read_text())["wheels"] == first.wheels
    assert (folder / "site/onnxruntime").is_dir() and not (folder / "wheels").exists()
    assert not device.device_path(RUNTIME + ".studio-part").exists()
    again = setup_device_runtime(device.address)
    assert again.action == "present" and again.bytes_pushed == 0


def test_deploy_and_bench_the_demo_cnn_on_the_board(
    installed: tuple[VirtualDevice, RuntimeSetupResult], board_cache: None, bundle: Path
) -> None:
    device, _ = installed
    deploy_bundle(bundle, device.address)
    outcome = run_on_device(bundle, device.address, "bench", runs=3, warmup=1)
    assert outcome.ok, outcome.error
    assert "the studio's runtime" in outcome.runtime.description
    bench = outcome.bench()
    assert bench is not None and bench.runs == 3 and bench.median_ms > 0


def test_no_cache_and_no_network_is_one_line(
    adb: AdbServer,
    tmp_path: Path,
    prepared: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # pip's index is a closed port and no configuration file adds another.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-links"))
    with VirtualDevice(tmp_path / "offline", board=arm64_board.Arm64Board()) as device:
        attach(adb, device)
        try:
            assert main(["device-setup", device.address]) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert (
                len(err) == 1 and "not in the studio's cache and PyPI cannot be reached" in err[0]
            )
            assert "Traceback" not in err[0]
            assert not device.device_path("/opt/edge-deploy-studio").exists()
        finally:
            adb.client().disconnect(device.address)


def test_a_full_board_is_refused_before_anything_moves(
    adb: AdbServer, tmp_path: Path, board_cache: None
) -> None:
    with VirtualDevice(
        tmp_path / "full", board=arm64_board.Arm64Board(), capacity=60 << 20
    ) as device:
        attach(adb, device)
        try:
            with pytest.raises(OutputError, match=r"free at .* but the runtime needs about"):
                setup_device_runtime(device.address)
            assert device.received_bytes == 0
        finally:
            adb.client().disconnect(device.address)


def test_demo_lm_streams_tokens_on_the_board(
    installed: tuple[VirtualDevice, RuntimeSetupResult], board_cache: None
) -> None:
    from studio.core.generate.on_device import generate_on_device
    from studio.core.generate.session import GenerationSummary, TokenChunk
    from studio.core.generate.settings import GenerationSettings

    device, _ = installed
    events = list(
        generate_on_device(
            None, "In the beginning", device.address, GenerationSettings(max_new_tokens=6)
        )
    )
    summary = events[-1]
    assert isinstance(summary, GenerationSummary), summary
    assert [e for e in events if isinstance(e, TokenChunk)] and 0 < summary.tokens <= 6


def test_remove_takes_it_away_through_the_cli(
    installed: tuple[VirtualDevice, RuntimeSetupResult],
    board_cache: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    device, _ = installed
    assert main(["device-setup", device.address, "--remove", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "removed"
    assert not device.device_path(RUNTIME).exists()
    runtime = get_device(device.address).detect_runtime("/opt/edge-deploy-studio/x")
    assert runtime.kind is None and "studio device-setup" in runtime.missing
    assert main(["device-setup", device.address, "--remove"]) == 0
    assert "was not installed" in capsys.readouterr().out


def test_cancel_mid_push_leaves_nothing_that_looks_installed(
    adb: AdbServer, tmp_path: Path, board_cache: None
) -> None:
    import threading

    from studio.core.errors import JobCancelled
    from studio.core.progress import Reporter

    cancel = threading.Event()
    seen: list[str] = []

    def progress(fraction: float, text: str) -> None:
        seen.append(text)
        if text.startswith("Pushing"):
            cancel.set()  # Cancel pressed while the wheels travel

    with VirtualDevice(tmp_path / "cancel", board=arm64_board.Arm64Board()) as device:
        attach(adb, device)
        try:
            with pytest.raises(JobCancelled):
                setup_device_runtime(
                    device.address, report=Reporter(on_progress=progress), cancel=cancel
                )
            assert any(t.startswith("Pushing") for t in seen)
            assert not device.device_path(RUNTIME).exists()
            assert device.received_bytes < 50 << 20
        finally:
            adb.client().disconnect(device.address)
