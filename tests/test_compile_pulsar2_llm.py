"""`studio llm-export --chip axera-ax650n`: a Pulsar2 `llm_build` kit with the flags of Axera's
LLM guide, the model's files beside it, verified like every bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.bundle.folder import read_manifest, verify_bundle

CHIP = "axera-ax650n"


def _hf_folder(folder: Path, model_type: str = "qwen2", weights: bool = True) -> Path:
    """What Pulsar2 reads: config.json, weights, tokenizer (contents are Pulsar2's business)."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
    (folder / "tokenizer.json").write_text("{}")
    if weights:
        blob = folder.parent / "blob"
        blob.write_bytes(b"\0" * 64)
        (folder / "model.safetensors").symlink_to(blob)  # as in the Hugging Face cache
    return folder


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["llm-export", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_kit_holds_the_model_and_the_llm_build_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _hf_folder(tmp_path / "Qwen2.5-0.5B")
    out = tmp_path / "kit"
    code, stdout, _ = _run([str(src), "--chip", CHIP, "--out", str(out)], capsys)
    assert code == 0 and "runs in Axera's Pulsar2" in stdout
    script = (out / "pulsar2" / "llm_build.sh").read_text()
    line = (
        "pulsar2 llm_build --input_path hf_model --output_path pulsar2/output "
        "--hidden_state_type bf16 --weight_type s8 --kv_cache_len 1023 --prefill_len 128 "
        "--chip AX650"
    )
    assert line in script and "embed_process.sh" in script and "axllm run" in script
    assert (out / "hf_model" / "model.safetensors").read_bytes() == b"\0" * 64
    assert not (out / "hf_model" / "model.safetensors").is_symlink()
    assert verify_bundle(out).ok
    manifest = read_manifest(out)
    assert manifest.method == "pulsar2-llm-kit" and manifest.entry == "pulsar2/llm_build.sh"
    assert manifest.reports["compile"]["verified"] is True
    assert "final compile runs in Axera's Pulsar2" in (out / "README.md").read_text()


def test_context_length_sets_the_kv_cache_and_unknown_types_are_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _hf_folder(tmp_path / "m", model_type="mamba")
    out = tmp_path / "kit"
    code, _, err = _run(
        [str(src), "--chip", CHIP, "--out", str(out), "--context-length", "2048"], capsys
    )
    assert code == 0 and "not in Axera's list of verified models" in err
    assert "--kv_cache_len 2047 --prefill_len 128" in (out / "pulsar2" / "llm_build.sh").read_text()


@pytest.mark.parametrize(
    ("weights", "extra", "expected"),
    [
        (False, [], "has no weights"),
        (True, ["--context-length", "100"], "shorter than the AX650's prefill block"),
    ],
)
def test_bad_folder_or_length_is_one_line_and_writes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    weights: bool,
    extra: list[str],
    expected: str,
) -> None:
    src = _hf_folder(tmp_path / "m", weights=weights)
    code, _, err = _run([str(src), "--chip", CHIP, "--out", str(tmp_path / "kit"), *extra], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err
    assert not (tmp_path / "kit").exists()


def test_existing_folder_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _hf_folder(tmp_path / "m")
    out = tmp_path / "kit"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    code, _, err = _run([str(src), "--chip", CHIP, "--out", str(out)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert (out / "mine.txt").read_text() == "keep"
