"""Where a decode step's time goes: onnxruntime-genai's own loop vs the studio's path, per token.

Every variant decodes the same prompt with the same settings; per-token wall time is taken
around each step, and the variants are interleaved round by round so that load from other
processes hits them alike. The median step (and its 10th percentile) survives load far better
than a mean over the answer, which a single lost time slice (several ms) can halve for a model
whose step is 0.2 ms. With one intra-op thread all of onnxruntime's work runs in the calling
thread, so that thread's CPU time per token is the work itself, whatever the load.

    PYTHONPATH=. python benchmarks/decode_steps.py [BUNDLE] [--rounds 6] [--tokens 200]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SAMPLED = {"do_sample": True, "temperature": 0.7, "top_p": 0.9, "top_k": 40}
PROMPT = "In the beginning"


def load_with_threads(folder: Path, threads: int) -> Any:
    """An og.Model with ``threads`` intra-op threads (0: onnxruntime's default)."""
    import onnxruntime_genai as og

    config = og.Config(str(folder))
    if threads:
        options = {"intra_op_num_threads": threads}
        config.overlay(json.dumps({"model": {"decoder": {"session_options": options}}}))
    return og.Model(config)


class Steps:
    """Per-token wall and thread-CPU times of one variant, over all rounds."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.rates: list[float] = []  # tokens / wall time of each whole run (what a mean sees)

    def add_run(self, stamps: list[tuple[float, float]]) -> None:
        pairs = list(itertools.pairwise(stamps))
        self.wall += [b[0] - a[0] for a, b in pairs]
        self.cpu += [b[1] - a[1] for a, b in pairs]
        if len(stamps) > 1:
            self.rates.append((len(stamps) - 1) / (stamps[-1][0] - stamps[0][0]))

    def row(self) -> dict[str, Any]:
        wall = sorted(self.wall)
        return {
            "variant": self.label,
            "p10_us": round(wall[len(wall) // 10] * 1e6, 1),
            "median_us": round(statistics.median(wall) * 1e6, 1),
            "cpu_us": round(statistics.median(self.cpu) * 1e6, 1),
            "run_rate_median": round(statistics.median(self.rates)),
            "run_rate_best": round(max(self.rates)),
        }


def _stamp() -> tuple[float, float]:
    return time.perf_counter(), time.thread_time()


def raw_loop(model: Any, tokenizer: Any, tokens: int, search: dict[str, Any], decode: bool):
    """onnxruntime-genai alone: one stamp per generate_next_token (+ token read and detokenize)."""
    import onnxruntime_genai as og

    def run() -> list[tuple[float, float]]:
        ids = tokenizer.encode(PROMPT)
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=len(ids) + tokens, **search)
        generator = og.Generator(model, params)
        generator.append_tokens(ids)
        stream = tokenizer.create_stream()
        stamps = []
        while not generator.is_done():
            stamps.append(_stamp())
            generator.generate_next_token()
            if decode:
                stream.decode(int(generator.get_next_tokens()[0]))
        return stamps[1:]  # the first step ends the prompt's prefill

    return run


def studio_loop(folder: Path, tokens: int, temperature: float, threads: int):
    """The studio's generate_stream (what the chat's worker runs), stamped once per token via
    its should_stop callback, which the loop calls before every step."""
    from studio.core.generate import session
    from studio.core.generate.llm_runner import LoadedModel
    from studio.core.generate.settings import GenerationSettings

    settings = GenerationSettings(max_new_tokens=tokens, temperature=temperature)
    loaded = LoadedModel(str(folder), threads=threads)

    def run() -> list[tuple[float, float]]:
        stamps: list[tuple[float, float]] = []

        def stop() -> bool:
            stamps.append(_stamp())
            return False

        # generate_stream keeps one model per process; hand it the one with this thread count.
        original = session.load
        session.load = lambda _folder: loaded
        try:
            list(session.generate_stream(folder, PROMPT, settings, stop))
        finally:
            session.load = original
        return stamps[2:]  # the first interval holds the prefill

    return run


def measure(folder: Path, rounds: int, tokens: int) -> list[dict[str, Any]]:
    import onnxruntime_genai as og

    one = load_with_threads(folder, 1)
    two = load_with_threads(folder, 2)
    tok = og.Tokenizer(one)
    rep = {"repetition_penalty": 1.1}
    variants: list[tuple[str, Callable[[], list[tuple[float, float]]]]] = [
        ("genai greedy, 1 thread", raw_loop(one, tok, tokens, {"do_sample": False}, False)),
        ("genai greedy, 2 threads", raw_loop(two, tok, tokens, {"do_sample": False}, False)),
        ("genai sampled, 1 thread", raw_loop(one, tok, tokens, {**SAMPLED, **rep}, False)),
        ("genai sampled, 2 threads", raw_loop(two, tok, tokens, {**SAMPLED, **rep}, False)),
        (
            "+ read token + detokenize, 1 thread",
            raw_loop(one, tok, tokens, {**SAMPLED, **rep}, True),
        ),
        ("studio generate_stream, 1 thread", studio_loop(folder, tokens, 0.7, 1)),
        ("studio generate_stream, 2 threads", studio_loop(folder, tokens, 0.7, 2)),
    ]
    steps = {label: Steps(label) for label, _ in variants}
    for _ in range(rounds):
        for label, run in variants:
            steps[label].add_run(run())
    return [s.row() for s in steps.values()]


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| per decoded token | p10 | median | thread CPU | whole-run rate (median / best) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        cpu = f"{r['cpu_us']:.0f} µs" if "1 thread" in r["variant"] else "–"
        lines.append(
            f"| {r['variant']} | {r['p10_us']:.0f} µs | {r['median_us']:.0f} µs | {cpu} | "
            f"{r['run_rate_median']:,} / {r['run_rate_best']:,} tokens/s |"
        )
    return "\n".join(lines)


def main() -> None:
    from studio.core.generate.llm_bundle import resolve_llm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    print(table(measure(resolve_llm(args.bundle), args.rounds, args.tokens)))


if __name__ == "__main__":
    main()
