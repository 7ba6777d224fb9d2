"""Axera AX650N: a Pulsar2 build kit, since Pulsar2 itself ships only as Axera's docker image.

The kit holds a static-shape float ONNX, ``pulsar2/config.json`` in Pulsar2's schema (see
pulsar2_schema, which cites Axera's docs field by field), one calibration .tar of .npy samples
per input, and ``pulsar2/build.sh`` with the exact ``pulsar2 build`` line. It is validated
against that schema, and the model's ops against the AX650 list with the attribute limits the
list states; the final compile (→ ``compiled.axmodel``) runs in Pulsar2 on the user's machine.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
from pydantic import BaseModel, ValidationError

from studio.core.bundle.folder import create_bundle
from studio.core.chips.catalogue import get_chip
from studio.core.compile.common import StaticModel, check_out, static_model, work_folder
from studio.core.compile.pulsar2_schema import (
    OPS,
    SRC_DTYPES,
    InputConfig,
    InputProcessor,
    Pulsar2Config,
    QuantConfig,
)
from studio.core.errors import BadInput
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.samples.graph_facts import attr_value

KIT_NOTE = "Final compile runs in Axera's Pulsar2 (docker); here is the kit: run pulsar2/build.sh"
BUILD_LINE = (
    "pulsar2 build --input model.onnx --config pulsar2/config.json --output_dir pulsar2/output "
    "--target_hardware AX650 --npu_mode {npu_mode}"
)


class OpProblem(BaseModel):
    node: str
    op_type: str
    problem: str


class KitCheck(BaseModel):
    ok: bool
    problems: list[str] = []
    npu_ops: list[str] = []
    cpu_ops: list[str] = []
    """Op types outside Axera's AX650 list: Pulsar2 leaves them to the CPU (or refuses)."""
    attribute_problems: list[OpProblem] = []
    ops_source: str = OPS


class Pulsar2Result(BaseModel):
    chip: str
    backend: Literal["pulsar2"] = "pulsar2"
    bundle: str
    input_shapes: dict[str, list[int]]
    shape_source: str
    build_command: str
    check: KitCheck
    notes: list[str] = []
    warnings: list[str] = []


def _attr_limits(node: onnx.NodeProto) -> str | None:
    """The AX650 list's attribute limits that a graph shows ("只支持" = only supports)."""

    def a(name: str, default: Any = None) -> Any:
        return attr_value(node, name, default)

    op = node.op_type
    if op in ("Conv", "ConvTranspose", "AveragePool", "MaxPool"):
        pad = a("auto_pad", b"NOTSET")
        if (pad.decode() if isinstance(pad, bytes) else pad) != "NOTSET":
            return "auto_pad must be NOTSET"
    if op in ("ArgMax", "ArgMin") and a("select_last_index", 0) != 0:
        return "select_last_index must be 0"
    if op == "AveragePool" and any(a("pads", []) or []) and a("count_include_pad", 0) != 1:
        return "count_include_pad must be 1 when padding"
    if op == "ConvTranspose" and any(d != 1 for d in a("dilations", []) or []):
        return "dilations must be 1"
    if op == "ConvTranspose" and a("output_shape") is not None:
        return "output_shape is not supported yet"
    if op == "MaxPool" and (any(d != 1 for d in a("dilations", []) or []) or a("storage_order", 0)):
        return "dilations must be 1 and storage_order 0"
    if op == "Gemm" and (a("alpha", 1.0) != 1.0 or a("beta", 1.0) != 1.0):
        return "alpha and beta are not supported yet (must stay 1)"
    if op in ("LayerNormalization", "LpNormalization") and a("axis", -1) != -1:
        return "axis must be -1 (the last axis)"
    if op == "LpNormalization" and a("p", 2) not in (1, 2):
        return "p must be 1 or 2"
    if op == "Pad":
        mode = a("mode", b"constant")
        if (mode.decode() if isinstance(mode, bytes) else mode) != "constant" or len(
            node.input
        ) > 3:
            return "only constant mode, without axes"
    if op == "Resize":
        mode = a("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        nearest = a("nearest_mode", b"round_prefer_floor")
        nearest = nearest.decode() if isinstance(nearest, bytes) else nearest
        if mode not in ("nearest", "linear"):
            return "mode must be nearest or linear"
        if mode == "nearest" and nearest != "round_prefer_ceil":
            return "nearest_mode must be round_prefer_ceil"
    if op == "CumSum" and (a("exclusive", 0) or a("reverse", 0)):
        return "exclusive and reverse must be 0"
    if op == "LSTM" and (a("layout", 0) or a("activations") or a("clip") or a("input_forget")):
        return "layout 0 only; activations, clip and input_forget are not supported yet"
    return None


def check_ops(proto: onnx.ModelProto, chip: str = "axera-ax650n") -> KitCheck:
    npu = get_chip(chip).npu
    supported = {op.lower() for op in (npu.supported_ops or [])} if npu else set()
    types = sorted({n.op_type for n in proto.graph.node})
    weights = {init.name for init in proto.graph.initializer}
    problems = []
    for node in proto.graph.node:
        why = _attr_limits(node)
        if node.op_type == "Pow" and (len(node.input) < 2 or node.input[1] not in weights):
            why = "the exponent must be a scalar initializer"
        if why:
            problems.append(
                OpProblem(node=node.name or node.op_type, op_type=node.op_type, problem=why)
            )
    cpu = [t for t in types if t.lower() not in supported]
    return KitCheck(
        ok=True,
        npu_ops=[t for t in types if t not in cpu],
        cpu_ops=cpu,
        attribute_problems=problems,
    )


def _config(static: StaticModel, npu_mode: str) -> Pulsar2Config:
    inputs = static.calib[0] if static.calib else {}
    configs, processors = [], []
    for name, value in inputs.items():
        configs.append(
            InputConfig(
                tensor_name=name,
                calibration_dataset=f"pulsar2/calibration/{_safe(name)}.tar",
                calibration_format="Numpy",  # the samples are model inputs already
                calibration_size=-1,
                calibration_mean=[0.0],
                calibration_std=[1.0],
            )
        )
        dtype = SRC_DTYPES.get(str(value.dtype))
        if dtype:
            layout = "NCHW"
            processors.append(
                InputProcessor(
                    tensor_name=name, src_dtype=dtype, tensor_layout=layout, src_layout=layout
                )
            )
    return Pulsar2Config(
        npu_mode=npu_mode,
        quant=QuantConfig(input_configs=configs),
        input_processors=processors,
    )


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "input"


def _calibration_tars(static: StaticModel, folder: Path) -> None:
    """One tar per input, samples named 0.npy, 1.npy, ... (the same name is one batch)."""
    folder.mkdir(parents=True)
    samples = static.calib + [s for s in static.evaluation if all(s is not c for c in static.calib)]
    for name in samples[0]:
        with tarfile.open(folder / f"{_safe(name)}.tar", "w") as tar:
            for index, sample in enumerate(samples):
                buffer = io.BytesIO()
                np.save(buffer, sample[name], allow_pickle=False)
                info = tarfile.TarInfo(f"{index}.npy")
                info.size = buffer.tell()
                buffer.seek(0)
                tar.addfile(info, buffer)


def _build_sh(npu_mode: str) -> str:
    return f"""#!/bin/sh
# Compile this kit for the AX650N with Axera's Pulsar2 (its docker image, e.g.
#   docker run -it --rm -v "$PWD":/data -w /data pulsar2:<version> sh pulsar2/build.sh
# from the bundle folder). The result is pulsar2/output/compiled.axmodel.
# Flags: {BUILD_LINE.split()[0]} build --help, and the Pulsar2 docs' "pulsar2 build 参数解释".
set -e
cd "$(dirname "$0")/.."
{BUILD_LINE.format(npu_mode=npu_mode)}
"""


def validate_kit(bundle: str | Path) -> KitCheck:
    """Check a kit folder: config.json against the schema, each calibration .tar against the
    model's inputs, and the model's ops against the AX650 list."""
    bundle = Path(bundle)
    problems: list[str] = []
    proto = onnx.load(str(bundle / "model.onnx"))
    try:
        config = Pulsar2Config.model_validate(
            json.loads((bundle / "pulsar2" / "config.json").read_text())
        )
    except (OSError, ValueError, ValidationError) as exc:
        return KitCheck(ok=False, problems=[f"config.json: {str(exc).splitlines()[0]}"])
    inputs = {v.name: v for v in proto.graph.input}
    for item in config.quant.input_configs:
        if item.tensor_name not in inputs:
            problems.append(f"config.json names input {item.tensor_name}, which the model lacks")
            continue
        dims = [d.dim_value for d in inputs[item.tensor_name].type.tensor_type.shape.dim]
        problems += _check_tar(bundle / item.calibration_dataset, dims)
    if "pulsar2 build --input model.onnx" not in (bundle / "pulsar2" / "build.sh").read_text():
        problems.append("build.sh lacks the pulsar2 build line")
    ops = check_ops(proto)
    problems += [f"{p.node} ({p.op_type}): {p.problem}" for p in ops.attribute_problems]
    return ops.model_copy(update={"ok": not problems, "problems": problems})


def _check_tar(path: Path, dims: list[int]) -> list[str]:
    if not path.is_file():
        return [f"{path.name} is missing"]
    with tarfile.open(path) as tar:
        members = [m for m in tar.getmembers() if m.name.endswith(".npy")]
        if not members:
            return [f"{path.name} holds no .npy samples"]
        member = tar.extractfile(members[0])
        if member is None:
            return [f"{path.name}: {members[0].name} is not a regular file"]
        array = np.load(io.BytesIO(member.read()), allow_pickle=False)
    if list(array.shape) != dims:
        return [f"{path.name}: sample shape {list(array.shape)}, the model takes {dims}"]
    return []


def compile_for_chip(
    model: str | Path,
    chip: str,
    out: str | Path,
    *,
    calib: str | Path | None = None,
    shapes: dict[str, list[int]] | None = None,
    npu_mode: str = "NPU1",
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> Pulsar2Result:
    """A validated Pulsar2 build kit at ``out``."""
    if npu_mode not in ("NPU1", "NPU2", "NPU3"):
        raise BadInput(f"'{npu_mode}' is not an AX650 NPU mode", "Choose NPU1, NPU2 or NPU3")
    out = check_out(out, force)
    report.progress(0.0, "Fixing the input sizes")
    with work_folder(out) as work:
        static = static_model(model, work, calib=calib, shapes=shapes)
        report.progress(0.4, "Writing the Pulsar2 kit")
        kit = work / "pulsar2"
        _calibration_tars(static, kit / "calibration")
        (kit / "config.json").write_text(_config(static, npu_mode).model_dump_json(indent=2))
        (kit / "build.sh").write_text(_build_sh(npu_mode))
        check = validate_kit(work)
        if not check.ok and any("config.json" in p or ".tar" in p for p in check.problems):
            raise BadInput(
                f"The Pulsar2 kit failed its own check ({check.problems[0]})",
                "Report this as a bug",
            )
        notes = [KIT_NOTE]
        if check.cpu_ops:
            notes.append(
                f"Not in Axera's AX650 NPU list (CPU or refused): {', '.join(check.cpu_ops)}"
            )
        notes += [
            f"{p.node} ({p.op_type}): {p.problem} (AX650 op list)" for p in check.attribute_problems
        ]
        result = Pulsar2Result(
            chip=chip,
            bundle=str(out),
            input_shapes=static.shapes,
            shape_source=static.sizes.source_text(),
            build_command=BUILD_LINE.format(npu_mode=npu_mode),
            check=check,
            notes=notes,
            warnings=static.warnings,
        )
        extra = {p.relative_to(work).as_posix(): p for p in sorted(kit.rglob("*")) if p.is_file()}
        report.progress(0.8, "Writing the bundle")
        create_bundle(
            static.path,
            out,
            chip=chip,
            method="pulsar2-kit",
            name=static.source.stem,
            reports={"compile": result.model_dump(mode="json")},
            extra_files=extra,
            force=force,
        )
    report.progress(1.0, "Done")
    return result
