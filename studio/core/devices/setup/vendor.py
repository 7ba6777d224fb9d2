"""The chip maker's own runtime for a board, where it is published as a wheel on PyPI.

Checked with `pip download --only-binary=:all: --platform manylinux_2_*_aarch64 --python-version
3.11`: onnxruntime-qnn 2.7.0 (Qualcomm's HTP, a plugin for the onnxruntime installed beside it)
and openvino 2026.4.1 (Intel's runtime; on Arm its CPU plugin) have aarch64 Linux wheels. Axera's
pyaxengine is published only on its GitHub releases; MediaTek's NeuroPilot has no Python wheel.
"""

from __future__ import annotations

from pydantic import BaseModel

from studio.core.messages import Message, message

# By the chip profile's vendor: the pinned requirement pip fetches beside onnxruntime.
VENDOR_WHEELS = {
    "Qualcomm": "onnxruntime-qnn==2.7.0",
    "Intel": "openvino==2026.4.1",
}
# Vendors whose runtime exists but not as a wheel: where it comes from instead.
VENDOR_ELSEWHERE = {
    "Axera": "pyaxengine / axllm, from github.com/AXERA-TECH (pyaxengine releases, ax-llm)",
    "MediaTek": "NeuroPilot, through onnxruntime's NNAPI provider on Android",
}


class VendorRuntime(BaseModel):
    chip: str
    requirement: str = ""
    """The wheel installed beside onnxruntime; empty when there is none for this board."""
    note: Message


def vendor_runtime(chip_id: str | None) -> VendorRuntime:
    """What the board's chip maker offers as a runtime, and whether the studio installs it."""
    from studio.core.chips.catalogue import get_chip

    try:
        chip = get_chip(chip_id) if chip_id else None
    except Exception:  # an unknown SoC: nothing vendor-specific to offer
        chip = None
    if chip is None:
        return VendorRuntime(chip="", note=message("device_setup.vendor_none", chip="this board"))
    vendor = chip.vendor.split(" (")[0]
    if vendor in VENDOR_WHEELS:
        requirement = VENDOR_WHEELS[vendor]
        note = message("device_setup.vendor_wheel", chip=chip.name, requirement=requirement)
        return VendorRuntime(chip=chip.id, requirement=requirement, note=note)
    if vendor in VENDOR_ELSEWHERE:
        note = message(
            "device_setup.vendor_elsewhere", chip=chip.name, where=VENDOR_ELSEWHERE[vendor]
        )
        return VendorRuntime(chip=chip.id, note=note)
    return VendorRuntime(chip=chip.id, note=message("device_setup.vendor_none", chip=chip.name))
