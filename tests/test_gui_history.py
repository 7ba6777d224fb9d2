"""The History window: the current model's runs with key figures, two side by side, and MLflow's
own UI started on 127.0.0.1 and shown inside the app (a real mlflow server, see
tests/support/mlflow_server.py for its venv)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio.core.paths import assets_dir
from tests.support.mlflow_server import PREPARE, mlflow_command

pytest.importorskip("mlflow", reason="the [track] extra is not installed")

DEMO = assets_dir() / "demo" / "digits_cnn.onnx"


@pytest.fixture
def tracking(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    from mlflow.tracking import MlflowClient

    from studio.core.track.store import tracking_folder

    empty = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{empty.as_posix()}").search_experiments()
    folder = tracking_folder()
    folder.mkdir(parents=True)
    shutil.copy(empty, folder / "mlflow.db")
    monkeypatch.setenv("STUDIO_TRACKING", "on")
    return folder


def test_history_lists_compares_and_opens_mlflow(
    tracking: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.track.record import RunRecord, log_run
    from studio.ui.history_panel import HistoryPanel

    for method, size, cosine in (("fp16", 90_000.0, 0.9999), ("int8-dynamic", 50_000.0, 0.998)):
        params = {"model": str(DEMO), "method": method}
        metrics = {"size_after": size, "cosine_min": cosine}
        log_run(
            RunRecord(name=f"compress {DEMO.name}", kind="compress", params=params, metrics=metrics)
        )
    other = {"model": "/elsewhere/other.onnx"}
    log_run(RunRecord(name="compress other.onnx", kind="compress", params=other))
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_model(DEMO)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2, timeout=120_000)
    figures = [panel.table.item(row, 3).text() for row in range(2)]
    assert any("cosine 0.99990" in text for text in figures), figures
    panel.table.selectAll()
    assert panel.compare_button.isEnabled()
    panel.compare_button.click()
    qtbot.waitUntil(lambda: panel.compare_table.rowCount() > 0, timeout=60_000)
    keys = [
        panel.compare_table.item(row, 0).text() for row in range(panel.compare_table.rowCount())
    ]
    assert "cosine_min" in keys and "method" in keys

    command = mlflow_command()
    if command is None:
        pytest.fail(f"The mlflow server venv is missing: run `{PREPARE}` (.ci/run does)")
    monkeypatch.setenv("STUDIO_MLFLOW_PYTHON", command[0])
    panel.show()
    panel.mlflow_button.click()
    try:
        qtbot.waitUntil(lambda: panel.web is not None, timeout=240_000)
        qtbot.waitUntil(lambda: "MLflow" in panel.web.title(), timeout=120_000)
        assert panel.requests and not [u for u in panel.blocked if "127.0.0.1" in u]
    finally:
        ui = panel.ui
        panel.shutdown()
    assert ui is not None and ui.proc is None
