"""CLI for the Inspect step: `studio profile`, `studio diff`, `studio graph`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli.support import emit_json, reporter_for, run_isolated
from studio.core.errors import BadInput
from studio.core.model.shapes import parse_shapes
from studio.core.units import human_count, human_size


def cmd_profile(args: argparse.Namespace) -> int:
    from studio.core.analyze.profile import check_profile_arguments, write_profile_csv
    from studio.core.bundle.recipe import ProfileSettings
    from studio.core.bundle.steps import MeasureRequest, measure, step_target

    if args.csv and Path(args.csv).expanduser().exists():
        # Checked before the (possibly long) run, so nothing is measured for nothing.
        raise BadInput(f"{args.csv} already exists", "Choose another --csv file name")
    # Checked here with the flags' own words, before the settings' validation could word it.
    check_profile_arguments(args.runs, args.warmup, args.threads)
    request = MeasureRequest(
        model=args.model,
        settings=ProfileSettings(runs=args.runs, threads=args.threads),
        shapes=parse_shapes(args.shape),
        warmup=args.warmup,
    )
    result = run_isolated(args, step_target(measure), request=request)
    if args.csv:
        write_profile_csv(result, args.csv)
    if args.json:
        emit_json(result)
        return 0
    shapes = ", ".join(f"{k} {'×'.join(map(str, v))}" for k, v in result.input_shapes.items())
    print(
        f"end to end: {result.end_to_end_ms:.3f} ms median "
        f"(p90 {result.end_to_end_p90_ms:.3f} ms) — {result.runs} runs after "
        f"{result.warmup} warm-up, {result.threads} thread{'s' if result.threads != 1 else ''}, "
        f"measured at {shapes}"
    )
    if result.shape_source:
        print(f"input sizes: {result.shape_source}")
    if result.threads_note:
        print(f"threads: {result.threads_note}")
    used, aside = result.sessions_used, result.sessions_set_aside
    print(
        f"layers: medians of {result.runs_used} profiled runs over "
        f"{used} fresh session{'s' if used > 1 else ''}"
        + (
            f" ({aside} more set aside: over 10% slower than the fastest, something else was "
            "using this PC)"
            if aside
            else ""
        )
    )
    print(f"profiled total: {result.profiled_total_ms:.3f} ms. {result.note}")
    if result.mostly_slowed:
        print(
            f"warning: most of the profiling ran while something else was using this PC's "
            f"processor or memory ({aside} of {result.sessions} sessions ran over 10% slower "
            "than the fastest). Profile again when it is quieter for steadier figures.",
            file=sys.stderr,
        )
    elif not result.steady:
        print(
            f"warning: layer times moved by up to {result.halves_moved:.0%} between the first "
            "and second half of profiling; something else was using this PC's processor or "
            "memory. Profile again when it is quieter for steadier figures.",
            file=sys.stderr,
        )
    print(f"{'node':<48} {'op':<16} {'ms':>9} {'share':>7}")
    for node in result.nodes[: args.top]:
        mark = "*" if node.fused_from else " "
        print(
            f"{node.name[:47]:<47}{mark} {node.op_type[:16]:<16} {node.median_ms:9.4f} "
            f"{node.share:7.1%}"
        )
    fused = result.fused_nodes()
    if fused:
        print("* onnxruntime ran these in a different form; they stand for your nodes:")
        for node in fused[: args.top]:
            print(f"  {node.name}  ←  {', '.join(node.fused_from)}")
    print(
        "by op type: "
        + ", ".join(f"{op} {ms:.3f} ms" for op, ms in list(result.by_op_type().items())[:10])
    )
    if args.csv:
        print(f"wrote {args.csv}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from studio.core.analyze.diff import diff_models
    from studio.core.analyze.profile import profile_model

    profiles: dict = {}
    if args.latency:
        report, bar = reporter_for(args)
        try:
            profiles["profile_a"] = profile_model(args.a, runs=args.runs, report=report.sub(0, 0.5))
            profiles["profile_b"] = profile_model(
                args.b,
                runs=args.runs,
                threads=profiles["profile_a"].threads,  # the same threads for both
                report=report.sub(0.5, 1),
            )
        finally:
            bar.close()
    result = diff_models(args.a, args.b, drift_report=args.drift, **profiles)
    if args.json:
        emit_json(result)
        return 0
    for label, side in (("A", result.a), ("B", result.b)):
        print(
            f"{label}: {side.path}  {human_size(side.file_size)}, "
            f"{human_count(side.parameters)} parameters, {side.nodes} nodes"
        )
    if result.identical:
        print("The graphs have the same nodes with the same settings.")
    print(
        f"unchanged {result.unchanged}, changed {len(result.changed)}, "
        f"added {len(result.added)}, removed {len(result.removed)}"
    )
    for change in result.changed:
        print(f"  ~ {change.name} ({change.op_type}): {'; '.join(change.changes)}")
    for node in result.added:
        print(f"  + {node.name} ({node.op_type})")
    for node in result.removed:
        print(f"  - {node.name} ({node.op_type})")
    if result.end_to_end_ms:
        a_ms, b_ms = result.end_to_end_ms
        print(f"end to end: {a_ms:.3f} ms → {b_ms:.3f} ms ({b_ms / a_ms:.2f}×)")
        for row in result.latency[:15]:
            print(f"  {row.ms_a:8.4f} → {row.ms_b:8.4f} ms  {', '.join(row.names)[:70]}")
    for layer in sorted(result.drift, key=lambda d: -d.value)[:15]:
        print(f"  drift {layer.metric} {layer.value:.4g}  {layer.name}")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from studio.core.model.loader import load_model, resolve_model_path

    path = resolve_model_path(args.model)
    load_model(path, with_weights=False)  # a bad file is a one-line error, not a blank window
    from studio.ui.pages.inspect.graph_window import run_graph_window

    return run_graph_window(path)


def register(sub: argparse._SubParsersAction, add) -> None:
    p = add("profile", "Measure latency per layer on this PC", cmd_profile)
    p.add_argument("model", help=".onnx file or folder holding one")
    p.add_argument("--runs", type=int, default=20, help="timed runs (median is reported)")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    p.add_argument(
        "--threads",
        type=int,
        help="CPU threads for everything (default: auto: layers on 1 thread, where their times "
        "repeat; the whole model on 1 thread and on all cores, up to 4)",
    )
    p.add_argument(
        "--shape",
        action="append",
        metavar="NAME=DIMS",
        help="input shape, e.g. image=1x3x224x224 (repeat per input)",
    )
    p.add_argument("--csv", metavar="FILE", help="also write one row per layer to FILE")
    p.add_argument("--top", type=int, default=20, help="rows to print")

    p = add("diff", "Compare two models: graph changes, sizes, optionally speed", cmd_diff)
    p.add_argument("a", help="first model (e.g. the original)")
    p.add_argument("b", help="second model (e.g. the compressed one)")
    p.add_argument("--latency", action="store_true", help="also profile both, per layer")
    p.add_argument("--runs", type=int, default=10, help="runs per model with --latency")
    p.add_argument("--drift", metavar="REPORT", help="compression report with per-layer drift")

    p = add("graph", "Open a model's graph in a window", cmd_graph, json_flag=False)
    p.add_argument("model", help=".onnx file or folder holding one")
