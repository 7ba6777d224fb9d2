"""OpenAI-style `/v1/completions` and `/v1/chat/completions` for a language-model bundle, with
streaming as server-sent events, so chat clients made for LM Studio or `axllm serve` work.

One generation runs at a time (the model's memory is one generator's); others wait in the queue.
A chat's messages become one prompt, their contents one per line: the bundle continues text.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import orjson
from pydantic import ValidationError

from studio.core.bundle.folder import Manifest
from studio.core.errors import StudioError
from studio.core.generate.session import GenerationSummary, TokenChunk, generate_stream, load
from studio.core.generate.settings import GenerationSettings
from studio.core.serve.model import RequestError

_FINISH = {"eos": "stop", "stop": "stop", "length": "length"}


class ServedLLM:
    def __init__(self, bundle: Path, manifest: Manifest) -> None:
        self.folder = bundle
        self.name = manifest.model.name
        load(bundle)  # loaded once, now: a broken model is refused before serving
        self._one = threading.Lock()

    def parse(self, body: bytes, chat: bool) -> tuple[str, GenerationSettings, bool]:
        """(prompt, settings, stream) from an OpenAI request body; RequestError if bad."""
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RequestError("The request body is not valid JSON") from exc
        if not isinstance(request, dict):
            raise RequestError("The request must be a JSON object")
        prompt = _chat_prompt(request.get("messages")) if chat else request.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            what = "'messages' with text content" if chat else "a 'prompt' string"
            raise RequestError(f"The request needs {what}")
        given = {
            "max_new_tokens": request.get("max_tokens", request.get("max_completion_tokens")),
            "temperature": request.get("temperature"),
            "top_p": request.get("top_p"),
            "seed": request.get("seed"),
        }
        try:
            settings = GenerationSettings(**{k: v for k, v in given.items() if v is not None})
        except ValidationError as exc:
            error = exc.errors()[0]
            field = {"max_new_tokens": "max_tokens"}.get(str(error["loc"][0]), error["loc"][0])
            raise RequestError(f"'{field}': {error['msg']}") from exc
        return prompt, settings, bool(request.get("stream"))

    def events(
        self,
        prompt: str,
        settings: GenerationSettings,
        stop: threading.Event,
        on_start: Callable[[], None],
        on_summary: Callable[[GenerationSummary], None],
    ) -> Generator[TokenChunk | GenerationSummary]:
        with self._one:
            on_start()
            try:
                for event in generate_stream(self.folder, prompt, settings, stop.is_set):
                    if isinstance(event, GenerationSummary):
                        on_summary(event)
                    if isinstance(event, TokenChunk | GenerationSummary):
                        yield event
            except StudioError as exc:  # e.g. the prompt does not fit the context
                raise RequestError(exc.message) from exc


def _chat_prompt(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages:
        return None
    parts = [m.get("content") if isinstance(m, dict) else None for m in messages]
    if not all(isinstance(p, str) for p in parts):
        return None
    return "\n".join(str(p) for p in parts)


def _chunk(llm: ServedLLM, ident: str, chat: bool, text: str, finish: str | None) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
    if chat:
        choice["delta"] = {"content": text} if text else {}
    else:
        choice["text"] = text
    kind = "chat.completion.chunk" if chat else "text_completion"
    return {
        "id": ident,
        "object": kind,
        "created": int(time.time()),
        "model": llm.name,
        "choices": [choice],
    }


def answer(llm: ServedLLM, ident: str, chat: bool, summary: GenerationSummary) -> dict[str, Any]:
    """The whole (not streamed) response."""
    finish = _FINISH.get(summary.finish, "stop")
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
    if chat:
        choice["message"] = {"role": "assistant", "content": summary.text}
    else:
        choice["text"] = summary.text
    usage = {
        "prompt_tokens": summary.prompt_tokens,
        "completion_tokens": summary.tokens,
        "total_tokens": summary.prompt_tokens + summary.tokens,
    }
    kind = "chat.completion" if chat else "text_completion"
    return {
        "id": ident,
        "object": kind,
        "created": int(time.time()),
        "model": llm.name,
        "choices": [choice],
        "usage": usage,
    }


async def server_sent_events(
    llm: ServedLLM,
    chat: bool,
    events: Iterator[TokenChunk | GenerationSummary],
    first: TokenChunk | GenerationSummary,
) -> AsyncIterator[bytes]:
    """``data: {chunk}`` per piece of text, a last chunk with finish_reason, then ``[DONE]``."""
    ident = new_id(chat)
    event: TokenChunk | GenerationSummary | None = first
    while event is not None:
        if isinstance(event, TokenChunk):
            chunk = _chunk(llm, ident, chat, event.text, None)
        else:
            chunk = _chunk(llm, ident, chat, "", _FINISH.get(event.finish, "stop"))
        yield b"data: " + orjson.dumps(chunk) + b"\n\n"
        event = await anyio.to_thread.run_sync(next, events, None)
    yield b"data: [DONE]\n\n"


def new_id(chat: bool) -> str:
    return f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:24]}"


def last_event(
    first: TokenChunk | GenerationSummary, events: Iterator[TokenChunk | GenerationSummary]
) -> GenerationSummary:
    """Run the generation to its end; its summary carries the whole text."""
    last = first
    for event in events:
        last = event
    assert isinstance(last, GenerationSummary)
    return last
