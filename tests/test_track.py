"""Run tracking with real MLflow and a SQLite store: compress, recipe replays (parent + children),
`studio runs`, and a tracking server that refuses (the job succeeds, the run is kept locally)."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import time
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.paths import assets_dir

pytest.importorskip("mlflow", reason="the [track] extra is not installed")

DEMO = assets_dir() / "demo" / "digits_cnn.onnx"


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow database with its tables made once (~10 s of migrations), copied per test."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path.as_posix()}").search_experiments()
    return path


@pytest.fixture
def tracking(empty_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from studio.core.track.store import tracking_folder

    folder = tracking_folder()
    folder.mkdir(parents=True)
    shutil.copy(empty_store, folder / "mlflow.db")
    monkeypatch.setenv("STUDIO_TRACKING", "on")
    monkeypatch.setenv("STUDIO_CLI_IN_PROCESS", "1")  # mlflow imported once, not per job child
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _compress(capsys: pytest.CaptureFixture[str], out: Path) -> tuple[int, str, str]:
    return run(capsys, "compress", str(DEMO), "--method", "fp16", "--out", str(out), "-q")


def test_compress_logs_a_run_with_params_metrics_and_artifacts(
    tracking: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    samples = assets_dir() / "demo" / "digits_samples.npz"  # evaluation samples with labels
    code, _, err = run(
        capsys,
        "compress",
        str(DEMO),
        "--method",
        "fp16",
        "--eval",
        str(samples),
        "--out",
        str(tmp_path / "a.onnx"),
        "-q",
    )
    assert code == 0 and "Run tracking" not in err
    code, out, _ = run(capsys, "runs", "list", "--json")
    runs = json.loads(out)
    assert code == 0 and [r["kind"] for r in runs] == ["compress"]
    code, out, _ = run(capsys, "runs", "show", runs[0]["id"], "--json")
    shown = json.loads(out)
    assert shown["params"]["method"] == "fp16" and shown["params"]["chip"] == "this-pc"
    assert {"version.studio", "version.onnx", "version.onnxruntime"} <= set(shown["params"])
    assert shown["metrics"]["size_after"] < shown["metrics"]["size_before"]
    assert 0.99 < shown["metrics"]["cosine_min"] <= 1.0
    assert shown["metrics"]["accuracy_after"] == shown["metrics"]["accuracy_before"] > 0.5
    assert shown["artifacts"] == ["drift_report.json"]
    code, out, _ = run(capsys, "runs", "show", runs[0]["id"])
    assert code == 0 and "cosine_min" in out and "drift_report.json" in out


def test_recipe_replay_is_one_parent_with_a_child_per_step(
    tracking: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    recipe = assets_dir() / "recipes" / "demo.yaml"
    code, out, _ = run(capsys, "run", str(recipe), "--out", str(tmp_path / "b"), "--json")
    assert code == 0, out
    runs = json.loads(run(capsys, "runs", "--json")[1])
    parent = next(r for r in runs if r["kind"] == "run")
    children = [r for r in runs if r["parent"] == parent["id"]]
    assert sorted(r["kind"] for r in children) == ["bundle", "compress", "profile"]
    shown = json.loads(run(capsys, "runs", "show", parent["id"], "--json")[1])
    assert sorted(shown["children"]) == sorted(r["id"] for r in children)
    profile = next(r for r in children if r["kind"] == "profile")
    assert profile["metrics"]["latency_p90_ms"] >= profile["metrics"]["latency_median_ms"] > 0
    bundled = json.loads(
        run(
            capsys,
            "runs",
            "show",
            next(r["id"] for r in children if r["kind"] == "bundle"),
            "--json",
        )[1]
    )
    assert bundled["artifacts"] == ["bundle", "manifest.json"]  # the registered folder


def test_runs_compare_human_and_json(
    tracking: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _compress(capsys, tmp_path / "a.onnx")
    run(
        capsys, "compress", str(DEMO), "--method", "int8-dynamic", "--out", str(tmp_path / "b.onnx")
    )
    ids = [r["id"] for r in json.loads(run(capsys, "runs", "--json")[1])]
    code, out, _ = run(capsys, "runs", "compare", *ids, "--json")
    compared = json.loads(out)
    assert code == 0 and compared["params"]["method"] == ["int8-dynamic", "fp16"]
    assert "method" in run(capsys, "runs", "compare", *ids)[1]
    code, _, err = run(capsys, "runs", "compare", ids[0])
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "runs", "show", "0" * 32)
    assert code == 2 and "studio runs list" in err


def test_a_refusing_server_keeps_the_run_and_the_job_succeeds(
    tracking: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as sock:  # a port nobody listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    code, _, err = _compress(capsys, tmp_path / "a.onnx")
    assert code == 0 and (tmp_path / "a.onnx").is_file()
    notes = [line for line in err.splitlines() if line.startswith("Run tracking:")]
    assert len(notes) == 1 and "kept in" in notes[0]
    assert len(list((tracking / "queue").glob("*.json"))) == 1
    # Back on a store that answers: the kept run goes with the next one (reading sends the spool).
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    _compress(capsys, tmp_path / "b.onnx")
    assert len(json.loads(run(capsys, "runs", "--json")[1])) == 2
    assert not list((tracking / "queue").glob("*.json*"))


def test_the_job_does_not_wait_the_background_sender_sends_the_spool(
    tracking: Path, tmp_path: Path
) -> None:
    """The job only writes its run to the spool; a detached sender uploads it afterwards."""
    from studio.core.track import spool
    from studio.core.track.record import RunRecord, log_run

    log_run(RunRecord(name="a", kind="compress", metrics={"size": 1.0}))
    deadline = time.monotonic() + 120
    while (spool.pending() or (tracking / "queue" / spool.LOCK).exists()) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert not spool.pending()
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{(tracking / 'mlflow.db').as_posix()}")
    found = client.search_runs([client.get_experiment_by_name("edge-deploy-studio").experiment_id])
    assert [r.data.metrics for r in found] == [{"size": 1.0}]


def _bundle(capsys: pytest.CaptureFixture[str], out: Path) -> None:
    code, _, err = run(capsys, "bundle", str(DEMO), "--out", str(out), "-q")
    assert code == 0, err


def test_a_bundle_is_a_registered_version_and_comes_back_verified(
    tracking: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _bundle(capsys, tmp_path / "b")
    runs = json.loads(run(capsys, "runs", "--json")[1])  # sends the spool
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{(tracking / 'mlflow.db').as_posix()}")
    (version,) = client.search_model_versions("name = 'digits_cnn-this-pc'")
    sha = hashlib.sha256((tmp_path / "b" / "manifest.json").read_bytes()).hexdigest()
    assert version.tags == {
        "precision": "fp32",
        "method": "none",
        "chip": "this-pc",
        "bundle_sha256": sha,
    }
    assert version.run_id == runs[0]["id"]
    out = tmp_path / "back"
    code, stdout, err = run(
        capsys, "bundle", "--from-registry", "digits_cnn-this-pc/1", "--out", str(out)
    )
    assert code == 0 and "verified" in stdout, err
    assert run(capsys, "verify", str(out))[0] == 0
    assert (out / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()
    # Hostile or damaged artifacts in the store: one line, nothing written at --out.
    stored = next((tracking / "artifacts").rglob("bundle/manifest.json")).parent
    entry = json.loads((stored / "manifest.json").read_text())["entry"]
    (stored / entry).write_bytes(b"not the model")
    code, _, err = run(
        capsys, "bundle", "--from-registry", "digits_cnn-this-pc/1", "--out", str(tmp_path / "c")
    )
    assert code == 2 and err.count("\n") == 1 and "does not match its manifest" in err
    assert not (tmp_path / "c").exists() and not list(tmp_path.glob(".*c*"))
    for spec in ("nonsense", "digits_cnn-this-pc/9"):
        code, _, err = run(capsys, "bundle", "--from-registry", spec, "--out", str(tmp_path / "d"))
        assert code == 2 and err.count("\n") == 1, err
    code, _, err = run(capsys, "bundle", "--from-registry", "x/1", str(DEMO))
    assert code == 2 and err.count("\n") == 1


def test_compile_device_bench_and_generate_log_runs(
    tracking: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chip = "mediatek-dimensity-9300"
    code, _, err = run(capsys, "compile", str(DEMO), "--chip", chip, "--out", str(tmp_path / "c"))
    assert code == 0, err
    _bundle(capsys, tmp_path / "b")
    assert run(capsys, "deploy", str(tmp_path / "b"), "--device", "this-pc", "-q")[0] == 0
    argv = ["device-run", str(tmp_path / "b"), "--device", "this-pc", "bench", "--runs", "3"]
    assert run(capsys, *argv)[0] == 0
    argv = ["generate", "--prompt", "In the", "--max-new-tokens", "4", "-q"]
    assert run(capsys, *argv)[0] == 0
    runs = {r["kind"]: r for r in json.loads(run(capsys, "runs", "--json")[1])}
    assert set(runs) == {"compile", "bundle", "device-bench", "generate"}
    assert runs["compile"]["params"]["chip"] == chip
    assert runs["compile"]["params"]["backend"] == "nnapi"
    assert runs["compile"]["name"] == "compile digits_cnn.onnx"
    bench = runs["device-bench"]
    assert bench["params"]["device"] == "this-pc" and bench["params"]["runs"] == "3"
    assert bench["metrics"]["latency_p90_ms"] >= bench["metrics"]["latency_median_ms"] > 0
    generated = runs["generate"]["metrics"]
    assert generated["tokens"] > 0 and generated["tokens_per_s"] > 0 and generated["ttft_ms"] > 0
    assert runs["generate"]["params"]["max_new_tokens"] == "4"


def test_a_run_kept_long_ago_is_not_sent_twice_by_two_readers(tracking: Path) -> None:
    """A claim's age counts from the claim: an old spooled run claimed by one sender must not
    look abandoned to another one, which would send it a second time."""
    import os

    from studio.core.track import spool, store
    from studio.core.track.record import RunRecord

    kept = spool.keep(RunRecord(name="old", kind="compress"))
    hour_ago = time.time() - 3600
    os.utime(kept, (hour_ago, hour_ago))
    claimed = spool._claim(kept)
    assert claimed is not None
    client, experiment = store.open_store()
    assert spool.flush(client, experiment) == 0  # the other reader leaves the claim alone
    assert claimed.exists() and not spool.pending()
