"""Will a model fit in a target's memory? A verdict with the numbers behind it.

The estimate is deliberately simple and says what it assumed: the weights as stored (bytes per
parameter from the safetensors dtypes, or the size of the weight files) plus a runtime overhead
for activations, buffers and the runtime itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

Verdict = Literal["fits", "tight", "won't fit"]

DTYPE_BYTES = {
    "F64": 8,
    "I64": 8,
    "U64": 8,
    "F32": 4,
    "I32": 4,
    "U32": 4,
    "F16": 2,
    "BF16": 2,
    "I16": 2,
    "U16": 2,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}
WEIGHT_SUFFIXES = (
    ".safetensors",
    ".onnx",
    ".onnx_data",
    ".onnx.data",
    ".bin",
    ".pt",
    ".pth",
    ".gguf",
    ".tflite",
    ".h5",
    ".msgpack",
    ".data",
)
OVERHEAD_FACTOR = 1.2
OVERHEAD_BYTES = 64 * 1024 * 1024
FITS_SHARE = 0.7
"""Up to this share of the budget the model fits with room for the OS and other apps."""
TIGHT_SHARE = 0.95


class MemoryEstimate(BaseModel):
    weights_bytes: int
    needed_bytes: int
    budget_bytes: int
    verdict: Verdict
    basis: str
    """What the weight figure came from, in plain words."""

    def text(self) -> str:
        from studio.core.units import human_size

        return (
            f"{self.verdict.capitalize()}: needs about {human_size(self.needed_bytes)} "
            f"of {human_size(self.budget_bytes)}"
        )


def this_pc_memory() -> int:
    """Physical memory of this computer in bytes."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    if os.name == "nt":  # pragma: no cover - Windows only
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [
                ("length", ctypes.c_ulong),
                ("load", ctypes.c_ulong),
                ("total", ctypes.c_ulonglong),
                ("avail", ctypes.c_ulonglong),
                ("x1", ctypes.c_ulonglong),
                ("x2", ctypes.c_ulonglong),
                ("x3", ctypes.c_ulonglong),
                ("x4", ctypes.c_ulonglong),
                ("x5", ctypes.c_ulonglong),
            ]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))  # type: ignore[attr-defined]
        return int(status.total)
    return 8 * 1024**3


def weight_files(files: Iterable[tuple[str, int | None]]) -> list[tuple[str, int]]:
    return [(p, s or 0) for p, s in files if p.lower().endswith(WEIGHT_SUFFIXES)]


def weights_from_files(files: Iterable[tuple[str, int | None]]) -> tuple[int, str]:
    """Bytes of the weights one runtime would load: the largest group of one format.

    Repos often ship the same weights several times (safetensors + ONNX + fp16 ONNX); summing them
    all would overstate the need several times over.
    """
    groups: dict[str, int] = {}
    for path, size in weight_files(files):
        lower = path.lower()
        key = "onnx" if ".onnx" in lower or lower.endswith(".data") else lower.rsplit(".", 1)[-1]
        # Different ONNX variants live in different files; count the largest single variant.
        if key == "onnx":
            stem = lower.split(".onnx")[0]
            groups[f"onnx:{stem}"] = groups.get(f"onnx:{stem}", 0) + size
        else:
            groups[key] = groups.get(key, 0) + size
    if not groups:
        return 0, "no weight files found"
    key, size = max(groups.items(), key=lambda item: item[1])
    fmt = key.split(":")[0]
    return size, f"size of the {fmt} weight files"


def estimate(
    *,
    budget_bytes: int | None = None,
    parameter_dtypes: dict[str, int] | None = None,
    files: Iterable[tuple[str, int | None]] = (),
) -> MemoryEstimate | None:
    budget = budget_bytes if budget_bytes is not None else this_pc_memory()
    if parameter_dtypes:
        weights = sum(
            count * DTYPE_BYTES.get(dtype.upper(), 4) for dtype, count in parameter_dtypes.items()
        )
        basis = (
            "parameter count × bytes per parameter (" + ", ".join(sorted(parameter_dtypes)) + ")"
        )
    else:
        weights, basis = weights_from_files(files)
        if weights == 0:
            return None
    needed = int(weights * OVERHEAD_FACTOR) + OVERHEAD_BYTES
    if needed <= budget * FITS_SHARE:
        verdict: Verdict = "fits"
    elif needed <= budget * TIGHT_SHARE:
        verdict = "tight"
    else:
        verdict = "won't fit"
    return MemoryEstimate(
        weights_bytes=weights,
        needed_bytes=needed,
        budget_bytes=budget,
        verdict=verdict,
        basis=basis + f"; plus {round((OVERHEAD_FACTOR - 1) * 100)}% and 64 MB for the runtime",
    )


def chip_memory_budget(chip_id: str) -> tuple[int | None, str]:
    """(memory in bytes or None when not published, chip name) for a catalogue chip."""
    from studio.core.chips.catalogue import get_chip
    from studio.core.errors import StudioError

    try:
        chip = get_chip(chip_id)
    except StudioError:
        return None, chip_id
    capacity = chip.memory.capacity_gb.value
    return (int(capacity * 1e9) if capacity else None), chip.name  # the catalogue's GB = 1e9
