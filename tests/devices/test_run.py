"""Running the bundle's runner on a (virtual) device and streaming its JSON events back."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from studio.core.bundle.runner_protocol import (
    BenchResult,
    DoneEvent,
    HelloEvent,
    ProgressEvent,
    ResultEvent,
    TimingEvent,
)
from studio.core.devices.deploy import deploy_bundle
from studio.core.devices.run import parse_perf_test, run_on_device
from studio.core.errors import BadInput
from tests.devices.conftest import AdbServer, attach
from tests.support.virtual_adb import VirtualDevice, wait_until


def test_bench_on_the_phone_streams_events(phone: VirtualDevice, bundle: Path) -> None:
    deploy_bundle(bundle, phone.address)
    events: list = []
    outcome = run_on_device(
        bundle, phone.address, "bench", runs=7, warmup=1, on_event=events.append
    )
    assert outcome.ok and outcome.runtime.kind == "python"
    assert isinstance(events[0], HelloEvent) and events[0].runtime.startswith("onnxruntime ")
    assert isinstance(events[-1], DoneEvent) and events[-1].ok
    runs = [e for e in events if isinstance(e, TimingEvent) and e.name == "run"]
    assert len(runs) == 7
    assert any(isinstance(e, ProgressEvent) and e.fraction == 1.0 for e in events)
    bench = outcome.bench()
    assert isinstance(bench, BenchResult) and bench.runs == 7
    times = sorted(e.ms for e in runs)
    assert bench.median_ms == pytest.approx(times[3], abs=1e-3)
    assert bench.p90_ms == pytest.approx(times[6], abs=1e-3)  # nearest rank: ceil(0.9*7) = 7
    assert bench.min_ms <= bench.median_ms <= bench.p90_ms <= bench.max_ms
    result = next(e for e in events if isinstance(e, ResultEvent))
    assert result.data == outcome.result


def test_generate_without_a_generator_says_so(phone: VirtualDevice, bundle: Path) -> None:
    deploy_bundle(bundle, phone.address)
    outcome = run_on_device(bundle, phone.address, "generate", prompt="hi")
    assert not outcome.ok and outcome.exit_code == 3
    assert outcome.error == "This bundle has no text-generation model"
    assert "Demo step" in outcome.fix


def test_not_deployed_yet(phone: VirtualDevice, bundle: Path) -> None:
    with pytest.raises(BadInput, match=r"not on .* Deploy it first: studio deploy"):
        run_on_device(bundle, phone.address, "bench")


@pytest.mark.parametrize(
    ("python", "with_ort", "expected"),
    [
        (None, True, "python3 is not installed, and onnxruntime_perf_test was not found"),
        ("py", False, "python3 3.11.* is installed but has no onnxruntime"),
    ],
)
def test_missing_runtime_is_named_exactly(
    adb: AdbServer, tmp_path: Path, bundle: Path, python: str | None, with_ort: bool, expected: str
) -> None:
    import sys

    with VirtualDevice(
        tmp_path / "bare",
        python=sys.executable if python else None,
        python_has_onnxruntime=with_ort,
    ) as device:
        attach(adb, device)
        try:
            deploy_bundle(bundle, device.address)
            with pytest.raises(BadInput, match=expected) as caught:
                run_on_device(bundle, device.address, "bench")
            assert "built for arm64-v8a to /data/local/tmp" in str(caught.value)
            assert "pip install onnxruntime" in str(caught.value)
        finally:
            adb.client().disconnect(device.address)


def test_a_runner_program_the_user_points_to(phone: VirtualDevice, bundle: Path) -> None:
    deploy_bundle(bundle, phone.address)
    # Any program speaking the protocol works: here the runner itself made executable.
    program = phone.device_path("/data/local/tmp/my-runner")
    program.write_text((bundle / "runner/runner.py").read_text())
    program.chmod(0o755)
    outcome = run_on_device(
        bundle, phone.address, "bench", runs=3, runner="/data/local/tmp/my-runner"
    )
    assert outcome.ok and outcome.runtime.kind == "runner-binary"
    with pytest.raises(BadInput, match=r"The runner you chose .* is not on the device"):
        run_on_device(bundle, phone.address, "bench", runner="/data/local/tmp/absent")


def test_stop_a_running_benchmark(phone: VirtualDevice, bundle: Path) -> None:
    deploy_bundle(bundle, phone.address)
    cancel = threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, TimingEvent) and event.name == "run":
            cancel.set()

    outcome = run_on_device(
        bundle, phone.address, "bench", runs=100000, on_event=on_event, cancel=cancel
    )
    assert not outcome.ok and outcome.error == "Stopped"
    # The program on the device was ended too, not left running.
    assert wait_until(lambda: not _processes_in(phone.root), 10)


def _processes_in(root: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")).is_relative_to(root):
                found.append(proc.name)
        except OSError:
            continue
    return found


def test_bench_on_this_pc(bundle: Path) -> None:
    deploy_bundle(bundle, "this-pc")
    outcome = run_on_device(bundle, "this-pc", "bench", runs=5)
    assert outcome.ok and outcome.bench().runs == 5  # type: ignore[union-attr]


@pytest.mark.parametrize("kwargs", [{"runs": 0}, {"warmup": -1}])
def test_bad_run_numbers(bundle: Path, kwargs: dict) -> None:
    with pytest.raises(BadInput, match=r"runs must be 1 or more"):
        run_on_device(bundle, "this-pc", "bench", **kwargs)


def test_unknown_mode(bundle: Path) -> None:
    with pytest.raises(BadInput, match=r"Unknown mode 'train'"):
        run_on_device(bundle, "this-pc", "train")


def test_perf_test_summary_becomes_a_bench_result() -> None:
    # onnxruntime_perf_test's own summary lines (format from its source, test_session/perf).
    text = "\n".join(
        [
            "Session creation time cost: 2.74716 s",
            "First inference time cost: 85 ms",
            "Total inference time cost: 6.22935 s",
            "Total inference requests: 100",
            "Average inference time cost: 62.2935 ms",
            "Min Latency: 0.0529422 s",
            "Max Latency: 0.0912857 s",
            "P50 Latency: 0.0603562 s",
            "P90 Latency: 0.0741593 s",
        ]
    )
    result = parse_perf_test(text, 100)
    assert result is not None
    assert (result.median_ms, result.p90_ms, result.mean_ms) == (60.3562, 74.1593, 62.2935)
    assert result.min_ms == 52.9422 and result.load_ms == 2747.16
    assert parse_perf_test("Failed to load model", 100) is None


def test_runner_output_matches_the_protocol(bundle: Path, tmp_path: Path) -> None:
    """The runner (stdlib + onnxruntime only) writes exactly what the schema accepts."""
    import subprocess
    import sys

    from studio.core.bundle.runner_protocol import parse_event

    done = subprocess.run(
        [sys.executable, str(bundle / "runner/runner.py"), "bench", "--runs", "2", "--warmup", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines
    for line in lines:
        assert parse_event(line) is not None, line
        assert json.loads(line)["v"] == 1
    bad = subprocess.run(
        [sys.executable, str(bundle / "runner/runner.py"), "bench", "--bundle", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 3
    assert json.loads(bad.stdout.splitlines()[0])["code"] == "no_bundle"


def test_old_adbd_without_shell_v2(adb: AdbServer, tmp_path: Path, bundle: Path) -> None:
    """A board whose adbd predates shell protocol v2: same deploy, same streamed run."""
    with VirtualDevice(tmp_path / "old", features="cmd,fixed_push_mkdir") as device:
        attach(adb, device)
        try:
            assert deploy_bundle(bundle, device.address).verified
            events: list = []
            outcome = run_on_device(bundle, device.address, "bench", runs=3, on_event=events.append)
            assert outcome.ok and outcome.exit_code == 0
            assert isinstance(events[0], HelloEvent) and isinstance(events[-1], DoneEvent)
            assert not any(s.startswith("shell,v2") for s in device.services)
            bad = run_on_device(bundle, device.address, "generate")
            assert not bad.ok and bad.exit_code == 3
        finally:
            adb.client().disconnect(device.address)


def test_generate_hook_streams_tokens_live(
    phone: VirtualDevice, tmp_path: Path, demo_model: Path
) -> None:
    import time

    from studio.core.bundle.folder import create_bundle
    from studio.core.bundle.runner_protocol import GenerateResult, TokenEvent

    hook = Path(__file__).resolve().parents[1] / "support" / "echo_generate.py"
    bundle = tmp_path / "gen-bundle"
    create_bundle(demo_model, bundle, extra_files={"runner/generate.py": hook})
    deploy_bundle(bundle, phone.address)
    arrivals: list[tuple[float, object]] = []
    outcome = run_on_device(
        bundle,
        phone.address,
        "generate",
        prompt="one two three four five",
        trust_bundle_runner=True,  # echo_generate.py is a hook the studio never shipped
        on_event=lambda e: arrivals.append((time.monotonic(), e)),
    )
    assert outcome.ok
    tokens = [(t, e) for t, e in arrivals if isinstance(e, TokenEvent)]
    assert [e.text for _, e in tokens] == ["one ", "two ", "three ", "four ", "five "]
    assert tokens[-1][0] - tokens[0][0] > 0.4  # each arrived as it was made, not all at the end
    result = GenerateResult.model_validate(outcome.result)
    assert result.tokens == 5 and result.tokens_per_s > 0
