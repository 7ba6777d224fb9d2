"""`studio serve`: a real server on 127.0.0.1 answering the Open Inference Protocol (V2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from studio.core.bundle.folder import create_bundle
from studio.core.errors import BadInput, StudioError
from studio.core.serve import require_stack
from studio.core.serve.server import TOKEN_ENV, ServeOptions, Server
from tests.support.models import make_slow_loop

ROOT = Path(__file__).resolve().parents[1]


def call(url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """(status, parsed JSON or text) for a GET, or a POST of ``body`` (bytes sent as they are)."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode()
    return status, json.loads(text) if text.startswith("{") else text


def tensor(name: str, array: np.ndarray, datatype: str = "FP32") -> dict[str, Any]:
    return {
        "name": name,
        "shape": list(array.shape),
        "datatype": datatype,
        "data": array.ravel().tolist(),
    }


@pytest.fixture(scope="module")
def cnn_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from studio.core.paths import demo_model_path

    out = tmp_path_factory.mktemp("serve") / "cnn"
    create_bundle(demo_model_path(), out)
    return out


@pytest.fixture(scope="module")
def slow_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("slow")
    create_bundle(make_slow_loop(folder / "slow.onnx"), folder / "bundle")
    return folder / "bundle"


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


def running(options: ServeOptions) -> Iterator[Server]:
    server = Server(options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cnn_server(cnn_bundle: Path, no_token: None) -> Iterator[Server]:
    yield from running(ServeOptions(bundle=cnn_bundle, port=0, max_body=20_000))


def test_v2_routes_answer_as_onnxruntime_does(cnn_server: Server, cnn_bundle: Path) -> None:
    url = cnn_server.url
    assert call(f"{url}/v2/health/live") == (200, {"live": True})
    assert call(f"{url}/v2/health/ready") == (200, {"ready": True})
    assert call(f"{url}/v2/models/digits_cnn/ready") == (200, {"name": "digits_cnn", "ready": True})
    status, meta = call(f"{url}/v2/models/digits_cnn")
    assert status == 200
    assert meta["inputs"] == [{"name": "image", "datatype": "FP32", "shape": [-1, 1, 16, 16]}]
    x = np.random.default_rng(1).standard_normal((2, 1, 16, 16)).astype(np.float32)
    status, answer = call(
        f"{url}/v2/models/digits_cnn/infer", {"id": "r1", "inputs": [tensor("image", x)]}
    )
    expected = ort.InferenceSession(str(cnn_bundle / "model.onnx")).run(None, {"image": x})[0]
    assert status == 200 and answer["id"] == "r1"
    out = answer["outputs"][0]
    assert (out["name"], out["datatype"], out["shape"]) == ("logits", "FP32", [2, 10])
    np.testing.assert_array_equal(np.asarray(out["data"], np.float32).reshape(2, 10), expected)
    status, metrics = call(f"{url}/metrics")
    assert 'studio_serve_requests_total{route="infer",code="200"} 1' in metrics
    assert "studio_serve_inference_seconds_count 1" in metrics
    assert "studio_serve_queue_depth 0" in metrics


def test_bad_requests_get_one_line(cnn_server: Server) -> None:
    infer = f"{cnn_server.url}/v2/models/digits_cnn/infer"
    x = np.zeros((1, 1, 16, 16), np.float32)
    wrong_shape = tensor("image", np.zeros((1, 1, 8, 8), np.float32))
    cases = [
        ({"inputs": [wrong_shape]}, 400, "shape 1×1×8×8; the model takes ?×1×16×16"),
        ({"inputs": [tensor("image", x, "INT64")]}, 400, "datatype INT64; the model takes FP32"),
        ({"inputs": [{**tensor("image", x), "data": [1.0] * 10}]}, 400, "has 10 values"),
        ({"inputs": [{**tensor("image", x), "data": ["a"] * 256}]}, 400, "must hold FP32"),
        ({"inputs": [tensor("pixels", x)]}, 400, "Unknown input 'pixels'"),
        ({"inputs": []}, 400, "Missing input 'image'"),
        (b"{not json", 400, "not valid JSON"),
        (
            {"inputs": [tensor("image", np.full((9, 1, 16, 16), 0.123456789, np.float32))]},
            413,
            "limit",
        ),
    ]
    for body, code, words in cases:
        status, answer = call(infer, body)
        assert status == code, (words, answer)
        assert words in answer["error"] and "\n" not in answer["error"]
    status, answer = call(
        f"{cnn_server.url}/v2/models/resnet/infer", {"inputs": [tensor("image", x)]}
    )
    assert status == 404 and "Unknown model 'resnet'" in answer["error"]
    status, metrics = call(f"{cnn_server.url}/metrics")
    assert 'studio_serve_requests_total{route="infer",code="400"} 7' in metrics


def slow_request(server: Server, steps: int, results: list[Any]) -> threading.Thread:
    x = np.full((1, 256), 0.5, np.float32)
    body = {"inputs": [tensor("steps", np.array([steps]), "INT64"), tensor("x", x)]}
    thread = threading.Thread(
        target=lambda: results.append(call(f"{server.url}/v2/models/slow/infer", body))
    )
    thread.start()
    deadline = time.monotonic() + 30
    while server.metrics.running == 0:  # onnxruntime has it
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.005)
    return thread


def test_a_full_queue_answers_503(slow_bundle: Path, no_token: None) -> None:
    options = ServeOptions(bundle=slow_bundle, port=0, workers=1, queue=0)
    for server in running(options):
        results: list[Any] = []
        busy = slow_request(server, 20_000, results)
        status, answer = call(f"{server.url}/v2/models/slow/infer", {"inputs": []})
        assert status == 503 and "queue is full" in answer["error"]
        busy.join()
        assert results[0][0] == 200


def test_stopping_finishes_the_request_in_flight(slow_bundle: Path, no_token: None) -> None:
    server = Server(ServeOptions(bundle=slow_bundle, port=0, workers=1))
    server.start()
    results: list[Any] = []
    busy = slow_request(server, 20_000, results)
    server.stop()  # returns once the request in flight has been answered
    busy.join()
    status, answer = results[0]
    x = np.full((1, 256), 0.5, np.float32)
    feeds = {"steps": np.array([20_000]), "x": x}
    expected = ort.InferenceSession(str(slow_bundle / "model.onnx")).run(None, feeds)[0]
    assert status == 200
    np.testing.assert_array_equal(np.asarray(answer["outputs"][0]["data"], np.float32), expected[0])
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{server.url}/v2/health/live", timeout=5)


def test_network_interface_needs_a_token(
    cnn_bundle: Path, no_token: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BadInput, match=f"needs a token. Set {TOKEN_ENV}"):
        Server(ServeOptions(bundle=cnn_bundle, host="0.0.0.0", port=0))
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    for server in running(ServeOptions(bundle=cnn_bundle, port=0)):
        status, answer = call(f"{server.url}/v2/health/ready")
        assert status == 401 and "Authorization: Bearer" in answer["error"]
        assert call(f"{server.url}/v2/health/ready", token="wrong")[0] == 401
        assert call(f"{server.url}/v2/health/ready", token="s3cret") == (200, {"ready": True})
        assert "Authorization: Bearer" in server.curl_example()


def test_a_changed_bundle_is_not_served(cnn_bundle: Path, tmp_path: Path, no_token: None) -> None:
    import shutil

    copy = Path(shutil.copytree(cnn_bundle, tmp_path / "copy"))
    (copy / "model.onnx").write_bytes((copy / "model.onnx").read_bytes()[:-10])
    with pytest.raises(BadInput, match="does not match its manifest"):
        Server(ServeOptions(bundle=copy, port=0))


def test_without_the_serve_extra_one_line_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(StudioError, match=r"uvicorn.*pip install 'edge-deploy-studio\[serve\]'"):
        require_stack()


def test_cli_prints_the_address_and_stops_on_ctrl_c(cnn_bundle: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(TOKEN_ENV, None)
    command = [sys.executable, "-m", "studio", "serve", str(cnn_bundle), "--port", "0"]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("serving digits_cnn") and "Ctrl+C" in first
        url = first.split(" at ")[1].split()[0]
        assert proc.stdout.readline().startswith(f"curl -H 'Content-Type: application/json' {url}")
        assert call(f"{url}/v2/health/live") == (200, {"live": True})
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert "stopped" in proc.stderr.read() and "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_port_in_use_or_out_of_range_is_one_line(cnn_bundle: Path, no_token: None) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(BadInput, match=f"Cannot listen on 127.0.0.1:{port}.*another --port"):
            Server(ServeOptions(bundle=cnn_bundle, port=port))
    with pytest.raises(BadInput, match="Port 70000 is not a port number"):
        Server(ServeOptions(bundle=cnn_bundle, port=70000))


def test_a_language_model_bundle_answers_openai_completions_streamed_or_whole(
    no_token: None,
) -> None:
    from studio.core.generate.llm_bundle import demo_lm_path
    from studio.core.generate.session import generate_stream
    from studio.core.generate.settings import GenerationSettings

    greedy = {"max_tokens": 8, "temperature": 0, "seed": 1}
    direct = list(
        generate_stream(
            demo_lm_path(), "In the beginning", GenerationSettings(max_new_tokens=8, temperature=0)
        )
    )[-1].text
    for server in running(ServeOptions(bundle=demo_lm_path(), port=0)):
        assert "/v1/chat/completions" in server.curl_example()
        status, whole = call(
            f"{server.url}/v1/completions", {"prompt": "In the beginning", **greedy}
        )
        assert status == 200 and whole["choices"][0]["text"] == direct
        assert whole["choices"][0]["finish_reason"] == "length"
        assert whole["usage"]["completion_tokens"] == 8
        chat = {"messages": [{"role": "user", "content": "In the beginning"}], "stream": True}
        status, text = call(f"{server.url}/v1/chat/completions", {**chat, **greedy})
        events = [line.removeprefix("data: ") for line in text.split("\n\n") if line]
        assert status == 200 and events[-1] == "[DONE]"
        chunks = [json.loads(e)["choices"][0] for e in events[:-1]]
        assert "".join(c["delta"].get("content", "") for c in chunks) == direct
        assert chunks[-1]["finish_reason"] == "length"
        metrics = call(f"{server.url}/metrics")[1]
        assert "studio_serve_generated_tokens_total 16" in metrics
        assert "studio_serve_decode_tokens_per_second " in metrics
        status, answer = call(f"{server.url}/v1/completions", {"prompt": "x", "max_tokens": 0})
        assert status == 400 and answer["error"].startswith("'max_tokens': Input should be")
        status, answer = call(f"{server.url}/v1/chat/completions", {"messages": []})
        assert status == 400 and "'messages' with text content" in answer["error"]
