"""`studio sweep SPEC`: models × chips × methods on a local pool or a Ray cluster, one table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.cli.support import emit_json, reporter_for

if TYPE_CHECKING:  # the runner loads pydantic models the parser never needs
    from studio.core.sweep.run import SweepResult
    from studio.core.sweep.trial import TrialResult


def _figure(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _row(number: int, result: TrialResult) -> str:
    from studio.core.sweep.table import speed_ms
    from studio.core.units import human_size

    trial, metrics = result.trial, result.metrics
    size = human_size(metrics.size_after) if metrics.size_after is not None else "-"
    share = "-" if metrics.npu_share is None else f"{metrics.npu_share:.0%}"
    mark = "★" if result.front else " "
    label = trial.method.value + (f" #{trial.option_set + 1}" if trial.option_set else "")
    return (
        f"{mark}{number:>3}  {Path(trial.model).name[:22]:<22} {trial.chip[:28]:<28} "
        f"{label:<15} {result.status:<9} {size:>9} {_figure(metrics.cosine, '.4f'):>7} "
        f"{_figure(metrics.host_latency_ms, '.2f'):>8} {_figure(speed_ms(result), '.2f'):>8} "
        f"{share:>5}"
    )


def _print_table(result: SweepResult) -> None:
    print(
        f"  {'#':>3}  {'model':<22} {'chip':<28} {'method':<15} {'status':<9} {'size':>9} "
        f"{'cosine':>7} {'host ms':>8} {'speed ms':>8} {'NPU':>5}"
    )
    for number, trial in enumerate(result.trials, 1):
        print(_row(number, trial))
        if trial.error:
            print(f"       {trial.error}")
    print(
        "★ = on the Pareto front (no other trial is smaller, faster and closer at once); speed "
        "is measured on this-pc, predicted on other chips"
    )


def _json(result: SweepResult) -> dict[str, Any]:
    trials = []
    for number, trial in enumerate(result.trials, 1):
        trials.append(
            {
                "trial": number,
                "model": trial.trial.model,
                "chip": trial.trial.chip,
                "method": trial.trial.method.value,
                "option_set": trial.trial.option_set,
                "status": trial.status,
                "metrics": trial.metrics.model_dump(mode="json"),
                "front": trial.front,
                "output": trial.output,
                "error": trial.error,
            }
        )
    front = [n for n, t in enumerate(result.trials, 1) if t.front]
    return {"trials": trials, "front": front, "where": result.where}


def cmd_sweep(args: argparse.Namespace) -> int:
    from studio.core.bundle.recipe import save_recipe
    from studio.core.errors import BadInput
    from studio.core.sweep.run import run_sweep
    from studio.core.sweep.spec import load_sweep
    from studio.core.sweep.table import to_recipe

    spec_path = Path(args.spec).expanduser()
    spec = load_sweep(spec_path)  # a bad file is one line here, before any worker starts
    if args.save_recipe is not None and not 1 <= args.save_recipe[0] <= spec.trial_count():
        raise BadInput(
            f"The sweep has trials 1 to {spec.trial_count()}, not {args.save_recipe[0]}",
            "Give a trial number from the table",
        )
    report, bar = reporter_for(args)
    try:
        result = run_sweep(
            spec,
            spec_path.parent,
            workers=args.workers,
            ray=args.ray,
            report=report,
            name=f"sweep {spec_path.name}",
        )
    finally:
        bar.close()
    if args.save_recipe is not None:
        number, target = args.save_recipe
        row = result.trials[number - 1]
        if row.status not in ("done", "cached"):
            raise BadInput(f"Trial {number} did not finish ({row.status})", "Pick a finished one")
        path = save_recipe(to_recipe(row), target)
        print(f"Recipe for trial {number} saved to {path}", file=sys.stderr)
    if args.json:
        emit_json(_json(result))
    else:
        _print_table(result)
    return 1 if any(t.status == "failed" for t in result.trials) else 0


def _recipe_arg(text: str) -> tuple[int, str]:
    number, sep, path = text.partition("=")
    if not sep or not number.isdigit() or not path:
        raise argparse.ArgumentTypeError("use N=FILE, e.g. 3=chosen.yaml")
    return int(number), path


def register(sub: Any, add: Any) -> None:
    p = add("sweep", "Try models × chips × methods and compare them in one table", cmd_sweep)
    p.add_argument("spec", help="sweep .yaml (version: 1; models, chips, methods, options)")
    p.add_argument(
        "--ray",
        metavar="auto|ADDRESS",
        help="run the trials on a Ray cluster (the [ray] extra) instead of this PC's cores",
    )
    p.add_argument("--workers", type=int, help="trials at once on this PC (default: its cores)")
    p.add_argument(
        "--save-recipe",
        type=_recipe_arg,
        metavar="N=FILE",
        help="write trial N of the table as a recipe (for `studio run` or the app)",
    )
