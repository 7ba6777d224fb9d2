"""Pushing bundles through the real adb server to a virtual phone, including the faults."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from studio.core.bundle.folder import MANIFEST, read_manifest
from studio.core.devices.deploy import PART, deploy_bundle, verify_on_device
from studio.core.errors import BadInput, JobCancelled, OutputError
from studio.core.progress import Reporter
from tests.devices.conftest import AdbServer, attach
from tests.support.virtual_adb import VirtualDevice, wait_until

DEFAULT = "/data/local/tmp/edge-deploy-studio"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_push_verifies_every_file_on_the_device(phone: VirtualDevice, bundle: Path) -> None:
    messages: list[str] = []
    result = deploy_bundle(
        bundle, phone.address, report=Reporter(on_progress=lambda f, m: messages.append(m))
    )
    remote = phone.device_path(f"{DEFAULT}/{bundle.name}")
    assert result.verified and result.remote_dir == f"{DEFAULT}/{bundle.name}"
    manifest = read_manifest(bundle)
    for entry in manifest.files:
        assert _sha(remote / entry.path) == entry.sha256
    assert _sha(remote / MANIFEST) == _sha(bundle / MANIFEST)
    assert _files(remote) == _files(bundle)  # no leftover .studio-part files
    assert "runner/runner.py" in result.pushed
    assert any("Pushing" in m and "/s" in m and "left" in m for m in messages)
    assert messages[-1] == "Verified on device"


def test_second_push_skips_files_already_there(phone: VirtualDevice, bundle: Path) -> None:
    deploy_bundle(bundle, phone.address)
    before = phone.received_bytes
    again = deploy_bundle(bundle, phone.address)
    assert again.pushed == [] and len(again.skipped) == again.files - 1 and again.verified
    assert phone.received_bytes == before


def test_custom_folder_and_bad_folders(phone: VirtualDevice, bundle: Path) -> None:
    result = deploy_bundle(bundle, phone.address, to="/sdcard/models/digits")
    assert (phone.device_path("/sdcard/models/digits") / MANIFEST).is_file()
    assert result.remote_dir == "/sdcard/models/digits"
    for bad in ("relative/path", "/data/../etc", "/data/local/tmp/x\ny"):
        with pytest.raises(BadInput, match=r"not an absolute folder path"):
            deploy_bundle(bundle, phone.address, to=bad)


def test_device_full_is_refused_before_pushing(
    adb: AdbServer, tmp_path: Path, bundle: Path
) -> None:
    with VirtualDevice(tmp_path / "full", capacity=4 << 20) as full:
        attach(adb, full)
        try:
            with pytest.raises(OutputError, match=r"free at .*needs.*Free up space"):
                deploy_bundle(bundle, full.address)
            assert full.received_bytes == 0
            assert _files(full.root / "data") == set()
        finally:
            adb.client().disconnect(full.address)


def test_unplugged_mid_push_then_resume(adb: AdbServer, tmp_path: Path, big_bundle: Path) -> None:
    with VirtualDevice(tmp_path / "unplug", drop_after_bytes=2 << 20) as device:
        attach(adb, device)
        try:
            with pytest.raises(OutputError, match=r"connection to .* was lost while pushing"):
                deploy_bundle(big_bundle, device.address)
            remote = device.device_path(f"{DEFAULT}/{big_bundle.name}")
            # Nothing looks deployed: no manifest, the cut file is not under its real name.
            assert not (remote / MANIFEST).exists()
            assert not (remote / "weights/zz.bin").exists()
            assert not (remote / f"weights/zz.bin{PART}").exists()  # adbd drops a cut file
            # Plug back in and push again: the finished files are not sent twice.
            adb.client().disconnect(device.address)
            attach(adb, device)
            result = deploy_bundle(big_bundle, device.address)
            assert result.verified and result.pushed == ["weights/zz.bin"]
            assert set(result.resumed) == {"README.md", "model.onnx", "runner/runner.py"}
            assert _files(remote) == _files(big_bundle)
        finally:
            adb.client().disconnect(device.address)


def test_corrupted_file_on_device_is_caught_and_repaired(
    phone: VirtualDevice, bundle: Path
) -> None:
    deploy_bundle(bundle, phone.address)
    model = phone.device_path(f"{DEFAULT}/{bundle.name}/model.onnx")
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    model.write_bytes(bytes(data))
    check = verify_on_device(bundle, phone.address)
    assert not check.ok and check.changed == ["model.onnx"] and check.missing == []
    assert check.problems() == ["changed on device: model.onnx"]
    repaired = deploy_bundle(bundle, phone.address)
    assert repaired.pushed == ["model.onnx"]
    assert verify_on_device(bundle, phone.address).ok


def test_missing_file_on_device_is_reported(phone: VirtualDevice, bundle: Path) -> None:
    deploy_bundle(bundle, phone.address)
    phone.device_path(f"{DEFAULT}/{bundle.name}/README.md").unlink()
    check = verify_on_device(bundle, phone.address)
    assert check.missing == ["README.md"] and not check.ok


def test_cancel_leaves_nothing_that_looks_deployed(phone: VirtualDevice, big_bundle: Path) -> None:
    cancel = threading.Event()

    def on_progress(fraction: float, message: str) -> None:
        if "Pushing" in message:
            cancel.set()

    with pytest.raises(JobCancelled):
        deploy_bundle(
            big_bundle, phone.address, report=Reporter(on_progress=on_progress), cancel=cancel
        )
    remote = phone.device_path(f"{DEFAULT}/{big_bundle.name}")
    assert wait_until(lambda: not (remote / f"weights/zz.bin{PART}").exists(), 5)
    assert not (remote / MANIFEST).exists()
    assert not verify_on_device(big_bundle, phone.address).ok


def test_a_damaged_local_bundle_is_not_pushed(phone: VirtualDevice, bundle: Path) -> None:
    (bundle / "model.onnx").write_bytes(b"not the model")
    with pytest.raises(BadInput, match=r"does not match its manifest.*changed: model.onnx"):
        deploy_bundle(bundle, phone.address)
    assert phone.received_bytes == 0


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"has no manifest.json"):
        deploy_bundle(tmp_path, "this-pc")
    with pytest.raises(BadInput, match=r"does not exist"):
        deploy_bundle(tmp_path / "nope", "this-pc")


def test_this_pc_is_a_device_too(bundle: Path, tmp_path: Path) -> None:
    result = deploy_bundle(bundle, "this-pc")
    target = Path(result.remote_dir)
    assert result.verified and _files(target) == _files(bundle)
    assert json.loads((target / MANIFEST).read_text()) == json.loads(
        (bundle / MANIFEST).read_text()
    )
    assert deploy_bundle(bundle, "this-pc").pushed == []
    custom = deploy_bundle(bundle, "this-pc", to=str(tmp_path / "elsewhere"))
    assert Path(custom.remote_dir) == tmp_path / "elsewhere"


def test_storage_filling_up_during_the_push(
    adb: AdbServer, tmp_path: Path, big_bundle: Path
) -> None:
    """Free space looked fine, then something else filled the phone: a clear error, no deploy."""
    with VirtualDevice(tmp_path / "filling") as device:
        attach(adb, device)
        device.capacity = 2 << 20  # what the file system really takes; `df` still says 8 GiB
        try:
            with pytest.raises(OutputError, match=r"ran out of storage while receiving zz.bin"):
                deploy_bundle(big_bundle, device.address)
            remote = device.device_path(f"{DEFAULT}/{big_bundle.name}")
            assert not (remote / MANIFEST).exists()
            assert not (remote / f"weights/zz.bin{PART}").exists()
        finally:
            adb.client().disconnect(device.address)


def test_unplugged_inside_a_big_file_resumes_inside_it(
    adb: AdbServer, tmp_path: Path, big_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.devices import pieces

    monkeypatch.setattr(pieces, "PIECE_BYTES", 1 << 20)  # the 4 MiB file travels in 4 pieces
    with VirtualDevice(tmp_path / "unplug2", drop_after_bytes=3 << 20) as device:
        attach(adb, device)
        try:
            with pytest.raises(OutputError, match="was lost while pushing"):
                deploy_bundle(big_bundle, device.address)
            adb.client().disconnect(device.address)
            attach(adb, device)
            before = device.received_bytes
            result = deploy_bundle(big_bundle, device.address)
            assert result.verified and "weights/zz.bin" in result.resumed
            assert result.bytes_pushed == 2 << 20  # only the two pieces that were missing
            assert (
                device.received_bytes - before == (2 << 20) + (big_bundle / MANIFEST).stat().st_size
            )
            remote = device.device_path(f"{DEFAULT}/{big_bundle.name}")
            assert _files(remote) == _files(big_bundle)  # pieces joined and removed
        finally:
            adb.client().disconnect(device.address)


def test_pieces_on_this_pc(big_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.core.devices import pieces

    monkeypatch.setattr(pieces, "PIECE_BYTES", 1 << 20)
    result = deploy_bundle(big_bundle, "this-pc")
    assert result.verified and _files(Path(result.remote_dir)) == _files(big_bundle)
