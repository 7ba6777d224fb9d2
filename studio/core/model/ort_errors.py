"""onnxruntime's failures as one sentence that names the node and what to do.

onnxruntime raises its own exception classes with a C++ status text ("[ONNXRuntimeError] : 2 :
INVALID_ARGUMENT : Non-zero status code returned while running Conv node. Name:'Conv_3' Status
Message: Invalid input shape: {1}"). A user reading that cannot act on it; most of these come from
a model run at sizes or on values it was not made for, which the user can change.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from studio.core.errors import BadInput

_PREFIX = re.compile(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*")
_NODE = re.compile(
    r"running (?P<op>[\w.]+) node\. Name:'(?P<name>[^']*)' Status Message: (?P<msg>.*)"
)
_LIMIT = 160


def is_ort_error(exc: BaseException) -> bool:
    """True for the exception classes onnxruntime's native code raises."""
    return type(exc).__module__.startswith("onnxruntime")


def explain_ort_error(
    exc: BaseException, model: str | Path, feeds: Mapping[str, Any] | None = None
) -> BadInput:
    """The failure as one line: which node of which model, what it said, the input sizes it ran
    at (``feeds``, when known), and what to try."""
    text = _PREFIX.sub("", str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    name = Path(model).name
    found = _NODE.search(text)
    if found:
        said = _short(found["msg"])
        node = found["name"] or found["op"]
        what = f"onnxruntime could not run node '{node}' ({found['op']}) of {name}: {said}"
    else:
        what = f"onnxruntime could not run {name}: {_short(text) or type(exc).__name__}"
    if feeds:
        sizes = ", ".join(f"{k}={'x'.join(map(str, v.shape))}" for k, v in feeds.items())
        what += f" (inputs {sizes})"
    return BadInput(
        what,
        "The model was probably run at sizes or on values it was not made for: give the input "
        "sizes it expects, or real samples to run it on",
    )


def _short(text: str) -> str:
    text = text.strip().rstrip(".")
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


@contextlib.contextmanager
def plain_ort_errors(model: str | Path) -> Iterator[None]:
    """Around work that runs ``model`` in onnxruntime: its native errors become a BadInput."""
    try:
        yield
    except Exception as exc:
        if is_ort_error(exc):
            raise explain_ort_error(exc, model) from exc
        raise


P = ParamSpec("P")
R = TypeVar("R")


def ort_errors_in_plain_words(func: Callable[P, R]) -> Callable[P, R]:
    """For a core entry point whose first argument is ``model``: see ``plain_ort_errors``."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        model = args[0] if args else kwargs.get("model")
        with plain_ort_errors(model if isinstance(model, str | Path) else "the model"):
            return func(*args, **kwargs)

    return wrapper
