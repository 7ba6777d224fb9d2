"""Per-layer drift sums squares in the tensors' own precision: the same 1 − cosine as float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio.core.analyze.drift_layers import _one_minus_cosine, _squares


def _float64_error(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return 1 - float(a64 @ b64) / math.sqrt(float(a64 @ a64) * float(b64 @ b64))


@pytest.mark.parametrize("noise", [1e-1, 1e-2, 1e-3])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_small_errors_match_float64(noise: float, dtype: type) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(200_000).astype(dtype)
    b = (a + noise * rng.standard_normal(a.size)).astype(dtype)
    squares = _squares(a, b)
    assert squares is not None
    assert _one_minus_cosine(*squares) == pytest.approx(_float64_error(a, b), rel=1e-3)


def test_nan_and_mismatched_shapes_and_zeros() -> None:
    a = np.array([1.0, np.nan, 2.0], np.float32)
    squares = _squares(a, np.array([1.0, 0.0, 2.0], np.float32))
    assert squares is not None and all(math.isfinite(s) for s in squares)
    assert _squares(np.zeros(3, np.float32), np.zeros(4, np.float32)) is None
    assert _one_minus_cosine(0.0, 4.0, 4.0) == 0.0
