"""Predicted latency per node and in total, from a roofline with per-op-family efficiency factors.

time(node) = overhead + max(FLOPs ÷ (peak × efficiency), bytes ÷ (bandwidth × efficiency)).
For This PC, peak, bandwidth and efficiencies come from micro-benchmarks run on this machine
(studio.core.chips.calibrate_pc); for other chips from the cited profile plus efficiency ranges that
are assumptions, listed with every result. A prediction is a range, never a measurement.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from studio.core.chips.calibrate_pc import Calibration, calibrate, rate_at
from studio.core.chips.catalogue import THIS_PC, Accelerator, ChipProfile
from studio.core.chips.cost import GraphCost, NodeCost
from studio.core.chips.ort_plan import RunPlan

# Share of peak compute an op family reaches on an accelerator nobody has measured here:
# (pessimistic, optimistic). Typical ranges for dense kernels; not measured on the chip.
ASSUMED_COMPUTE_EFF: dict[str, tuple[float, float]] = {
    "matmul": (0.25, 0.7),
    "conv": (0.25, 0.7),
    "dwconv": (0.05, 0.3),
}
DEFAULT_COMPUTE_EFF = (0.05, 0.3)
ASSUMED_MEMORY_EFF = (0.4, 0.8)
ASSUMED_NODE_OVERHEAD_MS = {"npu": (0.0, 0.02), "gpu": (0.005, 0.05), "cpu": (0.001, 0.01)}
# Data ops that gather with strides (measured as Transposes); the rest copy blocks.
STRIDED_OPS = {"Transpose", "DepthToSpace", "SpaceToDepth", "Gather", "GatherElements", "GatherND"}
# This PC's prediction band: measured factors, but machines are noisy (other processes, caches).
CALIBRATED_BAND = (0.85, 1.2)
BYTES_PER = {"int4": 0.5, "int8": 1.0, "int16": 2.0, "fp16": 2.0, "bf16": 2.0, "fp32": 4.0}
DTYPE_PRECISION = {
    "float": "fp32",
    "float16": "fp16",
    "bfloat16": "bf16",
    "int8": "int8",
    "uint8": "int8",
    "int16": "int16",
    "uint16": "int16",
    "int4": "int4",
    "uint4": "int4",
    "double": "fp32",
}


class NodePrediction(BaseModel):
    name: str
    op_type: str
    unit: str
    flops: float
    bytes: float
    low_ms: float | None
    high_ms: float | None
    bound: str = Field(description="compute | memory | overhead | unknown")


class LlmPrediction(BaseModel):
    prompt_tokens: int
    context: int
    weight_bytes: float
    kv_cache_bytes: float
    prefill_low_ms: float | None
    prefill_high_ms: float | None
    decode_low_tok_s: float | None
    decode_high_tok_s: float | None


class Prediction(BaseModel):
    chip: str
    low_ms: float | None
    high_ms: float | None
    estimate_ms: float | None = Field(
        None, description="central estimate: calibrated point for This PC, else geometric mean"
    )
    calibrated: bool
    complete: bool = Field(description="False when some nodes could not be predicted")
    nodes: list[NodePrediction]
    assumptions: list[str]
    llm: LlmPrediction | None = None

    def text(self) -> str:
        if self.low_ms is None or self.high_ms is None:
            return "cannot predict"
        prefix = "" if self.complete else "at least "
        low, high = _fmt_ms(self.low_ms), _fmt_ms(self.high_ms)
        if low.startswith("<"):
            return f"{prefix}up to {high}"
        if low.endswith(" ms") and high.endswith(" ms") and not low.startswith("<"):
            low = low[:-3]  # "0.15–0.21 ms"
        return f"{prefix}{low}–{high}"

    def range_meaning(self) -> str:
        """What the two ends of the range stand for, so a wide range reads as what it is."""
        if self.low_ms is None or self.high_ms is None:
            return ""
        if self.calibrated:
            return (
                "from this PC's measured speed; the range is the usual run-to-run spread "
                f"(−{1 - CALIBRATED_BAND[0]:.0%} to +{CALIBRATED_BAND[1] - 1:.0%})"
            )
        return (
            "fast end: the chip's kernels reach the best share of its published peak typical "
            "for such chips; slow end: the worst (not measured on this chip)"
        )


def _fmt_ms(ms: float) -> str:
    if ms < 0.01:
        return "<0.01 ms"
    return f"{ms:.3g} ms" if ms < 1000 else f"{ms / 1000:.3g} s"


class _Unit:
    """How fast one accelerator runs a node: (low_ms, high_ms, bound) or None if unknown."""

    def __init__(self, chip: ChipProfile, acc: Accelerator, notes: list[str]) -> None:
        self.chip, self.acc, self.notes = chip, acc, notes
        self.bandwidth = chip.memory.bandwidth_gbs.value

    def precision_for(self, node: NodeCost) -> str | None:
        wanted = DTYPE_PRECISION.get(node.dtype, "fp32")
        if self.acc.peak(wanted).known:
            return wanted
        for candidate in ("fp16", "int8"):  # what the recommended recipe converts a float model to
            if self.acc.peak(candidate).known and candidate in self.acc.precisions:
                note = (
                    f"{self.acc.name}: assumes the model is converted to {candidate.upper()} "
                    f"(no published {wanted.upper()} peak)"
                )
                if note not in self.notes:
                    self.notes.append(note)
                return candidate
        return None

    def predict(self, node: NodeCost) -> tuple[float, float, str] | None:
        over_lo, over_hi = ASSUMED_NODE_OVERHEAD_MS[self.acc.kind]
        if node.flops == 0 and node.bytes == 0:
            return over_lo, over_hi, "overhead"
        precision = self.precision_for(node)
        if precision is None:
            return None
        peak = (self.acc.peak(precision).value or 0) * 1e12
        scale = BYTES_PER[precision] / BYTES_PER.get(DTYPE_PRECISION.get(node.dtype, "fp32"), 4.0)
        moved = node.bytes * scale
        eff_lo, eff_hi = ASSUMED_COMPUTE_EFF.get(node.op_class, DEFAULT_COMPUTE_EFF)
        c_hi, c_lo = node.flops / (peak * eff_lo) * 1e3, node.flops / (peak * eff_hi) * 1e3
        if self.bandwidth:
            bw = self.bandwidth * 1e9
            m_hi = moved / (bw * ASSUMED_MEMORY_EFF[0]) * 1e3
            m_lo = moved / (bw * ASSUMED_MEMORY_EFF[1]) * 1e3
        else:
            m_lo = m_hi = 0.0
        bound = "compute" if c_hi >= m_hi else "memory"
        return over_lo + max(c_lo, m_lo), over_hi + max(c_hi, m_hi), bound


class _MeasuredUnit:
    """This PC: factors from the micro-benchmarks, a narrow band around the point estimate.

    With a runtime plan (what onnxruntime fuses and adds), nodes folded into another node's
    kernel cost nothing and added nodes are costed; without one, Q/DQ folding follows the rule in
    graph_cost.
    """

    def __init__(self, calib: Calibration, plan: RunPlan | None = None) -> None:
        self.calib = calib
        self.plan = plan
        self.folded = set(plan.folded) if plan else set()

    def _fused(self, node: NodeCost) -> bool:
        return node.name in self.folded if self.plan is not None else node.fused

    def point(self, node: NodeCost) -> tuple[float, str]:
        c = self.calib
        overhead = c.node_overhead_ms
        if self._fused(node):
            return 0.0, "overhead"  # folded into the neighbouring kernel
        if node.flops == 0 and node.bytes == 0:
            return overhead, "overhead"
        integer = node.dtype in ("int8", "uint8") and f"{node.op_class}_int8" in c.compute
        half = node.dtype == "float16"
        compute_family = f"{node.op_class}_int8" if integer else node.op_class
        if node.dq_weights and node.op_class == "conv" and "conv_dqw" in c.compute:
            compute_family = "conv_dqw"
        elif node.pointwise and f"{compute_family}_k1" in c.compute:
            compute_family = f"{compute_family}_k1"  # 1×1 convs run another kernel
        moved = node.bytes
        if integer:
            moved = node.bytes / 4  # the fused kernel moves 8-bit data
        elif half:
            moved = node.bytes * 2  # computed in float32 after casts (see fp16_ratio)
        family = node.op_class if node.op_class in c.memory else "elementwise"
        if node.op_class == "data" and node.op_type not in STRIDED_OPS and "copy" in c.memory:
            family = "copy"  # block copies (Concat, Slice, Pad, Resize) beat strided Transposes
        if node.op_class in ("pool", "reduce", "quant") or family not in c.memory:
            family = "transcendental"  # measured neighbours: a few FLOPs per element read
        mem_ms = moved / rate_at(c.memory[family], moved) * 1e3 if moved else 0.0
        comp_ms = 0.0
        if compute_family in c.compute and c.compute[compute_family] and node.flops:
            comp_ms = node.flops / rate_at(c.compute[compute_family], node.flops) * 1e3
        bound = "compute" if comp_ms >= mem_ms else "memory"
        ms = max(comp_ms, mem_ms)
        if half:
            ms *= c.fp16_ratio.get(bound, 1.0)
        return overhead + ms, bound

    def predict(self, node: NodeCost) -> tuple[float, float, str]:
        ms, bound = self.point(node)
        return ms * CALIBRATED_BAND[0], ms * CALIBRATED_BAND[1], bound

    def inserted_ms(self) -> float:
        """Nodes onnxruntime adds (layout reorders, transposes for integer kernels)."""
        if self.plan is None:
            return 0.0
        c = self.calib
        total = 0.0
        for node in self.plan.inserted:
            moved = node.bytes
            strided = node.op_type in STRIDED_OPS or "copy" not in c.memory
            points = c.memory["data" if strided else "copy"]
            ms = moved / rate_at(points, moved) * 1e3 if moved else 0.0
            total += c.node_overhead_ms + ms
        return total


def _llm(
    cost: GraphCost,
    kv_bytes: float,
    context: int,
    prompt: int,
    peak: float | None,
    bandwidth: float | None,
    eff: tuple[float, float],
    mem_eff: tuple[float, float],
) -> LlmPrediction:
    """Prefill ≈ 2·params·tokens ÷ effective ops/s; decode ≤ bandwidth ÷ bytes read per token."""
    weights = cost.weight_bytes
    pre_lo = pre_hi = dec_lo = dec_hi = None
    if peak:
        flops = 2.0 * cost.parameter_count * prompt
        pre_lo, pre_hi = flops / (peak * eff[1]) * 1e3, flops / (peak * eff[0]) * 1e3
    if bandwidth:
        per_token = weights + kv_bytes
        dec_lo, dec_hi = bandwidth * mem_eff[0] / per_token, bandwidth * mem_eff[1] / per_token
    return LlmPrediction(
        prompt_tokens=prompt,
        context=context,
        weight_bytes=weights,
        kv_cache_bytes=kv_bytes,
        prefill_low_ms=pre_lo,
        prefill_high_ms=pre_hi,
        decode_low_tok_s=dec_lo,
        decode_high_tok_s=dec_hi,
    )


def predict_latency(
    cost: GraphCost,
    chip: ChipProfile,
    placement: dict[str, str] | None = None,
    *,
    threads: int | None = None,
    kv_cache_bytes: float = 0.0,
    context: int | None = None,
    prompt_tokens: int = 128,
    calibration: Callable[[int], Calibration] = calibrate,
    plan: RunPlan | None = None,
) -> Prediction:
    """Predict ``cost`` on ``chip``; ``placement`` maps node name → accelerator kind."""
    from studio.core.analyze.profile import default_threads

    placement = placement or {}
    notes: list[str] = []
    nodes: list[NodePrediction] = []
    calibrated = chip.id == THIS_PC
    llm_peak = llm_bw = None
    eff = (0.25, 0.7)
    mem_eff = ASSUMED_MEMORY_EFF
    if calibrated:
        threads = threads or default_threads()
        calib = calibration(threads)
        measured = _MeasuredUnit(calib, plan)
        units: dict[str, object] = {"cpu": measured}
        notes.append(
            f"Calibrated on this PC with {threads} threads: "
            f"peak {calib.peak_flops / 1e9:.0f} GFLOP/s, "
            f"memory {calib.bandwidth_bytes / 1e9:.0f} GB/s (onnxruntime {calib.onnxruntime})"
        )
        notes.append("Range is ±15–20% around the calibrated estimate; background load widens it")
        if plan is not None:
            notes.append(
                f"onnxruntime's own rewrite of the graph was read: {len(plan.folded)} nodes run "
                f"inside a neighbour's kernel, {len(plan.inserted)} nodes are added"
            )
        else:
            notes.append(
                "onnxruntime's fusions were not read for this model (too large or not "
                "loadable); every node is costed on its own"
            )
        if cost.dtypes.get("float16"):
            ratio = calib.fp16_ratio
            notes.append(
                "float16 ops run as float32 plus casts on this CPU: measured "
                f"×{ratio.get('compute', 1):.2f} (compute) / ×{ratio.get('memory', 1):.2f} "
                "(memory-bound) the float32 time"
            )
        llm_peak, llm_bw, eff, mem_eff = (
            calib.peak_flops,
            calib.bandwidth_bytes,
            (0.6, 1.0),
            (0.6, 1.0),
        )
    else:
        units = {a.kind: _Unit(chip, a, notes) for a in chip.accelerators}
        notes.append(
            "Not measured on this chip: efficiency is assumed at 25–70% of peak for "
            "matrix ops, 5–30% for other ops and 40–80% of memory bandwidth"
        )
        if not chip.memory.bandwidth_gbs.known:
            notes.append(
                "Memory bandwidth is not published: memory time is left out (too optimistic)"
            )
        main = chip.main
        llm_bw = (chip.memory.bandwidth_gbs.value or 0) * 1e9 or None
        for precision in ("int4", "int8", "fp16", "fp32"):
            if main.peak(precision).known:
                llm_peak = (main.peak(precision).value or 0) * 1e12
                break
    missing = 0
    total_lo = total_hi = 0.0
    for node in cost.nodes:
        kind = placement.get(node.name, chip.main.kind)
        unit = units.get(kind) or units.get("cpu")
        result = unit.predict(node) if unit is not None else None  # type: ignore[attr-defined]
        if result is None:
            missing += 1
            nodes.append(
                NodePrediction(
                    name=node.name,
                    op_type=node.op_type,
                    unit=kind,
                    flops=node.flops,
                    bytes=node.bytes,
                    low_ms=None,
                    high_ms=None,
                    bound="unknown",
                )
            )
            continue
        lo, hi, bound = result
        total_lo += lo
        total_hi += hi
        nodes.append(
            NodePrediction(
                name=node.name,
                op_type=node.op_type,
                unit=kind,
                flops=node.flops,
                bytes=node.bytes,
                low_ms=lo,
                high_ms=hi,
                bound=bound,
            )
        )
    if calibrated:
        overhead = calib.run_overhead_ms + measured.inserted_ms()
        total_lo += overhead * CALIBRATED_BAND[0]
        total_hi += overhead * CALIBRATED_BAND[1]
    if missing:
        units_missing = sorted({n.unit for n in nodes if n.bound == "unknown"})
        notes.append(
            f"{missing} nodes on the {', '.join(units_missing)} have no published peak "
            "speed for their precision; they are left out of the total"
        )
    if any(not n.known for n in cost.nodes):
        notes.append(
            "Some tensor sizes are unknown after shape inference; those nodes count as free"
        )
    notes += cost.assumptions
    if cost.dynamic:
        dims = ", ".join(f"{d.input}[{d.axis}] ({d.name})={d.assumed}" for d in cost.dynamic)
        notes.append(f"Flexible sizes set for the estimate: {dims}")
    # A total that leaves out most of the compute would mislead: then say "cannot predict".
    missing_work = sum(n.flops + n.bytes for n in nodes if n.bound == "unknown")
    all_work = sum(n.flops + n.bytes for n in nodes) or 1.0
    predictable = missing < len(cost.nodes) and missing_work / all_work < 0.5
    llm = None
    if cost.kv_inputs:
        llm = _llm(
            cost, kv_cache_bytes, context or 0, prompt_tokens, llm_peak, llm_bw, eff, mem_eff
        )
        notes.append(
            "LLM decode speed is an upper bound: bandwidth ÷ (weights + KV cache) per token"
        )
    estimate = None
    if predictable:
        estimate = total_lo / CALIBRATED_BAND[0] if calibrated else (total_lo * total_hi) ** 0.5
    return Prediction(
        chip=chip.id,
        estimate_ms=estimate,
        low_ms=total_lo if predictable else None,
        high_ms=total_hi if predictable else None,
        calibrated=calibrated,
        complete=missing == 0,
        nodes=nodes,
        assumptions=notes,
        llm=llm,
    )
