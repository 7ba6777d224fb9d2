"""Generation settings (temperature, top-p, top-k, repetition penalty, seed) reach the runner on
the virtual phone and change what it writes, exactly as on this PC."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio.core.devices.deploy import deploy_bundle
from studio.core.devices.run import run_on_device
from studio.core.errors import BadInput
from studio.core.generate.llm_bundle import demo_lm_path
from studio.core.generate.on_device import generate_on_device, runner_sampling, runner_version
from studio.core.generate.session import GenerationSummary, generate_stream
from studio.core.generate.settings import GenerationSettings
from tests.support.virtual_adb import VirtualDevice

PROMPT = "In the beginning"

# A generate hook that only reports the options it was given, to see what crossed adb.
OPTIONS_HOOK = """
def generate(bundle, options, emit):
    return {"text": "", "tokens": 0, "tokens_per_s": 0.0, "time_to_first_token_ms": None,
            "options": options}
"""


def _on_phone(phone: VirtualDevice, settings: GenerationSettings) -> str:
    summary = list(generate_on_device(None, PROMPT, phone.address, settings))[-1]
    assert isinstance(summary, GenerationSummary) and summary.where == phone.address
    return summary.text


def _here(settings: GenerationSettings) -> str:
    summary = list(generate_stream(None, PROMPT, settings))[-1]
    assert isinstance(summary, GenerationSummary)
    return summary.text


def test_every_setting_arrives_with_its_type(
    phone: VirtualDevice, tmp_path: Path, demo_model: Path
) -> None:
    from studio.core.bundle.folder import create_bundle

    hook = tmp_path / "hook.py"
    hook.write_text(OPTIONS_HOOK)
    bundle = tmp_path / "options-bundle"
    create_bundle(demo_model, bundle, extra_files={"runner/generate.py": hook})
    deploy_bundle(bundle, phone.address)
    settings = GenerationSettings(
        max_new_tokens=9, temperature=0.3, top_p=0.5, top_k=7, repetition_penalty=1.3, seed=42
    )
    outcome = run_on_device(
        bundle,
        phone.address,
        "generate",
        prompt="hi",
        max_tokens=9,
        sampling=settings.sampling(),
        trust_bundle_runner=True,  # the options hook is a test's, not one the studio shipped
    )
    assert outcome.ok, outcome.error
    assert outcome.result is not None
    assert outcome.result["options"] == {
        "prompt": "hi",
        "max_tokens": 9,
        "temperature": 0.3,
        "top_p": 0.5,
        "top_k": 7,
        "repetition_penalty": 1.3,
        "seed": 42,
    }


def test_greedy_and_seeded_sampling_on_the_phone_match_this_pc(phone: VirtualDevice) -> None:
    greedy = GenerationSettings(max_new_tokens=16, temperature=0.0)
    seeded = GenerationSettings(max_new_tokens=16, temperature=1.2, top_k=200, top_p=1.0, seed=7)
    other_seed = seeded.model_copy(update={"seed": 8})

    on_phone_greedy = _on_phone(phone, greedy)
    on_phone_seeded = _on_phone(phone, seeded)
    assert on_phone_greedy == _here(greedy)  # greedy reached the phone: same text as here
    assert on_phone_seeded == _here(seeded)  # so did temperature, top-k, top-p and the seed
    assert on_phone_seeded != on_phone_greedy
    assert _on_phone(phone, other_seed) != on_phone_seeded


def test_an_older_bundle_runner_refuses_settings_it_cannot_take(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(demo_lm_path(), folder)
    runner = folder / "runner" / "runner.py"
    runner.write_text(
        runner.read_text().replace('RUNNER_VERSION = "1.1"', 'RUNNER_VERSION = "1.0"')
    )
    assert runner_version(folder) == (1, 0)
    # The defaults are what the old runner uses anyway, so nothing needs sending.
    assert runner_sampling(folder, GenerationSettings(max_new_tokens=5)) == {}
    with pytest.raises(BadInput, match="older studio"):
        runner_sampling(folder, GenerationSettings(temperature=0.0))
    assert runner_version(demo_lm_path()) >= (1, 1)
    assert runner_sampling(demo_lm_path(), GenerationSettings(seed=3))["seed"] == 3
