"""What a device is, as far as choosing wheels goes: OS, CPU architecture, Python, C library.

One shell round trip; the answers become pip's ``--platform`` / ``--python-version`` options.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.devices.base import Device
from studio.core.errors import BadInput
from studio.core.messages import message

MIN_PYTHON = (3, 10)  # the oldest Python onnxruntime still publishes wheels for
OLDEST_GLIBC = 17  # manylinux2014
# uname -m → the architecture in wheel tags.
ARCHES = {"aarch64": "aarch64", "arm64": "aarch64", "x86_64": "x86_64", "amd64": "x86_64"}

PROBE_SCRIPT = (
    "echo @@android; getprop ro.build.version.release 2>/dev/null; echo @@machine; uname -m; "
    "echo @@python; command -v python3 >/dev/null 2>&1 && python3 -S -c "
    '\'import sys, platform; print("%d.%d.%d" % sys.version_info[:3]); '
    'print(sys.implementation.name); print(" ".join(platform.libc_ver()))\' 2>&1 | head -n 4; '
    "echo @@end"
)


@dataclass(frozen=True)
class DevicePlatform:
    serial: str
    android: bool
    machine: str  # as uname -m says it
    python: str  # "3.11.2", "" when there is no python3
    implementation: str
    libc: str  # "glibc 2.36", "" when unknown (musl, Android's bionic)

    @property
    def python_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.python.split(".")[:2] if p.isdigit())

    @property
    def arch(self) -> str:
        return ARCHES.get(self.machine, "")

    def glibc_minor(self) -> int:
        name, _, version = self.libc.partition(" ")
        major, _, minor = version.partition(".")
        return int(minor) if name == "glibc" and major == "2" and minor.isdigit() else 0

    def pip_platforms(self) -> list[str]:
        """Every manylinux tag the device's C library accepts, newest first (pip does not widen
        a ``manylinux_2_X`` tag to the older ones by itself)."""
        tags = [f"manylinux_2_{k}_{self.arch}" for k in range(self.glibc_minor(), 16, -1)]
        return [*tags, f"manylinux2014_{self.arch}"]

    def cache_key(self) -> str:
        major, minor = self.python_tuple
        return f"linux-{self.arch}-glibc2.{self.glibc_minor()}-cp{major}{minor}"

    def describe(self) -> str:
        return f"Linux {self.machine}, Python {self.python}, {self.libc or 'unknown C library'}"


def probe(dev: Device) -> DevicePlatform:
    _code, out, _err = dev.run_shell(PROBE_SCRIPT, timeout=120)
    sections: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            sections[current] = []
        elif current and line.strip():
            sections[current].append(line.strip())
    python = sections.get("python", [])
    version = python[0] if python and python[0][:1].isdigit() else ""
    return DevicePlatform(
        serial=dev.serial,
        android=bool(sections.get("android")),
        machine=next(iter(sections.get("machine", [])), ""),
        python=version,
        implementation=python[1] if version and len(python) > 1 else "",
        libc=python[2] if version and len(python) > 2 else "",
    )


def check(plat: DevicePlatform) -> None:
    """Refuse, in one line, a device the studio cannot install a runtime on."""
    if plat.android:
        raise BadInput(msg=message("device_setup.android", serial=plat.serial))
    if not plat.python:
        raise BadInput(msg=message("device_setup.no_python", serial=plat.serial))
    if plat.python_tuple < MIN_PYTHON or plat.implementation not in ("cpython", ""):
        raise BadInput(
            msg=message(
                "device_setup.python_too_old",
                serial=plat.serial,
                python=f"{plat.implementation or 'python'} {plat.python}",
                minimum=".".join(map(str, MIN_PYTHON)),
            )
        )
    if not plat.arch or plat.glibc_minor() < OLDEST_GLIBC:
        raise BadInput(
            msg=message("device_setup.no_wheels", serial=plat.serial, platform=plat.describe())
        )
