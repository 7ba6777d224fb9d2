"""One model on every chip at once: the side-by-side table of the Target step.

Runs in a background job (``studio.core.chips.compare:compare_chips``); the model's graph is analysed
once and checked against each chip. A chip whose check fails gets a row saying why, never an
exception that hides the other rows.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from studio.core.chips.catalogue import THIS_PC, list_chips
from studio.core.chips.check import check_model
from studio.core.chips.cost import graph_cost
from studio.core.errors import BadInput
from studio.core.messages import Message
from studio.core.model.loader import resolve_model_path
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.units import gb_text


class ChipRow(BaseModel):
    chip: str
    name: str
    vendor: str
    level: str
    verdict: str
    verdict_parts: list[Message] = []
    """The verdict as message parts (studio/core/chips/verdict.py); empty for an old row."""
    latency: str
    low_ms: float | None = None
    high_ms: float | None = None
    memory: str
    """In English for the CLI and reports; a face words it from the two figures below."""
    memory_bytes: int = 0
    capacity_bytes: int | None = None
    fits: bool | None = None
    unit: str = ""
    accelerator_share: float | None = None
    todo: list[str] = []
    recommended: str = ""
    recommended_method: str = ""
    """The recommended method's id (e.g. int8-static), so a page can choose it in one click."""
    needs_shapes: bool = False
    """The chip compiles for one size and the model has flexible ones (see fixed_shapes)."""


class Comparison(BaseModel):
    model: str
    rows: list[ChipRow]
    fixed_shapes: dict[str, list[int]] = {}
    """Sizes for the flexible inputs, as the check assumed them: the one-click size fix."""


def compare_chips(
    model: str | Path,
    *,
    shapes: dict[str, list[int]] | None = None,
    context: int | None = None,
    chips: list[str] | None = None,
    report: Reporter = NULL_REPORTER,
) -> Comparison:
    path = resolve_model_path(model)
    report.progress(0.0, "Reading the model")
    cost = graph_cost(path, shapes)
    profiles = [c for c in list_chips() if chips is None or c.id in chips]
    # This PC's first check runs seconds of micro-benchmarks: give it most of the bar.
    rows = []
    for index, chip in enumerate(profiles):
        start = 0.05 + 0.9 * index / len(profiles)
        end = 0.05 + 0.9 * (index + 1) / len(profiles)
        report.progress(start, f"Checking {chip.name}")
        try:
            result = check_model(
                path,
                chip,
                shapes=shapes,
                context=context,
                cost=cost,
                report=report.sub(start, end) if chip.id == THIS_PC else NULL_REPORTER,
            )
        except BadInput as exc:
            rows.append(
                ChipRow(
                    chip=chip.id,
                    name=chip.name,
                    vendor=chip.vendor,
                    level="bad",
                    verdict=exc.message,
                    verdict_parts=[exc.msg] if exc.msg else [],
                    latency="—",
                    memory="—",
                )
            )
            continue
        mem = result.memory
        need = gb_text(mem.total_bytes)
        rows.append(
            ChipRow(
                chip=chip.id,
                name=chip.name,
                vendor=chip.vendor,
                level=result.level,
                verdict=result.verdict,
                verdict_parts=result.verdict_parts,
                latency=result.latency_text(),
                low_ms=result.latency.low_ms,
                high_ms=result.latency.high_ms,
                memory=f"{need} of {gb_text(mem.capacity_bytes)}"
                if mem.capacity_bytes
                else f"{need} (chip size not published)",
                memory_bytes=int(mem.total_bytes),
                capacity_bytes=int(mem.capacity_bytes) if mem.capacity_bytes else None,
                fits=mem.fits,
                unit=result.unit,
                accelerator_share=result.accelerator_share,
                todo=result.todo,
                recommended=result.recommended.summary,
                recommended_method=result.recommended.method,
                needs_shapes=bool(result.dynamic_inputs) and chip.main.static_shapes_only,
            )
        )
    report.progress(1.0, "Checked every chip")
    flexible = {d.input for d in cost.dynamic}
    fixed = {name: dims for name, dims in cost.input_shapes.items() if name in flexible}
    return Comparison(model=str(path), rows=rows, fixed_shapes=fixed)
