"""The chip verdict as messages: what runs where, then the conditions and a memory warning.

The verdict is a list of message parts read one after another ("Runs fully on the NPU" + " once
its input sizes are fixed" + " and it is quantized" + "; memory is tight (…)"), each with an id, so
the GUI words and translates every part; ``english()`` joins them as the CLI prints them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.core.messages import Message, message
from studio.core.units import gb_text

if TYPE_CHECKING:
    from studio.core.chips.catalogue import ChipProfile
    from studio.core.chips.check import FallbackOp, MemoryEstimate

UNIT_NAMES = {"npu": "NPU", "gpu": "GPU", "cpu": "CPU"}


def english(parts: list[Message]) -> str:
    return "".join(part.english() for part in parts)


def share_text(share: float, fallback: list[FallbackOp]) -> str:
    """The accelerator's share of compute, never "100%" while some op falls back to the CPU."""
    if not fallback:
        return f"{share:.0%}"
    return ">99.9%" if share > 0.999 else f"{share:.1%}"


def _placement(unit: str, kind: str, share: float, fallback: list[FallbackOp]) -> Message:
    """Where the work runs: on the unit, or how much falls back to the CPU."""
    if kind == "cpu":
        return message("chip.runs_on", unit=unit)
    if not fallback:
        return message("chip.runs_fully_on", unit=unit)
    count = sum(f.count for f in fallback)
    pct = (1 - share) * 100
    share_text = f"{pct:.0f}%" if pct >= 1 else "<1%"
    plural = "one" if count == 1 else "other"
    # Most of the work would not touch the accelerator: say so first.
    kind_id = "chip.mostly_cpu" if pct >= 50 else "chip.some_fall_back"
    return message(f"{kind_id}.{plural}", count=count, share=share_text)


def _conditions(needs_shapes: bool, dtype_issues: list[str]) -> list[Message]:
    """ " once A and B": what must change before it runs as the verdict says."""
    names = [
        name
        for name, wanted in (
            ("shapes", needs_shapes),
            ("quantized", any("quantized" in issue for issue in dtype_issues)),
            ("float32", any("float64" in issue for issue in dtype_issues)),
        )
        if wanted
    ]
    return [message(f"chip.{'once' if i == 0 else 'and'}.{n}") for i, n in enumerate(names)]


def chip_verdict(
    chip: ChipProfile,
    share: float,
    fallback: list[FallbackOp],
    mem: MemoryEstimate,
    needs_shapes: bool,
    dtype_issues: list[str],
) -> tuple[list[Message], str, list[str]]:
    """The verdict's parts, its level (good/warning/bad) and the to-do list."""
    unit = UNIT_NAMES[chip.main.kind]
    todo: list[str] = []
    if needs_shapes:
        todo.append("Fix the flexible input sizes (the " + unit + " compiles for one size)")
    todo.extend(dtype_issues)
    if mem.fits is False:
        needed, capacity = gb_text(mem.total_bytes), gb_text(mem.capacity_bytes or 0)
        return [message("chip.wont_fit", needed=needed, capacity=capacity)], "bad", todo
    parts = [_placement(unit, chip.main.kind, share, fallback)]
    level = "good" if parts[0].id.startswith("chip.runs") or (1 - share) < 0.01 else "warning"
    if todo and level == "good":
        level = "warning"
    parts += _conditions(needs_shapes, dtype_issues)
    if mem.tight:
        needed, capacity = gb_text(mem.total_bytes), gb_text(mem.capacity_bytes or 0)
        parts.append(message("chip.memory_tight", needed=needed, capacity=capacity))
        level = "warning"
    return parts, level, todo
