"""Target chips: cited profiles shipped in assets/chips/ plus profiles users add to their config.

Every number in a profile is a ``Fact``: a value with the source it came from and how much to
trust it. Unknown numbers stay null; code that uses a profile must cope with that and say so.
"""

from __future__ import annotations

import os
import platform
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from studio.core.errors import BadInput
from studio.core.paths import assets_dir, config_dir
from studio.core.schema import load_model_file, quoted, shorten
from studio.core.this_pc import THIS_PC_ID, THIS_PC_NAME

THIS_PC = THIS_PC_ID
CHIP_SCHEMA_VERSION: Final = 1
Precision = Literal["int4", "int8", "int16", "fp16", "bf16", "fp32"]


class Confidence(StrEnum):
    """How far to trust a number."""

    vendor = "vendor"  # the chip maker's own page, brief or datasheet
    press = "press"  # reputable press reporting a vendor briefing
    third_party = "third-party"  # a third-party site or review; treat as a lead
    derived = "derived"  # computed from other cited numbers; the note shows the formula
    measured = "measured"  # measured on this machine by the studio


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Fact(_Strict):
    value: float | None = None
    source: str | None = Field(None, description="URL or document the value comes from")
    confidence: Confidence | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> Fact:
        if self.value is not None and (not self.source or self.confidence is None):
            raise ValueError("a number needs a 'source' and a 'confidence'")
        return self

    @property
    def known(self) -> bool:
        return self.value is not None


class CompileTarget(_Strict):
    """What an NPU's own compiler needs to build for this chip (``studio compile``)."""

    backend: str = Field(description="compiler backend id in studio.core.compile, e.g. qnn")
    arch: str = Field(description="the compiler's architecture name, e.g. v75 (Hexagon HTP)")
    soc_model: int | None = Field(None, description="the compiler's SoC model number")
    source: str = Field(description="URL or document the arch and SoC model come from")
    confidence: Confidence
    note: str | None = None


class Accelerator(_Strict):
    kind: Literal["npu", "gpu", "cpu"]
    name: str
    runtime: str = Field(description="On-device runtime or onnxruntime execution provider")
    peak_tops: dict[Precision, Fact] = Field(
        default_factory=dict, description="Peak tera-operations per second per precision"
    )
    precisions: list[Precision] = Field(description="Precisions it computes in")
    quantization: list[str] = Field(default_factory=list, description="Supported schemes")
    supported_ops: list[str] | None = Field(
        None, description="ONNX op types it runs; null = not published (assume all but unsupported)"
    )
    supported_ops_source: str | None = None
    ops_confidence: Confidence | None = Field(
        None, description="how far to trust the op lists (vendor list, press, third party)"
    )
    ops_note: str | None = Field(None, description="what the op lists cover and what they do not")
    unsupported_ops: list[str] = Field(default_factory=list)
    unsupported_ops_source: str | None = Field(
        None, description="where the known-unsupported ops come from; null = the studio's rule"
    )
    control_flow: bool = Field(False, description="Runs If/Loop/Scan")
    static_shapes_only: bool = False
    compile_target: CompileTarget | None = Field(
        None, description="set when the studio can compile for this unit offline"
    )

    @model_validator(mode="after")
    def _ops_cited(self) -> Accelerator:
        if self.supported_ops is not None and not self.supported_ops_source:
            raise ValueError("'supported_ops' needs 'supported_ops_source'")
        overlap = set(self.supported_ops or []) & set(self.unsupported_ops)
        if overlap:
            raise ValueError(
                f"{', '.join(sorted(overlap))} listed as both supported and unsupported"
            )
        return self

    def peak(self, precision: str) -> Fact:
        return self.peak_tops.get(cast(Precision, precision), Fact())  # other names: no Fact


class Memory(_Strict):
    type: str | None = None
    bandwidth_gbs: Fact = Fact()
    capacity_gb: Fact = Fact(note="typical device capacity")


class Recommendation(_Strict):
    method: str = Field(description="Studio method id, e.g. int8-static, int4, fp16, none")
    summary: str
    details: list[str] = Field(default_factory=list)
    source: str | None = None


class Claim(_Strict):
    text: str
    source: str
    confidence: Confidence


class ChipProfile(_Strict):
    schema_version: Literal[1] = CHIP_SCHEMA_VERSION
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str
    vendor: str
    kind: Literal["phone-soc", "pc-soc", "edge-soc", "m2-card", "board", "this-pc", "cpu"]
    description: str
    accelerators: list[Accelerator] = Field(min_length=1)
    memory: Memory = Memory()
    bundle_format: str
    connection: Literal["local", "adb", "pcie", "network"] = "local"
    recommended: dict[Literal["default", "llm"], Recommendation]
    claims: list[Claim] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    user_file: str | None = Field(None, description="set when loaded from the user's config")

    @model_validator(mode="after")
    def _has_default(self) -> ChipProfile:
        if "default" not in self.recommended:
            raise ValueError("'recommended' needs a 'default' entry")
        if not any(a.kind == "cpu" for a in self.accelerators):
            raise ValueError("'accelerators' needs a cpu entry (where unsupported ops fall back)")
        return self

    @property
    def runtime(self) -> str:
        return self.main.runtime

    @property
    def main(self) -> Accelerator:
        """The unit the studio targets: the NPU if there is one, else the first listed."""
        for kind in ("npu", "gpu"):
            for acc in self.accelerators:
                if acc.kind == kind:
                    return acc
        return self.accelerators[0]

    @property
    def cpu(self) -> Accelerator:
        return next(a for a in self.accelerators if a.kind == "cpu")

    @property
    def npu(self) -> Accelerator | None:
        return next((a for a in self.accelerators if a.kind == "npu"), None)

    def npu_tops_text(self) -> str:
        npu = self.npu
        if npu is None:
            return "no NPU"
        parts = [f"{f.value:g} TOPS {p.upper()}" for p, f in npu.peak_tops.items() if f.known]
        return ", ".join(parts) if parts else "NPU (speed not published)"

    def memory_text(self) -> str:
        cap, bw = self.memory.capacity_gb, self.memory.bandwidth_gbs
        parts = [self.memory.type or "memory type not published"]
        parts.append(f"{cap.value:g} GB" if cap.known else "capacity not published")
        parts.append(f"{bw.value:g} GB/s" if bw.known else "bandwidth not published")
        return ", ".join(parts)


# Older code and the wizard import ChipSummary: a profile carries every field it had.
ChipSummary = ChipProfile


def shipped_dir() -> Path:
    return assets_dir() / "chips"


def user_dir() -> Path:
    return config_dir() / "chips"


def load_chip_file(path: Path) -> ChipProfile:
    """Read one profile; a bad file raises BadInput naming the file and the field."""
    chip = load_model_file(ChipProfile, path)
    stem = path.stem
    if chip.id != stem:
        raise BadInput(
            f"{path.name}: 'id' is {quoted(chip.id)} but the file is named '{path.name}'",
            f"Rename the file to {shorten(chip.id)}.yaml or set id: {stem}",
        )
    return chip


def _profile_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


class Catalogue(BaseModel):
    chips: list[ChipProfile]
    problems: list[str] = Field(default_factory=list, description="one line per bad user file")


_cache: dict[tuple[Any, ...], Catalogue] = {}


def _stamp() -> tuple[tuple[str, int, int], ...]:
    """Which profile files exist and when they changed: the catalogue is re-read only then."""
    files = _profile_files(shipped_dir()) + _profile_files(user_dir())
    stats = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        stats.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(stats)


def load_catalogue() -> Catalogue:
    """Shipped profiles, then the user's; a user file may replace a shipped chip of the same id."""
    stamp = _stamp()
    cached = _cache.get(stamp)
    if cached is not None:
        return cached
    catalogue = _read_catalogue()
    _cache.clear()
    _cache[stamp] = catalogue
    return catalogue


def _read_catalogue() -> Catalogue:
    by_id: dict[str, ChipProfile] = {}
    for path in _profile_files(shipped_dir()):
        chip = load_chip_file(path)
        by_id[chip.id] = chip
    by_id[THIS_PC] = _with_this_machine(by_id[THIS_PC]) if THIS_PC in by_id else _fallback_pc()
    problems: list[str] = []
    for path in _profile_files(user_dir()):
        try:
            chip = load_chip_file(path)
        except BadInput as exc:
            problems.append(f"{path}: {exc.message}")
            continue
        by_id[chip.id] = chip.model_copy(update={"user_file": str(path)})
    ordered = sorted(by_id.values(), key=lambda c: (c.id != THIS_PC, c.vendor.lower(), c.name))
    return Catalogue(chips=ordered, problems=problems)


def list_chips() -> list[ChipProfile]:
    return load_catalogue().chips


def get_chip(chip_id: str) -> ChipProfile:
    catalogue = load_catalogue()
    for chip in catalogue.chips:
        if chip.id == chip_id:
            return chip
    for problem in catalogue.problems:
        if f"{chip_id}." in problem:
            raise BadInput(problem, "Fix the file in your chips folder")
    known = ", ".join(c.id for c in catalogue.chips)
    raise BadInput(f"Unknown chip '{chip_id}'", f"Use one of: {known} (see `studio chips`)")


def this_pc() -> ChipProfile:
    return get_chip(THIS_PC)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        return None


@lru_cache(maxsize=1)
def machine_facts() -> tuple[str, int, float | None]:
    return _cpu_name(), os.cpu_count() or 1, _memory_gb()


def _with_this_machine(chip: ChipProfile) -> ChipProfile:
    """This PC's identity and RAM are read from the machine, not written in a file."""
    name, cores, mem = machine_facts()
    memory = chip.memory.model_copy(
        update={
            "capacity_gb": Fact(
                value=round(mem, 1),
                source="os.sysconf(SC_PHYS_PAGES)",
                confidence=Confidence.measured,
            )
            if mem
            else Fact()
        }
    )
    description = f"{name}, {cores} cores, {platform.machine()} — measured on this machine"
    return chip.model_copy(
        update={
            "description": description,
            "memory": memory,
            "name": f"{THIS_PC_NAME} (CPU)",
            "vendor": f"{THIS_PC_NAME} ({platform.system()})",
        }
    )


def _fallback_pc() -> ChipProfile:
    cpu = Accelerator(
        kind="cpu",
        name="CPU",
        runtime="onnxruntime CPUExecutionProvider",
        precisions=["fp32", "int8"],
        control_flow=True,
    )
    chip = ChipProfile(
        id=THIS_PC,
        name=f"{THIS_PC_NAME} (CPU)",
        vendor=platform.system(),
        kind="this-pc",
        description="",
        accelerators=[cpu],
        bundle_format="ONNX",
        recommended={
            "default": Recommendation(method="int8-static", summary="INT8 static quantization")
        },
    )
    return _with_this_machine(chip)
