"""Finished trials kept by their key (model content + settings), so a re-run skips them."""

from __future__ import annotations

import contextlib
from pathlib import Path

from pydantic import ValidationError

from studio.core.sweep.trial import Trial, TrialResult


def cache_folder() -> Path:
    from studio.core.paths import data_dir

    return data_dir() / "sweeps" / "cache"


def output_path(trial: Trial) -> Path:
    """Where the trial's compressed model goes: one folder per key, so trials never collide."""
    from studio.core.paths import default_output_dir

    name = f"{Path(trial.model).stem}.{trial.method.value}.onnx"
    return default_output_dir() / "sweeps" / trial.key() / name


def load(trial: Trial) -> TrialResult | None:
    """The stored result of an identical trial whose output is still there, or None."""
    path = cache_folder() / f"{trial.key()}.json"
    try:
        stored = TrialResult.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return None  # missing or damaged: the trial simply runs again
    if stored.status != "done" or not Path(stored.output).is_file():
        return None
    # The model may sit at another path now (same content): the row shows where it is today.
    return stored.model_copy(update={"trial": trial, "status": "cached", "run": None})


def save(result: TrialResult) -> None:
    from studio.core.atomic import atomic_path

    if result.status != "done":
        return
    folder = cache_folder()
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs a re-run
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / f"{result.trial.key()}.json", replace=True) as partial:
            partial.write_text(result.model_dump_json(exclude={"run", "front"}), encoding="utf-8")
