"""The Demo step's Serve card: a real `studio serve` in a job child, asked a real V2 request."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from studio.core.bundle.folder import create_bundle
from studio.core.serve.server import TOKEN_ENV
from studio.ui.jobs_qt import JobManager
from studio.ui.pages.demo.demo_page import DemoPage
from studio.ui.state import WizardState


@pytest.fixture
def demo(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoPage]:
    from studio.core.paths import demo_model_path

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    state = WizardState()
    create_bundle(demo_model_path(), tmp_path / "bundle")
    state.bundle_path = tmp_path / "bundle"
    jobs = JobManager()
    page = DemoPage(state, jobs)
    qtbot.addWidget(page)
    page.show()
    yield page
    page.shutdown()  # stops the server's job child
    jobs.shutdown()


def test_serve_on_this_pc_answers_and_stops_when_leaving(qtbot, demo: DemoPage) -> None:
    panel = demo.serve
    assert not panel.stop_button.isEnabled()
    panel.here_button.click()
    qtbot.waitUntil(lambda: bool(panel.url), timeout=60_000)
    assert panel.url in panel.status.text() and panel.url in panel.curl.toPlainText()
    assert panel.copy_button.isEnabled() and not panel.here_button.isEnabled()
    x = np.random.default_rng(5).standard_normal((1, 1, 16, 16)).astype(np.float32)
    tensor = {"name": "image", "shape": [1, 1, 16, 16], "datatype": "FP32"}
    body = json.dumps({"inputs": [{**tensor, "data": x.ravel().tolist()}]}).encode()
    assert demo.state.bundle_path is not None
    model = demo.state.bundle_path / "model.onnx"
    meta = json.loads(urllib.request.urlopen(f"{panel.url}/v2/models/digits_cnn").read())
    url = f"{panel.url}/v2/models/{meta['name']}/infer"
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as r:
        answer = json.loads(r.read())
    expected = ort.InferenceSession(str(model)).run(None, {"image": x})[0]
    np.testing.assert_array_equal(
        np.asarray(answer["outputs"][0]["data"], np.float32), expected.ravel()
    )
    served_at = panel.url
    demo.left()  # the user moved to another step
    qtbot.waitUntil(lambda: not panel.running(), timeout=20_000)
    assert panel.status.text() == "Not serving." and panel.here_button.isEnabled()
    with pytest.raises((urllib.error.URLError, OSError)):
        urllib.request.urlopen(f"{served_at}/v2/health/live", timeout=5)
