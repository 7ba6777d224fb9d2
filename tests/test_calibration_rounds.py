"""Multi-thread calibration keeps each micro-benchmark's fastest of several passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.chips import calibrate_pc
from studio.core.chips import pc_microbench as mb

# The machine is in a slow state during the first and third pass, fast during the second.
FACTORS = (2.0, 1.0, 2.0)


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """Fake micro-benchmarks; the returned list grows by one at the end of every pass."""
    done: list[int] = []
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))

    def factor() -> float:
        return FACTORS[len(done) % len(FACTORS)]

    def compute_steps(threads: int):
        return [
            ("matmul", lambda: ("MatMul a", 2e6, 0.2 * factor())),
            ("matmul", lambda: ("MatMul b", 2e7, 1.0 * factor())),
            ("conv", lambda: ("Conv a", 4e6, 0.4 * factor())),
        ]

    def memory_steps(threads: int):
        def run(n: int) -> tuple[float, float]:
            return 0.05 * n / 4096 * factor(), 8.0 * n

        families = ("elementwise", "transcendental", "softmax", "norm", "data", "copy")
        return {family: run for family in families}

    def chain_overhead(threads: int) -> tuple[float, float]:
        done.append(threads)
        return 0.001, 0.0001

    monkeypatch.setattr(calibrate_pc, "_compute_steps", compute_steps)
    monkeypatch.setattr(calibrate_pc, "_memory_steps", memory_steps)
    monkeypatch.setattr(mb, "fp16_compute_ratio", lambda threads: 1.0)
    monkeypatch.setattr(mb, "fp16_memory_ratio", lambda threads: 1.3)
    monkeypatch.setattr(mb, "chain_overhead", chain_overhead)
    return done


def test_two_threads_keep_each_points_fastest_of_three_passes(passes: list[int]) -> None:
    calib = calibrate_pc.calibrate(2, force=True)
    assert passes == [2, 2, 2]
    matmul = {p.label: p.ms for p in calib.compute["matmul"]}
    assert list(matmul) == ["MatMul a", "MatMul b"]  # one point per size, not one per pass
    # the fast pass's time, less the fixed per-run and per-node costs
    assert matmul["MatMul b"] == pytest.approx(1.0 - 0.001 - 0.0001)
    assert len(calib.memory["elementwise"]) == len(calibrate_pc.MEMORY_SIZES)
    assert calib.fp16_ratio == {"compute": 1.0, "memory": 1.3}


def test_one_thread_is_measured_once(passes: list[int]) -> None:
    calib = calibrate_pc.calibrate(1, force=True)
    assert passes == [1]
    slow = {p.label: p.ms for p in calib.compute["matmul"]}["MatMul b"]
    assert slow == pytest.approx(2.0 - 0.001 - 0.0001)  # its CPU time is not disturbed anyway


def test_keep_fastest_replaces_only_a_slower_point_of_the_same_size() -> None:
    points: list[calibrate_pc.Point] = []
    calibrate_pc._keep_fastest(points, calibrate_pc.Point(label="a", work=1.0, ms=2.0))
    calibrate_pc._keep_fastest(points, calibrate_pc.Point(label="b", work=2.0, ms=3.0))
    calibrate_pc._keep_fastest(points, calibrate_pc.Point(label="a", work=1.0, ms=1.0))
    calibrate_pc._keep_fastest(points, calibrate_pc.Point(label="b", work=2.0, ms=5.0))
    assert [(p.label, p.ms) for p in points] == [("a", 1.0), ("b", 3.0)]
