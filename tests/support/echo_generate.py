"""A `runner/generate.py` hook for tests of the streaming path: it "generates" by repeating the
prompt's words one by one, slowly, through the real runner, adb and protocol. It tests that tokens
arrive live and in order; real text generation comes with the generation bundles."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def generate(bundle: Path, options: dict, emit: Callable[..., None]) -> dict:
    words = (options.get("prompt") or "hello").split()[: options.get("max_tokens", 128)]
    start = time.perf_counter()
    first = None
    for index, word in enumerate(words):
        time.sleep(0.15)
        first = first or (time.perf_counter() - start) * 1000
        rate = (index + 1) / (time.perf_counter() - start)
        emit("token", text=word + " ", index=index, tokens_per_s=round(rate, 2))
    seconds = time.perf_counter() - start
    return {
        "text": " ".join(words),
        "tokens": len(words),
        "tokens_per_s": round(len(words) / seconds, 2),
        "time_to_first_token_ms": first,
    }
