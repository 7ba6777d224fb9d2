"""One run's content, sent to the store or kept in a local queue when the store is unreachable.

A run is built whole before it is sent (params, metrics, artifacts as text, children), so a run
that cannot be sent is one JSON file in the queue, replayed as it was before the next run goes.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from studio.core.atomic import atomic_path
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.track import store

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


_parent: contextvars.ContextVar[RunRecord | None] = contextvars.ContextVar(
    "studio_track_parent", default=None
)


def queue_folder() -> Path:
    return store.tracking_folder() / "queue"


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
    line = send(record)
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


def send(record: RunRecord) -> str | None:
    """Send queued runs, then ``record``; returns the one line to show when it had to be kept."""
    try:
        client, experiment = store.open_store()
        flush_queue(client, experiment)
        upload(client, experiment, record)
    except Exception as exc:  # any store failure: the user's result must not be lost with it
        path = keep(record)
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        return (
            f"Run tracking: {store.tracking_uri()} is unreachable ({reason}); the run is kept "
            f"in {path.parent} and sent with the next run"
        )
    return None


def keep(record: RunRecord) -> Path:
    folder = queue_folder()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.json"
    with atomic_path(target) as temp:
        temp.write_text(record.model_dump_json(), encoding="utf-8")
    return target


def flush_queue(client: Any, experiment: str) -> int:
    """Send every kept run, oldest first; a file is removed only once its run is in the store."""
    folder = queue_folder()
    sent = 0
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = RunRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # a damaged file stays for the user to look at; it never blocks the rest
        upload(client, experiment, record)
        path.unlink(missing_ok=True)
        sent += 1
    return sent


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
    client.set_terminated(run_id)
    return run_id


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
