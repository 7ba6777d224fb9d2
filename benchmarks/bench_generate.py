"""Generation speed of an LLM bundle (default: the INT4 demo LM) on this PC.

1. Decode tokens/s against the memory-bandwidth bound: measured copy bandwidth (2 threads)
   ÷ bytes read per token (every weight byte once, but only one row of an embedding table that
   is not shared with the output layer, + the KV cache so far). Decode is measured
   as `studio generate` and as the chat's worker process report it (tokens over wall time,
   best of N answers), and two ways that survive load from other processes: tokens per second
   of the generating thread's CPU time (with one intra-op thread) and the median decode step.
2. Time to first token for a 64-token prompt (median of N runs, model already loaded).
3. Memory growth over a presentation loop: RSS after a warm-up vs after N prompts.

    python benchmarks/bench_generate.py [BUNDLE] [--loop 1000] [--steps] [--json]
    python benchmarks/bench_generate.py --random-llama 1024x16 --loop 0   # a memory-bound model

It prints the markdown table kept in benchmarks/README.md, with the load average; ``--steps``
adds where a decode step's time goes (benchmarks/decode_steps.py). The demo LM (a few MB) fits
in the CPU caches, so a token does not wait for memory; ``--random-llama HIDDENxLAYERS`` builds
a random-weight Llama of that size with the demo tokenizer, exports it to INT4 with the studio
and measures it the same way.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import threading
import time
from pathlib import Path

import numpy as np

from studio.core.generate.llm_bundle import resolve_llm
from studio.core.generate.llm_runner import memory_in_use
from studio.core.generate.presentation import run_presentation_loop
from studio.core.generate.session import GenerationSummary, generate_stream, load
from studio.core.generate.settings import GenerationSettings


def copy_bandwidth(megabytes: int = 512, threads: int = 2, repeats: int = 5) -> float:
    """Bytes/s moved by parallel memcpy (read + write counted), best of ``repeats``."""
    n = megabytes * 1024 * 1024 // 4
    src = np.ones(n, dtype=np.float32)
    dst = np.empty_like(src)
    parts = np.array_split(np.arange(n), threads)
    bounds = [(int(p[0]), int(p[-1]) + 1) for p in parts]

    def work(lo: int, hi: int) -> None:
        np.copyto(dst[lo:hi], src[lo:hi])

    best = 0.0
    for _ in range(repeats):
        workers = [threading.Thread(target=work, args=b) for b in bounds]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = max(best, 2 * src.nbytes / (time.perf_counter() - start))
    return best


def lookup_only_bytes(model: Path) -> int:
    """Bytes of weights only a token lookup reads (an untied embedding table: one row a token).

    A table shared with the output layer (tied embeddings) is read whole by that layer, so it
    stays counted."""
    import onnx

    proto = onnx.load(str(model), load_external_data=False)
    users: dict[str, set[str]] = {}
    for node in proto.graph.node:
        for name in node.input:
            users.setdefault(name, set()).add(node.op_type)
    lookups = {"Gather", "GatherBlockQuantized"}
    total = 0
    for tensor in proto.graph.initializer:
        if users.get(tensor.name) and users[tensor.name] <= lookups:
            external = {e.key: e.value for e in tensor.external_data}
            if "length" in external:
                total += int(external["length"])
            else:
                total += len(tensor.raw_data)
    return total


def bytes_per_token(folder: Path, position: int) -> float:
    """Weights read once per decoded token (all but lookup tables), plus the K and V cache up
    to ``position``."""
    genai = json.loads((folder / "genai_config.json").read_text())["model"]["decoder"]
    weights = sum(p.stat().st_size for p in folder.glob("*.onnx*"))
    weights -= lookup_only_bytes(folder / genai.get("filename", "model.onnx"))
    kv = 2 * genai["num_hidden_layers"] * genai["num_key_value_heads"] * genai["head_size"] * 4
    return weights + kv * position


def prompt_of(folder: Path, tokens: int) -> str:
    loaded = load(folder)
    sentence = "And the LORD spake unto Moses in the wilderness of Sinai, saying,"
    words = sentence.split()
    text = ""
    i = 0
    while len(loaded.tokenizer.encode(text)) < tokens:
        text += ("" if not text else " ") + words[i % len(words)]
        i += 1
    return text


def decode_speed(folder: Path, new_tokens: int, runs: int) -> tuple[GenerationSummary, dict]:
    """The best summary of ``runs`` answers — the figure the chat shows, tokens over the decode's
    wall time — plus figures that survive load, from timestamps taken at the loop's should_stop
    call (made once per token): the median step, and tokens per second of this thread's CPU time
    over whole answers (with one intra-op thread all of onnxruntime's work runs in this thread,
    so that is the speed without the time other processes held the core)."""
    settings = GenerationSettings(
        max_new_tokens=new_tokens, temperature=0.7, repetition_penalty=1.0
    )
    summaries: list[GenerationSummary] = []
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        stamps: list[tuple[float, float]] = []

        def stop(stamps: list[tuple[float, float]] = stamps) -> bool:
            stamps.append((time.perf_counter(), time.thread_time()))
            return False

        summaries.append(list(generate_stream(folder, "In the beginning", settings, stop))[-1])
        pairs = list(itertools.pairwise(stamps[1:]))  # stamps[0] → [1] is the prompt's prefill
        walls += [b[0] - a[0] for a, b in pairs]
        cpus += [b[1] - a[1] for a, b in pairs]
    # An answer that met the end-of-text token after a few tokens gives a noisy speed.
    full = [s for s in summaries if s.tokens >= new_tokens // 2] or summaries
    best = max(full, key=lambda s: s.decode_tokens_per_s or 0)
    return best, {"median_step_s": statistics.median(walls), "cpu_rate": len(cpus) / sum(cpus)}


def worker_decode(folder: Path, new_tokens: int, runs: int) -> float:
    """Best decode tokens/s the chat would show: answers from the GUI's generation worker
    process (model loaded once; text streamed back over a pipe), like decode_speed's."""
    from studio.core.generate.worker import GenerationWorker
    from studio.core.jobs.messages import ResultMessage

    settings = GenerationSettings(
        max_new_tokens=new_tokens, temperature=0.7, repetition_penalty=1.0
    ).model_dump()
    worker = GenerationWorker(str(folder))
    speeds: list[float] = []
    try:
        for _ in range(runs):
            for message in worker.answer("In the beginning", settings):
                if isinstance(message, ResultMessage) and message.value is not None:
                    summary = GenerationSummary.model_validate(message.value, from_attributes=True)
                    if summary.tokens >= new_tokens // 2:
                        speeds.append(summary.decode_tokens_per_s or 0.0)
    finally:
        worker.shutdown()
    return max(speeds, default=0.0)


def ttft(folder: Path, prompt: str, runs: int) -> tuple[float, float, int]:
    settings = GenerationSettings(max_new_tokens=1)
    summaries = [list(generate_stream(folder, prompt, settings))[-1] for _ in range(runs)]
    return (
        statistics.median(s.ttft_s or 0 for s in summaries),
        statistics.median(s.prompt_tokens_per_s or 0 for s in summaries),
        summaries[0].prompt_tokens,
    )


def memory_growth(folder: Path, prompts: int, warmup: int = 20) -> dict[str, float]:
    run_presentation_loop(str(folder), warmup)
    before = memory_in_use()
    samples: list[int] = []

    def on_summary(index: int, summary: object) -> None:
        if index % 100 == 0:
            samples.append(memory_in_use())

    start = time.perf_counter()
    run_presentation_loop(str(folder), prompts, on_summary=on_summary)
    after = memory_in_use()
    return {
        "prompts": prompts,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
        "growth": (after - before) / before,
        "seconds": time.perf_counter() - start,
        "samples_mb": [round(s / 2**20, 1) for s in samples],
    }


def random_llama(spec: str, work: Path) -> Path:
    """A random-weight Llama (needs the [export] extra), exported to INT4 with the studio."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from studio.core.generate.export import export_llm
    from studio.core.generate.llm_bundle import demo_lm_path

    hidden, layers = (int(x) for x in spec.lower().split("x"))
    tokenizer = AutoTokenizer.from_pretrained(demo_lm_path())
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 11 // 4 // 32 * 32,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 64,
        num_key_value_heads=hidden // 128,
        max_position_embeddings=1024,
        tie_word_embeddings=False,
    )
    hf = work / "hf"
    LlamaForCausalLM(config).save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    export_llm(hf, work / "int4", precision="int4", name=f"random-llama-{spec}")
    return work / "int4"


def readme_table(result: dict, label: str) -> str:
    """The results as the markdown table kept in benchmarks/README.md."""
    memory = result["memory"]
    rows = [
        ("measured bandwidth", f"{result['bandwidth_gb_s']} GB/s", ""),
        ("bytes read per token", f"{result['bytes_per_token_mb']} MB", ""),
        ("bandwidth bound", f"{result['bound_tokens_per_s']:,.0f} tokens/s", ""),
        (
            "decode as `studio generate` reports it (best of the runs)",
            f"{result['decode_tokens_per_s']:,.0f} tokens/s = "
            f"**{result['ratio_to_bound']} of the bound**",
            "≥ 0.7 — " + ("met" if result["ratio_to_bound"] >= 0.7 else "**not met**"),
        ),
        (
            "decode as the chat reports it: its generation worker process (best of the runs)",
            f"{result['worker_decode_tokens_per_s']:,.0f} tokens/s = "
            f"**{result['worker_ratio']} of the bound**",
            "≥ 0.7 — " + ("met" if result["worker_ratio"] >= 0.7 else "**not met**"),
        ),
        (
            "same answers, per second of this thread's CPU time (load removed; 1 thread only)",
            f"{result['cpu_tokens_per_s']:,.0f} tokens/s = **{result['cpu_ratio']} of the bound**"
            if result["cpu_ratio"] is not None
            else "–",
            "",
        ),
        (
            "median decode step over all runs",
            f"{result['median_step_us']:.0f} µs ({result['median_step_tokens_per_s']:,.0f} "
            f"tokens/s = {result['median_step_ratio']} of the bound)",
            "",
        ),
        (
            f"time to first token, {result['prompt_tokens']}-token prompt",
            f"**{result['ttft_ms_64_token_prompt']} ms** "
            f"(prompt read at {result['prompt_tokens_per_s']:,} tokens/s)",
            "",
        ),
    ]
    if memory:
        rows.append(
            (
                f"memory over {memory['prompts']:,} prompts (after 20 warm-up prompts)",
                f"{memory['rss_before_mb']:.1f} → {memory['rss_after_mb']:.1f} MB, "
                f"**{memory['growth']:+.1%}** in {memory['seconds']:.0f} s",
                "≤ 10% — " + ("met" if memory["growth"] <= 0.10 else "**not met**"),
            )
        )
    load = result["load_average"]
    head = (
        f"| {time.strftime('%Y-%m-%d')}, {label}, {result['threads']} intra-op thread(s), "
        f"load average {load[0]:.1f} → {load[1]:.1f} | result | goal |"
    )
    return "\n".join([head, "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?")
    parser.add_argument("--new-tokens", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", type=int, default=1000, help="presentation-loop prompts")
    parser.add_argument("--random-llama", metavar="HIDDENxLAYERS")
    parser.add_argument("--steps", action="store_true", help="also where a decode step goes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    if args.random_llama:
        import tempfile

        work = Path(tempfile.mkdtemp(prefix="bench-llama-"))
        folder = random_llama(args.random_llama, work)
    else:
        folder = resolve_llm(args.bundle)
    bandwidth = copy_bandwidth()
    decode, robust = decode_speed(folder, args.new_tokens, args.runs)
    step = robust["median_step_s"]
    threads = load(folder).threads
    mid = decode.prompt_tokens + decode.tokens // 2
    per_token = bytes_per_token(folder, mid)
    bound = bandwidth / per_token
    in_worker = worker_decode(folder, args.new_tokens, args.runs)
    first, prompt_speed, n_prompt = ttft(folder, prompt_of(folder, 64), args.runs * 2)
    memory = memory_growth(folder, args.loop) if args.loop else None
    result = {
        "bundle": str(folder),
        "threads": threads,
        "bandwidth_gb_s": round(bandwidth / 1e9, 2),
        "bytes_per_token_mb": round(per_token / 1e6, 3),
        "bound_tokens_per_s": round(bound, 1),
        "decode_tokens_per_s": decode.decode_tokens_per_s,
        "ratio_to_bound": round((decode.decode_tokens_per_s or 0) / bound, 3),
        "worker_decode_tokens_per_s": round(in_worker, 1),
        "worker_ratio": round(in_worker / bound, 3),
        "median_step_us": round(step * 1e6, 1),
        "median_step_tokens_per_s": round(1 / step, 1),
        "median_step_ratio": round(1 / step / bound, 3),
        "cpu_tokens_per_s": round(robust["cpu_rate"], 1) if threads == 1 else None,
        "cpu_ratio": round(robust["cpu_rate"] / bound, 3) if threads == 1 else None,
        "ttft_ms_64_token_prompt": round(first * 1000, 2),
        "prompt_tokens": n_prompt,
        "prompt_tokens_per_s": round(prompt_speed),
        "memory": memory,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    steps = None
    if args.steps:
        from decode_steps import measure, table

        steps = measure(folder, rounds=6, tokens=args.new_tokens)
        result["steps"] = steps
    if args.json:
        print(json.dumps(result, indent=2))
        return
    label = f"`{folder.name}`" if not args.random_llama else f"random Llama {args.random_llama}"
    print(readme_table(result, label))
    if steps:
        print()
        print(table(steps))


if __name__ == "__main__":
    main()
