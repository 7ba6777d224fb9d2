"""Measure where time goes: per-node latency from onnxruntime's profiler, and end-to-end latency.

A plain session times whole runs (what the user will see); profiling sessions time each node,
their runs spread over fresh sessions, and a fast model gets more of them (see PROFILE_SESSIONS).
The profiler adds bookkeeping around every node, so its total is not the real latency; it is
used for shares.
Warm-up runs are discarded and every figure is a median over the timed runs; the layer medians
leave out any profiling session that ran over 10% slower than the fastest, as something else was
slowing the machine while it ran (steady_sessions); when most sessions were, half as many
again are run.
"""

from __future__ import annotations

import bisect
import csv
import json
import math
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from studio.core.analyze.fusion_map import (
    NodeKind,
    map_fused_nodes,
    node_key,
    node_parameter_counts,
    primary_first,
)
from studio.core.atomic import atomic_path, temp_prefix
from studio.core.errors import BadInput
from studio.core.messages import Fix, Message, message
from studio.core.model.loader import load_model, resolve_model_path
from studio.core.model.ort_errors import (
    explain_ort_error,
    is_ort_error,
    ort_errors_in_plain_words,
)
from studio.core.progress import NULL_REPORTER, Reporter

if TYPE_CHECKING:  # numpy loads with the first measurement, not with the window
    import numpy as np

SCHEMA_VERSION = 4
PROFILER_NOTE = (
    "The profiler times each node separately and adds its own bookkeeping, so the profiled "
    "total is higher than the plain end-to-end time; use it for shares, not absolute speed."
)
MAX_RUNS = 10_000
MAX_THREADS = 256
# A layer whose median moved more than this between the first and the second half of a profile
# was timed while the machine's speed changed: the profile says so and suggests running it again.
UNSTEADY = 0.15
STEADY_SHARE_FLOOR = 0.01  # layers below 1% of the time are too short to judge the machine by
# A profiling session whose runs took this much longer than the fastest session's ran while
# something else slowed the machine; its layer times are set aside (see steady_sessions).
SLOWED_SESSION = 0.10


def most_sessions_slowed(set_aside: int, kept: int) -> bool:
    """More sessions were set aside as slowed than were kept."""
    return set_aside > kept


class NodeTiming(BaseModel):
    name: str  # the node onnxruntime ran (may be a fused or inserted node)
    op_type: str
    provider: str
    median_ms: float
    share: float
    kind: NodeKind = NodeKind.ORIGINAL
    fused_from: list[str] = []  # the user's nodes whose work this node did, the main one first
    parameters: int = 0


class ProfileResult(BaseModel):
    version: int = SCHEMA_VERSION
    model: str
    runs: int
    warmup: int = 3
    threads: int
    sessions: int = 1  # profiling sessions the layer runs were spread over
    layer_runs: int = 0  # profiled runs (a fast model gets more)
    # Of those, the sessions (and their runs) left out of the medians because the machine was
    # slowed while they ran.
    sessions_set_aside: int = 0
    runs_set_aside: int = 0
    threads_note: str = ""  # what "auto" did, when it was used
    all_cores: int = 0  # with auto: the cores the whole model was also timed on
    end_to_end_all_cores_ms: float | None = None
    input_shapes: dict[str, list[int]]
    shape_source: str = ""  # why the inputs have these sizes (samples, --shape, or chosen)
    end_to_end_ms: float
    end_to_end_p90_ms: float
    profiled_total_ms: float
    nodes: list[NodeTiming]
    removed_nodes: list[str] = []  # the user's nodes onnxruntime folded away before running
    note: str = PROFILER_NOTE
    note_message: Message | None = None
    """``note`` as data (studio/core/messages), for the GUI to word it its own way."""
    # The most a layer above 1% of the time moved between the first and second half of the
    # profiled runs (0.2 = 20%); above UNSTEADY, something else was competing for the machine.
    halves_moved: float = 0.0

    @property
    def sessions_used(self) -> int:
        """The sessions behind the layer medians."""
        return self.sessions - self.sessions_set_aside

    @property
    def runs_used(self) -> int:
        """The profiled runs behind the layer medians."""
        return self.layer_runs - self.runs_set_aside

    @property
    def mostly_slowed(self) -> bool:
        """More than half the sessions, extra ones included, ran slowed and were set aside."""
        return most_sessions_slowed(self.sessions_set_aside, self.sessions_used)

    @property
    def steady(self) -> bool:
        return self.halves_moved <= UNSTEADY and not self.mostly_slowed

    def bundle_summary(self) -> dict[str, Any]:
        """What a bundle's manifest records of this measurement."""
        summary: dict[str, Any] = {
            "end_to_end_ms": self.end_to_end_ms,
            "threads": self.threads,
            "runs": self.runs,
            "input_shapes": self.input_shapes,
        }
        if self.end_to_end_all_cores_ms is not None:
            summary["end_to_end_all_cores_ms"] = self.end_to_end_all_cores_ms
            summary["all_cores"] = self.all_cores
        return summary

    def by_op_type(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for node in self.nodes:
            totals[node.op_type] += node.median_ms
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))

    def fused_nodes(self) -> list[NodeTiming]:
        return [n for n in self.nodes if n.kind in (NodeKind.FUSED, NodeKind.REWRITTEN)]

    def original_shares(self) -> dict[str, tuple[float, str]]:
        """Each of the user's nodes → (share of profiled time, name of the node that ran it).

        Nodes fused together share one kernel, so each gets the whole kernel's share: the
        heat-map colours the group alike rather than inventing a split.
        """
        shares: dict[str, tuple[float, str]] = {}
        for node in self.nodes:
            own = [node.name] if node.kind is NodeKind.ORIGINAL else []
            for original in node.fused_from or own:
                shares.setdefault(original, (node.share, node.name))
        return shares


def overhead_sentence(end_to_end_ms: float, profiled_total_ms: float) -> str:
    return overhead_message(end_to_end_ms, profiled_total_ms).english()


def overhead_message(end_to_end_ms: float, profiled_total_ms: float) -> Message:
    """One sentence a non-specialist can read beside the two totals."""
    real, total = f"{end_to_end_ms:.3f}", f"{profiled_total_ms:.3f}"
    if profiled_total_ms >= end_to_end_ms:
        extra = (profiled_total_ms / end_to_end_ms - 1) * 100 if end_to_end_ms else 0.0
        return message("profile.overhead_more", total=total, extra=f"{extra:.0f}", real=real)
    return message("profile.overhead_less", total=total, real=real)


def _session(
    path: Path, threads: int, profile_prefix: str | None = None, optimized_path: Path | None = None
) -> Any:  # onnxruntime.InferenceSession
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    if optimized_path is not None:
        options.optimized_model_filepath = str(optimized_path)
        # Weights go to a side file so models over 2 GB can be saved too.
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name", optimized_path.name + ".data"
        )
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
        )
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise BadInput(
            f"onnxruntime cannot load {path.name} ({str(exc).splitlines()[0]})",
            "Check the model opens in Netron; re-export it if it is damaged",
        ) from exc


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _run(session: Any, feeds: dict[str, np.ndarray]) -> None:
    try:
        session.run(None, feeds)
    except Exception as exc:
        if not is_ort_error(exc):
            raise
        raise explain_ort_error(
            exc, getattr(session, "_model_path", None) or "the model", feeds
        ) from exc


def measure_latency(
    path: Path, feeds: dict[str, np.ndarray], runs: int, threads: int, warmup: int = 3
) -> list[float]:
    session = _session(path, threads)
    for _ in range(warmup):
        _run(session, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _run(session, feeds)
        times.append((time.perf_counter() - start) * 1000)
    return times


# "auto" threads: the layers are timed on one thread, and the whole model also on all cores.
# With several threads a layer's time depends on how its work is handed between them, and this
# VM's two-thread speed comes and goes: on two threads PP-OCRv4 det's end-to-end time ranged
# 14–34 ms over ten profiles and no two profiles agreed within ±15% layer by layer
# (benchmarks/README.md). Shares on one thread still say which layers to fix; the all-cores time
# says what a deployment here gets.


def check_profile_arguments(runs: int, warmup: int, threads: int | None) -> None:
    if runs < 1:
        raise BadInput(msg=message("profile.runs_low", Fix(option="runs", example="20"), runs=runs))
    if runs > MAX_RUNS:
        raise BadInput(
            msg=message(
                "profile.runs_high", Fix(option="runs", example="20"), most=MAX_RUNS, runs=runs
            )
        )
    if warmup < 0:
        raise BadInput(f"warm-up runs cannot be negative (got {warmup})", "Use 3")
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise BadInput(
            msg=message(
                "profile.threads",
                Fix(option="threads", example=str(default_threads())),
                most=MAX_THREADS,
                threads=threads,
            )
        )


def per_run_node_times(
    events: list[dict[str, Any]], runs: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Per node, its time (ms) in each of the last ``runs`` runs; plus op type and provider.

    Node events are assigned to runs by the run's time window, so warm-up runs are dropped
    exactly and a node that executes several times per run (inside a loop) is summed per run.
    """
    windows = sorted(
        (e["ts"], e["ts"] + e["dur"])
        for e in events
        if e.get("cat") == "Session" and e.get("name") == "model_run"
    )[-runs:]
    per_run: list[dict[str, float]] = [defaultdict(float) for _ in windows]
    meta: dict[str, tuple[str, str]] = {}
    starts = [w[0] for w in windows]
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        ts = event["ts"]
        index = bisect.bisect_right(starts, ts) - 1  # the last run that started before ts
        if index < 0 or ts > windows[index][1]:
            continue  # a warm-up run
        name = event["name"][: -len("_kernel_time")]
        per_run[index][name] += event["dur"] / 1000.0
        args = event.get("args", {})
        meta[name] = (args.get("op_name", "?"), args.get("provider", "?"))
    samples = {name: [run.get(name, 0.0) for run in per_run] for name in meta}
    return samples, meta


# The profiled runs are spread over fresh sessions. Each session lays out its buffers in
# memory anew, and on this machine that alone moved single layers by up to 35% from one session
# to the next while they stayed steady within a session (benchmarks/README.md, "Profile
# repeatability"); a median over many sessions is what the model will do, not what one layout
# happened to do. Four sessions of 5 runs still left 20–50% between two profiles of a
# sub-millisecond model; 16 sessions of 10 runs brought that to 3–13%. So a fast model gets more
# runs (about LAYER_BUDGET_S of running), spread over up to PROFILE_SESSIONS sessions, as many as
# SESSION_BUDGET_S of session creation allows; a model whose session takes long to create is
# profiled in one.
# The runs are capped by the node timings they leave in the trace (LAYER_TIMINGS_CAP), which
# is what reading the trace costs: at least LAYER_RUNS_CAP runs, more for a small graph, whose
# few runs would otherwise be over so fast that one stray moment of the machine covers most of a
# profile (benchmarks/README.md, "Figures behind the code").
PROFILE_SESSIONS = 16
SESSION_BUDGET_S = 1.5
SLOW_SESSION_S = 1.0
LAYER_BUDGET_S = 1.0
LAYER_RUNS_CAP = 160
LAYER_TIMINGS_CAP = 20_000
MIN_RUNS_PER_SESSION = 3


def layer_runs_for(runs: int, end_to_end_ms: float, nodes: int = 1) -> int:
    """Profiled runs for the per-layer medians of a graph of ``nodes`` nodes: at least ``runs``;
    more for a fast model, and more still when its graph is small."""
    wanted = math.ceil(LAYER_BUDGET_S * 1000 / max(end_to_end_ms, 1e-3))
    cap = max(LAYER_RUNS_CAP, LAYER_TIMINGS_CAP // max(nodes, 1))
    return max(runs, min(cap, wanted))


def sessions_for(runs: int, first_session_s: float) -> int:
    """How many sessions to spread ``runs`` over, given how long the first took to create."""
    if first_session_s > SLOW_SESSION_S:
        return 1
    affordable = int(SESSION_BUDGET_S / max(first_session_s, 1e-3))
    return max(1, min(PROFILE_SESSIONS, runs // MIN_RUNS_PER_SESSION, affordable))


def split_runs(runs: int, sessions: int) -> list[int]:
    """``runs`` split over ``sessions`` as evenly as possible (earlier ones get the extra)."""
    base, extra = divmod(runs, sessions)
    return [base + (1 if i < extra else 0) for i in range(sessions)]


class _RunProgress:
    """Counts profiled runs over all sessions for the progress bar (0.3 → 0.9 of the job).

    Reports once per whole percent: a small model makes about 1,700 runs in half a second, and a
    message after each would keep the job pipe, and the window's reader on the other core, busy
    between the runs being timed.
    """

    def __init__(self, report: Reporter) -> None:
        self.report, self.done, self.total, self.shown = report, 0, 1, -1
        self.fraction = 0.3

    def tick(self) -> None:
        self.done += 1
        percent = 100 * self.done // self.total
        if percent != self.shown:
            self.shown = percent
            # More runs can be added on a busy machine; the bar waits rather than go back.
            self.fraction = max(self.fraction, 0.3 + 0.6 * self.done / self.total)
            self.report.progress(self.fraction, f"Profiling run {self.done}/{self.total}")


def _profiled_runs(
    session: Any, feeds: dict[str, np.ndarray], warmup: int, runs: int, progress: _RunProgress
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Run a profiling session warm-up + ``runs`` times; per node, its time in each timed run."""
    for _ in range(warmup + runs):
        _run(session, feeds)
        progress.tick()
    events = json.loads(Path(session.end_profiling()).read_text())
    return per_run_node_times(events, runs)


def node_median_ms(values_ms: list[float]) -> float:
    """Median of one node's per-run times, interpolated within the profiler's 1 µs steps.

    onnxruntime's trace records whole microseconds, so a 4 µs node's plain median jumps between
    4 and 5 (25%) from one session to the next; the grouped median places it between them by how
    many runs fell on each side, which is the same median with the rounding taken into account.
    """
    return statistics.median_grouped([round(v * 1000) for v in values_ms], 1) / 1000


def _runs_in(samples: dict[str, list[float]]) -> int:
    return max((len(values) for values in samples.values()), default=0)


def session_run_ms(samples: dict[str, list[float]]) -> float:
    """A session's typical run: the median over its runs of the time summed over all nodes."""
    runs = _runs_in(samples)
    if not runs:
        return 0.0
    return statistics.median(
        sum(values[i] for values in samples.values() if i < len(values)) for i in range(runs)
    )


def steady_sessions(
    sessions: list[dict[str, list[float]]],
) -> tuple[list[dict[str, list[float]]], int]:
    """The sessions whose typical run was within SLOWED_SESSION of the fastest session's, and how
    many were set aside.

    On this VM other tenants slowed memory-bound layers by 20–60% for a second or more at a time
    while the fastest runs stayed put; a median over all sessions then depended on how many of
    them happened to fall in such a spell, and two profiles a minute apart disagreed by up to 49%.
    Over the same recorded profiles, the medians of the sessions within 10% of the fastest agreed
    within ±15% in 69 of 70 pairs, against 51 of 70 for all sessions (benchmarks/README.md).
    """
    if len(sessions) < 2:
        return sessions, 0
    typical = [session_run_ms(s) for s in sessions]
    fastest = min(typical)
    kept = [
        s for s, ms in zip(sessions, typical, strict=True) if ms <= fastest * (1 + SLOWED_SESSION)
    ]
    return kept, len(sessions) - len(kept)


def halves_moved(samples: dict[str, list[float]], medians: dict[str, float]) -> float:
    """The most any layer above STEADY_SHARE_FLOOR of the time moved between the first and the
    second half of its runs, which are in the order they ran (sessions one after another).

    Within one profile the runs of a steady machine agree to a few percent; on this VM the
    host's other tenants slowed memory-bound layers by 20–60% for seconds at a time, and a profile
    taken then does not repeat (benchmarks/README.md). Comparing the halves is how a profile
    notices that about itself.
    """
    total = sum(medians.values()) or 1.0
    moved = 0.0
    for name, values in samples.items():
        half = len(values) // 2
        if medians.get(name, 0.0) / total < STEADY_SHARE_FLOOR or half < 2:
            continue
        first, second = node_median_ms(values[:half]), node_median_ms(values[half:])
        if first > 0:
            moved = max(moved, abs(second - first) / first)
    return moved


@ort_errors_in_plain_words
def profile_model(
    model: str | Path,
    *,
    runs: int = 20,
    threads: int | None = None,
    shapes: dict[str, list[int]] | None = None,
    warmup: int = 3,
    report: Reporter = NULL_REPORTER,
) -> ProfileResult:
    check_profile_arguments(runs, warmup, threads)
    path = resolve_model_path(model)
    proto = load_model(path, with_weights=False)
    unknown = sorted(set(shapes or {}) - {i.name for i in proto.graph.input})
    if unknown:
        raise BadInput(
            f"The model has no input named {unknown[0]!r}",
            f"Inputs are: {', '.join(i.name for i in proto.graph.input)}",
        )
    from studio.core.samples.calibration import synthetic_inputs  # onnx/numpy load on first use
    from studio.core.samples.sizes import choose_sizes

    sizes = choose_sizes(proto, shapes)
    feeds = synthetic_inputs(proto, sizes=sizes)
    threads_note, most, all_cores_ms = "", 0, None
    if threads is None:
        threads, most = 1, default_threads()
        if most > 1:
            report.progress(0.0, f"Timing end to end on all {most} cores")
            all_cores_ms = statistics.median(measure_latency(path, feeds, runs, most, warmup))
            threads_note = (
                f"auto: layers timed on 1 thread, where they repeat from run to run; on all "
                f"{most} cores the whole model takes {all_cores_ms:.3f} ms"
            )
    report.progress(0.0, "Timing end to end")
    times = measure_latency(path, feeds, runs, threads, warmup)
    layer_runs = layer_runs_for(runs, statistics.median(times), len(proto.graph.node))
    report.progress(0.3, "Profiling each layer")

    sessions: list[dict[str, list[float]]] = []
    meta: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix=temp_prefix("profile")) as tmp:
        optimized_path = Path(tmp) / "optimized.onnx"
        progress = _RunProgress(report)
        # The first session also saves onnxruntime's optimized graph, and its creation time
        # decides how many sessions there will be.
        began = time.perf_counter()
        session = _session(path, threads, str(Path(tmp) / "trace0"), optimized_path)
        shares = split_runs(layer_runs, sessions_for(layer_runs, time.perf_counter() - began))

        def run_session(share: int, session: Any = None) -> None:
            if session is None:
                session = _session(path, threads, str(Path(tmp) / f"trace{len(sessions)}"))
            session_samples, session_meta = _profiled_runs(session, feeds, warmup, share, progress)
            sessions.append(session_samples)
            meta.update(session_meta)

        progress.total = sum(warmup + share for share in shares)
        run_session(shares[0], session)
        del session  # each session is released before the next is created
        for share in shares[1:]:
            run_session(share)
        kept, set_aside = steady_sessions(sessions)
        if most_sessions_slowed(set_aside, len(kept)):
            # Most sessions ran slowed: the machine is busy. Half as many again gives the
            # profile more time to catch it quiet (benchmarks/README.md, "Profile repeatability").
            more = shares[: len(shares) // 2]
            progress.total += sum(warmup + share for share in more)
            for share in more:
                run_session(share)
            layer_runs += sum(more)
            kept, set_aside = steady_sessions(sessions)
        import onnx

        optimized = (
            onnx.load(str(optimized_path), load_external_data=False)
            if optimized_path.exists()
            else None
        )

    samples: dict[str, list[float]] = defaultdict(list)
    for session_samples in kept:
        for name, values in session_samples.items():
            samples[name].extend(values)
    report.progress(0.95, "Mapping fused layers to your model")
    medians = {name: node_median_ms(values) for name, values in samples.items()}
    fusion = map_fused_nodes(proto, optimized, medians)
    params = node_parameter_counts(proto)
    op_of = {node_key(n, i): n.op_type for i, n in enumerate(proto.graph.node)}
    total = sum(medians.values()) or 1.0
    nodes = []
    for name, ms in sorted(medians.items(), key=lambda kv: -kv[1]):
        mapped = fusion.nodes.get(name)
        kind = mapped.kind if mapped else NodeKind.INSERTED
        originals = primary_first(meta[name][0], mapped.originals if mapped else [], op_of, params)
        nodes.append(
            NodeTiming(
                name=name,
                op_type=meta[name][0],
                provider=meta[name][1],
                median_ms=ms,
                share=ms / total,
                kind=kind,
                fused_from=[] if kind is NodeKind.ORIGINAL else originals,
                parameters=sum(params.get(o, 0) for o in originals),
            )
        )
    ordered = sorted(times)
    e2e = statistics.median(times)
    report.progress(1.0, "Done")
    return ProfileResult(
        model=str(path),
        runs=runs,
        warmup=warmup,
        threads=threads,
        sessions=len(sessions),
        layer_runs=layer_runs,
        sessions_set_aside=set_aside,
        runs_set_aside=layer_runs - sum(_runs_in(s) for s in kept),
        threads_note=threads_note,
        all_cores=most if all_cores_ms is not None else 0,
        end_to_end_all_cores_ms=all_cores_ms,
        input_shapes={name: list(value.shape) for name, value in feeds.items()},
        shape_source=sizes.source_text(),
        end_to_end_ms=e2e,
        end_to_end_p90_ms=ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        profiled_total_ms=sum(medians.values()),
        nodes=nodes,
        removed_nodes=fusion.removed,
        note=overhead_sentence(e2e, sum(medians.values())),
        note_message=overhead_message(e2e, sum(medians.values())),
        halves_moved=halves_moved(samples, medians),
    )


CSV_COLUMNS = [
    "rank",
    "node",
    "op_type",
    "median_ms",
    "share",
    "kind",
    "fused_from",
    "parameters",
    "provider",
]


def write_profile_csv(result: ProfileResult, path: str | Path, *, replace: bool = False) -> Path:
    """One row per node that ran, slowest first. Refuses to overwrite unless ``replace``."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise BadInput(f"{target} is a folder", "Give a file name ending in .csv")
    with (
        atomic_path(target, replace=replace) as temp,
        temp.open("w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for rank, node in enumerate(result.nodes, 1):
            writer.writerow(
                [
                    rank,
                    node.name,
                    node.op_type,
                    f"{node.median_ms:.6f}",
                    f"{node.share:.6f}",
                    node.kind.value,
                    ";".join(node.fused_from),
                    node.parameters,
                    node.provider,
                ]
            )
    return target
