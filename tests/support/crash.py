"""Kill a generation worker with an answer in flight, however fast the model answers."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any


def killed_mid_answer(send: Callable[..., Any], pid: int) -> Callable[..., Any]:
    """``send`` wrapped so that the worker ``pid`` is frozen before the prompt goes out and killed
    after it: a tiny model otherwise finished whole answers between the send and the kill on a
    loaded machine, and the crash the test wanted never happened."""

    def send_then_die(*args: Any, **kwargs: Any) -> Any:
        os.kill(pid, signal.SIGSTOP)
        result = send(*args, **kwargs)
        os.kill(pid, signal.SIGKILL)
        return result

    return send_then_die
