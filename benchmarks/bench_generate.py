"""Generation speed of an LLM bundle (default: the INT4 demo LM) on this PC.

1. Decode tokens/s against the memory-bandwidth bound: measured copy bandwidth (2 threads, like
   onnxruntime here) ÷ bytes read per token (every weight byte once + the KV cache so far).
2. Time to first token for a 64-token prompt (median of N runs, model already loaded).
3. Memory growth over a presentation loop: RSS after a warm-up vs after N prompts.

    python benchmarks/bench_generate.py [BUNDLE] [--loop 1000] [--json]
    python benchmarks/bench_generate.py --random-llama 1024x16 --loop 0   # a memory-bound model

The demo LM (a few MB) fits in the CPU caches, so its decode speed is bounded by per-token
overhead, not by memory; ``--random-llama HIDDENxLAYERS`` builds a random-weight Llama of that
size with the demo tokenizer, exports it to INT4 with the studio and measures it the same way.
"""

from __future__ import annotations

import argparse
import json
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


def bytes_per_token(folder: Path, position: int) -> float:
    """Weights read once per decoded token, plus the K and V cache up to ``position``."""
    config = json.loads((folder / "genai_config.json").read_text())["model"]["decoder"]
    weights = sum(p.stat().st_size for p in folder.glob("*.onnx*"))
    kv = 2 * config["num_hidden_layers"] * config["num_key_value_heads"] * config["head_size"] * 4
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


def decode_speed(folder: Path, new_tokens: int, runs: int) -> GenerationSummary:
    settings = GenerationSettings(
        max_new_tokens=new_tokens, temperature=0.7, repetition_penalty=1.0
    )
    best: GenerationSummary | None = None
    for _ in range(runs):
        summary = list(generate_stream(folder, "In the beginning", settings))[-1]
        if best is None or (summary.decode_tokens_per_s or 0) > (best.decode_tokens_per_s or 0):
            best = summary
    assert best is not None
    return best


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?")
    parser.add_argument("--new-tokens", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop", type=int, default=1000, help="presentation-loop prompts")
    parser.add_argument("--random-llama", metavar="HIDDENxLAYERS")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.random_llama:
        import tempfile

        work = Path(tempfile.mkdtemp(prefix="bench-llama-"))
        folder = random_llama(args.random_llama, work)
    else:
        folder = resolve_llm(args.bundle)
    bandwidth = copy_bandwidth()
    decode = decode_speed(folder, args.new_tokens, args.runs)
    mid = decode.prompt_tokens + decode.tokens // 2
    per_token = bytes_per_token(folder, mid)
    bound = bandwidth / per_token
    first, prompt_speed, n_prompt = ttft(folder, prompt_of(folder, 64), args.runs * 2)
    memory = memory_growth(folder, args.loop) if args.loop else None
    result = {
        "bundle": str(folder),
        "bandwidth_gb_s": round(bandwidth / 1e9, 2),
        "bytes_per_token_mb": round(per_token / 1e6, 3),
        "bound_tokens_per_s": round(bound, 1),
        "decode_tokens_per_s": decode.decode_tokens_per_s,
        "ratio_to_bound": round((decode.decode_tokens_per_s or 0) / bound, 3),
        "ttft_ms_64_token_prompt": round(first * 1000, 2),
        "prompt_tokens": n_prompt,
        "prompt_tokens_per_s": round(prompt_speed),
        "memory": memory,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"bandwidth {result['bandwidth_gb_s']} GB/s; {result['bytes_per_token_mb']} MB read per "
        f"token → bound {result['bound_tokens_per_s']} tokens/s"
    )
    print(f"decode {result['decode_tokens_per_s']} tokens/s = {result['ratio_to_bound']} of bound")
    print(
        f"TTFT {result['ttft_ms_64_token_prompt']} ms for a {n_prompt}-token prompt "
        f"({prompt_speed} prompt tokens/s)"
    )
    print(
        f"memory over {memory['prompts']} prompts: {memory['rss_before_mb']:.1f} → "
        f"{memory['rss_after_mb']:.1f} MB ({memory['growth']:+.1%}) in {memory['seconds']:.0f} s"
    )


if __name__ == "__main__":
    main()
