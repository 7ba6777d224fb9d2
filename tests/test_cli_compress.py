"""`studio compress` and `studio convert` from the command line: output, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from tests.support.compress_models import cnn_samples, make_block, make_cnn


def test_compress_json_includes_the_drift_report(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    model = make_cnn(tmp_path / "cnn.onnx")
    calib = cnn_samples(tmp_path / "s.npz")
    code = main(
        [
            "compress",
            str(model),
            "--method",
            "int8-static",
            "--calib",
            str(calib),
            "--calibrate",
            "percentile",
            "--out",
            str(tmp_path / "q.onnx"),
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["chosen"] == "int8-static"
    assert data["options"]["int8"]["calibrate_method"] == "percentile"
    report = data["report"]
    assert report["outputs"][0]["name"] == "logits"
    assert {"cosine", "max_abs", "mean_abs", "snr_db", "top1", "top5"} <= set(report["outputs"][0])
    assert report["latency_before_ms"] > 0 and report["size_after"] > 0


def test_compress_human_output_and_keep_float(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    model = make_block(tmp_path / "block.onnx")
    code = main(
        [
            "compress",
            str(model),
            "--method",
            "int8-static",
            "--keep-float",
            "Softmax",
            "--shape",
            "x=1x4x64",
            "--out",
            str(tmp_path / "q.onnx"),
            "--no-latency",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "output y: cosine" in captured.out
    assert "RANDOM inputs" in captured.err
    assert "wrote" in captured.out


def test_compress_auto_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = make_cnn(tmp_path / "cnn.onnx")
    code = main(
        [
            "compress",
            str(model),
            "--method",
            "auto",
            "--calib",
            str(cnn_samples(tmp_path / "s.npz")),
            "--out",
            str(tmp_path / "a.onnx"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "tried" in out and "chosen" in out and "fp16" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "int9"], "Unknown method 'int9'"),
        (["--method", "int8-static", "--calib", "missing.npz"], "does not exist"),
        (["--method", "cleanup", "--shape", "x=abc"], "is not NAME=DIMS"),
        (["--method", "int4", "--block-size", "8"], "'int4.block_size' has a wrong value 8"),
        (["--method", "int8-static", "--image-size", "0x4"], "is not NAME=DIMS"),
        (["--method", "prune", "--mean", "a,b"], "not a list of numbers"),
        (["--method", "int8-dynamic", "--keep-float", "Nope"], "matches no node"),
        (["--method", "cleanup", "--chip", "no-such-chip"], "Unknown chip"),
    ],
)
def test_compress_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    model = make_block(tmp_path / "block.onnx")
    code = main(["compress", str(model), *extra, "--out", str(tmp_path / "o.onnx")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.onnx").exists()


def test_convert_opset_shape_and_ort(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import onnxruntime as ort

    model = make_block(tmp_path / "block.onnx")
    fixed = tmp_path / "fixed.onnx"
    assert (
        main(
            [
                "convert",
                str(model),
                "--to",
                "onnx",
                "--opset",
                "18",
                "--shape",
                "x=1x8x64",
                "--out",
                str(fixed),
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["opset"] == 18
    session = ort.InferenceSession(str(fixed), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 8, 64]
    assert main(["convert", str(fixed), "--to", "ort", "--out", str(tmp_path / "m.ort")]) == 0
    ort_session = ort.InferenceSession(str(tmp_path / "m.ort"), providers=["CPUExecutionProvider"])
    out = ort_session.run(None, {"x": np.ones((1, 8, 64), np.float32)})[0]
    assert out.shape == (1, 8, 64)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "tflite"], "invalid choice"),
        (["--to", "ort", "--out-name"], ""),
    ],
)
def test_convert_argparse_errors(tmp_path: Path, args: list[str], message: str) -> None:
    model = make_block(tmp_path / "block.onnx")
    with pytest.raises(SystemExit) as exit_info:
        main(["convert", str(model), *args, "--out", str(tmp_path / "x.onnx")])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("name", "out", "message"),
    [
        ("notes.txt", "x.onnx", "is not a model the studio can convert"),
        ("block.onnx", "x.ort", "must end in .onnx"),
        ("model.pt", "x.onnx", "does not record its input shapes"),
    ],
)
def test_convert_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str, out: str, message: str
) -> None:
    make_block(tmp_path / "block.onnx")
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "model.pt").write_bytes(b"not torch")
    code = main(["convert", str(tmp_path / name), "--to", "onnx", "--out", str(tmp_path / out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / out).exists()
