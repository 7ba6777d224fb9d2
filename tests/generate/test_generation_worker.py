"""The long-lived generation worker: one model load for many answers, Stop, crash recovery."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.generate.session import GenerationSummary
from studio.core.generate.worker import GenerationWorker
from studio.core.jobs import ErrorMessage, EventMessage, ResultMessage
from tests.support.crash import killed_mid_answer

SHORT = {"max_new_tokens": 12, "temperature": 0.0}
LONG = {"max_new_tokens": 200, "temperature": 1.0, "repetition_penalty": 1.0}


@pytest.fixture
def worker(tiny_bundle: Path) -> Iterator[GenerationWorker]:
    handle = GenerationWorker(str(tiny_bundle))
    yield handle
    handle.shutdown()


def _answer(messages: list) -> tuple[list[str], object]:
    kinds = [m.data["type"] for m in messages if isinstance(m, EventMessage)]
    return kinds, messages[-1]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_two_answers_come_from_one_process_with_one_model_load(worker: GenerationWorker) -> None:
    kinds, first = _answer(list(worker.answer("In the beginning", SHORT)))
    pid = worker.pid
    assert kinds[0] == "start" and kinds[-1] == "summary" and "token" in kinds
    assert isinstance(first, ResultMessage) and isinstance(first.value, GenerationSummary)
    assert first.value.tokens > 0 and first.value.text
    kinds, second = _answer(list(worker.answer("The quick brown", SHORT)))
    assert kinds[0] == "start" and kinds[-1] == "summary"
    assert isinstance(second, ResultMessage) and second.value.tokens > 0
    assert worker.pid == pid and pid != os.getpid()
    assert worker.loads == 1 and worker.restarts == 0


def test_stop_ends_only_the_current_answer(worker: GenerationWorker) -> None:
    rid = worker.send("In the", LONG)
    worker.stop(rid)
    _, stopped = _answer(list(worker.receive()))
    assert isinstance(stopped, ResultMessage)
    assert stopped.value.stopped and stopped.value.finish == "stop"
    assert stopped.value.tokens < 200
    # The model stays loaded and the next answer runs to its end.
    _, second = _answer(list(worker.answer("In the", SHORT)))
    assert isinstance(second, ResultMessage)
    assert not second.value.stopped and second.value.tokens > 0
    assert worker.loads == 1


def test_stop_mid_answer_after_tokens_arrived(worker: GenerationWorker) -> None:
    rid = worker.send("In the", LONG)
    messages = []
    for message in worker.receive():
        messages.append(message)
        if isinstance(message, EventMessage) and message.data["type"] == "token":
            worker.stop(rid)
    kinds, last = _answer(messages)
    assert "token" in kinds and isinstance(last, ResultMessage)
    assert last.value.finish in ("stop", "eos", "length")
    _, second = _answer(list(worker.answer("In the", SHORT)))
    assert isinstance(second, ResultMessage) and not second.value.stopped


def test_a_killed_worker_is_reported_and_the_next_prompt_recovers(
    worker: GenerationWorker,
) -> None:
    list(worker.answer("In the", SHORT))
    first_pid = worker.pid
    assert first_pid is not None
    killed_mid_answer(worker.send, first_pid)("In the", LONG)
    _, crashed = _answer(list(worker.receive()))
    assert isinstance(crashed, ErrorMessage) and not crashed.user_error
    assert "stopped unexpectedly" in crashed.message and "killed" in crashed.message
    assert "\n" not in crashed.message  # one plain line
    _, again = _answer(list(worker.answer("In the", SHORT)))
    assert isinstance(again, ResultMessage) and again.value.tokens > 0
    assert worker.pid != first_pid and worker.loads == 2


def test_a_worker_that_died_while_idle_is_replaced_quietly(worker: GenerationWorker) -> None:
    list(worker.answer("In the", SHORT))
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while worker.alive and time.monotonic() < deadline:  # killed a while before the next prompt
        time.sleep(0.01)
    _, answer = _answer(list(worker.answer("In the", SHORT)))
    assert isinstance(answer, ResultMessage) and worker.pid != pid and worker.restarts == 1


def test_bad_input_is_a_user_error_and_the_worker_keeps_going(worker: GenerationWorker) -> None:
    _, refused = _answer(list(worker.answer("   ", SHORT)))
    assert isinstance(refused, ErrorMessage) and refused.user_error
    assert "empty" in refused.message
    _, too_long = _answer(list(worker.answer("word " * 2000, SHORT)))
    assert isinstance(too_long, ErrorMessage) and too_long.user_error
    _, fine = _answer(list(worker.answer("In the", SHORT)))
    assert isinstance(fine, ResultMessage) and worker.loads == 1


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    worker = GenerationWorker(str(tmp_path))
    try:
        _, error = _answer(list(worker.answer("In the", SHORT)))
        assert isinstance(error, ErrorMessage) and error.user_error
        assert str(tmp_path) in error.message or "genai_config" in error.message
        assert not worker.alive
    finally:
        worker.shutdown()


def test_shutdown_leaves_no_process(tiny_bundle: Path) -> None:
    worker = GenerationWorker(str(tiny_bundle))
    list(worker.answer("In the", SHORT))
    pid = worker.pid
    assert pid is not None and not _gone(pid)
    worker.shutdown()
    assert _gone(pid) and not worker.alive
    worker.shutdown()  # twice is fine


def test_shutdown_during_an_answer_ends_it(tiny_bundle: Path) -> None:
    worker = GenerationWorker(str(tiny_bundle))
    list(worker.answer("In the", SHORT))
    pid = worker.pid
    assert pid is not None
    worker.send("In the", LONG)
    worker.shutdown()
    messages = list(worker.receive())
    assert isinstance(messages[-1], (ResultMessage, ErrorMessage))
    assert _gone(pid)
