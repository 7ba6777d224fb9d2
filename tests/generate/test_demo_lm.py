"""The shipped demo language model: intact, checked against PyTorch, and writing text offline."""

from __future__ import annotations

import json

import pytest

from studio.core.bundle.folder import read_manifest, verify_bundle
from studio.core.generate.llm_bundle import demo_lm_path, demo_lm_reference_path
from studio.core.generate.presentation import PRESETS
from studio.core.generate.session import GenerationSummary, generate_stream
from studio.core.generate.settings import GenerationSettings


@pytest.mark.parametrize("folder", [demo_lm_path(), demo_lm_reference_path()])
def test_shipped_bundles_verify_and_passed_parity(folder) -> None:
    assert verify_bundle(folder).ok
    llm = read_manifest(folder).reports["llm"]
    assert llm["parity"]["passed"] is True


def test_demo_lm_is_int4_and_small_and_its_companion_int8() -> None:
    manifest = read_manifest(demo_lm_path())
    assert manifest.precision == "int4"
    assert sum(f.size for f in manifest.files) < 20 * 1024**2
    assert read_manifest(demo_lm_reference_path()).precision == "int8"


def test_every_preset_prompt_gets_an_answer() -> None:
    settings = GenerationSettings(max_new_tokens=12, temperature=0.0)
    for preset in PRESETS:
        summary = list(generate_stream(None, preset.prompt, settings))[-1]
        assert isinstance(summary, GenerationSummary)
        assert summary.tokens > 0 and summary.text.strip(), preset.label


def test_cli_generate_without_a_model_uses_the_demo_lm(capsys: pytest.CaptureFixture[str]) -> None:
    from studio.cli import main

    code = main(["generate", "--prompt", "In the beginning", "--max-new-tokens", "8", "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert lines[-1]["type"] == "summary" and lines[-1]["model"] == "lm"
    assert lines[-1]["decode_tokens_per_s"] and lines[-1]["ttft_s"] > 0
