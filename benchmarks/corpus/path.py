"""Run the new-user path on one model through the CLI, as a user would type it, and tabulate.

check --chip this-pc → compress --method auto → bundle → verify, then profile for the measured
latency. No --shape, no --calib: whatever the studio cannot do alone counts as a failure. Each
step is a subprocess, so a native crash is a row in the table, not the end of the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Step:
    ok: bool
    data: dict = field(default_factory=dict)
    line: str = ""
    """The failure as one line: the studio's own message, or a traceback's last line."""
    bug: bool = False
    """A traceback, a crash or a time-out rather than a sentence."""


@dataclass
class PathResult:
    name: str
    kind: str
    failed_step: str = ""
    line: str = ""
    bug: bool = False
    chosen: str = ""
    measured_at: str = ""
    cosine: float | None = None
    predicted_ms: float | None = None
    measured_ms: float | None = None
    seconds: float = 0.0
    profile_line: str = ""
    """Why `studio profile` failed, if it did (it is not part of the path)."""

    @property
    def ok(self) -> bool:
        return not self.failed_step

    @property
    def error_pct(self) -> float | None:
        if self.predicted_ms is None or not self.measured_ms:
            return None
        return 100.0 * (self.predicted_ms - self.measured_ms) / self.measured_ms


def _failure_line(code: int, stderr: str) -> tuple[str, bool]:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if code < 0 or code >= 128:
        number = -code if code < 0 else code - 128
        return f"crashed: {signal.Signals(number).name} (exit {code})", True
    if "Traceback (most recent call last)" in stderr:
        return (lines[-1] if lines else "traceback"), True
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        # The message runs from "error:" to the end: what went wrong, then what to do.
        start = lines.index(errors[-1])
        return " ".join(lines[start:]).removeprefix("error: "), code != 2
    return (lines[-1] if lines else f"exit {code} with no message"), True


def run_step(args: list[str], timeout: float) -> Step:
    """``studio ARGS --json -q`` in a subprocess; its JSON on success, its one line otherwise."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "studio", *args, "--json", "-q"]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return Step(False, line=f"timed out after {timeout:.0f} s", bug=True)
    if done.returncode != 0:
        line, bug = _failure_line(done.returncode, done.stderr)
        return Step(False, line=line, bug=bug)
    try:
        return Step(True, data=json.loads(done.stdout))
    except json.JSONDecodeError:
        return Step(False, line="printed no JSON: " + done.stdout[-200:], bug=True)


def _shape_text(shapes: dict) -> str:
    return ", ".join(f"{k}={'×'.join(str(d) for d in v)}" for k, v in shapes.items())


def _measured_at(check: dict, compress: dict) -> str:
    """The input size the drift and timing were measured at, as the studio reported it."""
    report = compress.get("report") or {}
    for key in ("measured_at", "input_shapes", "shapes"):
        found = report.get(key) or compress.get(key)
        if isinstance(found, dict) and found:
            return _shape_text(found)
        if isinstance(found, str) and found:
            return found
    assumed = {d["input"]: d["assumed_shape"] for d in check.get("dynamic_inputs", [])}
    return _shape_text(assumed) if assumed else "fixed by the model"


def _cosine(compress: dict) -> float | None:
    outputs = (compress.get("report") or {}).get("outputs") or []
    values = [o["cosine"] for o in outputs if o.get("cosine") is not None]
    return min(values) if values else None


def run_path(
    name: str, kind: str, model: Path, work: Path, timeout: float = 900, profile: bool = True
) -> PathResult:
    """The whole path on ``model``; the first failing step ends it, as it would for a user.

    ``profile``: also time the original with `studio profile` to compare with check's prediction.
    """
    import time

    started = time.perf_counter()
    result = PathResult(name, kind)
    work.mkdir(parents=True, exist_ok=True)
    out, bundle = work / "compressed.onnx", work / "bundle"
    steps = [
        ("check", ["check", str(model), "--chip", "this-pc"]),
        ("compress", ["compress", str(model), "--method", "auto", "--out", str(out), "--force"]),
        ("bundle", ["bundle", str(out), "--chip", "this-pc", "--out", str(bundle), "--force"]),
        ("verify", ["verify", str(bundle)]),
    ]
    data: dict[str, dict] = {}
    for label, args in steps:
        step = run_step(args, timeout)
        if not step.ok:
            result.failed_step, result.line, result.bug = label, step.line, step.bug
            break
        data[label] = step.data
    if "verify" in data and not data["verify"].get("ok"):
        result.failed_step, result.line = "verify", "the bundle did not verify"
    if profile and "check" in data:
        # Timed even when compress failed: the prediction is checked for every model.
        timing = run_step(["profile", str(model)], timeout)
        data["profile"] = timing.data
        if not timing.ok:
            result.profile_line = timing.line + (" (BUG)" if timing.bug else "")
    check, compress = data.get("check", {}), data.get("compress", {})
    result.chosen = compress.get("chosen") or ""
    if compress:
        result.measured_at = _measured_at(check, compress)
        result.cosine = _cosine(compress)
    result.predicted_ms = (check.get("latency") or {}).get("estimate_ms")
    timed = data.get("profile", {})
    # check's estimate is calibrated with all cores, so compare it with the all-cores median.
    result.measured_ms = timed.get("end_to_end_all_cores_ms") or timed.get("end_to_end_ms")
    result.seconds = time.perf_counter() - started
    return result


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _clip(line: str, limit: int) -> str:
    """ONNX Runtime names the node first and gives the reason last: keep both ends."""
    if len(line) <= limit:
        return line.replace("|", "/")
    half = limit // 2
    return (line[:half] + " … " + line[-half:]).replace("|", "/")


def table(results: list[PathResult]) -> str:
    """A Markdown table, then the share that went through with no manual step."""
    rows = [
        "| model | kind | result | measured at | auto chose | cosine | predicted ms | "
        "measured ms | error | time s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        status = "ok" if r.ok else f"failed in {r.failed_step}" + (" (BUG)" if r.bug else "")
        if r.line:
            status += f": {_clip(r.line, 200)}"
        if r.profile_line:
            status += f"; profile failed: {_clip(r.profile_line, 120)}"
        error = r.error_pct
        rows.append(
            f"| {r.name} | {r.kind} | {status} | {r.measured_at or '—'} | {r.chosen or '—'} | "
            f"{_num(r.cosine, '.4f')} | {_num(r.predicted_ms, '.2f')} | "
            f"{_num(r.measured_ms, '.2f')} | {'—' if error is None else f'{error:+.0f}%'} | "
            f"{r.seconds:.0f} |"
        )
    passed = sum(r.ok for r in results)
    bugs = sum(r.bug for r in results)
    errors = [abs(r.error_pct) for r in results if r.error_pct is not None]
    within = (
        f"; prediction within ±10%: {sum(e <= 10 for e in errors)}/{len(errors)}, "
        f"±25%: {sum(e <= 25 for e in errors)}/{len(errors)}"
        if errors
        else ""
    )
    share = 100 * passed / len(results) if results else 0
    rows.append(
        f"\nNo manual step: {passed}/{len(results)} ({share:.0f}%); "
        f"failures that were tracebacks, crashes or time-outs: {bugs}{within}"
    )
    return "\n".join(rows)
