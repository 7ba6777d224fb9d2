"""Turn what a device prints (getprop, /proc/meminfo, df) into a DeviceInfo, and its SoC into a
chip profile id when the catalogue has one."""

from __future__ import annotations

import re

from studio.core.errors import BadInput

# SoC strings as devices report them (ro.soc.model, ro.board.platform, ro.hardware, the device tree
# model of Linux boards), lower case → chip profile ids in assets/chips/. Checked against the
# catalogue at run time, so an id whose profile is absent simply does not match.
SOC_TO_CHIP: dict[str, str] = {
    "sm8650": "qualcomm-snapdragon-8-gen-3",
    "pineapple": "qualcomm-snapdragon-8-gen-3",
    "mt6989": "mediatek-dimensity-9300",
    "mt6897": "mediatek-dimensity-8300",
    "ax650n": "axera-ax650n",
    "ax650": "axera-ax650n",
    "bcm2712": "raspberry-pi-5",
    "raspberry pi 5": "raspberry-pi-5",
}
# An Android arm64 phone whose SoC has no profile still runs the generic CPU profile.
GENERIC_ANDROID = "generic-arm64-android-cpu"

# One shell round trip gathers everything; sections are separated by marker lines.
IDENTIFY_SCRIPT = (
    "getprop 2>/dev/null; echo '@@meminfo'; cat /proc/meminfo 2>/dev/null; "
    "echo '@@uname'; uname -m 2>/dev/null; echo '@@dtmodel'; "
    "cat /proc/device-tree/model 2>/dev/null; echo; echo '@@cpuinfo'; "
    "grep -i -m1 -E '^(Hardware|model name)' /proc/cpuinfo 2>/dev/null; echo '@@osrelease'; "
    "cat /etc/os-release 2>/dev/null; echo '@@end'"
)


def split_sections(text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {"getprop": []}
    current = "getprop"
    for line in text.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            sections[current] = []
        else:
            sections[current].append(line)
    return {name: "\n".join(lines).strip("\n\0 ") for name, lines in sections.items()}


def parse_getprop(text: str) -> dict[str, str]:
    """``[ro.product.model]: [Pixel 8]`` lines → dict."""
    props: dict[str, str] = {}
    for match in re.finditer(r"^\[([^\]]+)\]: \[(.*)\]\s*$", text, re.MULTILINE):
        props[match.group(1)] = match.group(2)
    return props


def parse_meminfo(text: str) -> int | None:
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_df_available(text: str) -> int | None:
    """Available bytes from ``df -k`` (toybox, busybox, coreutils; long names may wrap a line)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) < 2 or ("Available" not in lines[0] and "Free" not in lines[0]):
        return None
    fields = " ".join(lines[1:]).split()
    numbers = [f for f in fields if f.isdigit()]
    # Columns: size, used, available (numbers in that order after the file system name).
    if len(numbers) < 3:
        return None
    return int(numbers[2]) * 1024


def parse_os_release(text: str) -> str:
    match = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', text, re.MULTILINE)
    return match.group(1) if match else ""


def soc_candidates(props: dict[str, str], extra: list[str]) -> list[str]:
    keys = (
        "ro.soc.model",
        "ro.board.platform",
        "ro.hardware",
        "ro.hardware.chipname",
        "ro.chipname",
    )
    return [props[k] for k in keys if props.get(k)] + [e for e in extra if e]


def _exists(chip_id: str) -> bool:
    from studio.core.chips.catalogue import get_chip

    try:
        get_chip(chip_id)
    except BadInput:
        return False
    return True


def chip_for_soc(candidates: list[str], android_abi: str = "") -> str | None:
    """The chip profile id for the first SoC string the catalogue knows; for an unknown arm64
    Android SoC the generic Android CPU profile; else None."""
    for raw in candidates:
        text = raw.lower()
        for key, chip_id in SOC_TO_CHIP.items():
            if re.search(rf"(?<![a-z0-9]){re.escape(key)}", text) and _exists(chip_id):
                return chip_id
    if android_abi.startswith("arm64") and _exists(GENERIC_ANDROID):
        return GENERIC_ANDROID
    return None


def chip_name(chip_id: str | None) -> str:
    from studio.core.chips.catalogue import get_chip

    if not chip_id:
        return ""
    try:
        return get_chip(chip_id).name
    except BadInput:
        return ""


def describe_soc(props: dict[str, str], extra: list[str]) -> str:
    maker = props.get("ro.soc.manufacturer", "")
    model = props.get("ro.soc.model") or props.get("ro.board.platform") or props.get("ro.hardware")
    if model:
        return f"{maker} {model}".strip()
    return next((e for e in extra if e), "")
