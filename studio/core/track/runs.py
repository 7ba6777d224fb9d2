"""Reading runs back: the list, one run, two runs side by side (``studio runs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from studio.core.errors import BadInput, StudioError
from studio.core.track import store
from studio.core.track.record import TAG_KIND


class RunSummary(BaseModel):
    id: str
    name: str
    kind: str
    status: str
    started: str
    parent: str | None = None
    params: dict[str, str] = {}
    metrics: dict[str, float] = {}
    artifacts: list[str] = []
    children: list[str] = []


class Comparison(BaseModel):
    runs: list[RunSummary]
    params: dict[str, list[str | None]]
    """Only the parameters that differ."""
    metrics: dict[str, list[float | None]]


def _client() -> tuple[Any, str]:
    """The store, with the spool sent first so a run just made is listed (or the store's error)."""
    from studio.core.track import spool

    try:
        client, experiment = store.open_store()
        spool.flush(client, experiment)
        return client, experiment
    except StudioError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise StudioError(
            f"Cannot read runs from {store.tracking_uri()} ({first})",
            "Start the tracking server, or unset MLFLOW_TRACKING_URI to read the local store",
        ) from exc


def _summary(run: Any, client: Any | None = None) -> RunSummary:
    import datetime

    tags = run.data.tags
    started = datetime.datetime.fromtimestamp(run.info.start_time / 1000).isoformat(" ", "seconds")
    summary = RunSummary(
        id=run.info.run_id,
        name=tags.get("mlflow.runName", ""),
        kind=tags.get(TAG_KIND, ""),
        status=run.info.status,
        started=started,
        parent=tags.get("mlflow.parentRunId"),
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
    )
    if client is not None:
        summary.artifacts = [f.path for f in client.list_artifacts(run.info.run_id)]
        found = client.search_runs(
            [run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'"
        )
        summary.children = [child.info.run_id for child in found]
    return summary


def list_runs(limit: int = 50) -> list[RunSummary]:
    client, experiment = _client()
    found = client.search_runs([experiment], max_results=limit, order_by=["start_time DESC"])
    return [_summary(run) for run in found]


def show_run(run_id: str) -> RunSummary:
    client, _ = _client()
    try:
        run = client.get_run(run_id)
    except Exception as exc:  # MLflow raises its own error type for an unknown id
        raise BadInput(
            f"No run {run_id!r} in {store.tracking_uri()}", "See `studio runs list` for run ids"
        ) from exc
    return _summary(run, client)


def compare_runs(first: str, second: str) -> Comparison:
    runs = [show_run(first), show_run(second)]
    keys = sorted(set(runs[0].params) | set(runs[1].params))
    params = {k: [r.params.get(k) for r in runs] for k in keys}
    params = {k: v for k, v in params.items() if v[0] != v[1]}
    names = sorted(set(runs[0].metrics) | set(runs[1].metrics))
    metrics = {k: [r.metrics.get(k) for r in runs] for k in names}
    return Comparison(runs=runs, params=params, metrics=metrics)


def runs_for_model(model: str | Path, limit: int = 200) -> list[RunSummary]:
    """The runs of one model, newest first: by its path or file name (bundle runs know the
    model by name only)."""
    model = Path(model)
    names = {str(model), model.name, model.stem}
    found = []
    for run in list_runs(limit):
        given = run.params.get("model", "")
        if given in names or Path(given).name == model.name:
            found.append(run)
    return found


KEY_FIGURES = (
    ("size_after", "size"),
    ("cosine_min", "cosine"),
    ("top1", "top-1"),
    ("latency_median_ms", "median ms"),
    ("latency_p90_ms", "p90 ms"),
    ("share_on_npu", "NPU share"),
    ("tokens_per_s", "tokens/s"),
)


def key_figures(run: RunSummary) -> list[tuple[str, float]]:
    """The few metrics a list of runs shows, in a fixed order."""
    return [(label, run.metrics[key]) for key, label in KEY_FIGURES if key in run.metrics]
