"""Which way of running a bundle a device offers, and exactly what is missing when none.

In order of preference: a runner program the user points to (it must speak the runner protocol),
``python3`` with the studio's private runtime (`studio device-setup`, run with that folder on
PYTHONPATH), ``python3`` with onnxruntime of its own (runs the bundle's own runner.py),
onnxruntime's native ``onnxruntime_perf_test`` (benchmarks only).
"""

from __future__ import annotations

from studio.core.devices.base import Device
from studio.core.devices.models import RuntimeInfo

PERF_TEST = "onnxruntime_perf_test"


_PY_CHECK = (
    'python3 -c \'import sys; print("py", sys.version.split()[0]); import onnxruntime as o; '
    'print("ort", o.__version__)\' 2>&1 | tail -n 3'
)


def private_site(private: str) -> str:
    from studio.core.devices.setup.layout import SITE

    return f"{private}/{SITE}"


def _script(folder: str, runner: str | None, private: str = "") -> str:
    from shlex import quote as q

    from studio.core.devices.setup.layout import MARKER

    runner_check = f"[ -x {q(runner)} ] && echo yes || echo no" if runner else "echo none"
    # The private runtime was proven by the runner's hello when installed: its marker says what
    # it holds, without starting Python (seconds on a slow board) to ask again.
    marker = q(f"{private}/{MARKER}" if private else "/nonexistent")
    return (
        f"echo @@private; cat {marker} 2>/dev/null; echo; "
        f"echo @@python; if [ ! -f {marker} ] && command -v python3 >/dev/null 2>&1; then "
        f"command -v python3; {_PY_CHECK}; fi; "
        f"echo @@perf; command -v {PERF_TEST} 2>/dev/null || "
        f"for p in {q(folder)}/../{PERF_TEST} /data/local/tmp/{PERF_TEST}; do "
        '[ -x "$p" ] && echo "$p" && break; done; '
        f"echo @@runner; {runner_check}; echo @@abi; getprop ro.product.cpu.abi 2>/dev/null || "
        "uname -m"
    )


def detect_over_shell(
    device: Device, folder: str, runner: str | None = None, private: str = ""
) -> RuntimeInfo:
    """``private``: the folder of the studio's own runtime on the device (may be absent)."""
    _code, out, _err = device.run_shell(_script(folder, runner, private), timeout=120)
    sections: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            sections[current] = []
        elif current:
            sections[current].append(line.strip())
    return decide(sections, runner, private)


def _marker(lines: list[str]) -> dict[str, str]:
    import json

    try:
        data = json.loads("".join(lines) or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _versions(lines: list[str]) -> tuple[str, str]:
    """(Python version, onnxruntime version) from the check's ``py``/``ort`` lines."""
    found = {line.split()[0]: line.split()[1] for line in lines if len(line.split()) > 1}
    return found.get("py", ""), found.get("ort", "")


def decide(sections: dict[str, list[str]], runner: str | None, private: str = "") -> RuntimeInfo:
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
    own = _marker(sections.get("private", []))
    if own.get("runtime"):
        return RuntimeInfo(
            kind="python",
            command=["env", f"PYTHONPATH={private_site(private)}", "python3"],
            description=f"Python {own.get('python', '')} with {own['runtime']} (the studio's runtime)",
        )
    py_version, ort = _versions(python_lines)
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
            f"PATH or in /data/local/tmp). Fix one of: on a Linux board, install the studio's "
            f"runtime (Install runtime in the Deploy step, or `studio device-setup SERIAL`); on a "
            f"phone, Termux, then `pkg install python` and `pip install onnxruntime`; or copy "
            f"{PERF_TEST} built for {abi} to /data/local/tmp; or choose your own runner program "
            f"(--runner)"
        ),
    )
