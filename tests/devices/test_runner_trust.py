"""A received bundle's runner/ is someone else's code: This PC runs the studio's own runner, a
phone or board runs the bundle's copy only when it is one the studio shipped or the user says so."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.bundle.folder import create_bundle, read_manifest
from studio.core.devices.deploy import deploy_bundle
from studio.core.devices.known_runners import KNOWN_RUNNERS
from studio.core.devices.run import run_on_device
from studio.core.errors import BadInput
from studio.core.generate.llm_bundle import demo_lm_path, demo_lm_reference_path
from studio.core.generate.runner_refresh import llm_runner_sources
from studio.runner import RUNNER_DIR, compile_runner_files
from tests.devices.conftest import AdbServer
from tests.support.virtual_adb import VirtualDevice

MARKER = "pwned.txt"


@pytest.fixture
def hostile(tmp_path: Path, demo_model: Path) -> Path:
    """A bundle whose runner works like the studio's but first drops a marker file where it
    runs, and whose generate hook does the same."""
    source = (RUNNER_DIR / "runner.py").read_text()
    runner = tmp_path / "evil_runner.py"
    runner.write_text(
        source.replace(
            'if __name__ == "__main__":',
            f'Path("{MARKER}").write_text("ran")\n\nif __name__ == "__main__":',
        )
    )
    hook = tmp_path / "evil_generate.py"
    hook.write_text(f'from pathlib import Path\nPath("{MARKER}").write_text("ran")\n')
    out = tmp_path / "hostile"
    create_bundle(
        demo_model,
        out,
        name="hostile",
        extra_files={"runner/runner.py": runner, "runner/generate.py": hook},
    )
    return out


def test_the_studios_runners_are_known() -> None:
    """Fails when the runner sources change without a new line in known_runners.py."""
    for rel, src in {**llm_runner_sources(), **compile_runner_files()}.items():
        digest = hashlib.sha256(src.read_bytes()).hexdigest()
        assert digest in KNOWN_RUNNERS[rel], f"add {digest} for {rel} to known_runners.py"
    for shipped in (demo_lm_path(), demo_lm_reference_path()):
        for entry in read_manifest(shipped).files:
            if entry.path.startswith("runner/"):
                assert entry.sha256 in KNOWN_RUNNERS[entry.path], (shipped, entry.path)


@pytest.mark.parametrize("mode", ["bench", "generate"])
def test_this_pc_never_runs_the_bundles_runner(hostile: Path, mode: str) -> None:
    result = deploy_bundle(hostile, "this-pc")
    outcome = run_on_device(hostile, "this-pc", mode, runs=2, warmup=0, prompt="hi")
    assert not (Path(result.remote_dir) / MARKER).exists()
    assert not list(Path(result.remote_dir).parent.rglob(MARKER))
    if mode == "bench":  # the studio's own runner loaded the bundle's model
        assert outcome.ok and outcome.bench().runs == 2  # type: ignore[union-attr]


def test_a_phone_needs_the_flag_to_run_a_strange_runner(
    phone: VirtualDevice, hostile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = phone.device_path("/data/local/tmp/edge-deploy-studio/hostile")
    assert main(["deploy", str(hostile), "--device", phone.address]) == 0
    capsys.readouterr()
    run = ["device-run", str(hostile), "--device", phone.address, "bench", "--runs", "2"]
    assert main(run) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "runner/generate.py, runner/runner.py" in err and "--trust-bundle-runner" in err
    assert not (remote / MARKER).exists()
    assert main([*run, "--trust-bundle-runner"]) == 0
    assert (remote / MARKER).read_text() == "ran"


def test_a_stray_file_in_runner_counts_too(
    phone: VirtualDevice, tmp_path: Path, demo_model: Path
) -> None:
    """The runner's folder is first on its import path: a json.py there would run."""
    stray = tmp_path / "json.py"
    stray.write_text("raise SystemExit('shadowed')\n")
    bundle = tmp_path / "stray"
    create_bundle(demo_model, bundle, extra_files={"runner/json.py": stray})
    deploy_bundle(bundle, phone.address)
    with pytest.raises(BadInput, match=r"not one the studio shipped \(runner/json.py\)"):
        run_on_device(bundle, phone.address, "bench", runs=1)


def test_the_gui_shows_the_message_instead_of_running(
    qtbot, adb: AdbServer, phone: VirtualDevice, hostile: Path
) -> None:
    from studio.ui.jobs_qt import JobManager
    from studio.ui.pages.deploy.device_list import DeviceListWidget

    deploy_bundle(hostile, phone.address)
    jobs = JobManager()
    widget = DeviceListWidget(jobs)
    qtbot.addWidget(widget)
    widget.show()
    try:
        widget.set_bundle(hostile)
        qtbot.waitUntil(
            lambda: any(d.serial == phone.address and d.ready for d in widget.listing.devices),
            timeout=10_000,
        )
        widget.list.setCurrentRow([d.serial for d in widget.listing.devices].index(phone.address))
        widget.verified[phone.address] = widget._target_key()  # deployed above
        widget._update_buttons()
        widget.bench_button.click()
        qtbot.waitUntil(lambda: "Could not measure" in widget.bench_verdict.text(), timeout=60_000)
        assert "--trust-bundle-runner" in widget.bench_detail.text()
        assert not (
            phone.device_path("/data/local/tmp/edge-deploy-studio/hostile") / MARKER
        ).exists()
    finally:
        widget.hide()
        jobs.shutdown()


def test_generate_on_the_phone_needs_the_flag_too(
    phone: VirtualDevice, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo LM with a generate hook swapped for a stranger's (manifest re-hashed to match)."""
    import json
    import shutil

    from studio.core.bundle.folder import sha256_file
    from studio.core.generate.llm_bundle import demo_lm_path

    bundle = tmp_path / "lm"
    shutil.copytree(demo_lm_path(), bundle)
    hook = bundle / "runner" / "generate.py"
    hook.write_text(
        f'from pathlib import Path\nPath("{MARKER}").write_text("ran")\n\n'
        "def generate(bundle, options, emit):\n"
        '    return {"text": "", "tokens": 0, "tokens_per_s": 0.0, '
        '"time_to_first_token_ms": None}\n'
    )
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "runner/generate.py":
            entry.update(size=hook.stat().st_size, sha256=sha256_file(hook))
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    command = ["generate", str(bundle), "--device", phone.address, "--prompt", "hi"]
    assert main(command) == 2
    assert "--trust-bundle-runner" in capsys.readouterr().err
    assert not list(phone.root.rglob(MARKER))
    assert main([*command, "--trust-bundle-runner"]) == 2  # it ran, and its answer is refused
    assert [p.read_text() for p in phone.root.rglob(MARKER)] == ["ran"]
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a generation summary" in err
