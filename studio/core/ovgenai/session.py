"""Stream text from an OpenVINO GenAI model on this PC's CPU: the same events as llm_runner.

LLMPipeline streams through a callback on its own thread; a queue turns that into the generator
generate_stream consumes, and returning STOP from the callback ends generation cleanly.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from studio.core.generate.llm_runner import memory_in_use


class OvLoaded:
    """An LLMPipeline on the CPU and its tokenizer, with the load time."""

    def __init__(self, folder: str) -> None:
        import openvino_genai as ov_genai

        started = time.perf_counter()
        self.og = ov_genai
        self.pipe = ov_genai.LLMPipeline(folder, "CPU")
        self.tokenizer = self.pipe.get_tokenizer()
        self.load_s = time.perf_counter() - started
        self.folder = Path(folder)


def _config(loaded: OvLoaded, max_new_tokens: int, options: dict[str, Any]) -> Any:
    config = loaded.pipe.get_generation_config()
    config.max_new_tokens = max_new_tokens
    config.repetition_penalty = options["repetition_penalty"]
    if options["temperature"] > 0:
        config.do_sample = True
        config.temperature = options["temperature"]
        config.top_p, config.top_k = options["top_p"], options["top_k"]
        if options.get("seed") is not None:
            config.rng_seed = int(options["seed"])
    else:
        config.do_sample = False
    return config


def stream_ov(
    loaded: OvLoaded,
    prompt: str,
    *,
    max_new_tokens: int = 128,
    should_stop: Callable[[], bool] = lambda: False,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """Yield a start event, one token event per decoded piece of text, then a summary."""
    started = time.perf_counter()
    n_prompt = int(loaded.tokenizer.encode(prompt).input_ids.get_shape()[1])
    yield {
        "type": "start",
        "prompt_tokens": n_prompt,
        "load_s": round(loaded.load_s, 4),
        "memory_bytes": memory_in_use(),
    }
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    ids: list[int] = []
    shown = [""]
    stopped = [False]

    class Streamer(loaded.og.StreamerBase):  # type: ignore[name-defined,misc]
        """Gets token ids (a plain callable would get text only, not how many tokens)."""

        def write(self, token: Any) -> Any:
            return on_token(token)

        def end(self) -> None:
            pass

    def on_token(token: Any) -> Any:
        ids.extend(token if isinstance(token, list) else [int(token)])
        text = loaded.tokenizer.decode(ids)
        events.put(("token", (text[len(shown[0]) :], time.perf_counter())))
        shown[0] = text
        if should_stop():
            stopped[0] = True
            return loaded.og.StreamingStatus.STOP
        return loaded.og.StreamingStatus.RUNNING

    def run() -> None:
        try:
            config = _config(loaded, max_new_tokens, options)
            events.put(("done", loaded.pipe.generate(prompt, config, Streamer())))
        except Exception as exc:  # surfaced in the caller's thread below
            events.put(("error", exc))

    threading.Thread(target=run, daemon=True).start()
    index, first, last = 0, None, started
    while True:
        kind, value = events.get()
        if kind == "error":
            raise value
        if kind == "done":
            break
        text, last = value
        first = first or last
        yield {"type": "token", "index": index, "text": text, "tokens": 1, "t": last - started}
        index += 1
    decode_s = last - first if first else 0.0
    ttft = first - started if first else None
    yield {
        "type": "summary",
        "tokens": len(ids),
        "prompt_tokens": n_prompt,
        "ttft_s": ttft,
        "prompt_tokens_per_s": n_prompt / ttft if ttft else None,
        "decode_tokens_per_s": (len(ids) - 1) / decode_s if decode_s > 0 else None,
        "total_s": time.perf_counter() - started,
        "memory_bytes": memory_in_use(),
        "stopped": stopped[0],
        "finish": "stop" if stopped[0] else ("length" if len(ids) >= max_new_tokens else "eos"),
    }
