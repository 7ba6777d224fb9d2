"""Shared helpers for the versioned files the studio reads: recipes, manifests, chip profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from studio.core.errors import BadInput

M = TypeVar("M", bound=BaseModel)

# A recipe, chip file or manifest is kilobytes; anything this big is not one of ours, and
# reading it whole would be the first step of a memory exhaustion.
MAX_FILE_BYTES = 8 * 1024 * 1024
# Nodes the document would have with every alias expanded: a "billion laughs" file is a few
# lines that expand to 10**9 values, which validation and error messages would then walk.
MAX_EXPANDED_NODES = 200_000
# Longest user value quoted in an error line, so a huge bad value still gives one short line.
MAX_QUOTED = 60


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def shorten(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…({len(text):,} chars)"


def quoted(value: Any) -> str:
    """``repr(value)`` for an error line, never longer than about MAX_QUOTED characters."""
    text = _short_repr(value)
    return text if "…" in text else shorten(text)


def _short_repr(value: Any) -> str:
    # repr() of an expanded alias bomb would build gigabytes before shorten() could cut it.
    if isinstance(value, (list, tuple, dict, set)) and len(value) > 10:
        return f"<{type(value).__name__} of {len(value):,} items>"
    if isinstance(value, (str, bytes)) and len(value) > MAX_QUOTED:
        return f"{value[: MAX_QUOTED // 2]!r}…({len(value):,} chars)"
    return repr(value)


def explain_validation(error: ValidationError, source: str) -> BadInput:
    """The first problem in one line: the file, the field, what is wrong, how to fix it."""
    first = error.errors()[0]
    field = shorten(_field_name(first["loc"]))
    kind = first["type"]
    if kind == "extra_forbidden":
        return BadInput(f"{source}: unknown key '{field}'", "Remove it or check its spelling")
    if kind == "missing":
        return BadInput(f"{source}: required key '{field}' is missing", "Add it")
    got = first.get("input")
    return BadInput(
        f"{source}: '{field}' has a wrong value {quoted(got)} ({shorten(first['msg'], 100)})",
        "Fix that value",
    )


def read_text_capped(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a small file the user gave; BadInput if missing, unreadable or too big."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError as exc:
        raise BadInput(f"{path} does not exist", "Check the path") from exc
    except OSError as exc:
        raise BadInput(f"Cannot read {path} ({exc})", "Check the file is a text file") from exc
    if len(data) > limit:
        raise BadInput(
            f"{path.name} is larger than {limit // (1024 * 1024)} MB, too big for this kind of file",
            "Check you chose the right file",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"Cannot read {path} ({exc})", "Check the file is a text file") from exc


# libyaml's parser where PyYAML was built with it: the Target step parses the chip catalogue at
# start-up, ten times faster this way (benchmarks/README.md, "Figures behind the code").
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _BudgetLoader(_SafeBase):  # type: ignore[misc,valid-type]  # PyYAML ships no types
    """SafeLoader that refuses a document whose aliases expand past MAX_EXPANDED_NODES.

    The check runs on the composed node graph, before any Python object is built.
    """

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, {}, set())
        return node


class _AliasBomb(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Nodes under ``node`` with aliases expanded; memoised, so the work is per distinct node."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise _AliasBomb("an alias refers to the value that contains it")
    open_nodes.add(key)
    total = 1
    if isinstance(node, yaml.SequenceNode):
        children: list[yaml.Node] = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    for child in children:
        total += _expanded_size(child, sizes, open_nodes)
        if total > MAX_EXPANDED_NODES:
            raise _AliasBomb(f"its aliases expand to more than {MAX_EXPANDED_NODES:,} values")
    open_nodes.discard(key)
    sizes[key] = total
    return total


def read_structured(path: Path) -> Any:
    text = read_text_capped(path)
    try:
        if path.suffix in (".yaml", ".yml"):
            return yaml.load(text, Loader=_BudgetLoader)  # a SafeLoader subclass: safe
        return _json_load(text, path.name)
    except _AliasBomb as exc:
        raise BadInput(
            f"{path.name} is refused: {exc.why}", "Write the values out instead of nesting aliases"
        ) from exc
    except RecursionError as exc:
        raise BadInput(f"{path.name} is nested too deeply", "Check the file") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise BadInput(f"{path.name} is not valid YAML{where}", "Fix the syntax") from exc


def _json_load(text: str, name: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{name} is not valid JSON at line {exc.lineno} ({exc.msg})", "Fix the syntax"
        ) from exc


def load_model_file(model: type[M], path: Path) -> M:
    data = read_structured(path)
    if not isinstance(data, dict):
        raise BadInput(
            f"{path.name} must hold a mapping of keys to values", "See the examples in assets/"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise explain_validation(exc, path.name) from exc
