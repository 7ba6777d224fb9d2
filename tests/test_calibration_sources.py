"""Calibration and evaluation samples from image folders, prompt files and arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.core.compress import compress_model
from studio.core.compress.options import ImageSettings
from studio.core.errors import BadInput
from studio.core.model.loader import load_model
from studio.core.samples.calibration import load_samples
from tests.support.compress_models import make_block, make_cnn


def _images(folder: Path, count: int, size: tuple[int, int] = (40, 30)) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i}.png")
    return folder


def test_image_folder_is_resized_normalised_and_laid_out(tmp_path: Path) -> None:
    path = make_cnn(tmp_path / "cnn.onnx", size=16)
    folder = _images(tmp_path / "imgs", 3)
    settings = ImageSettings(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
    samples = load_samples(folder, load_model(path), model_path=path, limit=10, image=settings)
    assert len(samples) == 3
    image = samples[0]["image"]
    assert image.shape == (1, 3, 16, 16) and image.dtype == np.float32
    assert image.min() >= -1.0 and image.max() <= 1.0


def test_nhwc_layout_and_bgr(tmp_path: Path) -> None:
    path = make_cnn(tmp_path / "cnn.onnx", size=16)
    folder = _images(tmp_path / "imgs", 1)
    model = load_model(path)
    nchw = load_samples(folder, model, model_path=path, limit=1)[0]["image"]
    bgr = load_samples(folder, model, model_path=path, limit=1, image=ImageSettings(color="BGR"))[
        0
    ]["image"]
    np.testing.assert_allclose(bgr[0, 0], nchw[0, 2])


def test_unreadable_images_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = make_cnn(tmp_path / "cnn.onnx")
    folder = _images(tmp_path / "imgs", 2)
    (folder / "broken.jpg").write_bytes(b"not an image")
    warnings: list[str] = []
    samples = load_samples(folder, load_model(path), model_path=path, limit=10, warnings=warnings)
    assert len(samples) == 2
    assert "broken.jpg" in warnings[0]


def test_folder_of_only_broken_images(tmp_path: Path) -> None:
    path = make_cnn(tmp_path / "cnn.onnx")
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"nope")
    with pytest.raises(BadInput, match="None of the images"):
        load_samples(folder, load_model(path), model_path=path, limit=10)


def test_image_folder_for_a_non_image_model(tmp_path: Path) -> None:
    path = make_block(tmp_path / "block.onnx")
    folder = _images(tmp_path / "imgs", 1)
    with pytest.raises(BadInput, match="one 4-D image input"):
        load_samples(folder, load_model(path), model_path=path, limit=10)


def test_int8_static_from_an_image_folder(tmp_path: Path) -> None:
    path = make_cnn(tmp_path / "cnn.onnx")
    folder = _images(tmp_path / "imgs", 6)
    result = compress_model(
        path, "int8-static", tmp_path / "q.onnx", calib=folder, options={"measure_latency": False}
    )
    assert result.report.sample_source.startswith("held-out")
    assert not result.warnings


def _tokenizer(folder: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate(["[UNK]", "hello", "world", "edge", "studio"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))


def _token_model(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    table = numpy_helper.from_array(
        np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32), "table"
    )
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["y"], name="embed")],
        "tok",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "seq", 8])],
        [table],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_prompts_are_tokenized_with_the_models_tokenizer(tmp_path: Path) -> None:
    path = _token_model(tmp_path / "tok.onnx")
    _tokenizer(tmp_path)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("hello world\n\nedge studio hello\n", encoding="utf-8")
    samples = load_samples(prompts, load_model(path), model_path=path, limit=10)
    assert [s["input_ids"].tolist() for s in samples] == [[[1, 2]], [[3, 4, 1]]]


def test_prompts_without_tokenizer(tmp_path: Path) -> None:
    path = _token_model(tmp_path / "tok.onnx")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("hello\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"tokenizer\.json"):
        load_samples(prompts, load_model(path), model_path=path, limit=10)


def test_empty_prompts_file(tmp_path: Path) -> None:
    path = _token_model(tmp_path / "tok.onnx")
    _tokenizer(tmp_path)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n\n", encoding="utf-8")
    with pytest.raises(BadInput, match="holds no prompts"):
        load_samples(prompts, load_model(path), model_path=path, limit=10)


def test_evaluation_data_is_kept_apart(tmp_path: Path) -> None:
    path = make_cnn(tmp_path / "cnn.onnx")
    rng = np.random.default_rng(9)
    np.savez(tmp_path / "calib.npz", image=rng.random((4, 3, 16, 16), dtype=np.float32))
    np.savez(tmp_path / "eval.npz", image=rng.random((3, 3, 16, 16), dtype=np.float32))
    result = compress_model(
        path,
        "int8-static",
        tmp_path / "q.onnx",
        calib=tmp_path / "calib.npz",
        evaluation=tmp_path / "eval.npz",
        options={"measure_latency": False},
    )
    assert result.report.sample_source == "evaluation data"
    assert result.report.samples == 3


def _tiny_lm(path: Path, vocab: int = 5, dim: int = 32) -> Path:
    """input_ids[1,seq] → embedding Gather → MatMul → logits[1,seq,vocab]: a language-model head."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    table = numpy_helper.from_array(rng.standard_normal((vocab, dim)).astype(np.float32), "emb")
    head = numpy_helper.from_array(rng.standard_normal((dim, vocab)).astype(np.float32), "head")
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["emb", "input_ids"], ["h"], name="embed"),
            helper.make_node("MatMul", ["h", "head"], ["logits"], name="lm_head"),
        ],
        "lm",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "seq", vocab])],
        [table, head],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_language_model_report_has_perplexity_and_next_token_agreement(tmp_path: Path) -> None:
    path = _tiny_lm(tmp_path / "lm.onnx")
    _tokenizer(tmp_path)
    prompts = tmp_path / "held_out.txt"
    prompts.write_text("hello world edge studio\nedge studio hello world\n", encoding="utf-8")
    result = compress_model(
        path,
        "int8-dynamic",
        tmp_path / "q.onnx",
        evaluation=prompts,
        options={"measure_latency": False},
    )
    out = result.report.outputs[0]
    assert out.perplexity_before is not None and out.perplexity_after is not None
    assert out.perplexity_after == pytest.approx(out.perplexity_before, rel=0.2)
    assert out.top1 is not None and 0.0 <= out.top1 <= 1.0
    assert result.report.sample_source == "evaluation data"
