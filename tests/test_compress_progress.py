""" "Nodes done" progress: every method's job moves the bar through its nodes, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.core.compress import compress_model
from studio.core.jobs import JobSpec, run_job
from studio.core.progress import Reporter
from tests.support.compress_models import cnn_samples, make_block, make_cnn

COUNT = re.compile(r"^(?P<what>.+): (?P<done>\d+) of (?P<total>\d+) (?P<unit>nodes|weights)$")
FAST = {"measure_latency": False}


def _counts(messages: list[tuple[float, str]], what: str) -> list[tuple[int, int]]:
    found = []
    for _fraction, message in messages:
        match = COUNT.match(message)
        if match and match["what"] == what:
            found.append((int(match["done"]), int(match["total"])))
    return found


def _assert_in_order(messages: list[tuple[float, str]], what: str) -> None:
    counts = _counts(messages, what)
    assert counts, f"no '{what}: N of M' message in {[m for _, m in messages]}"
    done = [d for d, _ in counts]
    assert done == sorted(done) and len(set(done)) == len(done), done
    assert counts[0][0] == 1
    assert counts[-1][0] == counts[-1][1], "the last message says all were done"
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions), "the bar never moves backwards"


@pytest.mark.parametrize(
    ("method", "what"),
    [
        ("int8-dynamic", "quantizing weights"),
        ("int4", "quantizing MatMul weights to INT4"),
        ("fp16", "converting weights to FP16"),
    ],
)
def test_matmul_methods_report_nodes_in_order(tmp_path: Path, method: str, what: str) -> None:
    model = make_block(tmp_path / "block.onnx")
    seen: list[tuple[float, str]] = []
    compress_model(
        model,
        method,
        tmp_path / "out.onnx",
        options=FAST,
        report=Reporter(on_progress=lambda f, m: seen.append((f, m))),
    )
    _assert_in_order(seen, what)


def test_static_reports_batches_then_nodes(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", constants=False)
    seen: list[tuple[float, str]] = []
    compress_model(
        model,
        "int8-static",
        tmp_path / "q.onnx",
        options=FAST,
        calib=cnn_samples(tmp_path / "s.npz", count=6),
        report=Reporter(on_progress=lambda f, m: seen.append((f, m))),
    )
    _assert_in_order(seen, "quantizing layers")
    _assert_in_order(seen, "quantizing weights")
    messages = [m for _, m in seen]
    last_batch = max(i for i, m in enumerate(messages) if m.startswith("Calibrating batch"))
    first_node = next(i for i, m in enumerate(messages) if m.startswith("quantizing layers"))
    last_node = max(i for i, m in enumerate(messages) if m.startswith("quantizing layers"))
    first_weight = next(i for i, m in enumerate(messages) if m.startswith("quantizing weights"))
    assert last_batch < first_node < last_node < first_weight
    assert messages.index("cleaning up: Constant nodes to weights") < last_batch


def test_cleanup_reports_its_stages(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx")  # weights as Constant nodes
    seen: list[str] = []
    compress_model(
        model,
        "cleanup",
        tmp_path / "c.onnx",
        options=FAST,
        drift=False,
        report=Reporter(on_progress=lambda f, m: seen.append(m)),
    )
    stages = [m for m in seen if m.startswith("cleaning up")]
    assert stages[0] == "cleaning up: Constant nodes to weights"
    assert stages[1].startswith("cleaning up: 6 constants moved")
    assert stages[-1].startswith("cleaning up: done, ")


def test_job_progress_arrives_in_order_through_the_pipe(tmp_path: Path) -> None:
    model = make_block(tmp_path / "block.onnx")
    seen: list[tuple[float, str]] = []
    run_job(
        JobSpec(
            title="q",
            target="studio.core.compress:compress_model",
            kwargs={
                "model": str(model),
                "method": "int8-dynamic",
                "out": str(tmp_path / "d.onnx"),
                "options": FAST,
            },
        ),
        on_progress=lambda f, m: seen.append((f, m)),
    )
    _assert_in_order(seen, "quantizing weights")
