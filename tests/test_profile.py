"""Per-layer profiling: medians over timed runs, fused nodes mapped back, CSV export."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from studio.core.analyze.fusion_map import NodeKind, map_fused_nodes
from studio.core.analyze.profile import (
    LAYER_RUNS_CAP,
    LAYER_TIMINGS_CAP,
    ProfileResult,
    halves_moved,
    layer_runs_for,
    node_median_ms,
    overhead_sentence,
    per_run_node_times,
    profile_model,
    session_run_ms,
    sessions_for,
    split_runs,
    steady_sessions,
    write_profile_csv,
)
from studio.core.errors import BadInput, OutputError
from studio.core.progress import Reporter
from tests.support.models import make_mlp


def _conv_relu(path: Path) -> Path:
    """Conv → Relu → Gemm → Relu: onnxruntime fuses both pairs on the CPU."""
    rng = np.random.default_rng(1)
    inits = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "cw"),
        numpy_helper.from_array(rng.standard_normal((8 * 8 * 8, 10)).astype(np.float32), "gw"),
        numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "cw"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Reshape", ["r", "shape"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "gw"], ["g"], name="fc"),
        helper.make_node("Relu", ["g"], ["y"], name="fc_relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_profile_reports_every_node_with_medians_and_end_to_end(tmp_path: Path) -> None:
    model = make_mlp(tmp_path / "mlp.onnx")
    result = profile_model(model, runs=5, threads=1, shapes={"x": [4, 16]})
    assert result.runs == 5 and result.threads == 1 and result.warmup == 3
    assert result.input_shapes == {"x": [4, 16]}
    assert result.end_to_end_ms > 0 and result.end_to_end_p90_ms >= result.end_to_end_ms
    assert sum(n.share for n in result.nodes) == pytest.approx(1.0)
    assert [n.median_ms for n in result.nodes] == sorted(
        (n.median_ms for n in result.nodes), reverse=True
    )
    covered = set(result.original_shares())
    assert covered == {"fc1", "bias1", "relu1", "fc2"}
    assert str(result.profiled_total_ms)[:4] in result.note or "ms" in result.note


def test_runs_are_spread_over_fresh_sessions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.analyze.profile as profile

    model = make_mlp(tmp_path / "mlp.onnx")
    counted: list[int] = []
    real = profile.per_run_node_times

    def spy(events: list[dict], runs: int):
        samples, meta = real(events, runs)
        counted.append(len(next(iter(samples.values()))))
        return samples, meta

    monkeypatch.setattr(profile, "per_run_node_times", spy)
    # Keep every session, as a quiet machine would (a busy one gets more: tested below).
    monkeypatch.setattr(profile, "steady_sessions", lambda sessions: (sessions, 0))
    # A sub-millisecond model: far more layer runs than asked, over many sessions.
    shown: list[str] = []
    reporter = Reporter(on_progress=lambda _f, message: shown.append(message))
    result = profile_model(model, runs=14, threads=1, shapes={"x": [4, 16]}, report=reporter)
    assert result.runs == 14 and result.layer_runs == LAYER_TIMINGS_CAP // 4  # 4 nodes
    assert sum(counted) == result.layer_runs and result.sessions == len(counted) > 1
    # Thousands of runs, but the progress bar hears of them once per percent, up to the last.
    run_messages = [m for m in shown if m.startswith("Profiling run")]
    total = result.layer_runs + 3 * result.sessions
    assert 90 <= len(run_messages) <= 101 and run_messages[-1] == f"Profiling run {total}/{total}"
    assert max(counted) - min(counted) <= 1
    assert set(result.original_shares()) == {"fc1", "bias1", "relu1", "fc2"}


def test_session_count_and_split() -> None:
    assert split_runs(20, 4) == [5, 5, 5, 5]
    assert split_runs(7, 2) == [4, 3]
    assert sessions_for(160, 0.05) == 16
    assert sessions_for(160, 0.3) == 5  # session creation kept to about 1.5 s
    assert sessions_for(6, 0.05) == 2  # at least 3 runs each
    assert sessions_for(200, 5.0) == 1  # a big model: one session, as creating more costs more


def test_fast_models_get_more_layer_runs_slow_ones_what_was_asked() -> None:
    assert layer_runs_for(20, 0.1, nodes=400) == LAYER_RUNS_CAP
    assert layer_runs_for(20, 0.1, nodes=12) == LAYER_TIMINGS_CAP // 12  # a small graph: more
    assert layer_runs_for(20, 0.5, nodes=4) == 2000  # about a second of running
    assert layer_runs_for(20, 25.0, nodes=400) == 40
    assert layer_runs_for(20, 500.0, nodes=12) == 20
    assert layer_runs_for(500, 0.1, nodes=400) == 500  # never fewer than asked


def test_fused_nodes_are_mapped_back_to_the_users_nodes(tmp_path: Path) -> None:
    result = profile_model(_conv_relu(tmp_path / "cr.onnx"), runs=3, threads=1)
    fused = {n.name: n for n in result.fused_nodes()}
    groups = [set(n.fused_from) for n in fused.values()]
    assert {"conv", "relu"} in groups, groups
    assert {"fc", "fc_relu"} in groups, groups
    # Every user node is accounted for: run as is, fused, or reported as removed.
    accounted = set(result.original_shares()) | set(result.removed_nodes)
    assert accounted == {"conv", "relu", "flatten", "fc", "fc_relu"}
    assert next(iter(fused.values())).parameters > 0
    # The heat-map gives fused partners the kernel's share.
    shares = result.original_shares()
    assert shares["conv"] == shares["relu"]


def _qdq_conv(path: Path) -> Path:
    """A quantized (QDQ) Conv whose bias DequantizeLinear comes first in the graph; onnxruntime
    runs the Conv and its DequantizeLinear nodes as one QLinearConv."""
    rng = np.random.default_rng(2)

    def scalar(value: float | int, dtype: type, name: str) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(value, dtype=dtype), name)

    inits = [
        numpy_helper.from_array(rng.integers(-100, 100, (8, 3, 3, 3)).astype(np.int8), "w_q"),
        numpy_helper.from_array(rng.integers(-100, 100, (8,)).astype(np.int32), "b_q"),
        *(scalar(v, np.float32, n) for v, n in ((0.02, "x_s"), (0.01, "w_s"), (2e-4, "b_s"))),
        scalar(0, np.uint8, "x_z"),
        scalar(0, np.int8, "w_z"),
        scalar(0, np.int32, "b_z"),
        scalar(0.05, np.float32, "y_s"),
        scalar(0, np.uint8, "y_z"),
    ]
    dq, q = "DequantizeLinear", "QuantizeLinear"
    nodes = [
        helper.make_node(dq, ["b_q", "b_s", "b_z"], ["b"], name="conv.bias_DequantizeLinear"),
        helper.make_node(dq, ["w_q", "w_s", "w_z"], ["w"], name="conv.weight_DequantizeLinear"),
        helper.make_node(q, ["x", "x_s", "x_z"], ["xq"], name="x_QuantizeLinear"),
        helper.make_node(dq, ["xq", "x_s", "x_z"], ["xd"], name="x_DequantizeLinear"),
        helper.make_node("Conv", ["xd", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node(q, ["c", "y_s", "y_z"], ["cq"], name="c_QuantizeLinear"),
        helper.make_node(dq, ["cq", "y_s", "y_z"], ["y"], name="c_DequantizeLinear"),
    ]
    graph = helper.make_graph(
        nodes,
        "qdq_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_a_fused_kernel_is_named_after_the_node_it_is_mostly_about(tmp_path: Path) -> None:
    """Every view names a kernel by fused_from[0]: the Conv, not its bias DequantizeLinear."""
    result = profile_model(_qdq_conv(tmp_path / "qdq.onnx"), runs=2, threads=1)
    conv = next(n for n in result.nodes if "conv" in n.fused_from)
    assert conv.op_type == "QLinearConv" and len(conv.fused_from) > 1
    assert conv.fused_from[0] == "conv", conv.fused_from
    # The rest keep the model's order.
    assert conv.fused_from[1:] == sorted(conv.fused_from[1:])


def test_fusion_map_without_the_optimized_model_uses_names_only(tmp_path: Path) -> None:
    model = onnx.load(str(_conv_relu(tmp_path / "cr.onnx")))
    mapping = map_fused_nodes(model, None, ["fused fc", "conv", "ReorderOutput"])
    assert mapping.nodes["fused fc"].kind is NodeKind.REWRITTEN
    assert mapping.nodes["fused fc"].originals == ["fc"]
    assert mapping.nodes["conv"].kind is NodeKind.ORIGINAL
    assert mapping.nodes["ReorderOutput"].kind is NodeKind.INSERTED
    assert set(mapping.removed) == {"relu", "flatten", "fc_relu"}


def test_warmup_runs_are_excluded_and_repeated_nodes_summed_per_run() -> None:
    def run(ts: int) -> list[dict]:
        return [
            {"cat": "Session", "name": "model_run", "ts": ts, "dur": 100},
            {
                "cat": "Node",
                "name": "a_kernel_time",
                "ts": ts + 1,
                "dur": 10_000,
                "args": {"op_name": "MatMul", "provider": "CPUExecutionProvider"},
            },
            {
                "cat": "Node",
                "name": "a_kernel_time",
                "ts": ts + 50,
                "dur": 1_000,
                "args": {"op_name": "MatMul", "provider": "CPUExecutionProvider"},
            },
        ]

    warm = [{"cat": "Node", "name": "a_kernel_time", "ts": 5, "dur": 999_000, "args": {}}]
    events = [*warm, *run(0), *run(1000), *run(2000)]
    samples, meta = per_run_node_times(events, runs=2)
    assert samples == {"a": [11.0, 11.0]}
    assert meta["a"] == ("MatMul", "CPUExecutionProvider")


def test_a_profile_notices_when_the_machine_changed_speed_halfway() -> None:
    medians = {"conv": 1.0, "add": 0.2, "tiny": 0.001}
    steady = {"conv": [1.0, 1.02, 0.99, 1.01] * 5, "add": [0.2, 0.21] * 10, "tiny": [0.001] * 20}
    assert halves_moved(steady, medians) < 0.05
    # The memory-bound layer slowed by 40% for the second half of the runs.
    slowed = {**steady, "add": [0.2] * 10 + [0.28] * 10}
    assert halves_moved(slowed, medians) == pytest.approx(0.4)
    # A layer below 1% of the time is too short to judge by, however much it moved.
    assert halves_moved({**steady, "tiny": [0.001] * 10 + [0.003] * 10}, medians) < 0.05
    # Too few runs to split in two halves of two: nothing to compare.
    assert halves_moved({"conv": [1.0, 2.0, 3.0]}, {"conv": 2.0}) == 0.0


def test_sessions_slowed_by_something_else_are_set_aside() -> None:
    quiet = {"conv": [1.0, 1.02, 0.98], "add": [0.2, 0.2, 0.21]}
    assert session_run_ms(quiet) == pytest.approx(1.2)
    layout = {"conv": [1.05, 1.06, 1.04], "add": [0.21, 0.2, 0.22]}  # 5% slower: kept
    busy = {"conv": [1.0, 1.01, 0.99], "add": [0.41, 0.39, 0.4]}  # memory-bound layer slowed
    kept, set_aside = steady_sessions([busy, quiet, layout, busy])
    assert kept == [quiet, layout] and set_aside == 2
    # With one session there is nothing to compare it with.
    assert steady_sessions([busy]) == ([busy], 0)
    assert session_run_ms({}) == 0.0


def _sessions_timed(monkeypatch: pytest.MonkeyPatch, slowed: set[int]) -> list[int]:
    """Every layer of every profiling session takes 10 µs a run, twice that in the ``slowed``
    sessions (numbered from 1); returns the runs of each session as they happen."""
    import studio.core.analyze.profile as profile

    real = profile.per_run_node_times
    counted: list[int] = []

    def timed(events: list[dict], runs: int):
        samples, meta = real(events, runs)
        counted.append(runs)
        ms = 0.02 if len(counted) in slowed else 0.01
        return {name: [ms] * runs for name in samples}, meta

    monkeypatch.setattr(profile, "per_run_node_times", timed)
    return counted


def test_a_slowed_session_is_left_out_of_the_medians(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _sessions_timed(monkeypatch, slowed={2})
    result = profile_model(
        make_mlp(tmp_path / "mlp.onnx"), runs=14, threads=1, shapes={"x": [4, 16]}
    )
    assert result.sessions > 2
    assert result.sessions_set_aside == 1 and result.runs_set_aside == counted[1]
    assert all(node.median_ms == pytest.approx(0.01) for node in result.nodes)


def test_a_busy_machine_gets_more_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.core.analyze.profile as profile

    counted = _sessions_timed(monkeypatch, slowed={2, 3, 4})
    monkeypatch.setattr(profile, "sessions_for", lambda _runs, _seconds: 4)
    shown: list[float] = []
    reporter = Reporter(on_progress=lambda fraction, _message: shown.append(fraction))
    result = profile_model(
        make_mlp(tmp_path / "mlp.onnx"), runs=14, threads=1, shapes={"x": [4, 16]}, report=reporter
    )
    # Three of four sessions were slowed, so two more ran, and the quiet ones made the medians.
    assert len(counted) == result.sessions == 6
    assert result.layer_runs == sum(counted) and result.sessions_set_aside == 3
    assert result.runs_set_aside == sum(counted[1:4])
    assert all(node.median_ms == pytest.approx(0.01) for node in result.nodes)
    assert shown == sorted(shown)  # the progress bar never goes back


def test_node_median_sees_between_the_profilers_whole_microseconds() -> None:
    assert node_median_ms([0.004] * 5) == pytest.approx(0.004)
    assert node_median_ms([0.005, 0.0]) >= 0.0
    # Mostly 4 µs with some 5 µs: a plain median says 4 or 5 (25% apart) depending on which
    # side has one more run; the interpolated median stays near 4.5 for both.
    three_four = node_median_ms([0.004] * 10 + [0.005] * 11)
    four_three = node_median_ms([0.004] * 11 + [0.005] * 10)
    assert 0.004 < four_three < three_four < 0.005
    assert abs(three_four - four_three) / four_three < 0.15
    assert node_median_ms([0.010, 0.011, 0.012, 0.500, 0.013]) == pytest.approx(0.012)


def test_overhead_sentence_explains_both_directions() -> None:
    assert "more than" in overhead_sentence(1.0, 1.5)
    assert "leave out" in overhead_sentence(2.0, 1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"runs": 0}, "runs must be at least 1"),
        ({"threads": 0}, "threads must be between"),
        ({"warmup": -1}, "warm-up"),
        ({"shapes": {"nope": [1, 16]}}, "no input named 'nope'"),
        ({"shapes": {"x": [1, 15]}}, r"onnxruntime could not run .*\(inputs x=1x15\)"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    model = make_mlp(tmp_path / "mlp.onnx")
    with pytest.raises(BadInput, match=message):
        profile_model(model, **{"runs": 2, **kwargs})


def test_csv_has_one_row_per_node_and_never_overwrites(tmp_path: Path) -> None:
    result = profile_model(_conv_relu(tmp_path / "cr.onnx"), runs=2, threads=1)
    out = write_profile_csv(result, tmp_path / "p.csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["node"] for r in rows] == [n.name for n in result.nodes]
    assert any(r["fused_from"] == "conv;relu" for r in rows)
    with pytest.raises(OutputError, match="already exists"):
        write_profile_csv(result, out)
    write_profile_csv(result, out, replace=True)
    with pytest.raises(BadInput, match="is a folder"):
        write_profile_csv(result, tmp_path)


def test_result_round_trips_as_json(tmp_path: Path) -> None:
    result = profile_model(make_mlp(tmp_path / "m.onnx"), runs=2)
    again = ProfileResult.model_validate_json(result.model_dump_json())
    assert again == result


def test_auto_times_layers_on_one_thread_and_the_whole_model_on_all_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.analyze.profile as profile

    model = make_mlp(tmp_path / "mlp.onnx")
    sessions: list[int] = []
    real_session = profile._session

    def session(path: Path, threads: int, *args: object):
        sessions.append(threads)
        return real_session(path, threads, *args)

    monkeypatch.setattr(profile, "_session", session)
    monkeypatch.setattr(profile, "default_threads", lambda: 2)
    result = profile_model(model, runs=4, shapes={"x": [4, 16]})
    assert result.threads == 1 and result.all_cores == 2
    assert result.end_to_end_all_cores_ms and result.end_to_end_all_cores_ms > 0
    assert "layers timed on 1 thread" in result.threads_note
    assert "on all 2 cores" in result.threads_note
    assert sessions[0] == 2 and set(sessions[1:]) == {1}
    # Asked for a count, the profiler uses it everywhere and explains nothing.
    sessions.clear()
    fixed = profile_model(model, runs=4, threads=2, shapes={"x": [4, 16]})
    assert fixed.threads == 2 and fixed.threads_note == "" and fixed.all_cores == 0
    assert set(sessions) == {2} and fixed.end_to_end_all_cores_ms is None


def test_auto_on_a_one_core_machine_times_everything_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.analyze.profile as profile

    monkeypatch.setattr(profile, "default_threads", lambda: 1)
    result = profile_model(make_mlp(tmp_path / "mlp.onnx"), runs=3, shapes={"x": [4, 16]})
    assert result.threads == 1 and result.threads_note == ""
    assert result.end_to_end_all_cores_ms is None
