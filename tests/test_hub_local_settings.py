"""The Local hub (folders and .onnx files on this computer) and the versioned hub settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.errors import BadInput
from studio.core.hubs import HubSettings, SearchQuery, get_hub, load_settings, save_settings
from studio.core.hubs.local import LocalHub, check_local_model
from studio.core.hubs.settings import settings_path
from tests.support.hub_fixtures import *  # noqa: F403
from tests.support.hub_server import safetensors_bytes
from tests.support.models import make_mlp


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    hf = root / "my-llm"
    hf.mkdir(parents=True)
    (hf / "config.json").write_text("{}")
    (hf / "model.safetensors").write_bytes(safetensors_bytes({"w": ("BF16", [128, 64])}))
    (hf / "README.md").write_text("---\nlicense: apache-2.0\n---\n# My LLM\n")
    make_mlp(root / "mlp.onnx")
    (root / "notes.txt").write_text("not a model")
    return root


def test_local_hub_lists_hf_folders_and_onnx_files(models_dir: Path) -> None:
    hits = LocalHub([str(models_dir)]).search(SearchQuery()).next_page().hits
    assert sorted(Path(h.id).name for h in hits) == ["mlp.onnx", "my-llm"]
    assert all(h.cached and h.size for h in hits)


def test_local_info_counts_parameters_and_reads_license(models_dir: Path) -> None:
    hub = LocalHub([str(models_dir)])
    folder = hub.info(str(models_dir / "my-llm"), memory_budget=2**30)
    assert folder.parameters == 128 * 64 and folder.parameter_dtypes == {"BF16": 8192}
    assert folder.license == "apache-2.0" and folder.memory and folder.memory.verdict == "fits"
    assert hub.card(str(models_dir / "my-llm")).startswith("# My LLM")
    onnx = hub.info(str(models_dir / "mlp.onnx"))
    assert onnx.parameters == 16 * 32 + 32 + 32 * 4
    fetched = hub.download(str(models_dir / "mlp.onnx"))
    assert (fetched.path, fetched.files) == (str(models_dir), ["mlp.onnx"])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "is empty"),
        (lambda p: (p / "a.txt").write_text("x") and p / "a.txt", "not a model"),
    ],
)
def test_local_bad_input(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        check_local_model(make(tmp_path))


def test_settings_round_trip_and_env_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings() == HubSettings()
    save_settings(HubSettings(endpoint="https://hf-mirror.com/", offline=True))
    loaded = load_settings()
    assert loaded.endpoint == "https://hf-mirror.com" and loaded.is_offline()
    assert loaded.resolved_endpoint() == "https://hf-mirror.com"
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1234")
    assert loaded.resolved_endpoint() == "http://127.0.0.1:1234"
    assert "version: 1" in settings_path().read_text()


def test_settings_file_with_bad_values_names_file_and_field() -> None:
    settings_path().write_text("version: 1\nendpoint: ftp://x\n")
    with pytest.raises(BadInput, match=r"hub\.yaml: 'endpoint'"):
        load_settings()
    settings_path().write_text("version: 1\nproxy: x\n")
    with pytest.raises(BadInput, match=r"hub\.yaml: unknown key 'proxy'"):
        load_settings()


def test_modelscope_says_how_to_enable_it() -> None:
    hub = get_hub("modelscope")
    reason = hub.unavailable_reason()
    assert reason and "pip install 'edge-deploy-studio[modelscope]'" in reason
    with pytest.raises(BadInput, match="ModelScope support is not installed"):
        hub.download("qwen/Qwen2-0.5B")
