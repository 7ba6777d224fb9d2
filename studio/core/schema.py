"""Shared helpers for the versioned files the studio reads: recipes, manifests, chip profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from studio.core.errors import BadInput

M = TypeVar("M", bound=BaseModel)


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def explain_validation(error: ValidationError, source: str) -> BadInput:
    """The first problem in one line: the file, the field, what is wrong, how to fix it."""
    first = error.errors()[0]
    field = _field_name(first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        return BadInput(f"{source}: unknown key '{field}'", "Remove it or check its spelling")
    if kind == "missing":
        return BadInput(f"{source}: required key '{field}' is missing", "Add it")
    got = first.get("input")
    return BadInput(
        f"{source}: '{field}' has a wrong value {got!r} ({first['msg']})",
        "Fix that value",
    )


def read_structured(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInput(f"{path} does not exist", "Check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"Cannot read {path} ({exc})", "Check the file is a text file") from exc
    try:
        return yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else _json_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise BadInput(f"{path.name} is not valid YAML{where}", "Fix the syntax") from exc


def _json_load(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"not valid JSON at line {exc.lineno} ({exc.msg})", "Fix the syntax"
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
