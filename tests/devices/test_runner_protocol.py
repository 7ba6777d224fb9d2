"""The runner's JSON-lines protocol: what is accepted, what is ignored, what is refused."""

from __future__ import annotations

import json

import pytest

from studio.core.bundle.runner_protocol import (
    PROTOCOL_VERSION,
    ErrorEvent,
    ResultEvent,
    TokenEvent,
    dump_event,
    parse_event,
)
from studio.core.errors import BadInput


def test_round_trip() -> None:
    event = TokenEvent(text="你好", index=0, tokens_per_s=12.5)
    assert parse_event(dump_event(event)) == event
    assert json.loads(dump_event(event))["v"] == PROTOCOL_VERSION


@pytest.mark.parametrize(
    "line",
    [
        "",
        "loading model...",
        "{not json",
        "[1, 2]",
        '{"no_type": 1}',
        '{"type": "token"}',
        '{"v": 1, "type": "some-future-event", "x": 1}',
    ],
)
def test_stray_or_unknown_lines_are_ignored(line: str) -> None:
    assert parse_event(line) is None


def test_a_newer_protocol_is_refused_not_misread() -> None:
    with pytest.raises(BadInput, match="protocol version 2, newer than this studio"):
        parse_event('{"v": 2, "type": "result", "mode": "bench", "data": {}}')


def test_extra_fields_from_a_newer_runner_are_kept() -> None:
    event = parse_event(
        '{"v": 1, "type": "error", "message": "m", "fix": "f", "code": "c", "hint": "extra"}'
    )
    assert isinstance(event, ErrorEvent) and event.message == "m"
    result = parse_event('{"v": 1, "type": "result", "mode": "bench", "data": {"runs": 3}}')
    assert isinstance(result, ResultEvent) and result.data == {"runs": 3}
