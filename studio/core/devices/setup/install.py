"""`studio device-setup`: put onnxruntime, onnxruntime-genai and numpy in a private folder of the
studio on a board, proven working before it is used.

Rules (why they exist):
- Everything happens in ``.studio-runtime.studio-part`` next to the final folder; only after the
  runner's ``hello`` ran there with those packages is it renamed to ``.studio-runtime``. Whatever
  breaks (cable, full storage, Cancel), nothing half-installed ever looks complete.
- Wheels are pushed under ``.studio-part`` names and renamed when whole, and wheels already on the
  device with the right SHA-256 are skipped, so a second try resumes the push.
- Never the system Python's site-packages and never root: the device's python3 is only started with
  the folder on PYTHONPATH.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from studio.core.bundle.folder import sha256_file
from studio.core.devices.adb_device import q
from studio.core.devices.base import Device
from studio.core.devices.deploy import PART, PushMeter
from studio.core.devices.listing import get_device
from studio.core.devices.models import THIS_PC_SERIAL
from studio.core.devices.setup import device_install
from studio.core.devices.setup.layout import MARKER, RUNTIME_DIR, SITE
from studio.core.devices.setup.probe import DevicePlatform, check, probe
from studio.core.devices.setup.vendor import vendor_runtime
from studio.core.devices.setup.wheels import fetch_wheels
from studio.core.errors import BadInput, JobCancelled, OutputError
from studio.core.messages import Message, message
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.units import human_size

RUNNER = Path(__file__).resolve().parents[3] / "runner" / "runner.py"
UNPACKED_FACTOR = 3  # wheels unpack to about three times their size (onnxruntime's .so files)
SPACE_MARGIN = 16 << 20


class RuntimeSetupResult(BaseModel):
    version: int = 1
    serial: str
    folder: str
    action: Literal["installed", "present", "removed", "absent"]
    platform: str = ""
    python: str = ""
    runtime: str = ""  # "onnxruntime 1.32.0", from the runner's hello
    providers: list[str] = []
    wheels: list[str] = []
    vendor: str = ""  # the chip maker's runtime wheel installed too, e.g. "onnxruntime-qnn==2.7.0"
    vendor_note: Message | None = None
    bytes_pushed: int = 0
    seconds: float


def runtime_folder(dev: Device) -> str:
    return dev.default_dir(RUNTIME_DIR)


def _stop_if(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise JobCancelled("Runtime setup cancelled", "Nothing half-installed is used")


def _hello(dev: Device, folder: str, runner: str) -> dict[str, object] | str:
    """The runner's hello event, run by the device's python3 with only ``folder`` added; the
    error text when it does not start."""
    code, out, err = dev.run_shell(
        f"cd {q(folder)} && PYTHONPATH={q(folder + '/' + SITE)} python3 {q(runner)} hello", 300
    )
    for line in out.splitlines():
        if line.startswith("{") and '"hello"' in line:
            event: dict[str, object] = json.loads(line)
            if code == 0 and event.get("runtime", "none") != "none":
                return event
    tail = [line for line in (err + out).splitlines() if line.strip()]
    return tail[-1][:300] if tail else f"exit code {code}"


def _present(dev: Device, final: str, wheels: list[str]) -> dict[str, object] | None:
    _code, out, _err = dev.run_shell(f"cat {q(final + '/' + MARKER)} 2>/dev/null", 30)
    try:
        marker = json.loads(out or "{}")
    except ValueError:
        return None
    if not isinstance(marker, dict) or marker.get("wheels") != wheels:
        return None
    # The hello it answered when installed; starting Python again would cost seconds per call.
    return {"runtime": marker.get("runtime", ""), "providers": marker.get("providers", [])}


def _push(
    dev: Device, wheels: list[Path], tmp: str, report: Reporter, cancel: threading.Event | None
) -> int:
    files = [*wheels, RUNNER, Path(device_install.__file__)]
    remote = {
        p: f"{tmp}/wheels/{p.name}" if p.suffix == ".whl" else f"{tmp}/{p.name}" for p in files
    }
    rel = {p: remote[p][len(tmp) + 1 :] for p in files}
    have = dev.hash_files(tmp, [name for r in rel.values() for name in (r, r + PART)])
    digest = {p: sha256_file(p) for p in files}
    # A whole .studio-part left by a cut push only needs its rename.
    whole = [
        p for p in files if have.get(rel[p]) != digest[p] and have.get(rel[p] + PART) == digest[p]
    ]
    todo = [p for p in files if have.get(rel[p]) != digest[p] and p not in whole]
    size = sum(p.stat().st_size for p in todo)
    meter = PushMeter(size, report)
    dev.send_files([(p, remote[p] + PART) for p in todo], meter, cancel)
    dev.rename([(remote[p] + PART, remote[p]) for p in todo + whole])
    return size


def _install(dev: Device, tmp: str, plat: DevicePlatform) -> None:
    code, out, err = dev.run_shell(
        f"cd {q(tmp)} && rm -rf {SITE} && python3 -S device_install.py wheels {SITE}", 1800
    )
    if code == device_install.NO_SPACE_EXIT or "No space left" in out + err:
        dev.run_shell(f"rm -rf {q(tmp + '/' + SITE)}", 120)
        free = dev.free_bytes(tmp)
        raise OutputError(
            msg=message(
                "device_setup.no_space",
                serial=plat.serial,
                free=human_size(free or 0),
                folder=tmp,
                needed="more",
            )
        )
    if code != 0:
        lines = [line for line in (out + err).splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit code {code}"
        raise OutputError(
            msg=message("device_setup.install_failed", serial=plat.serial, detail=detail)
        )


def _check_space(dev: Device, wheels: list[Path], base: str, plat: DevicePlatform) -> None:
    needed = sum(p.stat().st_size for p in wheels) * (1 + UNPACKED_FACTOR)
    free = dev.free_bytes(base)
    if free is not None and needed + SPACE_MARGIN > free:
        raise OutputError(
            msg=message(
                "device_setup.no_space",
                serial=plat.serial,
                free=human_size(free),
                folder=base,
                needed=human_size(needed),
            )
        )


def setup_device_runtime(
    device: str | None,
    *,
    remove: bool = False,
    report: Reporter = NULL_REPORTER,
    cancel: threading.Event | None = None,
) -> RuntimeSetupResult:
    """Install (or with ``remove`` take away) the studio's runtime on a phone or board."""
    started = time.monotonic()
    if device == THIS_PC_SERIAL:
        raise BadInput(msg=message("device_setup.this_pc"))
    dev = get_device(device)
    final = runtime_folder(dev)
    tmp = final + PART
    if remove:
        return _remove(dev, final, report, started)
    report.progress(0.0, f"Asking {dev.serial} for its system and Python")
    plat = probe(dev)
    check(plat)
    report.progress(0.03, f"Finding the runtime for {plat.describe()}")
    vendor = vendor_runtime(dev.describe().chip_id)
    wheels = fetch_wheels(plat, cancel, (vendor.requirement,) if vendor.requirement else ())
    names = [p.name for p in wheels]
    done: dict[str, object] = {
        "serial": dev.serial,
        "folder": final,
        "platform": plat.describe(),
        "python": plat.python,
        "wheels": names,
        "vendor": vendor.requirement,
        "vendor_note": vendor.note,
    }
    report.progress(0.15, "Checking what is already on the device")
    hello = _present(dev, final, names)
    if hello is not None:
        report.progress(1.0, "The runtime is already installed")
        return _result(done, "present", hello, 0, started)
    _check_space(dev, wheels, final.rsplit("/", 1)[0], plat)
    _stop_if(cancel)
    pushed = _push(dev, wheels, tmp, report.sub(0.15, 0.7), cancel)
    _stop_if(cancel)
    report.progress(0.72, f"Unpacking {len(wheels)} packages on the device")
    _install(dev, tmp, plat)
    _stop_if(cancel)
    report.progress(0.9, "Starting the runner with the new runtime")
    hello = _verify_and_move(dev, tmp, final, names, plat)
    report.progress(1.0, "Runtime installed and verified")
    return _result(done, "installed", hello, pushed, started)


def _remove(dev: Device, final: str, report: Reporter, started: float) -> RuntimeSetupResult:
    report.progress(0.5, f"Removing the runtime from {dev.serial}")
    _code, out, _ = dev.run_shell(
        f"[ -e {q(final)} ] && echo present; rm -rf {q(final + PART)} {q(final)}", 600
    )
    action: Literal["removed", "absent"] = "removed" if "present" in out else "absent"
    report.progress(1.0, "Removed" if action == "removed" else "Nothing to remove")
    return RuntimeSetupResult(
        serial=dev.serial, folder=final, action=action, seconds=time.monotonic() - started
    )


def _verify_and_move(
    dev: Device, tmp: str, final: str, names: list[str], plat: DevicePlatform
) -> dict[str, object]:
    """The runner's hello in ``tmp``; then the marker is written and ``tmp`` becomes ``final``."""
    hello = _hello(dev, tmp, "runner.py")
    if not isinstance(hello, dict):
        dev.run_shell(f"rm -rf {q(tmp + '/' + SITE)}", 120)
        raise OutputError(
            msg=message("device_setup.verify_failed", serial=dev.serial, detail=hello)
        )
    marker = json.dumps(
        {
            "version": 1,
            "wheels": names,
            "python": plat.python,
            "runtime": hello.get("runtime", ""),
            "providers": hello.get("providers", []),
        }
    )
    code, _out, err = dev.run_shell(
        f"cd {q(tmp)} && rm -rf wheels device_install.py && printf '%s' {q(marker)} > {MARKER} "
        f"&& rm -rf {q(final)} && mv {q(tmp)} {q(final)}",
        300,
    )
    if code != 0:
        raise OutputError(msg=message("device_setup.install_failed", serial=dev.serial, detail=err))
    return hello


def _result(
    done: dict[str, object],
    action: Literal["installed", "present"],
    hello: dict[str, object],
    pushed: int,
    started: float,
) -> RuntimeSetupResult:
    return RuntimeSetupResult.model_validate(
        {
            **done,
            "action": action,
            "runtime": hello.get("runtime", ""),
            "providers": hello.get("providers", []),
            "bytes_pushed": pushed,
            "seconds": time.monotonic() - started,
        }
    )
