"""One run's content, built whole in the job (params, metrics, artifacts as text, children) and
handed to the spool (spool.py) as one JSON file; ``upload`` is what a sender does with it.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel

from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.track import store
from studio.core.track.registry import Registration, register

TAG_KIND = "studio.kind"


class RunRecord(BaseModel):
    name: str
    kind: str
    params: dict[str, str] = {}
    metrics: dict[str, float] = {}
    artifacts: dict[str, str] = {}
    """File name in the run's artifacts → its text."""
    children: list[RunRecord] = []
    started_ms: int = 0
    registry: Registration | None = None
    """A bundle to register as a model version with this run."""


_parent: contextvars.ContextVar[RunRecord | None] = contextvars.ContextVar(
    "studio_track_parent", default=None
)


def log_result(build: Callable[[], RunRecord], report: Reporter = NULL_REPORTER) -> None:
    """Build a job's run and log it; a fault here is one line, never the job's failure."""
    if not store.enabled():
        return
    try:
        record = build()
    except Exception as exc:
        report.log(f"Run tracking: this run was not recorded ({type(exc).__name__}: {exc})")
        return
    log_run(record, report)


def log_run(record: RunRecord, report: Reporter = NULL_REPORTER) -> None:
    """Log ``record``: as a child of the open parent run, or now. Never fails the job."""
    if not store.enabled():
        return
    parent = _parent.get()
    if parent is not None:
        parent.children.append(record)
        return
    from studio.core.track.spool import deliver

    line = deliver(record)
    if line:
        report.log(line)


@contextlib.contextmanager
def parent_run(record: RunRecord, report: Reporter = NULL_REPORTER) -> Iterator[RunRecord]:
    """Runs logged inside become this run's children; the tree is sent once the block succeeds."""
    token = _parent.set(record)
    try:
        yield record
    finally:
        _parent.reset(token)
    log_run(record, report)


def upload(client: Any, experiment: str, record: RunRecord, parent_id: str | None = None) -> str:
    from mlflow.entities import Metric, Param, RunTag

    tags = {"mlflow.runName": record.name, TAG_KIND: record.kind}
    if parent_id:
        tags["mlflow.parentRunId"] = parent_id
    run = client.create_run(experiment, start_time=record.started_ms or None, tags=tags)
    run_id: str = run.info.run_id
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0) for k, v in record.metrics.items()],
        params=[Param(k, v[:6000]) for k, v in record.params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    for name, text in record.artifacts.items():
        client.log_text(run_id, text, name)
    for child in record.children:
        upload(client, experiment, child, run_id)
    if record.registry is not None:
        register(client, run_id, record.registry)
    client.set_terminated(run_id)
    return run_id


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
