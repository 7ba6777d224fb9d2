"""`studio llm-export --chip intel-…` → OpenVINO GenAI bundle, run here by `studio generate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.generate.session import GenerationSummary, TokenChunk, generate_stream
from studio.core.generate.settings import GenerationSettings
from tests.support.tiny_lm import make_tiny_llama

CHIP = "intel-core-ultra-meteor-lake"
ROOT = Path(__file__).resolve().parents[2]


def studio(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "studio", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def hf128(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 128 wide: the NPU's INT4 group size must divide every weight row.
    return make_tiny_llama(tmp_path_factory.mktemp("ov") / "hf", width=128)


@pytest.fixture(scope="module")
def ov_bundle(hf128: Path) -> Path:
    out = hf128.parent / "bundle"
    done = studio("llm-export", str(hf128), "--chip", CHIP, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_bundle_is_int4_sym_group_128_with_npu_limits(ov_bundle: Path) -> None:
    manifest = json.loads((ov_bundle / "manifest.json").read_text())
    assert manifest["chip"] == CHIP and manifest["entry"] == "openvino_model.xml"
    assert manifest["reports"]["llm"]["weights"] == "int4_sym group 128"
    npu = json.loads((ov_bundle / "npu_pipeline_config.json").read_text())
    assert npu == {"MAX_PROMPT_LEN": 1024, "MIN_RESPONSE_LEN": 128}
    xml = (ov_bundle / "openvino_model.xml").read_text()
    assert 'element_type="i4"' in xml and "ReadValue" in xml  # INT4 weights, stateful KV cache
    assert studio("verify", str(ov_bundle)).returncode == 0


def test_greedy_text_matches_pytorch(ov_bundle: Path, hf128: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(hf128)
    ids = tok("In the beginning", return_tensors="pt").input_ids
    model = AutoModelForCausalLM.from_pretrained(hf128).eval()
    with torch.no_grad():
        want = model.generate(ids, max_new_tokens=6, do_sample=False)[0][ids.shape[1] :]
    settings = GenerationSettings(max_new_tokens=6, temperature=0, repetition_penalty=1.0)
    events = list(generate_stream(ov_bundle, "In the beginning", settings))
    assert events[0].type == "start" and events[0].prompt_tokens == ids.shape[1]
    chunks = [e for e in events if isinstance(e, TokenChunk)]
    summary = events[-1]
    assert isinstance(summary, GenerationSummary) and summary.tokens == 6
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert summary.text == "".join(c.text for c in chunks) == tok.decode(want)
    assert summary.decode_tokens_per_s and summary.decode_tokens_per_s > 0


def test_stop_ends_with_a_summary(ov_bundle: Path) -> None:
    settings = GenerationSettings(max_new_tokens=50, temperature=0)
    events = list(generate_stream(ov_bundle, "In the", settings, should_stop=lambda: True))
    summary = events[-1]
    assert isinstance(summary, GenerationSummary) and summary.stopped and summary.tokens < 50


def test_cli_generate_streams_json(ov_bundle: Path) -> None:
    done = studio(
        "generate", str(ov_bundle), "--prompt", "In the", "--max-new-tokens", "3", "--json"
    )
    assert done.returncode == 0, done.stderr
    kinds = [json.loads(line)["type"] for line in done.stdout.splitlines()]
    assert kinds[0] == "start" and kinds[-1] == "summary" and "token" in kinds


def test_width_not_multiple_of_128_is_one_line(tmp_path: Path) -> None:
    hf = make_tiny_llama(tmp_path / "hf", width=64)
    out = tmp_path / "out"
    done = studio("llm-export", str(hf), "--chip", CHIP, "--out", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not a multiple of 128" in done.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["hf"]


def test_other_chip_is_refused(tmp_path: Path) -> None:
    done = studio(
        "llm-export",
        str(tmp_path),
        "--chip",
        "mediatek-dimensity-9300",
        "--out",
        str(tmp_path / "o"),
    )
    assert done.returncode == 2 and "not supported" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "o").exists()
