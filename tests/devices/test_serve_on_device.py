"""`studio serve BUNDLE --device`: deployed to the virtual phone, served by its Python, reached
through the real adb server's forward, and gone again after stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from studio.cli import main
from studio.core.errors import BadInput
from studio.core.serve.on_device import DeviceServeOptions, serve_on_device
from tests.devices.conftest import AdbServer, attach
from tests.support.virtual_adb import VirtualDevice, wait_until


def call(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_served_on_the_device_answers_as_onnxruntime(
    adb: AdbServer, phone: VirtualDevice, bundle: Path
) -> None:
    options = DeviceServeOptions(bundle=bundle, device=phone.address, port=0)
    server = serve_on_device(options)
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.remote_port != server.port
        assert phone.device_path(server.dev.default_dir(".studio-serve") + "/v2.py").is_file()
        forwards = adb.adb("forward", "--list").stdout
        assert f"tcp:{server.port} tcp:{server.remote_port}" in forwards
        name = server.model
        assert call(f"{server.url}/v2/health/ready") == (200, {"ready": True})
        status, meta = call(f"{server.url}/v2/models/{name}")
        assert status == 200 and meta["inputs"][0]["shape"] == [-1, 1, 16, 16]
        x = np.random.default_rng(3).standard_normal((2, 1, 16, 16)).astype(np.float32)
        request = {
            "id": "d1",
            "inputs": [
                {
                    "name": "image",
                    "shape": [2, 1, 16, 16],
                    "datatype": "FP32",
                    "data": x.ravel().tolist(),
                }
            ],
        }
        status, answer = call(f"{server.url}/v2/models/{name}/infer", request)
        expected = ort.InferenceSession(str(bundle / "model.onnx")).run(None, {"image": x})[0]
        assert status == 200 and answer["id"] == "d1"
        got = np.asarray(answer["outputs"][0]["data"], np.float32).reshape(expected.shape)
        np.testing.assert_array_equal(got, expected)
        status, answer = call(
            f"{server.url}/v2/models/{name}/infer",
            {"inputs": [{**request["inputs"][0], "datatype": "INT64"}]},
        )
        assert status == 400 and "datatype INT64; the model takes FP32" in answer["error"]
        assert "curl" in server.curl_example() and server.url in server.curl_example()
    finally:
        server.stop()
    assert server.wait(10)  # the remote process ended
    assert wait_until(lambda: _servers_on(phone) == 0, 10)
    assert f"tcp:{server.port}" not in adb.adb("forward", "--list").stdout


def test_port_taken_no_runtime_and_unplugged_are_one_line(
    adb: AdbServer,
    phone: VirtualDevice,
    bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code = main(["serve", str(bundle), "--device", phone.address, "--port", str(port), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"Port {port} on this PC is already in use" in err[0]

    with VirtualDevice(tmp_path / "bare", python_has_onnxruntime=False) as bare:
        attach(adb, bare)
        try:
            with pytest.raises(BadInput, match="cannot serve: The device cannot run the model"):
                serve_on_device(DeviceServeOptions(bundle=bundle, device=bare.address, port=0))
        finally:
            adb.client().disconnect(bare.address)
        assert wait_until(lambda: adb.state_of(bare.address) is None, 10)
        code = main(["serve", str(bundle), "--device", bare.address, "--port", "0", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"No device '{bare.address}' is connected" in err[0]


def _servers_on(phone: VirtualDevice) -> int:
    """device_server.py processes running in this phone's sandbox (its processes are ours)."""
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        count += "device_server.py" in text and str(phone.root) in text
    return count


def test_demo_step_serves_on_the_device_and_cleans_up(
    qtbot, adb: AdbServer, phone: VirtualDevice, bundle: Path
) -> None:
    """The Demo step's device button: a job child deploys and serves; Stop cancels the job, and its
    SIGTERM handler removes the forward and ends the server on the device."""
    from studio.ui.jobs_qt import JobManager
    from studio.ui.pages.demo.serve_panel import ServePanel

    jobs = JobManager()
    panel = ServePanel(jobs)
    qtbot.addWidget(panel)
    panel.bundle = lambda: bundle
    panel.device = lambda: phone.address
    try:
        panel.device_button.click()
        qtbot.waitUntil(lambda: bool(panel.url), timeout=90_000)
        assert phone.address in panel.status.text()
        assert call(f"{panel.url}/v2/health/live") == (200, {"live": True})
        port = panel.url.rsplit(":", 1)[1]
        assert f"tcp:{port} " in adb.adb("forward", "--list").stdout
        assert _servers_on(phone) == 1
        panel.stop()
        qtbot.waitUntil(lambda: not panel.running(), timeout=20_000)
        assert wait_until(lambda: f"tcp:{port} " not in adb.adb("forward", "--list").stdout, 10)
        assert wait_until(lambda: _servers_on(phone) == 0, 10)
    finally:
        panel.stop()
        jobs.shutdown()


def test_cli_serves_on_the_device_until_ctrl_c(
    adb: AdbServer, phone: VirtualDevice, bundle: Path
) -> None:
    command = [sys.executable, "-m", "studio", "serve", str(bundle), "--device", phone.address]
    proc = subprocess.Popen(
        [*command, "--port", "0", "--json", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["device"] == phone.address and "/v2/models/" in info["curl"]
        assert call(f"{info['url']}/v2/health/live") == (200, {"live": True})
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    port = info["url"].rsplit(":", 1)[1]
    assert f"tcp:{port} " not in adb.adb("forward", "--list").stdout
    assert wait_until(lambda: _servers_on(phone) == 0, 10)
