"""Target chips. The foundation knows one real target, this PC; the catalogue extends it."""

from __future__ import annotations

import os
import platform
from functools import lru_cache

from pydantic import BaseModel

from studio.core.errors import BadInput

THIS_PC = "this-pc"


class ChipSummary(BaseModel):
    id: str
    name: str
    vendor: str
    runtime: str
    description: str


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=1)
def this_pc() -> ChipSummary:
    return ChipSummary(
        id=THIS_PC,
        name="This PC (CPU)",
        vendor=platform.system(),
        runtime="onnxruntime CPUExecutionProvider",
        description=f"{_cpu_name()}, {os.cpu_count()} cores, {platform.machine()}",
    )


def list_chips() -> list[ChipSummary]:
    return [this_pc()]


def get_chip(chip_id: str) -> ChipSummary:
    for chip in list_chips():
        if chip.id == chip_id:
            return chip
    known = ", ".join(c.id for c in list_chips())
    raise BadInput(f"Unknown chip '{chip_id}'", f"Use one of: {known} (see `studio chips`)")
