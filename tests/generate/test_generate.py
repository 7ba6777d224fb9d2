"""LLM export → INT4 → bundle → streaming generation, on a tiny random-weight Llama built here."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from studio.core.bundle.folder import read_manifest, verify_bundle
from studio.core.errors import BadInput, OutputError
from studio.core.generate.export import export_llm, weight_block_size
from studio.core.generate.llm_bundle import RUNNER_NAME, resolve_llm
from studio.core.generate.memory import estimate_memory
from studio.core.generate.parity import check_parity
from studio.core.generate.session import (
    GenerationStart,
    GenerationSummary,
    TokenChunk,
    generate_stream,
)
from studio.core.generate.settings import GenerationSettings
from tests.support.tiny_lm import make_tiny_llama


def test_int4_export_writes_a_verified_bundle_with_parity_and_memory(tiny_bundle: Path) -> None:
    assert verify_bundle(tiny_bundle).ok
    manifest = read_manifest(tiny_bundle)
    llm = manifest.reports["llm"]
    assert manifest.precision == "int4"
    assert llm["parity"]["passed"] is True
    assert llm["parity"]["min_cosine"] >= 0.95
    assert "cosine" in llm["parity"]["tolerance"]
    assert llm["memory"]["weights_bytes"] > 0
    files = {f.path for f in manifest.files}
    assert {"genai_config.json", "tokenizer.json", "model.onnx", RUNNER_NAME} <= files
    ops = {
        n.op_type
        for n in __import__("onnx")
        .load(str(tiny_bundle / "model.onnx"), load_external_data=False)
        .graph.node
    }
    assert "MatMulNBits" in ops  # really INT4 weights, not a float model under an int4 label


def _block_sizes(bundle: Path) -> set[int]:
    import onnx

    graph = onnx.load(str(bundle / "model.onnx"), load_external_data=False).graph
    return {
        onnx.helper.get_attribute_value(a)
        for n in graph.node
        if n.op_type == "MatMulNBits"
        for a in n.attribute
        if a.name == "block_size"
    }


def test_int4_blocks_are_as_wide_as_the_widths_allow(tiny_bundle: Path, tmp_path: Path) -> None:
    assert weight_block_size({"hidden_size": 640, "intermediate_size": 1792}) == 128
    assert weight_block_size({"text_config": {"hidden_size": 256, "intermediate_size": 768}}) == 128
    assert weight_block_size({"hidden_size": 576, "intermediate_size": 1536}) == 64
    assert weight_block_size({"hidden_size": 96, "intermediate_size": 192}) == 32
    assert weight_block_size({"hidden_size": 640}) == 32  # unknown width: the builder's default
    assert _block_sizes(tiny_bundle) == {64}  # 64 wide
    for width, block in ((128, 128), (96, 32)):
        hf = make_tiny_llama(tmp_path / f"hf{width}", width=width)
        result = export_llm(hf, tmp_path / f"int4-{width}", precision="int4")
        assert result.parity.passed
        assert _block_sizes(tmp_path / f"int4-{width}") == {block}


def test_parity_check_fails_for_a_different_model(tiny_bundle: Path, tmp_path: Path) -> None:
    other = make_tiny_llama(tmp_path / "other", seed=1)
    report = check_parity(other, tiny_bundle, "int4")
    assert not report.passed
    assert report.min_cosine < 0.95


@pytest.mark.slow
def test_fp32_export_matches_pytorch_tightly(tiny_hf: Path, tmp_path: Path) -> None:
    result = export_llm(tiny_hf, tmp_path / "fp32", precision="fp32")
    assert result.parity.passed
    assert result.parity.min_cosine >= 0.9999
    assert result.parity.top1_agreement == 1.0


def test_memory_estimate_is_close_to_the_exported_size(tiny_hf: Path, tiny_bundle: Path) -> None:
    estimate = estimate_memory(tiny_hf, "int4", context_length=256)
    actual = (tiny_bundle / "model.onnx.data").stat().st_size
    assert 0.7 < estimate.weights_bytes / actual < 1.3
    # 2 layers × 1 KV head × 32 dims × 256 positions × K and V × 4 bytes
    assert estimate.kv_cache_bytes == 2 * 1 * 32 * 256 * 2 * 4
    assert estimate_memory(tiny_hf, "fp32").weights_bytes > estimate.weights_bytes * 3


def test_generation_streams_start_chunks_in_order_then_summary(tiny_bundle: Path) -> None:
    settings = GenerationSettings(max_new_tokens=24, temperature=0.0)
    events = list(generate_stream(tiny_bundle, "In the beginning", settings))
    assert isinstance(events[0], GenerationStart)
    assert isinstance(events[-1], GenerationSummary)
    chunks = [e for e in events if isinstance(e, TokenChunk)]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(a.t <= b.t for a, b in itertools.pairwise(chunks))
    summary = events[-1]
    assert sum(c.tokens for c in chunks) <= summary.tokens <= 24
    assert summary.text == "".join(c.text for c in chunks)
    assert summary.ttft_s is not None and summary.ttft_s > 0
    assert summary.prompt_tokens > 0 and summary.memory_bytes > 0
    assert summary.where == "This PC"


def test_greedy_generation_is_repeatable(tiny_bundle: Path) -> None:
    settings = GenerationSettings(max_new_tokens=12, temperature=0.0)
    first = list(generate_stream(tiny_bundle, "The quick brown", settings))[-1]
    second = list(generate_stream(tiny_bundle, "The quick brown", settings))[-1]
    assert first.text == second.text


def test_the_load_time_warm_up_leaves_no_trace_in_answers(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.generate import llm_runner

    def answer(model: llm_runner.LoadedModel) -> str:
        events = llm_runner.stream_generation(
            model, "In the beginning", max_new_tokens=16, temperature=1.2, top_k=200, seed=5
        )
        return "".join(e["text"] for e in events if e["type"] == "token")

    # Longer than the tiny model's context: the warm-up stops at the context instead of failing.
    monkeypatch.setattr(llm_runner, "WARM_UP_TOKENS", 10_000)
    warmed = llm_runner.LoadedModel(str(tiny_bundle))
    monkeypatch.setattr(llm_runner.LoadedModel, "warm_up", lambda self: None)
    cold = llm_runner.LoadedModel(str(tiny_bundle))
    assert answer(warmed) == answer(cold)
    assert answer(warmed) == answer(warmed)


def test_a_seed_repeats_a_sampled_answer_and_another_seed_changes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def sampled(seed: str) -> str:
        args = ["generate", "--prompt", "In the beginning", "--max-new-tokens", "16"]
        code, out, _ = _cli(
            [*args, "--temperature", "1.2", "--top-k", "200", "--seed", seed], capsys
        )
        assert code == 0
        return out

    assert sampled("5") == sampled("5")
    assert sampled("5") != sampled("6")


def test_stop_mid_generation_ends_early_with_a_summary(tiny_bundle: Path) -> None:
    seen: list[TokenChunk] = []
    settings = GenerationSettings(max_new_tokens=200, temperature=1.0, repetition_penalty=1.0)
    events = []
    for event in generate_stream(tiny_bundle, "In the", settings, lambda: len(seen) >= 1):
        events.append(event)
        if isinstance(event, TokenChunk):
            seen.append(event)
    summary = events[-1]
    assert isinstance(summary, GenerationSummary)
    assert summary.stopped and summary.finish == "stop"
    assert summary.tokens < 200


def _run_generation_job(bundle: Path, stop_file: Path):
    from studio.core.jobs import EventMessage, JobHandle, JobSpec, JobState

    spec = JobSpec(
        title="generate",
        target="studio.core.generate.session:generate_job",
        kwargs={
            "model": str(bundle),
            "prompt": "In the beginning",
            "settings": {"max_new_tokens": 20, "temperature": 0.0},
            "stop_file": str(stop_file),
        },
    )
    handle = JobHandle(spec)
    kinds = [
        m.data["type"] for m in handle.events(poll_interval=0.02) if isinstance(m, EventMessage)
    ]
    assert handle.state is JobState.SUCCEEDED, handle.error
    assert isinstance(handle.result, GenerationSummary)
    return kinds, handle.result


def test_generation_job_streams_events_from_a_child_process(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    kinds, summary = _run_generation_job(tiny_bundle, tmp_path / "stop")
    assert kinds[0] == "start" and kinds[-1] == "summary" and "token" in kinds
    assert not summary.stopped and summary.tokens > 0


def test_generation_job_stops_when_asked(tiny_bundle: Path, tmp_path: Path) -> None:
    stop_file = tmp_path / "stop"
    stop_file.touch()
    kinds, summary = _run_generation_job(tiny_bundle, stop_file)
    assert summary.stopped and summary.tokens == 0
    assert kinds == ["start", "summary"]


def test_runner_in_the_bundle_speaks_json_lines(tiny_bundle: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            str(tiny_bundle / RUNNER_NAME),
            "--prompt",
            "In the",
            "--max-new-tokens",
            "6",
            "--temperature",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["type"] == "start" and events[-1]["type"] == "summary"
    assert events[-1]["tokens"] <= 6


def test_device_runner_generates_through_the_bundle_hook(tiny_bundle: Path) -> None:
    """The devices runner (runner/runner.py generate) uses this bundle's generate hook."""
    import subprocess
    import sys

    from studio.core.bundle.runner_protocol import ResultEvent, TokenEvent, parse_event

    proc = subprocess.run(
        [
            sys.executable,
            str(tiny_bundle / "runner" / "runner.py"),
            "generate",
            "--bundle",
            str(tiny_bundle),
            "--prompt",
            "In the",
            "--max-tokens",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    events = [parse_event(line) for line in proc.stdout.splitlines()]
    kinds = [e.type for e in events if e is not None]
    assert kinds[0] == "hello" and kinds[-2:] == ["result", "done"]
    result = next(e for e in events if isinstance(e, ResultEvent))
    assert result.data["tokens"] <= 8 and "ttft_s" in result.data
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert "".join(t.text for t in tokens) == result.data["text"]


# --- bad input ------------------------------------------------------------------------------


def test_resolve_rejects_missing_unexported_and_non_bundles(tmp_path: Path, tiny_hf: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        resolve_llm(tmp_path / "nope")
    with pytest.raises(BadInput, match="has not been exported"):
        resolve_llm(tiny_hf)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no language model"):
        resolve_llm(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(BadInput, match="not a language model bundle"):
        resolve_llm(tmp_path / "notes.txt")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "genai_config.json").write_text("{not json")
    with pytest.raises(BadInput, match="damaged"):
        resolve_llm(broken)


def test_empty_prompt_is_refused(tiny_bundle: Path) -> None:
    with pytest.raises(BadInput, match="prompt is empty"):
        list(generate_stream(tiny_bundle, "   "))


def test_incomplete_bundle_is_a_clear_error(tiny_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_bundle, copy)
    (copy / "model.onnx.data").unlink()
    with pytest.raises(BadInput, match="Could not load"):
        list(generate_stream(copy, "hello"))


def test_export_bad_inputs(tmp_path: Path, tiny_hf: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        export_llm(tmp_path / "missing", tmp_path / "out")
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(BadInput, match="does not support"):
        export_llm(bert, tmp_path / "out")
    no_tok = tmp_path / "no_tok"
    shutil.copytree(tiny_hf, no_tok)
    (no_tok / "tokenizer.json").unlink()
    with pytest.raises(BadInput, match="no tokenizer"):
        export_llm(no_tok, tmp_path / "out")
    with pytest.raises(BadInput, match="Unknown precision"):
        export_llm(tiny_hf, tmp_path / "out", precision="int3")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("user data")
    with pytest.raises(OutputError):
        export_llm(tiny_hf, tmp_path / "full")
    assert (tmp_path / "full" / "mine.txt").read_text() == "user data"
    assert not (tmp_path / "out").exists()


# --- CLI ----------------------------------------------------------------------------------


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from studio.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_generate_json_streams_chunks_then_a_summary(
    tiny_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _cli(
        [
            "generate",
            str(tiny_bundle),
            "--prompt",
            "In the beginning",
            "--max-new-tokens",
            "10",
            "--temperature",
            "0",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["type"] == "start"
    assert lines[-1]["type"] == "summary"
    assert "decode_tokens_per_s" in lines[-1] and lines[-1]["ttft_s"] > 0
    assert all(line["type"] == "token" for line in lines[1:-1])


def test_cli_generate_human_output(tiny_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(
        ["generate", str(tiny_bundle), "--prompt", "The quick", "--max-new-tokens", "5"], capsys
    )
    assert code == 0 and out.endswith("\n")
    assert "tokens/s" in err and "first token after" in err and "This PC" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-new-tokens", "0"], "--max-new-tokens"),
        (["--temperature", "5"], "--temperature"),
        (["--top-p", "0"], "--top-p"),
        (["--top-k", "0"], "--top-k"),
        (["--repetition-penalty", "0.5"], "--repetition-penalty"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_cli_generate_rejects_out_of_range_settings(
    tiny_bundle: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = _cli(["generate", str(tiny_bundle), "--prompt", "x", *args], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert out == ""


def test_cli_generate_bad_model_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(["generate", str(tmp_path / "nope"), "--prompt", "x"], capsys)
    assert code == 2 and "does not exist" in err


def test_cli_llm_export_bad_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(["llm-export", str(tmp_path), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "config.json" in err


def test_cli_llm_export_config_that_is_not_an_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.json").write_text("[1, 2]")
    code, _, err = _cli(["llm-export", str(tmp_path), "--estimate"], capsys)
    assert code == 2 and "is not a JSON object" in err


def test_a_prompt_longer_than_the_context_is_refused(tiny_bundle: Path) -> None:
    with pytest.raises(BadInput, match="reads at most"):
        list(generate_stream(tiny_bundle, "In the beginning " * 200))


def test_answer_stops_at_the_context_length_instead_of_failing(tiny_bundle: Path) -> None:
    settings = GenerationSettings(max_new_tokens=4000, temperature=0.0, repetition_penalty=1.0)
    summary = list(generate_stream(tiny_bundle, "In the beginning", settings))[-1]
    assert summary.prompt_tokens + summary.tokens <= 256


def test_cli_llm_export_estimate_only(tiny_hf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(
        ["llm-export", str(tiny_hf), "--estimate", "--context-length", "128", "--json"], capsys
    )
    assert code == 0
    estimate = json.loads(out)
    assert estimate["context_length"] == 128 and estimate["precision"] == "int4"
    code, _, err = _cli(["llm-export", str(tiny_hf), "--estimate", "--precision", "int3"], capsys)
    assert code == 2 and "Unknown precision" in err
    code, _, err = _cli(["llm-export", str(tiny_hf)], capsys)
    assert code == 2 and "--out" in err
