"""Netron served on 127.0.0.1: patched to stay private and never expire, and nothing else served."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from studio.core.analyze.netron_server import (
    CSP,
    NetronPatchError,
    NetronServer,
    NetronSite,
    netron_dir,
    patch_browser_js,
    patch_index,
)
from studio.core.errors import BadInput


@pytest.fixture
def server():
    with NetronServer({"extra.js": b"// studio"}) as running:
        yield running


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def test_page_has_no_expiry_date_strict_csp_and_the_model(
    server: NetronServer, demo_model: Path
) -> None:
    url = server.serve(demo_model)
    assert url.startswith("http://127.0.0.1:")
    page = _get(url).decode()
    original = (netron_dir() / "index.html").read_text()
    assert '<meta name="date"' in original and '<meta name="date"' not in page
    assert "connect-src 'self'" in page
    assert '<script type="text/javascript" src="extra.js"></script>' in page
    assert _get(url + "data/" + demo_model.name) == demo_model.read_bytes()
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Security-Policy"] == CSP


def test_consent_and_telemetry_are_not_started(server: NetronServer, demo_model: Path) -> None:
    url = server.serve(demo_model)
    browser = _get(url + "browser.js").decode()
    assert "await consent();" not in browser and "await telemetry();" not in browser
    assert "studio: no consent screen" in browser


def test_two_models_are_served_side_by_side(
    server: NetronServer, demo_model: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.onnx"
    other.write_bytes(b"x" * 10)
    first, second = server.serve(demo_model), server.serve(other)
    assert _get(second + "data/other.onnx") == b"x" * 10
    assert _get(first + "data/" + demo_model.name) == demo_model.read_bytes()
    server.forget(second)
    with pytest.raises(urllib.error.HTTPError, match="404"):
        _get(second)


@pytest.mark.parametrize(
    "path",
    [
        "data/../../../etc/passwd",
        "data/%2e%2e/secret",
        "../../etc/passwd",
        "..%2fserver.py",
        "data/",
    ],
)
def test_nothing_outside_the_model_folder_or_netron_is_served(
    server: NetronServer, demo_model: Path, path: str
) -> None:
    url = server.serve(demo_model)
    with pytest.raises(urllib.error.HTTPError, match="404"):
        _get(url + path)


def test_only_get_and_only_our_host_name(server: NetronServer, demo_model: Path) -> None:
    url = server.serve(demo_model)
    path = url.split(str(server.port), 1)[1]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("POST", path, body=b"x")
    assert connection.getresponse().status == 405
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", path, headers={"Host": "evil.example:80"})
    assert connection.getresponse().status == 403  # DNS-rebinding guard


def test_server_listens_on_loopback_only(server: NetronServer) -> None:
    assert server._server.server_address[0] == "127.0.0.1"


def test_patches_refuse_an_unexpected_netron() -> None:
    with pytest.raises(NetronPatchError):
        patch_browser_js("const nothing = 1;")
    with pytest.raises(NetronPatchError):
        patch_index("<html></html>", None, [])  # type: ignore[arg-type]


def test_a_missing_model_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="is not a model file"):
        NetronSite().add_model(tmp_path / "none.onnx")


def _raw(server: NetronServer, request_line: bytes) -> bytes:
    """Send one request byte for byte (no client library to clean it up); return the answer."""
    import socket

    host = f"Host: 127.0.0.1:{server.port}\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request_line + b"\r\n" + host + b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "target",
    [
        b"data/a\x00b.onnx",
        b"data/a%00b.onnx",
        b"%00",
        b"data/" + b"n" * 5000,
        b"n" * 5000,
        b"data/" + b"d/" * 3000 + b"x",
    ],
    ids=["nul", "encoded-nul", "encoded-nul-asset", "long-name", "long-asset", "long-path"],
)
def test_hostile_paths_get_a_400_and_the_server_keeps_serving(
    server: NetronServer, demo_model: Path, target: bytes
) -> None:
    url = server.serve(demo_model)
    path = url.split(str(server.port), 1)[1].encode()
    answer = _raw(server, b"GET " + path + target + b" HTTP/1.1")
    assert answer.startswith(b"HTTP/1.") and answer.split()[1] == b"400", answer[:80]
    assert _get(url + "data/" + demo_model.name) == demo_model.read_bytes()


def test_an_over_long_request_line_gets_a_400(server: NetronServer, demo_model: Path) -> None:
    url = server.serve(demo_model)
    answer = _raw(server, b"GET /m/" + b"a" * 70_000 + b" HTTP/1.1")
    assert answer.startswith(b"HTTP/1.") and answer.split()[1] == b"400", answer[:80]
    assert _get(url + "data/" + demo_model.name) == demo_model.read_bytes()
