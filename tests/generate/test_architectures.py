"""LLM export of architectures beyond Llama: tiny random-weight models made from transformers'
config classes, exported to INT4, parity-checked against PyTorch and run for one token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from studio.core.errors import BadInput
from studio.core.generate.builder_run import adapt_config, fused_rope_fits
from studio.core.generate.export import check_hf_folder, export_llm
from studio.core.generate.session import GenerationSummary, generate_stream
from studio.core.generate.settings import GenerationSettings, Precision
from tests.support.tiny_lm import make_tiny_lm
from tests.support.tiny_remote_lm import make_minicpm_folder, make_tiny_internlm2

SLIDING = {"head_dim": 32, "sliding_window": 16, "query_pre_attn_scalar": 32}
ARCHITECTURES: dict[str, tuple[str, dict[str, Any]]] = {
    # Sliding-window layer 0, full layer 1; the parity prompt is longer than the window.
    "gemma2": ("Gemma2ForCausalLM", SLIDING),
    # transformers 5 writes its rope per layer type (full / sliding), each with its own theta.
    "gemma3": (
        "Gemma3ForCausalLM",
        {**SLIDING, "layer_types": ["sliding_attention", "full_attention"]},
    ),
    # transformers defaults original_max_position_embeddings to 4096 without long-rope factors.
    "phi3-2k": ("Phi3ForCausalLM", {"max_position_embeddings": 2048}),
    # Phi-4-mini style: 3/4 of each 32-wide head rotates, a 12-wide cos/sin cache.
    "phi4-mini": (
        "Phi3ForCausalLM",
        {"partial_rotary_factor": 0.75, "original_max_position_embeddings": 256},
    ),
}


@pytest.mark.slow  # 30-60 s each on a shared 2-core machine: the builder child imports torch
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_exports_matches_pytorch_and_generates(name: str, tmp_path: Path) -> None:
    arch, config = ARCHITECTURES[name]
    hf = make_tiny_lm(tmp_path / "hf", arch, **config)
    result = export_llm(hf, tmp_path / "bundle", precision="int4")
    assert result.architecture == arch
    assert result.parity.passed, result.parity.summary()
    assert result.parity.top1_agreement >= 0.9
    # One new token: a run shorter than the sliding window still gets the whole window.
    settings = GenerationSettings(max_new_tokens=1, temperature=0.0)
    summary = list(generate_stream(tmp_path / "bundle", "The quick brown", settings))[-1]
    assert isinstance(summary, GenerationSummary) and summary.tokens == 1


def test_gemma3_rope_per_layer_type_is_flattened_for_the_builder() -> None:
    from transformers import Gemma3TextConfig

    config = Gemma3TextConfig(rope_theta=50_000.0, rope_local_base_freq=7_000.0)
    config.architectures = ["Gemma3ForCausalLM"]
    assert "rope_type" not in config.rope_parameters  # what made the builder fail
    assert adapt_config(config)
    assert config.rope_parameters["rope_type"] == "default"
    assert (config.rope_theta, config.rope_local_base_freq) == (50_000.0, 7_000.0)


def test_phi3_without_long_rope_takes_the_plain_path_and_long_rope_is_kept() -> None:
    from transformers import Phi3Config

    short = Phi3Config(max_position_embeddings=2048, architectures=["Phi3ForCausalLM"])
    assert short.original_max_position_embeddings == 4096
    adapt_config(short)
    assert short.original_max_position_embeddings == 2048
    factors = [1.0] * 48
    long = Phi3Config(
        max_position_embeddings=131072,
        original_max_position_embeddings=4096,
        rope_parameters={"rope_type": "longrope", "short_factor": factors, "long_factor": factors},
        architectures=["Phi3ForCausalLM"],
    )
    assert adapt_config(long) == [] and long.original_max_position_embeddings == 4096


def test_fused_rope_needs_a_cache_width_that_is_a_multiple_of_8() -> None:
    assert fused_rope_fits(32, 1.0) and fused_rope_fits(128, 0.75)  # 16 and 48 wide
    assert not fused_rope_fits(32, 0.75)  # 12 wide: GroupQueryAttention refuses it


def test_a_model_onnxruntime_cannot_run_is_one_sentence_not_a_traceback(
    tiny_hf: Path, tiny_bundle: Path, tmp_path: Path
) -> None:
    import shutil

    from studio.core.errors import StudioError
    from studio.core.generate.export import _checked_parity

    broken = tmp_path / "onnx"
    broken.mkdir()
    shutil.copy(tiny_bundle / "genai_config.json", broken)
    (broken / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(StudioError, match="could not be compared with PyTorch") as caught:
        _checked_parity(tiny_hf, broken, Precision.INT4, "LlamaForCausalLM")
    assert "\n" not in str(caught.value)


# --- models whose code sits in their folder (trust_remote_code) ------------------------------


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from studio.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow  # about 30 s: the builder child and the parity check both load the model
def test_internlm2_exports_with_its_own_code_when_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hf = make_tiny_internlm2(tmp_path / "hf")
    capsys.readouterr()  # transformers' progress bars while saving it
    out = tmp_path / "bundle"
    code, _, err = _cli(["llm-export", str(hf), "--out", str(out), "--precision", "fp32"], capsys)
    assert code == 2 and "--trust-remote-code" in err and "permissions" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    argv = ["llm-export", str(hf), "--out", str(out), "--precision", "fp32", "--json"]
    code, stdout, err = _cli([*argv, "--trust-remote-code"], capsys)
    assert code == 0, err
    parity = json.loads(stdout)["parity"]
    # FP32: InternLM2's head-grouped wqkv was split into Q, K and V exactly.
    assert parity["passed"] and parity["min_cosine"] >= 0.9999
    settings = GenerationSettings(max_new_tokens=1, temperature=0.0)
    summary = list(generate_stream(out, "The quick brown", settings))[-1]
    assert isinstance(summary, GenerationSummary) and summary.tokens == 1


def test_remote_code_must_be_in_the_folder(tmp_path: Path) -> None:
    hf = tmp_path / "hf"
    hf.mkdir()
    config = {"architectures": ["InternLM2ForCausalLM"], "model_type": "internlm2"}
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_internlm2.InternLM2ForCausalLM"}
    (hf / "config.json").write_text(json.dumps(config))
    with pytest.raises(BadInput, match=r"modeling_internlm2.py, which is not in the folder"):
        check_hf_folder(hf, trust_remote_code=True)
    config["auto_map"] = {"AutoModelForCausalLM": "someone/repo--modeling.InternLM2ForCausalLM"}
    (hf / "config.json").write_text(json.dumps(config))
    with pytest.raises(BadInput, match="never downloads"):
        check_hf_folder(hf, trust_remote_code=True)


def test_minicpm_is_one_sentence_and_its_code_never_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hf = make_minicpm_folder(tmp_path / "hf")  # its .py files would exit the process if run
    out = tmp_path / "bundle"
    for extra in ([], ["--trust-remote-code"]):
        code, _, err = _cli(["llm-export", str(hf), "--out", str(out), *extra], capsys)
        assert code == 2 and "cannot convert MiniCPMForCausalLM" in err
        assert len(err.strip().splitlines()) == 1 and not out.exists()
