"""What the studio knows about a device and what a deploy did, as typed, versioned records."""

from __future__ import annotations

import enum

from pydantic import BaseModel

from studio.core.messages import Message

SCHEMA_VERSION = 1
THIS_PC_SERIAL = "this-pc"


class DeviceState(enum.StrEnum):
    READY = "ready"
    UNAUTHORIZED = "unauthorized"
    OFFLINE = "offline"
    NO_PERMISSION = "no-permission"
    CONNECTING = "connecting"
    OTHER_MODE = "other-mode"


class DeviceInfo(BaseModel):
    """One row of the device list. Identification fields are None when the device cannot be asked
    (not ready yet) or does not report them."""

    version: int = SCHEMA_VERSION
    serial: str
    kind: str  # "adb" or "this-pc"
    state: DeviceState
    adb_state: str = ""
    status: str  # plain words: "Ready", "Not authorized", ...
    fix: str = ""  # what the user should do, empty when ready
    status_message: Message | None = None  # ``status`` and ``fix`` as data, for the GUI
    fix_message: Message | None = None
    transport: str = ""  # "usb", "wifi" or "" (this PC)
    name: str = ""
    manufacturer: str = ""
    model: str = ""
    os: str = ""
    abi: str = ""
    soc: str = ""
    chip_id: str | None = None
    chip_name: str = ""
    ram_bytes: int | None = None
    free_bytes: int | None = None
    default_dir: str = ""

    @property
    def ready(self) -> bool:
        return self.state is DeviceState.READY

    def title(self) -> str:
        return self.name or self.model or self.serial

    def summary(self) -> str:
        """One line of facts: OS · ABI · SoC → chip · RAM · free space."""
        from studio.core.units import human_size

        parts = [self.os, self.abi]
        if self.chip_name and self.soc and self.kind != "this-pc":
            parts.append(f"{self.soc} → {self.chip_name}")
        else:
            parts.append(self.chip_name or self.soc)
        if self.ram_bytes:
            # In the chip catalogue's GB (10^9 bytes), so Target and Deploy show one figure for
            # the same PC (they read 25.3 GB and 23.5 GB).
            parts.append(f"RAM {self.ram_bytes / 1e9:.1f} GB")
        if self.free_bytes is not None:
            parts.append(f"{human_size(self.free_bytes)} free")
        return " · ".join(p for p in parts if p)


class DeployResult(BaseModel):
    version: int = SCHEMA_VERSION
    serial: str
    device: str
    remote_dir: str
    files: int
    pushed: list[str]
    skipped: list[str]
    resumed: list[str]
    bytes_pushed: int
    total_bytes: int
    seconds: float
    push_seconds: float = 0.0  # time spent moving bytes (the rest is checking)
    verified: bool

    @property
    def rate(self) -> float:
        """Transfer rate in bytes per second while pushing."""
        return self.bytes_pushed / self.push_seconds if self.push_seconds > 0 else 0.0


class DeviceVerifyResult(BaseModel):
    version: int = SCHEMA_VERSION
    serial: str
    remote_dir: str
    ok: bool
    checked: int
    missing: list[str] = []
    changed: list[str] = []

    def problems(self) -> list[str]:
        return [f"missing on device: {p}" for p in self.missing] + [
            f"changed on device: {p}" for p in self.changed
        ]


class RuntimeInfo(BaseModel):
    """How the device can run a bundle; ``kind`` is None when it cannot, ``missing`` says why."""

    version: int = SCHEMA_VERSION
    kind: str | None  # "python", "perf-test", "runner-binary"
    command: list[str] = []
    description: str = ""
    missing: str = ""
