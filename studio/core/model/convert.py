"""Convert a model: PyTorch (TorchScript) or Transformers folder → ONNX, opset, fixed shapes, ORT.

PyTorch and Transformers are only needed for the export path and come with the optional
``[export]`` extra; without them every other conversion still works.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import time
import warnings
from pathlib import Path

import onnx
from pydantic import BaseModel

from studio.core.atomic import atomic_path, check_writable_parent, partial_path_for, remove_path
from studio.core.compress import graph
from studio.core.errors import BadInput, OutputError
from studio.core.frozen import export_unavailable, is_frozen
from studio.core.messages import Fix, message
from studio.core.model.loader import load_model, model_file_size, opset_of
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")

EXPORT_EXTRA_HINT = (
    "Install the export tools: pip install torch==2.13.0 && "
    "pip install 'edge-deploy-studio[export]'"
)
DEFAULT_EXPORT_OPSET = 17
TORCH_SUFFIXES = {".pt", ".pth", ".ts", ".torchscript"}


class ConvertResult(BaseModel):
    source: str
    source_kind: str
    to: str
    output: str
    opset: int
    size: int
    seconds: float
    notes: list[str] = []


def _require(module: str) -> None:
    if is_frozen():
        raise export_unavailable("Converting a PyTorch or Transformers model")
    if importlib.util.find_spec(module) is None:
        raise BadInput(
            f"Exporting from PyTorch needs the '{module}' package, which is not installed",
            EXPORT_EXTRA_HINT,
        )


def source_kind(src: Path) -> str:
    if not src.exists():
        raise BadInput(f"{src} does not exist", "Check the path")
    if src.is_dir():
        if (src / "config.json").is_file():
            return "transformers"
        if any(src.rglob("*.onnx")):
            return "onnx"
        raise BadInput(
            f"The folder {src} holds neither a Transformers model (config.json) nor an .onnx file",
            "Pick a model folder downloaded from the hub, or a .onnx",
        )
    if src.suffix == ".onnx":
        return "onnx"
    if src.suffix in TORCH_SUFFIXES:
        return "torchscript"
    raise BadInput(
        f"{src.name} is not a model the studio can convert",
        "Give an .onnx file, a TorchScript .pt file or a Transformers model folder",
    )


def _export_torchscript(src: Path, dest: Path, opset: int, shapes: dict[str, list[int]]) -> None:
    _require("torch")
    import torch

    if not shapes:
        raise BadInput(
            msg=message(
                "convert.torchscript_shapes",
                Fix(option="shape", example="image=1x3x224x224"),
                name=src.name,
            )
        )
    try:
        module = torch.jit.load(str(src), map_location="cpu")
    except Exception as exc:
        raise BadInput(
            f"{src.name} is not a TorchScript model ({str(exc).splitlines()[0]})",
            "Save it with torch.jit.trace(...).save() or torch.jit.script",
        ) from exc
    module.eval()
    args = tuple(torch.randn(*dims) for dims in shapes.values())
    try:
        torch.onnx.export(
            module, args, str(dest), input_names=list(shapes), opset_version=opset, dynamo=False
        )
    except Exception as exc:
        raise BadInput(
            msg=message("convert.export_failed", name=src.name, reason=str(exc).splitlines()[0])
        ) from exc


def _export_transformers(
    src: Path, dest: Path, opset: int, shapes: dict[str, list[int]], notes: list[str]
) -> None:
    _require("torch")
    _require("transformers")
    import torch
    import transformers

    config = json.loads((src / "config.json").read_text(encoding="utf-8"))
    arch = (config.get("architectures") or ["AutoModel"])[0]
    cls = getattr(transformers, arch, None) or transformers.AutoModel
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder never needs the network
    try:
        model = cls.from_pretrained(str(src), local_files_only=True, torch_dtype=torch.float32)
    except Exception as exc:
        raise BadInput(
            f"Transformers could not load {src.name} ({str(exc).splitlines()[0]})",
            "Check the folder holds config.json and the weights",
        ) from exc
    model.eval()
    if hasattr(model.config, "use_cache"):
        model.config.use_cache = False  # export a plain forward pass without the KV cache
    dims = shapes.get("input_ids", [1, 8])
    ids = torch.randint(0, max(2, getattr(model.config, "vocab_size", 100) - 1), tuple(dims))
    mask = torch.ones_like(ids)
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    if "input_ids" in shapes:
        axes = {}
        notes.append(f"input_ids fixed at {'x'.join(map(str, dims))}")

    class Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask)
            logits: torch.Tensor = out[0]
            return logits

    name = "logits" if "ForCausalLM" in arch or "Classification" in arch else "last_hidden_state"
    try:
        with torch.no_grad():
            torch.onnx.export(
                Wrapper(model),
                (ids, mask),
                str(dest),
                input_names=["input_ids", "attention_mask"],
                output_names=[name],
                dynamic_axes={**axes, name: {0: "batch"}} if axes else None,
                opset_version=opset,
                dynamo=False,
            )
    except Exception as exc:
        raise BadInput(
            msg=message(
                "convert.opset_failed",
                Fix(option="opset", example="17"),
                name=arch,
                reason=str(exc).splitlines()[0],
            )
        ) from exc


def _to_ort(source: Path, dest: Path) -> None:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Basic optimizations only: the extended/layout ones are CPU-specific and not portable.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(dest)
    options.add_session_config_entry("session.save_model_format", "ORT")
    try:
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise BadInput(
            f"onnxruntime cannot load the model to write ORT format ({str(exc).splitlines()[0]})",
            "Check the model runs with `studio profile`",
        ) from exc


def convert_model(
    src: str | Path,
    to: str,
    out: str | Path,
    *,
    opset: int | None = None,
    shapes: dict[str, list[int]] | None = None,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> ConvertResult:
    started = time.perf_counter()
    src = Path(src).expanduser()
    if to not in ("onnx", "ort"):
        raise BadInput(msg=message("convert.unsupported", to=to))
    kind = source_kind(src)
    out = Path(out).expanduser()
    suffix = ".ort" if to == "ort" else ".onnx"
    if out.is_dir():
        out = out / f"{src.stem}{suffix}"
    if out.suffix != suffix:
        raise OutputError(msg=message("convert.suffix", name=out.name, suffix=suffix, to=to))
    if out.exists() and not force:
        raise OutputError(msg=message("output.exists", Fix(action="out_or_force"), path=str(out)))
    if src.resolve() == out.resolve():
        raise OutputError(msg=message("output.overwrites_input", Fix(action="other_out")))
    check_writable_parent(out)
    shapes = dict(shapes or {})
    notes: list[str] = []
    staging = partial_path_for(out)
    staging.mkdir()
    try:
        report.progress(0.05, "Reading the model")
        onnx_path = staging / "model.onnx"
        warnings.filterwarnings("ignore", module="torch")
        if kind == "torchscript":
            report.progress(0.1, "Exporting from PyTorch")
            _export_torchscript(src, onnx_path, opset or DEFAULT_EXPORT_OPSET, shapes)
            shapes = {}  # the export already used them
        elif kind == "transformers":
            report.progress(0.1, "Exporting from Transformers")
            _export_transformers(src, onnx_path, opset or DEFAULT_EXPORT_OPSET, shapes, notes)
            shapes = {}
        model = load_model(onnx_path if kind != "onnx" else src)
        external = graph.needs_external_data(
            model,
            kind == "onnx"
            and graph.uses_external_data(
                onnx.load(str(src if src.is_file() else onnx_path), load_external_data=False)
            ),
        )
        report.progress(0.6, "Converting")
        if opset and opset != opset_of(model):
            before = opset_of(model)
            try:
                model = onnx.version_converter.convert_version(model, opset)
            except Exception as exc:
                raise BadInput(
                    f"Could not convert opset {before} to {opset} ({str(exc).splitlines()[0]})",
                    "Try a nearer opset",
                ) from exc
            notes.append(f"opset {before} → {opset}")
        if shapes:
            model = graph.fix_input_shapes(model, shapes)
            notes.append(
                "fixed " + ", ".join(f"{k}={'x'.join(map(str, v))}" for k, v in shapes.items())
            )
        final = staging / "final" / out.with_suffix(".onnx").name
        graph.save_model(model, final, external)
        final_opset = opset_of(model)
        del model
        load_model(final, with_weights=False)
        if to == "ort":
            report.progress(0.8, "Writing ORT format")
            ort_path = staging / "final" / out.name
            _to_ort(final, ort_path)
            final = ort_path
        data = final.with_name(final.name + ".data")
        if data.exists():
            with atomic_path(out.with_name(out.name + ".data"), replace=force) as partial:
                os.replace(data, partial)
        with atomic_path(out, replace=force) as partial:
            os.replace(final, partial)
    finally:
        remove_path(staging)
    report.progress(1.0, "Done")
    size = model_file_size(out) if to == "onnx" else out.stat().st_size
    return ConvertResult(
        source=str(src),
        source_kind=kind,
        to=to,
        output=str(out),
        opset=final_opset,
        size=size,
        seconds=time.perf_counter() - started,
        notes=notes,
    )
