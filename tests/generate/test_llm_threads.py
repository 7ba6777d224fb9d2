"""How many intra-op threads a language model gets: one for a model small enough to stay in the
CPU caches, one per core for bigger ones, and always the bundle's own choice if it has one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from studio.core.generate.llm_bundle import demo_lm_path
from studio.core.generate.llm_runner import (
    SMALL_MODEL_BYTES,
    LoadedModel,
    choose_threads,
    physical_cores,
    weights_bytes,
)


def _config(folder: Path) -> dict:
    return json.loads((folder / "genai_config.json").read_text())


def _bundle_of(tmp_path: Path, name: str, size: int) -> tuple[str, dict]:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(demo_lm_path() / "genai_config.json", folder)
    with open(folder / "model.onnx.data", "wb") as data:
        data.truncate(size)  # sparse: only its size matters here
    (folder / "model.onnx").write_bytes(b"graph")
    return str(folder), _config(folder)


def test_a_small_model_gets_one_thread_and_a_bigger_one_a_thread_per_core(tmp_path: Path) -> None:
    small = _bundle_of(tmp_path, "small", SMALL_MODEL_BYTES // 2)
    big = _bundle_of(tmp_path, "big", SMALL_MODEL_BYTES + 1)
    assert weights_bytes(small[0]) <= SMALL_MODEL_BYTES < weights_bytes(big[0])
    assert choose_threads(*small) == 1
    # Named, not left at 0: onnxruntime-genai's own default decoded on one thread.
    assert choose_threads(*big) == physical_cores()
    assert 1 <= physical_cores() <= (os.cpu_count() or 1)


def test_a_bundle_that_sets_its_threads_keeps_them(tmp_path: Path) -> None:
    folder = tmp_path / "lm"
    shutil.copytree(demo_lm_path(), folder)
    config = _config(folder)
    config["model"]["decoder"]["session_options"]["intra_op_num_threads"] = 2
    (folder / "genai_config.json").write_text(json.dumps(config))
    assert choose_threads(str(folder), config) == 2
    assert LoadedModel(str(folder)).threads == 2


def test_loaded_model_generates_with_the_chosen_or_given_threads() -> None:
    from studio.core.generate.llm_runner import stream_generation

    for threads in (None, 0, 2):
        loaded = LoadedModel(str(demo_lm_path()), threads=threads)
        chosen = choose_threads(str(demo_lm_path()), _config(demo_lm_path()))
        assert loaded.threads == (chosen if threads is None else threads)
        events = list(
            stream_generation(loaded, "In the beginning", max_new_tokens=4, temperature=0)
        )
        assert events[-1]["tokens"] == 4
