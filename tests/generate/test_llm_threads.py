"""How many intra-op threads a language model gets: one for a model small enough to stay in the
CPU caches, onnxruntime's default for bigger ones, and always the bundle's own choice if it has one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from studio.core.generate.llm_bundle import demo_lm_path, demo_lm_reference_path
from studio.core.generate.llm_runner import (
    SMALL_MODEL_BYTES,
    LoadedModel,
    choose_threads,
    weights_bytes,
)


def _config(folder: Path) -> dict:
    return json.loads((folder / "genai_config.json").read_text())


def test_the_int4_demo_gets_one_thread_and_the_fp32_one_the_default() -> None:
    assert weights_bytes(str(demo_lm_path())) <= SMALL_MODEL_BYTES
    assert choose_threads(str(demo_lm_path()), _config(demo_lm_path())) == 1
    assert weights_bytes(str(demo_lm_reference_path())) > SMALL_MODEL_BYTES
    assert choose_threads(str(demo_lm_reference_path()), _config(demo_lm_reference_path())) == 0


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
        assert loaded.threads == (1 if threads is None else threads)
        events = list(
            stream_generation(loaded, "In the beginning", max_new_tokens=4, temperature=0)
        )
        assert events[-1]["tokens"] == 4
