"""Run one method on a prepared (cleaned) model and write the result file."""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from studio.core.compress.channels import ChannelReport
from studio.core.compress.graph import control_flow_nodes, resolve_keep_float, save_model
from studio.core.compress.method_ids import Method
from studio.core.compress.options import CompressOptions
from studio.core.compress.prune import SparsityReport, prune_model
from studio.core.errors import BadInput, StudioError
from studio.core.messages import Fix, message
from studio.core.progress import NULL_REPORTER, Reporter

log = logging.getLogger("studio")


@dataclass
class Prepared:
    """The cleaned model and everything the methods need, shared by a run (and by Auto)."""

    model: onnx.ModelProto
    path: Path
    external: bool
    options: CompressOptions
    calib_samples: list[dict[str, np.ndarray]] = field(default_factory=list)
    qnn: bool = False
    sparsity: SparsityReport | None = None
    channels: ChannelReport | None = None

    def fresh_model(self) -> onnx.ModelProto:
        """A private copy: some quantizers edit the model they are given in place."""
        return onnx.load(str(self.path))

    def excluded(self) -> list[str]:
        return resolve_keep_float(self.model, self.options.keep_float)


def run_method(
    prep: Prepared, method: Method, dest: Path, report: Reporter = NULL_REPORTER
) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    exclude = prep.excluded()
    try:
        if method is Method.CLEANUP:
            _copy_model(prep.path, dest)
        elif method is Method.INT8_DYNAMIC:
            from studio.core.compress.int8 import quantize_int8_dynamic

            report.progress(0.0, "Quantizing weights to INT8")
            quantize_int8_dynamic(
                prep.path,
                dest,
                prep.options.int8,
                exclude,
                prep.external,
                nodes=len(prep.model.graph.node),
                report=report,
            )
        elif method is Method.INT8_STATIC:
            from studio.core.compress.int8 import quantize_int8_static, static_counts

            nodes, weights = static_counts(prep.model, exclude)
            quantize_int8_static(
                prep.path,
                dest,
                prep.calib_samples,
                prep.options.int8,
                exclude,
                prep.external,
                qnn=prep.qnn,
                report=report,
                nodes=nodes,
                weight_count=weights,
            )
        elif method is Method.INT4:
            from studio.core.compress.int4 import quantize_int4

            report.progress(0.0, "Quantizing MatMul weights to INT4")
            quantize_int4(
                prep.fresh_model(), dest, prep.options.int4, exclude, prep.external, report=report
            )
        elif method is Method.FP16:
            from studio.core.compress.fp16 import convert_fp16

            report.progress(0.0, "Converting to FP16")
            convert_fp16(
                prep.fresh_model(), dest, prep.options.fp16, exclude, prep.external, report=report
            )
        elif method is Method.PRUNE:
            report.progress(0.1, "Measuring weight sparsity")
            pruned, prep.sparsity = prune_model(prep.fresh_model(), prep.options.prune.sparsity)
            save_model(pruned, dest, prep.external)
        elif method is Method.PRUNE_CHANNELS:
            from studio.core.compress.channels import prune_channels

            pruned, prep.channels = prune_channels(
                prep.fresh_model(), prep.options.channels, report.sub(0.1, 0.9)
            )
            save_model(pruned, dest, prep.external)
        else:
            raise ValueError(f"run_method cannot run {method}")
    except StudioError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise explain_failure(prep.model, method, exc) from exc
    if not dest.exists():
        raise BadInput(f"{method.value} produced no model", "Try another method")
    return dest


def _copy_model(source: Path, dest: Path) -> None:
    shutil.copyfile(source, dest)
    data = source.with_name(source.name + ".data")
    if data.exists():
        shutil.copyfile(data, dest.with_name(dest.name + ".data"))


def explain_failure(model: onnx.ModelProto, method: Method, exc: Exception) -> BadInput:
    """Turn a quantizer crash into one line that names the node involved when it can."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    names = {n.name: n for n in model.graph.node}
    named = next((n for n in re.findall(r"[\w./:-]+", str(exc)) if n in names), None)
    flow = control_flow_nodes(model)
    if named:
        node = names[named]
        return BadInput(
            msg=message(
                "compress.node_failed",
                Fix(option="keep_float", example=node.name),
                method=method.value,
                node=node.name,
                op=node.op_type,
                reason=text.rstrip(". "),
            )
        )
    if flow:
        node = flow[0]
        return BadInput(
            f"{method.value} failed on this model, which has control flow: node '{node.name}' "
            f"({node.op_type}) ({text})",
            "Export the model without If/Loop, or choose another method",
        )
    return BadInput(
        f"{method.value} failed on this model ({type(exc).__name__}: {text})",
        "Choose another method, or keep the failing layers in float",
    )
