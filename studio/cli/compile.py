"""`studio compile MODEL --chip ID --out DIR`: a bundle in the format the chip's NPU stack loads."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from studio.cli.support import emit_json, run_isolated
from studio.core.model.shapes import parse_shapes


def cmd_compile(args: argparse.Namespace) -> int:
    from studio.core.compile import backend_for

    backend_for(args.chip)  # an unknown chip or one without a backend: refused before the job
    options: dict[str, Any] = {}
    if args.precision:
        options["precision"] = args.precision
    if args.npu_mode:
        options["npu_mode"] = args.npu_mode
    if args.activations:
        options["activations"] = args.activations
    if args.allow_cpu:
        options["allow_cpu"] = True
    result = run_isolated(
        args,
        "studio.core.compile:compile_model",
        outputs=[args.out],
        model=args.model,
        chip=args.chip,
        out=args.out,
        calib=args.calib,
        shapes=parse_shapes(args.shape),
        force=args.force,
        **options,
    )
    if args.json:
        emit_json(result)
        return 0
    _print(result)
    return 0


def _print(result: Any) -> None:
    if hasattr(result, "placement"):  # compiled by a vendor compiler (QNN): where nodes run
        _print_compiled(result)
        return
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    shapes = ", ".join(f"{n} {'x'.join(map(str, d))}" for n, d in result.input_shapes.items())
    print(f"{result.backend} for {result.chip}: static shapes {shapes} ({result.shape_source})")
    report = getattr(result, "report", None)
    if report is not None:
        print(f"{report.verdict()} (on {report.samples} samples: {report.sample_source})")
    ort_ms = getattr(result, "latency_onnxruntime_ms", None)
    ov_ms = getattr(result, "latency_openvino_ms", None)
    if ort_ms and ov_ms:
        print(
            f"latency on this PC's CPU: onnxruntime {ort_ms:.3f} ms, "
            f"OpenVINO ({result.precision}) {ov_ms:.3f} ms"
        )
    for line in getattr(result, "notes", []):
        print(line)
    note = getattr(result, "npu_note", "")
    if note:
        print(note)
    print(f"wrote {result.bundle}")


def _print_compiled(result: Any) -> None:
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


def register(sub, add) -> None:
    p = add(
        "compile",
        "Build what a chip's NPU stack loads (QNN context binary, OpenVINO IR, Pulsar2 kit, ...)",
        cmd_compile,
    )
    p.add_argument("model", help=".onnx file or folder holding one")
    p.add_argument("--chip", required=True, help="chip id (see `studio chips`)")
    p.add_argument("--out", required=True, help="the bundle folder to write")
    p.add_argument("--calib", help="calibration samples: image folder, .npz/.npy or prompts file")
    p.add_argument(
        "--shape",
        action="append",
        metavar="NAME=DIMS",
        help="fix an input's size, e.g. image=1x3x224x224 (repeatable)",
    )
    p.add_argument(
        "--precision",
        help="OpenVINO: int8 (NNCF, default), fp32, fp16, int8-weights or int4-weights",
    )
    p.add_argument("--npu-mode", help="AX650N (Pulsar2): NPU1 (default), NPU2 or NPU3 cores")
    p.add_argument(
        "--activations",
        choices=["uint16", "uint8"],
        help="Snapdragon (QNN): activation precision (default uint16; uint8 is faster, less exact)",
    )
    p.add_argument(
        "--allow-cpu",
        action="store_true",
        help="Snapdragon (QNN): keep the split when some nodes fall back to the CPU",
    )
    p.add_argument("--force", action="store_true", help="replace an existing bundle at --out")
