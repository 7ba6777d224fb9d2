"""Shared language-model fixtures: one tiny INT4 export for every test that only reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.generate.export import export_llm
from tests.support.tiny_lm import make_tiny_llama


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny") / "hf")


@pytest.fixture(scope="session")
def tiny_bundle(tiny_hf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One INT4 export shared by every test that only reads it."""
    out = tmp_path_factory.mktemp("export") / "bundle"
    export_llm(tiny_hf, out, precision="int4", name="tiny")
    return out
