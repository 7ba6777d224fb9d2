"""Which way of running a bundle a device offers, and exactly what is missing when none.

In order of preference: a runner program the user points to (it must speak the runner protocol),
``python3`` with onnxruntime (runs the bundle's own runner.py), onnxruntime's native
``onnxruntime_perf_test`` (benchmarks only).
"""

from __future__ import annotations

from studio.core.devices.base import Device
from studio.core.devices.models import RuntimeInfo

PERF_TEST = "onnxruntime_perf_test"


def _script(folder: str, runner: str | None) -> str:
    from shlex import quote as q

    runner_check = f"[ -x {q(runner)} ] && echo yes || echo no" if runner else "echo none"
    return (
        "echo @@python; if command -v python3 >/dev/null 2>&1; then command -v python3; "
        'python3 -c \'import sys; print("py", sys.version.split()[0]); import onnxruntime as o; '
        'print("ort", o.__version__)\' 2>&1 | tail -n 3; fi; '
        f"echo @@perf; command -v {PERF_TEST} 2>/dev/null || "
        f"for p in {q(folder)}/../{PERF_TEST} /data/local/tmp/{PERF_TEST}; do "
        '[ -x "$p" ] && echo "$p" && break; done; '
        f"echo @@runner; {runner_check}; echo @@abi; getprop ro.product.cpu.abi 2>/dev/null || "
        "uname -m"
    )


def detect_over_shell(device: Device, folder: str, runner: str | None = None) -> RuntimeInfo:
    _code, out, _err = device.run_shell(_script(folder, runner), timeout=60)
    sections: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            sections[current] = []
        elif current:
            sections[current].append(line.strip())
    return decide(sections, runner)


def decide(sections: dict[str, list[str]], runner: str | None) -> RuntimeInfo:
    python_lines = sections.get("python", [])
    perf = next((p for p in sections.get("perf", []) if p.endswith(PERF_TEST)), "")
    abi = next((a for a in sections.get("abi", []) if a), "this device's CPU")
    if runner:
        if "yes" in sections.get("runner", []):
            return RuntimeInfo(
                kind="runner-binary", command=[runner], description=f"your runner {runner}"
            )
        return RuntimeInfo(
            kind=None,
            missing=f"The runner you chose ({runner}) is not on the device or cannot be executed. "
            f"Copy it there and make it executable: adb push <file> {runner} && "
            f"adb shell chmod +x {runner}",
        )
    py_version = next((line.split()[1] for line in python_lines if line.startswith("py ")), "")
    ort = next((line.split()[1] for line in python_lines if line.startswith("ort ")), "")
    if ort:
        return RuntimeInfo(
            kind="python",
            command=["python3"],
            description=f"Python {py_version} with onnxruntime {ort}",
        )
    if perf:
        return RuntimeInfo(
            kind="perf-test",
            command=[perf],
            description=f"onnxruntime_perf_test at {perf} (benchmark only)",
        )
    if not python_lines:
        python_part = "python3 is not installed"
    else:
        python_part = f"python3 {py_version} is installed but has no onnxruntime"
    return RuntimeInfo(
        kind=None,
        missing=(
            f"The device cannot run the model: {python_part}, and {PERF_TEST} was not found (on "
            f"PATH or in /data/local/tmp). Fix one of: install Python with onnxruntime (on a "
            f"phone: Termux, then `pkg install python` and `pip install onnxruntime`); or copy "
            f"{PERF_TEST} built for {abi} to /data/local/tmp; or choose your own runner program "
            f"(--runner)"
        ),
    )
