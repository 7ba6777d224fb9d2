"""What a compile for an NPU returns, whichever vendor's compiler did it."""

from __future__ import annotations

from pydantic import BaseModel

from studio.core.analyze.drift import DriftReport

# Quantize/dequantize pairs are how a quantized model carries its scales, not work of its own.
PLUMBING = {"QuantizeLinear", "DequantizeLinear"}
EMULATOR_NOTE = (
    "Outputs measured on the NPU emulator on this PC: the NPU's arithmetic, not its speed "
    "(emulator time says nothing about time on the device)."
)


class NodePlace(BaseModel):
    name: str
    op_type: str
    on_npu: bool
    reason: str = ""
    """Why the compiler left it to the CPU, in the compiler's own words."""


class Placement(BaseModel):
    """Where each node of the quantized model runs, as the vendor's compiler assigned it."""

    nodes: list[NodePlace]
    npu_partitions: int
    source: str
    """Who decided: "checked by Qualcomm's compiler" or "predicted from the published op list"."""
    strict: bool = False
    """Compiled with CPU fallback disabled: the compiler itself proved every node is on the NPU."""

    @property
    def compute(self) -> list[NodePlace]:
        """The model's own nodes: not the Q/DQ pairs quantization added around them."""
        return [n for n in self.nodes if n.op_type not in PLUMBING]

    @property
    def fallback(self) -> list[NodePlace]:
        return [n for n in self.compute if not n.on_npu]

    @property
    def npu_share(self) -> float:
        compute = self.compute
        return sum(n.on_npu for n in compute) / len(compute) if compute else 1.0

    @property
    def all_on_npu(self) -> bool:
        return self.strict or (not self.fallback and self.npu_partitions == 1)


class CompileResult(BaseModel):
    source: str
    output: str
    """The folder with the compiled model, its compiler files and compile.json."""
    chip: str
    backend: str
    arch: str
    soc_model: int | None = None
    model_file: str
    """The file to load on the device (inside ``output``)."""
    files: list[str]
    activations: str
    input_shapes: dict[str, list[int]] = {}
    shape_source: str = ""
    quantize_seconds: float
    compile_seconds: float
    placement: Placement
    all_on_npu: bool
    npu_share: float
    drift: DriftReport | None = None
    """The compiled model on the NPU emulator against the float model."""
    quantized_drift: DriftReport | None = None
    """The quantized model on this PC's CPU against the float model (the reference quantizer)."""
    drift_note: str = EMULATOR_NOTE
    warnings: list[str] = []
