"""`studio runs`: the tracked runs, one run, or two runs compared."""

from __future__ import annotations

import argparse
from typing import Any

from studio.cli.support import emit_json


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def cmd_runs(args: argparse.Namespace) -> int:
    from studio.core.errors import BadInput
    from studio.core.track import runs

    if args.action == "list":
        found = runs.list_runs(args.limit)
        if args.json:
            emit_json(found)
        elif not found:
            print("no runs yet: compress, profile, check, bundle or run a recipe first")
        for run in [] if args.json else found:
            print(f"{run.id}  {run.started}  {run.kind:<9} {run.status:<9} {run.name}")
        return 0
    if args.action == "show":
        if len(args.ids) != 1:
            raise BadInput("`studio runs show` takes one run id", "e.g. studio runs show ID")
        run = runs.show_run(args.ids[0])
        if args.json:
            emit_json(run)
            return 0
        print(f"{run.name}  ({run.id}, {run.kind}, {run.status}, {run.started})")
        if run.parent:
            print(f"  parent      {run.parent}")
        print("  params")
        for key, text in sorted(run.params.items()):
            print(f"    {key:<22} {text}")
        print("  metrics")
        for key, value in sorted(run.metrics.items()):
            print(f"    {key:<22} {_value(value)}")
        for label, names in (("artifacts", run.artifacts), ("children", run.children)):
            if names:
                print(f"  {label:<11} {', '.join(names)}")
        return 0
    if len(args.ids) != 2:
        raise BadInput("`studio runs compare` takes two run ids", "e.g. studio runs compare A B")
    result = runs.compare_runs(*args.ids)
    if args.json:
        emit_json(result)
        return 0
    first, second = result.runs
    print(f"{'':<24} {first.id[:12]:<14} {second.id[:12]:<14}")
    for key, (a, b) in result.metrics.items():
        print(f"{key:<24} {_value(a):<14} {_value(b):<14}")
    for key, (pa, pb) in result.params.items():
        print(f"{key:<24} {(pa or '-')[:40]}  →  {(pb or '-')[:40]}")
    return 0


def register(sub: Any, add: Any) -> None:
    p = add("runs", "Tracked runs (MLflow): list them, show one, compare two", cmd_runs)
    p.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "show", "compare"],
        help="list the runs (default), show one, or compare two",
    )
    p.add_argument("ids", nargs="*", help="run id(s) for show (one) and compare (two)")
    p.add_argument("--limit", type=int, default=50, help="list at most this many runs")
