"""Fixtures for hub tests: a loopback hub with a few repos, an in-memory keyring, a context.

Import them into a test module with ``from tests.support.hub_fixtures import *``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests.support.hub_server import HubServer, Repo, safetensors_bytes

CARD = b"---\nlicense: mit\ntags: [onnx]\n---\n# Tiny MLP\n\nA **small** model for tests.\n"


class MemoryKeyring(KeyringBackend):
    """A secure-looking keyring that lives in memory, so tests never touch a real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    from studio.core.hubs import tokens

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    tokens._SESSION.clear()
    yield backend
    tokens._SESSION.clear()
    keyring.set_keyring(previous)


def make_mlp_bytes(tmp: Path) -> bytes:
    from tests.support.models import make_mlp

    return make_mlp(tmp / "mlp.onnx").read_bytes()


def populate(server: HubServer, onnx_bytes: bytes) -> None:
    hub = server.hub
    weights = safetensors_bytes({"w1": ("F16", [256, 256]), "b1": ("F32", [256])})
    hub.add(
        Repo(
            "acme/tiny-mlp",
            {
                "README.md": CARD,
                "config.json": b'{"model_type": "mlp"}',
                "model.safetensors": weights,
                "onnx/model.onnx": onnx_bytes,
                "onnx/model_fp16.onnx": os.urandom(40_000),
            },
            pipeline_tag="tabular-classification",
            library_name="onnx",
            downloads=900,
            likes=12,
            last_modified="2026-03-01T00:00:00.000Z",
            license="mit",
            safetensors={"F16": 65536, "F32": 256},
        )
    )
    for i in range(5):
        hub.add(
            Repo(
                f"acme/text-{i}",
                {"config.json": b"{}", "model.onnx": os.urandom(2000 + i)},
                pipeline_tag="text-generation",
                library_name="transformers",
                downloads=100 * i,
                likes=10 - i,
                last_modified=f"2026-0{i + 1}-01T00:00:00.000Z",
            )
        )
    hub.add(
        Repo(
            "bigco/gated-llm",
            {"config.json": b"{}", "model.onnx": os.urandom(5000)},
            gated="manual",
            pipeline_tag="text-generation",
            library_name="onnx",
            downloads=5,
        )
    )
    hub.add(Repo("acme/big", {"model.onnx": os.urandom(6 * 1024 * 1024)}, library_name="onnx"))
    hub.tokens.update({"hf_good": "alice", "hf_approved": "bob"})
    hub.access["bigco/gated-llm"] = {"bob"}


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[HubServer]:
    server = HubServer().start()
    populate(server, make_mlp_bytes(tmp_path))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hf_ctx(hub_server: HubServer):
    from studio.core.hubs.hf_context import HubContext, hf_cache_dir

    return HubContext(
        endpoint=hub_server.endpoint,
        token=None,
        cache_dir=hf_cache_dir(),
        offline=False,
        retry_delays=(0.01, 0.02, 0.04),
    )


@pytest.fixture
def hf_hub(hf_ctx):
    from studio.core.hubs.huggingface import HuggingFaceHub

    return HuggingFaceHub(hf_ctx)
