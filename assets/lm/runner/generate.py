"""Stream text from an onnxruntime-genai model folder, with timings, as plain dict events.

This file imports nothing from the studio on purpose: it is copied into every LLM bundle as
``runner/generate.py``, the ``generate`` hook of the bundle's device runner
(``python3 runner/runner.py generate --prompt …``, see studio/runner), and it also runs on its own
(``python3 runner/generate.py BUNDLE --prompt …``) printing one JSON object per line. The studio imports the same code to generate on this PC,
so a local run and a device run produce the same events:

- ``{"type": "start", "prompt_tokens": N, "load_s": …, "memory_bytes": …}``
- ``{"type": "token", "index": i, "text": "…", "tokens": k, "t": seconds since start}``
- ``{"type": "summary", "tokens": N, "ttft_s": …, "prompt_tokens_per_s": …,
  "decode_tokens_per_s": …, "memory_bytes": …, "stopped": bool, "finish": "length|eos|stop"}``
- ``{"type": "error", "message": "…"}`` (runner only)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

RUNNER_PROTOCOL = 1
# Text is sent at most this often (seconds): a fast model does not flood a pipe or a GUI with one
# event per token, while a model slower than ~30 tokens/s still streams every token.
FLUSH_INTERVAL = 0.03


def memory_in_use() -> int:
    """Resident memory of this process in bytes (Linux and Android read /proc; else psutil)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:
        return 0


# A model this small stays in the CPU caches, so a decode step is some fifty tiny kernels rather
# than a wait for memory: spreading each kernel over two threads saves nothing measurable but
# makes every step wait for a second core, which a busy machine often does not
# give at once (see benchmarks/README.md, "Generation speed"). Bigger models keep the default.
SMALL_MODEL_BYTES = 8 * 1024 * 1024


def weights_bytes(folder: str) -> int:
    """Bytes of the ONNX model files in a genai folder (graph and external weights)."""
    return sum(
        os.path.getsize(os.path.join(folder, name))
        for name in os.listdir(folder)
        if ".onnx" in name and os.path.isfile(os.path.join(folder, name))
    )


def _genai_config(folder: str) -> dict[str, Any]:
    try:
        with open(os.path.join(folder, "genai_config.json"), encoding="utf-8") as handle:
            config = json.load(handle)
        return config if isinstance(config, dict) else {}
    except (OSError, ValueError):
        return {}


def physical_cores() -> int:
    """CPU cores this process may use, counting two hyper-threads of one core once (they share
    the core's caches and units, so a second thread there adds little to a decode step)."""
    try:
        cpus: Any = os.sched_getaffinity(0)
    except AttributeError:  # not Linux/Android
        return max(1, os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        path = f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list"
        try:
            with open(path, encoding="ascii") as handle:
                cores.add(handle.read().strip())
        except OSError:
            cores.add(str(cpu))
    return max(1, len(cores))


def choose_threads(folder: str, config: dict[str, Any]) -> int:
    """Intra-op threads for this model: the bundle's own choice if it makes one, else 1 for a
    small model and one per core for the rest.

    Named explicitly because onnxruntime-genai's default ran a decode step on one thread here
    (a 21 M-parameter INT4 model: 0.28 ms a token by default, 0.21 ms with two threads)."""
    try:
        own = config["model"]["decoder"]["session_options"]["intra_op_num_threads"]
        return int(own)
    except (KeyError, TypeError, ValueError):
        pass
    return 1 if weights_bytes(folder) <= SMALL_MODEL_BYTES else physical_cores()


WARM_UP_TOKENS = 128
# A large model on a phone could take seconds for those tokens; the warm-up stops here instead.
WARM_UP_BUDGET_S = 0.5


def _sliding_window_length(config: dict[str, Any]) -> int:
    """onnxruntime-genai 0.18 sizes a sliding-window layer's cache to min(window, max_length), but
    the attention node needs the whole window: shorter runs ask for this length and stop early."""
    try:
        window = config["model"]["decoder"].get("sliding_window") or {}
        return int(window.get("window_size", 0)) + int(window.get("cache_slack", 0))
    except (KeyError, TypeError, ValueError, AttributeError):
        return 0


class LoadedModel:
    """An onnxruntime-genai model and tokenizer kept loaded across prompts.

    ``threads``: intra-op threads; None chooses (choose_threads), 0 is onnxruntime's default.
    """

    def __init__(self, folder: str, threads: int | None = None) -> None:
        import onnxruntime_genai as og

        self.og = og
        config = _genai_config(folder)
        self.threads = choose_threads(folder, config) if threads is None else threads
        start = time.perf_counter()
        self.model = og.Model(self._config(folder))
        self.tokenizer = og.Tokenizer(self.model)
        self.folder = folder
        try:
            self.context_length = int(config["model"]["context_length"])
        except (KeyError, TypeError, ValueError):
            self.context_length = 0
        self.min_length = _sliding_window_length(config)
        self.load_s = 0.0
        self.warm_up()
        self.load_s = time.perf_counter() - start

    def warm_up(self) -> None:
        """Answer a one-word prompt with up to WARM_UP_TOKENS tokens and throw the answer away.

        The first answer in a process pays one-off setup inside onnxruntime: here the demo LM's
        first prompt took 67-74 ms to read (about 1 ms afterwards) and its decode ran at 0.52-0.86
        of later answers' speed (six fresh worker processes). So a user's first answer understated
        the model, and the first model of a side-by-side comparison looked slower than the second.
        After 128 warm-up tokens the first answer ran at 0.83-1.26 of later ones (16 tokens: no
        better than none). Paid while loading (counted in load_s), within WARM_UP_BUDGET_S."""
        deadline = time.perf_counter() + WARM_UP_BUDGET_S
        # A real (greedy) answer, so the warm-up takes the same path as the user's; it ends at
        # the model's context length like any answer.
        for _ in stream_generation(
            self,
            "The",
            max_new_tokens=WARM_UP_TOKENS,
            temperature=0.0,
            should_stop=lambda: time.perf_counter() > deadline,
        ):
            pass

    def _config(self, folder: str) -> Any:
        og = self.og
        if not self.threads or not hasattr(og, "Config"):
            return folder  # onnxruntime's default, or an onnxruntime-genai without og.Config
        config = og.Config(folder)
        if not hasattr(config, "overlay"):
            return folder
        options = {"intra_op_num_threads": self.threads}
        config.overlay(json.dumps({"model": {"decoder": {"session_options": options}}}))
        return config


def stream_generation(
    loaded: LoadedModel,
    prompt: str,
    *,
    max_new_tokens: int = 128,
    temperature: float = 0.7,
    top_p: float = 0.9,
    top_k: int = 40,
    repetition_penalty: float = 1.1,
    seed: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[dict[str, Any]]:
    """Yield a start event, token events as text appears, then one summary event."""
    og = loaded.og
    started = time.perf_counter()
    prompt_ids = loaded.tokenizer.encode(prompt)
    n_prompt = len(prompt_ids)
    limit = loaded.context_length or n_prompt + max_new_tokens
    if n_prompt >= limit:
        raise ValueError(
            f"The prompt is {n_prompt} tokens; this model reads at most {limit - 1}. "
            "Use a shorter prompt"
        )
    params = og.GeneratorParams(loaded.model)
    budget = min(n_prompt + max_new_tokens, limit) - n_prompt
    search: dict[str, Any] = {
        # The answer ends early rather than failing when prompt + answer exceed the context.
        "max_length": min(limit, max(n_prompt + budget, loaded.min_length)),
        "repetition_penalty": repetition_penalty,
    }
    if temperature > 0:
        search.update(do_sample=True, temperature=temperature, top_p=top_p, top_k=top_k)
        if seed is not None:
            search["random_seed"] = int(seed)  # same seed → same answer; else a fresh one
    else:
        search.update(do_sample=False)
    params.set_search_options(**search)
    generator = og.Generator(loaded.model, params)
    stream = loaded.tokenizer.create_stream()
    yield {
        "type": "start",
        "prompt_tokens": n_prompt,
        "load_s": round(loaded.load_s, 4),
        "memory_bytes": memory_in_use(),
        "protocol": RUNNER_PROTOCOL,
    }

    prefill_start = time.perf_counter()
    generator.append_tokens(prompt_ids)
    prefill_done = time.perf_counter()
    first_token_at: float | None = None
    last_token_at = prefill_done
    produced = 0
    pending = ""
    pending_tokens = 0
    last_flush = prefill_done
    index = 0
    finish = "length"
    stopped = False
    while not generator.is_done() and produced < budget:
        if should_stop():
            stopped, finish = True, "stop"
            break
        generator.generate_next_token()
        token = int(generator.get_next_tokens()[0])
        now = time.perf_counter()
        produced += 1
        last_token_at = now
        if first_token_at is None:
            first_token_at = now
        pending += stream.decode(token)
        pending_tokens += 1
        if pending and (now - last_flush >= FLUSH_INTERVAL or produced == 1):
            yield {
                "type": "token",
                "index": index,
                "text": pending,
                "tokens": pending_tokens,
                "t": round(now - started, 5),
            }
            index += 1
            pending, pending_tokens, last_flush = "", 0, now
    else:
        if produced < budget:
            finish = "eos"
    if pending:
        yield {
            "type": "token",
            "index": index,
            "text": pending,
            "tokens": pending_tokens,
            "t": round(last_token_at - started, 5),
        }
    # Prompt processing (prefill) ends with the first token sampled, so both figures include one
    # sampling step; time to first token also covers tokenizing and setting up the generator.
    ttft = (first_token_at - started) if first_token_at else None
    prefill_s = (first_token_at - prefill_start) if first_token_at else None
    decode_s = last_token_at - first_token_at if first_token_at else 0.0
    del generator
    yield {
        "type": "summary",
        "tokens": produced,
        "prompt_tokens": n_prompt,
        "ttft_s": round(ttft, 5) if ttft is not None else None,
        "prompt_tokens_per_s": round(n_prompt / prefill_s, 2) if prefill_s else None,
        "decode_tokens_per_s": round((produced - 1) / decode_s, 2)
        if produced > 1 and decode_s > 0
        else None,
        "total_s": round(time.perf_counter() - started, 5),
        "memory_bytes": memory_in_use(),
        "stopped": stopped,
        "finish": finish,
    }


def generate(bundle: Any, options: dict[str, Any], emit: Callable[..., None]) -> dict[str, Any]:
    """The device runner's ``generate`` hook (bundle/runner/generate.py is this file).

    Streams ``token`` events through ``emit(type, **fields)`` and returns the result fields the
    runner protocol expects, plus this runner's extra timings (prompt speed, memory).
    """
    try:
        import onnxruntime_genai  # noqa: F401
    except ImportError as exc:
        raise _missing(
            f"onnxruntime-genai is not installed for {sys.executable} ({exc})",
            "Install it on the device: pip install onnxruntime-genai",
            "runtime_missing",
        ) from exc
    loaded = LoadedModel(str(bundle))
    emit("timing", name="load", ms=round(loaded.load_s * 1000, 3))
    settings = {
        k: options[k]
        for k in ("temperature", "top_p", "top_k", "repetition_penalty", "seed")
        if options.get(k) is not None
    }
    text: list[str] = []
    summary: dict[str, Any] = {}
    for event in stream_generation(
        loaded,
        options.get("prompt") or "Hello",
        max_new_tokens=int(options.get("max_tokens") or 128),
        **settings,
    ):
        if event["type"] == "token":
            text.append(event["text"])
            emit(
                "token",
                text=event["text"],
                index=event["index"],
                tokens=event["tokens"],
                t=event["t"],
            )
        elif event["type"] == "start":
            emit(
                "log",
                message=f"prompt: {event['prompt_tokens']} tokens",
                prompt_tokens=event["prompt_tokens"],
                memory_bytes=event["memory_bytes"],
            )
        elif event["type"] == "summary":
            summary = event
    ttft = summary.get("ttft_s")
    return {
        "text": "".join(text),
        "tokens": summary.get("tokens", 0),
        "tokens_per_s": summary.get("decode_tokens_per_s") or 0.0,
        "time_to_first_token_ms": round(ttft * 1000, 3) if ttft is not None else None,
        **{k: v for k, v in summary.items() if k != "type"},
    }


def _missing(message: str, fix: str, code: str) -> Exception:
    """The device runner's ``Missing`` (exit 3, 'what to install') when it is the main program."""
    runner = sys.modules.get("__main__")
    missing = getattr(runner, "Missing", None)
    if isinstance(missing, type) and issubclass(missing, Exception):
        return missing(message, fix, code)
    return RuntimeError(f"{message}. {fix}")


def _emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate text from this bundle; JSON lines out.")
    here = os.path.dirname(os.path.abspath(__file__))
    default = (
        here if os.path.isfile(os.path.join(here, "genai_config.json")) else os.path.dirname(here)
    )
    parser.add_argument("model", nargs="?", default=default)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--top-p", type=float, default=0.9)
    parser.add_argument("--top-k", type=int, default=40)
    parser.add_argument("--repetition-penalty", type=float, default=1.1)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    stop = {"now": False}

    def on_signal(signum: int, frame: Any) -> None:
        stop["now"] = True

    # SIGINT/SIGTERM end generation cleanly with a summary instead of killing mid-line.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        import onnxruntime_genai  # noqa: F401
    except ImportError:
        _emit(
            {
                "type": "error",
                "message": "onnxruntime-genai is not installed here",
                "fix": "pip install onnxruntime-genai (Python 3.10+) on this device",
            }
        )
        return 3
    try:
        loaded = LoadedModel(args.model)
        for event in stream_generation(
            loaded,
            args.prompt,
            max_new_tokens=args.max_new_tokens,
            temperature=args.temperature,
            top_p=args.top_p,
            top_k=args.top_k,
            repetition_penalty=args.repetition_penalty,
            seed=args.seed,
            should_stop=lambda: stop["now"],
        ):
            _emit(event)
    except Exception as exc:
        _emit({"type": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
