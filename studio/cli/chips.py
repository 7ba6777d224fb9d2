"""`studio chips`, `studio chips show ID`, `studio check MODEL --chip ID`, `studio fix-shapes`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from studio.cli.support import emit_json, reporter_for
from studio.core.model.shapes import parse_shapes

AddFn = Callable[..., argparse.ArgumentParser]


def _fact(fact, unit: str) -> str:
    if not fact.known:
        return "not published"
    return f"{fact.value:g} {unit} [{fact.confidence.value}] {fact.source}"


def cmd_chips(args: argparse.Namespace) -> int:
    from studio.core.chips.catalogue import get_chip, load_catalogue

    if getattr(args, "action", None) == "show":
        if not args.chip_id:
            from studio.core.errors import BadInput

            raise BadInput("`studio chips show` needs a chip id", "See the ids with `studio chips`")
        chip = get_chip(args.chip_id)
        if args.json:
            emit_json(chip)
            return 0
        _print_chip(chip)
        return 0
    catalogue = load_catalogue()
    for problem in catalogue.problems:
        print(f"warning: skipped {problem}", file=sys.stderr)
    if args.json:
        emit_json(catalogue)
        return 0
    print(f"{'id':<30} {'name':<34} {'NPU':<28} memory")
    for chip in catalogue.chips:
        print(
            f"{chip.id:<30} {chip.name[:34]:<34} {chip.npu_tops_text()[:28]:<28} "
            f"{chip.memory_text()}"
        )
    return 0


def _print_chip(chip) -> None:
    print(f"{chip.name} — {chip.vendor} ({chip.id})")
    print(f"  {chip.description}")
    for acc in chip.accelerators:
        print(f"  {acc.kind.upper()}: {acc.name}")
        print(f"    runtime      {acc.runtime}")
        for precision, fact in acc.peak_tops.items():
            print(f"    peak {precision:<7} {_fact(fact, 'TOPS')}")
        print(f"    precisions   {', '.join(acc.precisions)}")
        for scheme in acc.quantization:
            print(f"    quantization {scheme}")
        ops = (
            "not published (all but control flow assumed)"
            if acc.supported_ops is None
            else (f"{len(acc.supported_ops)} ops ({acc.supported_ops_source})")
        )
        if acc.ops_confidence is not None:
            ops += f" [{acc.ops_confidence.value}]"
        print(f"    op support   {ops}")
        if acc.ops_note:
            print(f"    op list note {acc.ops_note}")
        print(
            f"    fixed sizes  {'required' if acc.static_shapes_only else 'not required'};"
            f" control flow {'yes' if acc.control_flow else 'no'}"
        )
    print(f"  memory         {chip.memory.type or 'not published'}")
    print(f"    bandwidth    {_fact(chip.memory.bandwidth_gbs, 'GB/s')}")
    print(f"    capacity     {_fact(chip.memory.capacity_gb, 'GB')}")
    print(f"  bundle format  {chip.bundle_format}")
    for key, rec in chip.recommended.items():
        print(f"  recommended ({key}): {rec.summary}")
    for claim in chip.claims:
        print(f"  claim: {claim.text} [{claim.confidence.value}] {claim.source}")
    for note in chip.notes:
        print(f"  note: {note}")
    if chip.user_file:
        print(f"  from your file {chip.user_file}")


def cmd_check(args: argparse.Namespace) -> int:
    from studio.core.chips.check import check_model
    from studio.core.chips.verdict import share_text
    from studio.core.units import gb_text as human_gb

    report, bar = reporter_for(args)
    try:
        result = check_model(
            args.model,
            args.chip,
            shapes=parse_shapes(args.shape),
            context=args.context,
            compiler=True,
            report=report,
        )
    finally:
        bar.close()
    from studio.core.track.record import log_result
    from studio.core.track.results import check_run

    log_result(lambda: check_run(result), report)
    if args.json:
        emit_json(result)
        return 0
    print(f"{result.chip_name}: {result.verdict}")
    if result.measured_at:
        at = result.measured_at.replace("measured at", "for inputs of", 1)
        print(f"  sizes              {at} ({result.shape_source})")
    print(f"  predicted latency  {result.latency_text()} (a prediction, not a measurement)")
    if meaning := result.latency.range_meaning():
        print(f"                     {meaning}")
    m = result.memory
    cap = human_gb(m.capacity_bytes) if m.capacity_bytes else "not published"
    kv = (
        f" + KV cache {human_gb(m.kv_cache_bytes)} at {m.context} tokens"
        if m.kv_cache_bytes
        else ""
    )
    print(
        f"  memory             {human_gb(m.total_bytes)} (weights {human_gb(m.weights_bytes)}"
        f" + activations {human_gb(m.activations_bytes)}{kv}); chip: {cap}"
    )
    if result.unit != "CPU":
        share = share_text(result.accelerator_share, result.fallback_ops)
        count = sum(op.count for op in result.fallback_ops)
        verb = "op falls" if count == 1 else "ops fall"
        rest = f"; {count} {verb} back to the CPU" if count else ""
        print(f"  on the {result.unit:<11} {share} of compute{rest} ({result.placement_source})")
    for op in result.fallback_ops:
        print(f"  falls back to CPU  {op.op_type} ×{op.count} ({op.flops_share:.1%}): {op.reason}")
    for d in result.dynamic_inputs:
        print(f"  flexible size      {d.input} axes {d.axes} ({', '.join(d.names)})")
    if result.shape_suggestion:
        print(
            f"  fix sizes with     studio fix-shapes {args.model} "
            + " ".join(f"--shape {s}" for s in result.shape_suggestion)
            + " --out FIXED.onnx"
        )
    for item in result.todo:
        print(f"  to do              {item}")
    print(f"  recommended        {result.recommended.summary}")
    llm = result.latency.llm
    if llm and llm.decode_high_tok_s:
        print(
            f"  LLM decode bound   {llm.decode_low_tok_s:.1f}–{llm.decode_high_tok_s:.1f} tokens/s"
        )
    if llm and llm.prefill_high_ms:
        print(
            f"  LLM prefill        {llm.prefill_low_ms:.3g}–{llm.prefill_high_ms:.3g} ms for "
            f"{llm.prompt_tokens} prompt tokens"
        )
    print("  assumptions:")
    for note in result.assumptions:
        print(f"    - {note}")
    return 0


def cmd_fix_shapes(args: argparse.Namespace) -> int:
    from studio.core.model.fix_shapes import fix_shapes

    report, bar = reporter_for(args)
    try:
        result = fix_shapes(
            args.model, parse_shapes(args.shape), args.out, force=args.force, report=report
        )
    finally:
        bar.close()
    if args.json:
        emit_json(result)
        return 0
    for name, dims in result.inputs.items():
        print(f"  {name}: {'×'.join(str(d) for d in dims)}")
    if result.still_flexible:
        print(f"  still flexible: {', '.join(result.still_flexible)}")
    print(f"wrote {result.output}")
    return 0


def register(sub, add: AddFn) -> None:
    p = add(
        "chips", "List target chips, or `chips show ID` for one chip's cited details", cmd_chips
    )
    p.add_argument("action", nargs="?", choices=["show"], help="show one chip")
    p.add_argument("chip_id", nargs="?", help="chip id (with show)")

    p = add(
        "check", "Will a model run well on a chip? Placement, sizes, memory, latency", cmd_check
    )
    p.add_argument("model", help=".onnx file or folder holding one")
    p.add_argument("--chip", required=True, help="chip id (see `studio chips`)")
    p.add_argument(
        "--shape", action="append", metavar="NAME=DIMS", help="fix a flexible input size"
    )
    p.add_argument("--context", type=int, help="LLM context length for the KV cache (default 2048)")

    p = add(
        "fix-shapes", "Save a copy of a model with its flexible input sizes fixed", cmd_fix_shapes
    )
    p.add_argument("model", help=".onnx file or folder holding one")
    p.add_argument(
        "--shape",
        action="append",
        metavar="NAME=DIMS",
        required=True,
        help="an input's fixed size, e.g. images=1x3x224x224 (repeatable)",
    )
    p.add_argument("--out", required=True, help="output .onnx file")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
