"""The same trials as Ray tasks on a Ray cluster (the optional ``[ray]`` extra).

Each model travels once: its files go into Ray's object store by content hash (``ray.put``) and
every task reads them from there, writing them once per node. Compress phases are plain tasks;
timing phases also need one unit of the ``studio_timing`` resource, which each node offers once,
so a node never times two trials at once. A task whose worker dies is run again (max_retries);
a trial that fails on its own (a user error) is not.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path
from typing import Any

from studio.core.errors import BadInput
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.sweep.pool import OnResult
from studio.core.sweep.trial import Trial, TrialResult

TIMING_RESOURCE = "studio_timing"
MAX_RETRIES = 2
Files = dict[str, bytes]


def connect(address: str) -> Any:
    """Ray, connected to the cluster at ``address`` ('auto': the one this machine belongs to).
    A process that already called ``ray.init`` keeps its connection."""
    try:
        import ray
    except ImportError as exc:
        raise BadInput(
            "Ray is not installed", "Install the studio with its ray extra: [ray]"
        ) from exc
    if not ray.is_initialized():
        try:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BadInput(
                f"No Ray cluster answers at {address} ({str(exc).splitlines()[0][:100]})",
                "Start one with `ray start --head --resources='{\"studio_timing\": 1}'` or give "
                "its address",
            ) from exc
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    if resources.get(TIMING_RESOURCE, 0) < 1:
        raise BadInput(
            f"The Ray cluster offers no '{TIMING_RESOURCE}' resource, so no node may time trials",
            "Start each node with --resources='{\"studio_timing\": 1}'",
        )
    return ray


def _files(path: Path) -> Files:
    """A model's file and its external-weights file, if any, by name."""
    found = [path, *sorted(path.parent.glob(f"{path.name}.data"))]
    return {p.name: p.read_bytes() for p in found}


def _place(files: Files, folder: Path) -> Path:
    """Write ``files`` into ``folder`` once (a node's copy, shared by every task there)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = folder / name
        if not target.is_file() or target.stat().st_size != len(data):
            partial = folder / f".{name}.{threading.get_ident()}.part"
            partial.write_bytes(data)
            partial.replace(target)
    return folder / next(iter(files))


def _node_folder(*parts: str) -> Path:
    return Path(tempfile.gettempdir(), "studio-ray", *parts)


def work_task(trial: Trial, model: Files) -> tuple[TrialResult, Files]:
    """On a Ray worker: the trial's compress phase, on this node's copy of the model."""
    from studio.core.sweep.trial import work

    local = _place(model, _node_folder("models", trial.model_sha256))
    with tempfile.TemporaryDirectory(prefix="studio-trial-") as folder:
        out = Path(folder) / f"{local.stem}.{trial.method.value}.onnx"
        local_trial = trial.model_copy(update={"model": str(local)})
        result = work(local_trial, str(out))
        return result.model_copy(update={"trial": trial}), _files(out)


def timing_task(result: TrialResult, output: Files) -> TrialResult:
    """On a Ray worker holding its node's timing resource: the trial's timing phase."""
    from studio.core.sweep.trial import timing

    local = _place(output, _node_folder("results", result.trial.key()))
    timed = timing(result.model_copy(update={"output": str(local)}))
    return timed.model_copy(update={"output": result.output})


def run_on_ray(
    trials: list[Trial],
    outputs: dict[int, Path],
    address: str,
    *,
    cancel: threading.Event | None = None,
    report: Reporter = NULL_REPORTER,
    on_result: OnResult | None = None,
) -> list[TrialResult]:
    ray = connect(address)
    work_remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(work_task)
    timing_remote = ray.remote(num_cpus=1, resources={TIMING_RESOURCE: 1}, max_retries=MAX_RETRIES)(
        timing_task
    )
    models: dict[str, Any] = {}
    pending: dict[Any, tuple[Trial, str]] = {}
    for trial in trials:
        if trial.model_sha256 not in models:  # each model enters the object store once
            models[trial.model_sha256] = ray.put(_files(Path(trial.model)))
        pending[work_remote.remote(trial, models[trial.model_sha256])] = (trial, "work")
    results: list[TrialResult] = []

    def finish(result: TrialResult) -> None:
        results.append(result)
        report.progress(len(results) / max(len(trials), 1), f"{len(results)} of {len(trials)}")
        if on_result is not None:
            on_result(result)

    try:
        while pending and not (cancel is not None and cancel.is_set()):
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.1)
            for ref in ready:
                trial, kind = pending.pop(ref)
                try:
                    value = ray.get(ref)
                except Exception as exc:  # the task's own error, re-raised by Ray
                    finish(TrialResult(trial=trial, status="failed", error=_reason(exc)))
                    continue
                if kind == "work":
                    result, files = value
                    result = _keep(result, files, outputs[trial.index])
                    if trial.measure:
                        pending[timing_remote.remote(result, files)] = (trial, "timing")
                        continue
                    finish(result)
                else:
                    finish(value)
    finally:
        for ref, (trial, _) in pending.items():
            ray.cancel(ref, force=True)
            finish(TrialResult(trial=trial, status="cancelled"))
    return results


def _keep(result: TrialResult, files: Files, out: Path) -> TrialResult:
    """The compressed model, back on this machine at the trial's output path."""
    from studio.core.atomic import atomic_path

    for name, data in files.items():
        target = out.with_name(out.name + name[len(next(iter(files))) :])
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, replace=True) as partial:
            partial.write_bytes(data)
    return result.model_copy(update={"output": str(out)})


def _reason(exc: Exception) -> str:
    cause = getattr(exc, "cause", None) or exc
    message = getattr(cause, "message", None) or str(cause)
    return str(message).splitlines()[0][:300] if str(message) else type(cause).__name__
