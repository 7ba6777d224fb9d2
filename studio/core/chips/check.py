"""Will this model run well on this chip? Op placement, sizes, control flow, dtypes, memory, speed.

``check_model`` answers before any conversion work, in one plain sentence plus the evidence:
which ops run on the accelerator and which fall back to the CPU (with their share of compute),
which input sizes must be fixed, whether the model fits in memory, a recommended recipe and a
predicted latency range.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from studio.core.chips.calibrate_pc import calibrate
from studio.core.chips.catalogue import (
    THIS_PC,
    ChipProfile,
    Recommendation,
    get_chip,
)
from studio.core.chips.cost import (
    GraphCost,
    NodeCost,
    graph_cost,
    load_for_cost,
)
from studio.core.chips.flops import CONTROL_FLOW
from studio.core.chips.predict import Prediction, predict_latency
from studio.core.chips.verdict import UNIT_NAMES, chip_verdict, english
from studio.core.errors import BadInput
from studio.core.messages import Fix, Message, message
from studio.core.model.loader import refuse_custom_ops, resolve_model_path
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.units import gb_text

DEFAULT_CONTEXT = 2048
# A model using more than this share of the device's RAM leaves too little for the OS and apps.
TIGHT_MEMORY_SHARE = 0.7
ONNX_DOMAINS = ("", "ai.onnx")


class Placement(BaseModel):
    node: str
    op_type: str
    unit: Literal["npu", "gpu", "cpu"]
    flops: float
    reason: str | None = None


class FallbackOp(BaseModel):
    op_type: str
    count: int
    flops_share: float
    reason: str


class DynamicInput(BaseModel):
    input: str
    axes: list[int]
    names: list[str]
    assumed_shape: list[int]


class MemoryEstimate(BaseModel):
    weights_bytes: float
    activations_bytes: float
    kv_cache_bytes: float
    context: int | None
    total_bytes: float
    capacity_bytes: float | None
    fits: bool | None
    tight: bool = False


class CheckResult(BaseModel):
    model: str
    chip: str
    chip_name: str
    unit: str = Field(description="the accelerator the studio targets on this chip")
    verdict: str
    verdict_parts: list[Message] = Field(
        default_factory=list, description="the verdict as message parts, read in order"
    )
    level: Literal["good", "warning", "bad"]
    todo: list[str] = Field(description="what to do before it runs as the verdict says")
    accelerator_share: float = Field(description="share of FLOPs on the accelerator, 0..1")
    placement: list[Placement]
    fallback_ops: list[FallbackOp]
    unsupported_ops: list[str]
    dynamic_inputs: list[DynamicInput]
    shape_suggestion: list[str] = Field(description="--shape arguments that fix every size")
    input_shapes: dict[str, list[int]] = Field(
        default_factory=dict, description="the sizes the costs and the prediction are for"
    )
    shape_source: str = Field("", description="why the flexible sizes are what they are")
    measured_at: str = ""
    control_flow: list[str]
    dtype_issues: list[str]
    memory: MemoryEstimate
    latency: Prediction
    recommended: Recommendation
    is_llm: bool
    assumptions: list[str]
    placement_source: str = Field(
        "predicted from the published op list",
        description="who placed the nodes: the chip's compiler, or the published op list",
    )

    def latency_text(self) -> str:
        return self.latency.text()


def _placement(node: NodeCost, chip: ChipProfile) -> tuple[str, str | None]:
    acc = chip.main
    if acc.kind == "cpu":
        return "cpu", None
    name = UNIT_NAMES[acc.kind]
    if node.op_type in CONTROL_FLOW and not acc.control_flow:
        return "cpu", f"control flow ({node.op_type}) does not run on the {name}"
    if node.inside and not acc.control_flow:
        return "cpu", f"inside control flow ('{node.inside}'), which does not run on the {name}"
    if node.op_type in acc.unsupported_ops:
        return "cpu", f"{node.op_type} is not supported on the {name}"
    if acc.supported_ops is not None:
        if node.domain not in ONNX_DOMAINS and _is_standard_op(node.op_type):
            # e.g. com.microsoft Gelu: same name as the ONNX op the list means, another op.
            return "cpu", f"{node.op_type} ({node.domain}) is not the ONNX op the list names"
        if node.op_type not in acc.supported_ops:
            return "cpu", f"{node.op_type} is not in the {name}'s list of supported ops"
        return acc.kind, None
    if node.domain not in ONNX_DOMAINS:
        return "cpu", f"{node.op_type} ({node.domain}) is an onnxruntime-specific op"
    return acc.kind, None


def _is_standard_op(op_type: str) -> bool:
    import onnx

    return bool(onnx.defs.has(op_type))


def _op_list_assumption(chip: ChipProfile) -> str:
    """Where the op placement comes from: the vendor's published list, or the studio's rule."""
    acc, unit = chip.main, UNIT_NAMES[chip.main.kind]
    if acc.supported_ops is None:
        return (
            f"{chip.name}'s op list is not public or not encoded: every standard ONNX op except "
            f"control flow is assumed to run on the {unit}"
        )
    trust = f", {acc.ops_confidence.value}" if acc.ops_confidence else ""
    return (
        f"Ops on the {unit}: {len(acc.supported_ops)} ops from {acc.supported_ops_source}{trust}; "
        "attribute limits in that list are not checked"
    )


def _compiler_answer(
    wanted: bool, path: Path, chip: ChipProfile, cost: GraphCost, report: Reporter
) -> tuple[str, dict[str, str] | None]:
    """(where the placement comes from, node → reason for the compiler's CPU nodes or None)."""
    if not wanted or chip.main.kind != "npu":
        return "predicted from the published op list", None
    from studio.core.compile.probe import compiler_placement, cpu_nodes

    placement, source = compiler_placement(path, chip, cost.input_shapes, report.sub(0.0, 0.3))
    if placement is None:
        return source, None
    return source, cpu_nodes(placement, [(n.name, n.op_type) for n in cost.nodes])


def _is_llm(cost: GraphCost) -> bool:
    return bool(cost.kv_inputs) or any(n.op_type == "MatMulNBits" for n in cost.nodes)


def _genai_head_size(model_path: Path) -> int | None:
    """onnxruntime-genai exports leave the head size symbolic; their genai_config.json has it."""
    import json

    config = Path(model_path).parent / "genai_config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
        return int(data["model"]["decoder"]["head_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _kv_bytes(cost: GraphCost, context: int, model_path: Path) -> float:
    """KV cache at ``context`` tokens: each past input with its sequence axis set to context."""
    import numpy as np
    import onnx

    proto = load_for_cost(model_path)
    elem = {v.name: v.type.tensor_type.elem_type for v in proto.graph.input}
    head_size = _genai_head_size(model_path)
    total = 0.0
    for name, dims in cost.kv_inputs.items():
        seq_axis = next(
            (
                i
                for i, d in enumerate(dims)
                if isinstance(d, str)
                and any(k in d.lower() for k in ("seq", "past", "total", "len", "cache"))
            ),
            2 if len(dims) == 4 else len(dims) - 2,
        )
        sizes = [
            context if i == seq_axis else (d if isinstance(d, int) else 1)
            for i, d in enumerate(dims)
        ]
        if head_size and not isinstance(dims[-1], int) and seq_axis != len(dims) - 1:
            sizes[-1] = head_size
        try:
            item = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem.get(name, 1))).itemsize
        except (KeyError, TypeError):
            item = 4
        total += float(np.prod(sizes)) * item
    return total


def _dtype_issues(cost: GraphCost, chip: ChipProfile) -> list[str]:
    acc = chip.main
    issues = []
    if "double" in cost.dtypes:
        n = cost.dtypes["double"]
        issues.append(
            f"{n} {'op computes' if n == 1 else 'ops compute'} in float64, which edge "
            "runtimes rarely support; export the model in float32"
        )
    if acc.kind != "cpu" and "float" in cost.dtypes and "fp32" not in acc.precisions:
        wanted = "/".join(p.upper() for p in acc.precisions)
        issues.append(
            f"The model computes in float32; the {UNIT_NAMES[acc.kind]} runs {wanted} — "
            "it must be quantized or converted first (see the recommended recipe)"
        )
    return issues


def _memory(cost: GraphCost, chip: ChipProfile, kv: float, context: int | None) -> MemoryEstimate:
    total = cost.weight_bytes + cost.peak_activation_bytes + kv
    cap_gb = chip.memory.capacity_gb.value
    capacity = cap_gb * 1e9 if cap_gb else None
    fits = None if capacity is None else total <= capacity
    tight = bool(capacity and fits and total > TIGHT_MEMORY_SHARE * capacity)
    return MemoryEstimate(
        weights_bytes=cost.weight_bytes,
        activations_bytes=cost.peak_activation_bytes,
        kv_cache_bytes=kv,
        context=context,
        total_bytes=total,
        capacity_bytes=capacity,
        fits=fits,
        tight=tight,
    )


def _dynamic_inputs(cost: GraphCost) -> list[DynamicInput]:
    grouped: dict[str, DynamicInput] = {}
    for d in cost.dynamic:
        entry = grouped.setdefault(
            d.input,
            DynamicInput(
                input=d.input, axes=[], names=[], assumed_shape=cost.input_shapes[d.input]
            ),
        )
        entry.axes.append(d.axis)
        entry.names.append(d.name)
    return list(grouped.values())


def _not_predicted(cost: GraphCost, chip: ChipProfile, *_: object, **__: object) -> Prediction:
    return Prediction(
        chip=chip.id,
        low_ms=None,
        high_ms=None,
        calibrated=False,
        complete=False,
        nodes=[],
        assumptions=["Latency was not predicted for this report"],
    )


def check_for_manifest(model: str | Path, chip: str) -> dict[str, Any]:
    """The check as a bundle records it: compact, and never a reason for the bundle to fail."""
    from studio.core.analyze.profile import default_threads
    from studio.core.chips.calibrate_pc import cached_calibration

    # This PC's prediction needs seconds of micro-benchmarks; only use them if already measured.
    predict = chip != THIS_PC or cached_calibration(default_threads()) is not None
    try:
        result = check_model(model, chip, predict=predict)
    except BadInput as exc:
        return {"chip": chip, "error": exc.message}
    return result.model_dump(
        mode="json",
        include={
            "chip",
            "chip_name",
            "unit",
            "verdict",
            "level",
            "todo",
            "accelerator_share",
            "fallback_ops",
            "unsupported_ops",
            "dynamic_inputs",
            "control_flow",
            "dtype_issues",
            "memory",
            "recommended",
            "is_llm",
            "assumptions",
        },
    ) | {"predicted_latency_ms": {"low": result.latency.low_ms, "high": result.latency.high_ms}}


def check_model(
    model: str | Path,
    chip: str | ChipProfile,
    *,
    shapes: dict[str, list[int]] | None = None,
    context: int | None = None,
    prompt_tokens: int = 128,
    threads: int | None = None,
    predict: bool = True,
    cost: GraphCost | None = None,
    compiler: bool = False,
    report: Reporter = NULL_REPORTER,
) -> CheckResult:
    """Check ``model`` against ``chip`` before any conversion work.

    ``compiler``: ask the chip's NPU compiler where each node runs, when it is installed (a
    quantize and a compile in a child process: seconds, so only where asked)."""
    if context is not None and context < 1:
        raise BadInput(
            msg=message("check.context", Fix(option="context", example="2048"), context=context)
        )
    profile = chip if isinstance(chip, ChipProfile) else get_chip(chip)
    path = resolve_model_path(model)
    report.progress(0.0, "Reading the model")
    cost = cost or graph_cost(path, shapes)
    if profile.id == THIS_PC:
        # Anywhere else a vendor runtime may provide the op; here onnxruntime must run it.
        refuse_custom_ops(
            cost.nodes,
            "Export the model without custom ops, or check it for the chip that has them",
        )
    is_llm = _is_llm(cost)
    ctx = (context or DEFAULT_CONTEXT) if cost.kv_inputs else context
    kv = _kv_bytes(cost, ctx, path) if cost.kv_inputs and ctx else 0.0

    source, compiled = _compiler_answer(compiler, path, profile, cost, report)
    placements = []
    for node in cost.nodes:
        unit, reason = _placement(node, profile)
        if compiled is not None:
            reason = compiled.get(node.name)
            unit = "cpu" if reason else profile.main.kind
        placements.append(
            Placement(
                node=node.name,
                op_type=node.op_type,
                unit=unit,
                flops=node.flops,
                reason=reason,
            )
        )
    total_flops = sum(p.flops for p in placements) or 1.0
    on_acc = sum(p.flops for p in placements if p.unit == profile.main.kind)
    share = on_acc / total_flops if profile.main.kind != "cpu" else 1.0
    # A body node's work falls back with its If/Loop/Scan: listed under that op, not its own.
    by_name = {n.name: n.op_type for n in cost.nodes}
    grouped: dict[str, list[Placement]] = {}
    for node, p in zip(cost.nodes, placements, strict=True):
        if p.unit == "cpu" and profile.main.kind != "cpu":
            op = next(
                (
                    by_name.get(c, p.op_type)
                    for c in cost.control_flow
                    if node.inside == c or node.inside.startswith(c + "/")
                ),
                p.op_type,
            )
            grouped.setdefault(op, []).append(p)
    fallback = [
        FallbackOp(
            op_type=op,
            count=len(items),
            flops_share=sum(i.flops for i in items) / total_flops,
            reason=items[0].reason or "",
        )
        for op, items in sorted(grouped.items(), key=lambda kv_: -sum(i.flops for i in kv_[1]))
    ]
    dynamic = _dynamic_inputs(cost)
    needs_shapes = bool(dynamic) and profile.main.static_shapes_only
    dtype_issues = _dtype_issues(cost, profile)
    memory = _memory(cost, profile, kv, ctx)
    report.progress(0.3, "Predicting latency")
    predictor = predict_latency if predict else _not_predicted
    plan = None
    if predict and profile.id == THIS_PC:
        from studio.core.analyze.profile import default_threads
        from studio.core.chips.ort_plan import runtime_plan

        plan = runtime_plan(path, cost, threads or default_threads())
    prediction = predictor(
        cost,
        profile,
        {p.node: p.unit for p in placements},
        threads=threads,
        kv_cache_bytes=kv,
        context=ctx,
        prompt_tokens=prompt_tokens,
        calibration=lambda t: calibrate(t, report=report.sub(0.3, 0.95)),
        plan=plan,
    )
    parts, level, todo = chip_verdict(profile, share, fallback, memory, needs_shapes, dtype_issues)
    recommended = (
        profile.recommended.get("llm" if is_llm else "default") or profile.recommended["default"]
    )
    assumptions = list(prediction.assumptions)
    if memory.capacity_bytes is None:
        assumptions.append(
            f"{profile.name}'s memory size is not published; the model needs "
            f"{gb_text(memory.total_bytes)}"
        )
    if profile.main.kind != "cpu" and compiled is None:
        assumptions.append(_op_list_assumption(profile))
    if profile.main.kind != "cpu":
        assumptions.append(f"Placement {source}")
    if cost.kv_inputs and context is None:
        assumed = message("check.context_assumed", Fix(option="context"), context=DEFAULT_CONTEXT)
        assumptions.append(assumed.english())
    report.progress(1.0, "Checked")
    counts = Counter(p.op_type for p in placements if p.unit == "cpu")
    return CheckResult(
        model=str(path),
        chip=profile.id,
        chip_name=profile.name,
        unit=UNIT_NAMES[profile.main.kind],
        verdict=english(parts),
        verdict_parts=parts,
        level=level,
        todo=todo,
        accelerator_share=share,
        placement=placements,
        fallback_ops=fallback,
        unsupported_ops=sorted(counts) if profile.main.kind != "cpu" else [],
        dynamic_inputs=dynamic,
        shape_suggestion=[
            f"{d.input}={'x'.join(str(v) for v in d.assumed_shape)}" for d in dynamic
        ],
        input_shapes=cost.input_shapes,
        shape_source=cost.shape_source,
        measured_at=cost.measured_at,
        control_flow=cost.control_flow,
        dtype_issues=dtype_issues,
        memory=memory,
        latency=prediction,
        recommended=recommended,
        is_llm=is_llm,
        assumptions=assumptions,
        placement_source=source,
    )
