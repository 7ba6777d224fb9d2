"""Structured pruning: remove whole output channels (and the matching inputs of the next layer).

Unlike zeroing weights (prune.py), this makes every affected tensor smaller, so onnxruntime does
less work. It is done on the ONNX graph, so it works for any model the studio opens; which
channels go is decided by the L1 norm of each channel's weights (the smallest go first). Only
layers whose channels stay inside a safe chain are touched (see channel_plan.py); the others are
listed with the reason. Accuracy drops until the model is fine-tuned, which the studio does not do.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import numpy_helper
from pydantic import BaseModel

from studio.core.compress.channel_plan import Group, plan_model
from studio.core.compress.graph import control_flow_nodes
from studio.core.compress.options import ChannelSettings
from studio.core.errors import BadInput
from studio.core.messages import Fix, message
from studio.core.progress import NULL_REPORTER, Reporter

FINE_TUNE_WARNING = (
    "Removing channels changes what the model computes: accuracy usually drops until the model "
    "is fine-tuned (trained a little more) afterwards. The studio does not fine-tune; check the "
    "drift below, and fine-tune the pruned model in your training tool if it is too large."
)
IMPORTANCE = "L1 norm of each channel's weights (smallest removed first)"


class PrunedLayer(BaseModel):
    node: str
    op_type: str
    channels_before: int
    channels_after: int
    consumers: list[str]
    """Layers whose input channels shrank with it."""


class SkippedLayer(BaseModel):
    node: str
    op_type: str
    reason: str


class ChannelReport(BaseModel):
    ratio: float
    importance: str = IMPORTANCE
    params_before: int
    params_after: int
    layers: list[PrunedLayer]
    skipped: list[SkippedLayer]
    note: str = FINE_TUNE_WARNING
    speed: str = ""
    """The speed measured on this PC before and after (filled in once it is measured)."""

    @property
    def summary(self) -> str:
        removed = 1 - self.params_after / max(self.params_before, 1)
        return (
            f"Removed channels in {len(self.layers)} layer(s) ({removed:.0%} of the weights); "
            f"{len(self.skipped)} layer(s) left alone because removing their channels is "
            "not safe"
        )


def _weights(model: onnx.ModelProto) -> int:
    return sum(math.prod(i.dims) for i in model.graph.initializer)


def _keep_count(channels: int, settings: ChannelSettings) -> int:
    keep = channels - int(channels * settings.ratio)
    multiple = settings.multiple_of
    if multiple > 1:  # round up: never remove more than asked
        keep = min(channels, math.ceil(keep / multiple) * multiple)
    return max(keep, 1)


def _importance(weight: np.ndarray, axis: int) -> np.ndarray:
    moved = np.moveaxis(np.abs(weight.astype(np.float64)), axis, 0)
    importance: np.ndarray = moved.reshape(moved.shape[0], -1).sum(axis=1)
    return importance


def prune_channels(
    model: onnx.ModelProto, settings: ChannelSettings, report: Reporter = NULL_REPORTER
) -> tuple[onnx.ModelProto, ChannelReport]:
    """Remove the least important ``settings.ratio`` of channels from every safe layer."""
    params_before = _weights(model)
    groups, skipped = plan_model(model)
    skipped_rows = [SkippedLayer(node=s.node, op_type=s.op_type, reason=s.reason) for s in skipped]
    inits = {i.name: i for i in model.graph.initializer}
    plans: list[tuple[Group, np.ndarray]] = []
    for group in groups:
        keep = _keep_count(group.channels, settings)
        if keep >= group.channels:
            skipped_rows.append(
                SkippedLayer(
                    node=group.producer.name,
                    op_type=group.producer.op_type,
                    reason=f"only {group.channels} channels: none to remove at this ratio",
                )
            )
            continue
        weight = numpy_helper.to_array(inits[group.weight])
        order = np.argsort(-_importance(weight, group.out_axis), kind="stable")
        plans.append((group, np.sort(order[:keep])))
    if not plans and groups:
        widest = max(g.channels for g in groups)
        raise BadInput(
            msg=message(
                "channels.none_to_remove",
                Fix(option="ratio"),
                ratio=f"{settings.ratio:.0%}",
                widest=widest,
            )
        )
    if not plans:
        first = skipped_rows[0] if skipped_rows else None
        flow = control_flow_nodes(model)
        if first:
            why = f" ('{first.node}': {first.reason})"
        elif flow:
            why = (
                f" (its layers sit inside the {flow[0].op_type} node '{flow[0].name}', whose "
                "branches are not cut)"
            )
        else:
            why = " (it has no Conv, Gemm or MatMul layers with weights)"
        raise BadInput(
            f"Nothing in this model can lose channels safely{why}",
            "Channel pruning needs a Conv/Gemm/MatMul feeding another one through per-channel "
            "ops only; use int8-static or fp16 for this model",
        )
    layers = []
    for index, (group, kept) in enumerate(plans):
        report.progress(
            index / len(plans), f"removing channels: {index + 1} of {len(plans)} layers"
        )
        # Every cut comes from this group's own channel choice, so slicing order does not matter
        # (a Conv that is a consumer of one group and the producer of the next is cut on two
        # different axes).
        for cut in group.slices:
            array = numpy_helper.to_array(inits[cut.name])
            sliced = np.take(array, kept, axis=cut.axis)
            inits[cut.name].CopyFrom(numpy_helper.from_array(sliced, cut.name))
        for node in group.groups_attr:
            for attr in node.attribute:
                if attr.name == "group":
                    attr.i = len(kept)
        layers.append(
            PrunedLayer(
                node=group.producer.name,
                op_type=group.producer.op_type,
                channels_before=group.channels,
                channels_after=len(kept),
                consumers=group.consumers,
            )
        )
    # Intermediate shapes recorded before the cut would now contradict the smaller tensors.
    del model.graph.value_info[:]
    report.progress(1.0, f"removing channels: {len(plans)} of {len(plans)} layers")
    return model, ChannelReport(
        ratio=settings.ratio,
        params_before=params_before,
        params_after=_weights(model),
        layers=layers,
        skipped=skipped_rows,
    )


def speed_text(before_ms: float | None, after_ms: float | None) -> str:
    """What was measured, never more: no figure means no claim."""
    if not before_ms or not after_ms:
        return (
            "Speed was not measured, so no speed-up is claimed; measure it on the target "
            "(Inspect step or `studio profile`)."
        )
    ratio = before_ms / after_ms
    word = f"{ratio:.2f}× faster" if ratio >= 1 else f"{1 / ratio:.2f}× slower"
    return f"Measured on this PC: {before_ms:.2f} ms → {after_ms:.2f} ms ({word})."
