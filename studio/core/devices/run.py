"""Run a deployed bundle on a device and stream the runner's JSON events back live."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from studio.core.bundle.folder import read_manifest
from studio.core.bundle.runner_protocol import (
    BenchResult,
    DoneEvent,
    ErrorEvent,
    HelloEvent,
    ProgressEvent,
    ResultEvent,
    RunnerEvent,
    parse_event,
)
from studio.core.devices.deploy import deployed_matches, resolve_target
from studio.core.devices.listing import get_device
from studio.core.devices.models import THIS_PC_SERIAL, RuntimeInfo
from studio.core.devices.runner_trust import check_bundle_runner, studio_runner
from studio.core.errors import BadInput
from studio.core.messages import Fix, message
from studio.core.progress import NULL_REPORTER, Reporter

MODES = ("bench", "generate")


class RunOutcome(BaseModel):
    version: int = 1
    serial: str
    mode: str
    runtime: RuntimeInfo
    ok: bool
    result: dict[str, Any] | None = None
    error: str = ""
    fix: str = ""
    exit_code: int | None = None
    seconds: float
    events: int

    def bench(self) -> BenchResult | None:
        if self.mode != "bench" or not self.result:
            return None
        return BenchResult.model_validate(self.result)


def _argv(
    runtime: RuntimeInfo, mode: str, remote: str, entry: str, opts: dict[str, Any], script: str
) -> list[str]:
    if runtime.kind == "perf-test":
        if mode != "bench":
            raise BadInput(
                "onnxruntime_perf_test on the device can only benchmark",
                "Text generation needs python3 with onnxruntime on the device",
            )
        return [*runtime.command, "-m", "times", "-r", str(opts["runs"]), "-e", "cpu", "-I", entry]
    args = [mode, "--bundle", remote, "--runs", str(opts["runs"]), "--warmup", str(opts["warmup"])]
    if opts.get("threads"):
        args += ["--threads", str(opts["threads"])]
    if mode == "generate":
        args += ["--prompt", opts.get("prompt") or "", "--max-tokens", str(opts["max_tokens"])]
        for name, value in (opts.get("sampling") or {}).items():
            args += ["--" + name.replace("_", "-"), str(value)]
    if runtime.kind == "python":
        return [*runtime.command, script, *args]
    return [*runtime.command, *args]


def run_on_device(
    bundle: str | Path,
    device: str | None,
    mode: str,
    *,
    to: str | None = None,
    runs: int = 20,
    warmup: int = 3,
    threads: int = 0,
    prompt: str = "",
    max_tokens: int = 128,
    sampling: dict[str, Any] | None = None,
    runner: str | None = None,
    trust_bundle_runner: bool = False,
    on_event: Callable[[RunnerEvent], None] | None = None,
    report: Reporter = NULL_REPORTER,
    cancel: threading.Event | None = None,
) -> RunOutcome:
    if mode not in MODES:
        raise BadInput(f"Unknown mode '{mode}'", "Use bench or generate")
    if runs < 1 or warmup < 0:
        raise BadInput(msg=message("devices.bad_counts", runs=runs, warmup=warmup))
    started = time.monotonic()
    bundle = Path(bundle).expanduser()
    manifest = read_manifest(bundle)
    dev = get_device(device)
    remote = resolve_target(dev, manifest, to)
    report.progress(0.0, "Checking the bundle on the device")
    if not deployed_matches(dev, remote, bundle):
        raise BadInput(
            msg=message(
                "devices.not_deployed",
                Fix(action="deploy_first", input=str(bundle), example=dev.serial),
                serial=dev.serial,
                path=remote,
            )
        )
    runtime = dev.detect_runtime(remote, runner)
    if runtime.kind is None:
        raise BadInput(runtime.missing)
    opts = {
        "runs": runs,
        "warmup": warmup,
        "threads": threads,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "sampling": sampling,
    }
    script = "runner/runner.py"
    if runtime.kind == "python" and dev.serial == THIS_PC_SERIAL:
        script = str(studio_runner(manifest))  # the bundle gives only its model files
    elif runtime.kind == "python":
        check_bundle_runner(manifest, dev.serial, trust_bundle_runner)
    argv = _argv(runtime, mode, remote, manifest.entry, opts, script)
    report.progress(0.02, f"Starting on {dev.serial} with {runtime.description}")
    process = dev.stream(argv, remote)
    stopped = threading.Event()
    if cancel is not None:

        def watch() -> None:
            while not cancel.wait(0.1):
                if stopped.is_set():
                    return
            process.cancel()

        threading.Thread(target=watch, name="runner-cancel", daemon=True).start()
    count, result, error, fix = 0, None, "", ""
    raw_lines: list[str] = []
    try:
        for line in process.lines:
            if runtime.kind == "perf-test":
                raw_lines.append(line)
                continue
            event = parse_event(line)
            if event is None:
                continue
            count += 1
            if isinstance(event, ProgressEvent):
                report.progress(event.fraction, event.message)
            elif isinstance(event, ResultEvent):
                result = event.data
            elif isinstance(event, ErrorEvent):
                error, fix = event.message, event.fix
            if on_event is not None:
                on_event(event)
    except BaseException:
        # Ctrl-C or a failing consumer: stop the program on the device too.
        process.cancel()
        raise
    finally:
        stopped.set()
    code = process.exit_code()
    if runtime.kind == "perf-test":
        result, error = _perf_result(raw_lines, runs, on_event)
        count = 2 if result else 0
    if cancel is not None and cancel.is_set() and result is None:
        error, fix = "Stopped", ""
    elif result is None and not error:
        tail = process.stderr_tail().strip().splitlines()
        error = f"The runner stopped without a result (exit code {code})" + (
            f": {tail[-1]}" if tail else ""
        )
        fix = "See the job log; deploy the bundle again if files are missing"
    outcome = RunOutcome(
        serial=dev.serial,
        mode=mode,
        runtime=runtime,
        ok=result is not None,
        result=result,
        error=error,
        fix=fix,
        exit_code=code,
        seconds=time.monotonic() - started,
        events=count,
    )
    if outcome.ok:
        from studio.core.track.record import log_result
        from studio.core.track.results import device_run

        log_result(lambda: device_run(outcome, manifest, opts), report)
    return outcome


_PERF = {
    "mean_ms": (r"Average inference time cost(?: total)?:\s*([\d.eE+-]+)\s*ms", 1.0),
    "median_ms": (r"P50 Latency:\s*([\d.eE+-]+)\s*s", 1000.0),
    "p90_ms": (r"P90 Latency:\s*([\d.eE+-]+)\s*s", 1000.0),
    "min_ms": (r"Min Latency:\s*([\d.eE+-]+)\s*s", 1000.0),
    "max_ms": (r"Max Latency:\s*([\d.eE+-]+)\s*s", 1000.0),
    "load_ms": (r"Session creation time cost:\s*([\d.eE+-]+)\s*s", 1000.0),
}


def parse_perf_test(text: str, runs: int) -> BenchResult | None:
    """onnxruntime_perf_test's summary → the same BenchResult the runner reports."""
    values: dict[str, float] = {}
    for key, (pattern, scale) in _PERF.items():
        match = re.search(pattern, text)
        if match:
            values[key] = round(float(match.group(1)) * scale, 4)
    if not {"median_ms", "p90_ms", "mean_ms"} <= values.keys():
        return None
    values.setdefault("min_ms", values["median_ms"])
    values.setdefault("max_ms", values["p90_ms"])
    return BenchResult(runs=runs, warmup=0, **values)


def _perf_result(
    lines: list[str], runs: int, on_event: Callable[[RunnerEvent], None] | None
) -> tuple[dict[str, Any] | None, str]:
    parsed = parse_perf_test("\n".join(lines), runs)
    if parsed is None:
        return None, "onnxruntime_perf_test gave no timing summary: " + " / ".join(lines[-3:])
    data = parsed.model_dump()
    if on_event is not None:
        on_event(
            HelloEvent(runner_version="perf-test", mode="bench", runtime="onnxruntime_perf_test")
        )
        on_event(ResultEvent(mode="bench", data=data))
        on_event(DoneEvent(ok=True, seconds=0.0))
    return data, ""
