"""`studio compress` and `studio convert`: every compression method and option, plus the report."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from studio.cli.support import emit_json, reporter_for, run_isolated
from studio.core.errors import BadInput
from studio.core.model.shapes import parse_shapes
from studio.core.units import human_size


def _floats(text: str | None, what: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise BadInput(
            f"{what} '{text}' is not a list of numbers", "Write it like 0.5,0.5,0.5"
        ) from None


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Only what the user set: everything else keeps the defaults of CompressOptions."""
    opts: dict[str, Any] = {
        "int8": {},
        "int4": {},
        "fp16": {},
        "prune": {},
        "auto": {},
        "image": {},
        "channels": {},
    }
    if args.opset:
        opts["opset"] = args.opset
    if args.eval_limit:
        opts["eval_limit"] = args.eval_limit
    if args.no_latency:
        opts["measure_latency"] = False
    int8 = opts["int8"]
    if args.calibrate:
        int8["calibrate_method"] = args.calibrate
    if args.activations:
        int8["activations"] = args.activations
    if args.no_per_channel:
        int8["per_channel"] = False
    if args.reduce_range:
        int8["reduce_range"] = True
    if args.qnn is not None:
        int8["qnn"] = args.qnn
    if args.block_size:
        opts["int4"]["block_size"] = args.block_size
    if args.asymmetric:
        opts["int4"]["symmetric"] = False
    if args.accuracy_level is not None:
        opts["int4"]["accuracy_level"] = args.accuracy_level
    if args.fp16_io:
        opts["fp16"]["keep_io_types"] = False
    if args.sparsity is not None:
        opts["prune"]["sparsity"] = args.sparsity
    if args.ratio is not None:
        opts["channels"]["ratio"] = args.ratio
    if args.channel_multiple is not None:
        opts["channels"]["multiple_of"] = args.channel_multiple
    for key in ("min_cosine", "min_top1", "goal"):
        if getattr(args, key) is not None:
            opts["auto"][key] = getattr(args, key)
    image = opts["image"]
    if args.image_size:
        image["size"] = parse_shapes([f"image={args.image_size}"])["image"]
    for key in ("layout", "color", "scale"):
        if getattr(args, key) is not None:
            image[key] = getattr(args, key)
    for key in ("mean", "std"):
        value = _floats(getattr(args, key), f"--{key}")
        if value is not None:
            image[key] = value
    return {k: v for k, v in opts.items() if v != {}}


def cmd_compress(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from studio.core.bundle.recipe import Optimize
    from studio.core.bundle.steps import OptimizeRequest, optimize, step_target
    from studio.core.compress.methods import parse_method
    from studio.core.schema import explain_validation

    settings = {
        **_options(args),
        "method": parse_method(args.method),
        "calibration": args.calib,
        "calib_limit": args.calib_limit,
        "evaluation": args.eval,
    }
    if args.keep_float:
        settings["keep_float"] = args.keep_float
    try:
        request = OptimizeRequest(
            model=args.model,
            out=args.out,
            settings=Optimize.model_validate(settings),
            chip=args.chip,
            shapes=parse_shapes(args.shape),
            calibration=args.calib,
            evaluation=args.eval,
            force=args.force,
            drift=not args.no_report,
        )
    except ValidationError as exc:
        raise explain_validation(exc, "the command line") from exc
    result = run_isolated(args, step_target(optimize), outputs=[args.out], request=request)
    if args.json:
        emit_json(result)
        return 0
    _print_result(result)
    return 0


def _print_result(result) -> None:
    from studio.core.analyze.drift import cosine_text

    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    chosen = f" (auto chose {result.chosen.value})" if result.method.value == "auto" else ""
    print(
        f"{result.method.value}{chosen}: {human_size(result.size_before)} → "
        f"{human_size(result.size_after)} ({result.ratio:.1f}× smaller) "
        f"in {result.seconds:.1f} s"
    )
    if result.candidates:
        from studio.core.analyze.drift import (
            cosine_text,  # imports onnx: not on every command's path
        )

        print(f"  {'tried':<14} {'size':>10} {'ms':>9} {'cosine':>8} {'top-1':>6}  verdict")
        for c in result.candidates:
            size = human_size(c.size) if c.size else "—"
            ms = f"{c.latency_ms:.3f}" if c.latency_ms else "—"
            cos = cosine_text(c.cosine) if c.cosine is not None else "—"
            top = f"{c.top1:.0%}" if c.top1 is not None else "—"
            mark = "chosen" if c.chosen else (c.note or "ok")
            print(f"  {c.method.value:<14} {size:>10} {ms:>9} {cos:>8} {top:>6}  {mark}")
    if result.sparsity:
        s = result.sparsity
        print(
            f"sparsity: {s.zeros_before:.1%} of {s.weights} weights were zero, now "
            f"{s.zeros_after:.1%}. {s.note}"
        )
    if result.channels:
        _print_channels(result.channels)
    rep = result.report
    if result.measured_at:
        print(f"{result.measured_at} ({result.shape_source})")
    if rep:
        at = f"; {rep.measured_at}" if rep.measured_at else ""
        print(rep.verdict() + f" (on {rep.samples} samples: {rep.sample_source}{at})")
        if rep.sizes_note:
            print(f"  {rep.sizes_note}")
        if rep.latency_before_ms and rep.latency_after_ms:
            print(
                f"latency on this PC: {rep.latency_before_ms:.3f} ms → "
                f"{rep.latency_after_ms:.3f} ms"
            )
        for out in rep.outputs:
            extra = f" top-1 {out.top1:.1%}" if out.top1 is not None else ""
            extra += f" top-5 {out.top5:.1%}" if out.top5 is not None else ""
            if out.accuracy_before is not None and out.accuracy_after is not None:
                extra += (
                    f"; accuracy on labelled samples {out.accuracy_before:.1%} → "
                    f"{out.accuracy_after:.1%}"
                )
            if out.perplexity_before is not None and out.perplexity_after is not None:
                extra += f"; perplexity {out.perplexity_before:.2f} → {out.perplexity_after:.2f}"
            print(
                f"  output {out.name}: cosine {out.cosine:.5f}, max |err| {out.max_abs:.4g}, "
                f"mean |err| {out.mean_abs:.4g}, SNR {out.snr_db:.1f} dB{extra}"
            )
        if rep.worst_layers:
            print("  layers adding the most drift:")
            for layer in rep.worst_layers[:5]:
                print(
                    f"    {layer.node} ({layer.op_type}): cosine {layer.cosine:.5f}, "
                    f"adds {layer.added:.2e}"
                )
        if rep.suggest_keep_float:
            flags = " ".join(f"--keep-float {n}" for n in rep.suggest_keep_float)
            print(f"  to keep these in float, re-run with: {flags}")
        for warning in rep.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {result.output}")


def _print_channels(channels) -> None:
    print(channels.summary + ":")
    for layer in channels.layers:
        print(
            f"  {layer.node} ({layer.op_type}): {layer.channels_before} → "
            f"{layer.channels_after} channels"
        )
    for skip in channels.skipped:
        print(f"  left alone: {skip.node} ({skip.op_type}): {skip.reason}")
    print(channels.speed)
    print(f"warning: {channels.note}", file=sys.stderr)


def cmd_convert(args: argparse.Namespace) -> int:
    from studio.core.model.convert import convert_model

    report, bar = reporter_for(args)
    try:
        result = convert_model(
            args.src,
            args.to,
            args.out,
            opset=args.opset,
            shapes=parse_shapes(args.shape),
            force=args.force,
            report=report,
        )
    finally:
        bar.close()
    if args.json:
        emit_json(result)
        return 0
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"converted {result.source_kind} → {result.to}: opset {result.opset}, "
        f"{human_size(result.size)}"
    )
    print(f"wrote {result.output}")
    return 0


def register(sub: Any, add: Any) -> None:
    from studio.core.compress.method_ids import Method

    methods = " | ".join(m.value for m in Method)
    p = add("compress", "Make a model smaller and report how far its outputs drift", cmd_compress)
    p.add_argument("model", help=".onnx file or folder holding one")
    p.add_argument("--method", required=True, help=methods)
    p.add_argument("--out", required=True, help="output .onnx file (or folder)")
    p.add_argument("--chip", default="this-pc", help="target chip id (some ask for QNN-style INT8)")
    p.add_argument("--calib", help="calibration samples: image folder, prompts .txt, .npz/.npy")
    p.add_argument("--calib-limit", type=int, default=100, help="at most this many samples")
    p.add_argument("--eval", help="evaluation samples for the drift report (kept apart)")
    p.add_argument("--eval-limit", type=int, help="samples used for the drift report (16)")
    p.add_argument(
        "--keep-float",
        action="append",
        metavar="NODE_OR_OPTYPE",
        help="leave this node or op type in float (repeatable)",
    )
    p.add_argument("--shape", action="append", metavar="NAME=DIMS", help="fix a dynamic input")
    p.add_argument("--opset", type=int, help="convert to this opset first")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--no-report", action="store_true", help="skip the drift report")
    p.add_argument("--no-latency", action="store_true", help="do not time before/after")
    g = p.add_argument_group("INT8")
    g.add_argument(
        "--calibrate",
        choices=["minmax", "entropy", "percentile"],
        help="how activation ranges are set from the samples (minmax)",
    )
    g.add_argument(
        "--activations",
        choices=["uint8", "uint16", "int8"],
        help="activation type (uint8; uint16 keeps more accuracy, runs slower)",
    )
    g.add_argument(
        "--no-per-channel", action="store_true", help="one weight scale per tensor, not per channel"
    )
    g.add_argument("--reduce-range", action="store_true", help="7-bit weights (old x86 CPUs)")
    g.add_argument(
        "--qnn",
        dest="qnn",
        action="store_true",
        default=None,
        help="QNN-style Q/DQ config (default: when the chip asks)",
    )
    g.add_argument(
        "--no-qnn", dest="qnn", action="store_false", help="plain Q/DQ even when the chip asks"
    )
    g = p.add_argument_group("INT4")
    g.add_argument("--block-size", type=int, help="weights per shared scale (32)")
    g.add_argument("--asymmetric", action="store_true", help="a zero point per block too")
    g.add_argument(
        "--accuracy-level",
        type=int,
        choices=range(5),
        help="onnxruntime MatMulNBits compute type: 0 default, 1 fp32, 2 fp16, 3 bf16, 4 int8",
    )
    g = p.add_argument_group("FP16 / prune / prune-channels / auto")
    g.add_argument("--fp16-io", action="store_true", help="fp16 inputs/outputs too")
    g.add_argument("--sparsity", type=float, help="prune: zero this fraction of weights")
    g.add_argument(
        "--ratio", type=float, help="prune-channels: fraction of channels removed per layer (0.3)"
    )
    g.add_argument(
        "--channel-multiple",
        type=int,
        metavar="N",
        help="prune-channels: keep a multiple of N channels (1)",
    )
    g.add_argument("--min-cosine", type=float, help="auto: lowest accepted cosine (0.99)")
    g.add_argument("--min-top1", type=float, help="auto: lowest top-1 agreement (0.99)")
    g.add_argument("--goal", choices=["smallest", "fastest"], help="auto: what to optimise")
    g = p.add_argument_group("image folders")
    g.add_argument(
        "--image-size", metavar="HxW", help="resize images to this (default: the model's)"
    )
    g.add_argument("--layout", choices=["NCHW", "NHWC"], help="where the channel axis is")
    g.add_argument(
        "--color", choices=["RGB", "BGR", "GRAY"], help="channel order the model expects"
    )
    g.add_argument("--scale", type=float, help="pixel scale (1/255)")
    g.add_argument("--mean", help="per-channel mean, e.g. 0.485,0.456,0.406")
    g.add_argument("--std", help="per-channel std, e.g. 0.229,0.224,0.225")

    p = add(
        "convert",
        "Convert a model: PyTorch/Transformers → ONNX, opset, fixed shapes, ORT",
        cmd_convert,
    )
    p.add_argument("src", help=".onnx, TorchScript .pt, or a Transformers model folder")
    p.add_argument(
        "--to", required=True, choices=["onnx", "ort"], help="ONNX, or onnxruntime's ORT format"
    )
    p.add_argument("--opset", type=int, help="convert to this ONNX opset")
    p.add_argument("--shape", action="append", metavar="NAME=DIMS", help="fix a dynamic input")
    p.add_argument("--out", required=True, help="output file (or folder)")
    p.add_argument("--force", action="store_true", help="replace an existing output")
