"""`studio compile MODEL --chip ID --out DIR`: the model compiled by the chip's NPU compiler."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from studio.cli.support import emit_json, run_isolated
from studio.core.model.shapes import parse_shapes

AddFn = Callable[..., argparse.ArgumentParser]


def cmd_compile(args: argparse.Namespace) -> int:
    result = run_isolated(
        args,
        "studio.core.compile:compile_model",
        outputs=[args.out],
        model=args.model,
        chip=args.chip,
        out=args.out,
        calib=args.calib,
        shapes=parse_shapes(args.shape),
        activations=args.activations,
        allow_cpu=args.allow_cpu,
        force=args.force,
    )
    if args.json:
        emit_json(result)
        return 0
    _print_result(result)
    return 0


def _print_result(result) -> None:
    from studio.core.analyze.drift import cosine_text

    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    where = result.placement
    print(
        f"compiled for {result.chip} (HTP {result.arch}) into {result.output}/{result.model_file}"
    )
    if result.all_on_npu:
        print(f"  placement   every node on the NPU ({where.source})")
    else:
        print(
            f"  placement   {result.npu_share:.0%} of nodes on the NPU in "
            f"{where.npu_partitions} part(s); on the CPU ({where.source}):"
        )
        for node in [n for n in where.nodes if not n.on_npu]:
            print(f"    {node.name} ({node.op_type}) {node.reason}")
    print(
        f"  time        quantize {result.quantize_seconds:.1f} s, "
        f"compile {result.compile_seconds:.1f} s"
    )
    if result.drift is not None:
        cpu = result.quantized_drift
        cpu_text = f" (quantized on the CPU: {cosine_text(cpu.min_cosine)})" if cpu else ""
        print(f"  emulator    {result.drift.verdict()}{cpu_text}")
        print(f"              {result.drift_note}")
        print(f"              on {result.drift.samples} {result.drift.sample_source}")


def register(sub, add: AddFn) -> None:
    p = add(
        "compile",
        "Compile a model for a chip's NPU with the vendor's compiler, checked on its emulator",
        cmd_compile,
    )
    p.add_argument("model")
    p.add_argument("--chip", required=True, help="chip id (see `studio chips`)")
    p.add_argument("--out", required=True, help="folder for the compiled model")
    p.add_argument("--calib", help="calibration samples (image folder, .npz, prompts .txt)")
    p.add_argument("--shape", action="append", metavar="NAME=DIMS", help="fix a flexible input")
    p.add_argument(
        "--activations",
        choices=["uint16", "uint8"],
        default="uint16",
        help="activation precision on the NPU (default uint16; uint8 is faster, less exact)",
    )
    p.add_argument(
        "--allow-cpu",
        action="store_true",
        help="keep the split when some nodes fall back to the CPU",
    )
    p.add_argument("--force", action="store_true", help="replace a folder compile wrote before")
