"""`studio generate` (stream text from a language model) and `studio llm-export` (HF → bundle)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.cli.support import emit_json, reporter_for
from studio.core.errors import BadInput


def _settings(args: argparse.Namespace):
    from pydantic import ValidationError

    from studio.core.generate.settings import GenerationSettings

    values = {
        "max_new_tokens": args.max_new_tokens,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "top_k": args.top_k,
        "repetition_penalty": args.repetition_penalty,
        "seed": args.seed,
    }
    try:
        return GenerationSettings(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        flag = "--" + str(first["loc"][0]).replace("_", "-")
        raise BadInput(
            f"{flag} {first.get('input')!r} is out of range ({first['msg']})",
            f"See `studio generate --help` for {flag}",
        ) from exc


def _line(event: Any) -> str:
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=False)


def _events(args: argparse.Namespace, should_stop: Callable[[], bool]):
    settings = _settings(args)
    if args.device:
        from studio.core.generate.on_device import generate_on_device

        return generate_on_device(
            args.model,
            args.prompt,
            args.device,
            settings,
            should_stop,
            trust_bundle_runner=args.trust_bundle_runner,
        )
    from studio.core.generate.session import generate_stream

    return generate_stream(args.model, args.prompt, settings, should_stop)


def cmd_generate(args: argparse.Namespace) -> int:
    from studio.core.generate.session import GenerationSummary, TokenChunk

    stop = {"now": False}

    def on_interrupt(signum: int, frame: Any) -> None:
        stop["now"] = True  # Ctrl-C ends generation cleanly, with its summary

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        for event in _events(args, lambda: stop["now"]):
            if args.json:
                sys.stdout.write(_line(event) + "\n")
                sys.stdout.flush()
            elif isinstance(event, TokenChunk):
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, GenerationSummary):
                sys.stdout.write("\n")
                if not args.quiet:
                    print(event.line(), file=sys.stderr)
            if isinstance(event, GenerationSummary):
                _track(event, args)
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0


def _track(summary: Any, args: argparse.Namespace) -> None:
    from studio.cli.support import reporter_for
    from studio.core.track.record import log_result
    from studio.core.track.results import generate_run

    names = ("max_new_tokens", "temperature", "top_p", "top_k", "device")
    settings = {k: str(getattr(args, k)) for k in names if getattr(args, k, None) is not None}
    report, bar = reporter_for(args)
    bar.close()
    log_result(lambda: generate_run(summary, settings), report)


def cmd_llm_export(args: argparse.Namespace) -> int:
    from studio.core.compile.pulsar2_llm import AXERA_LLM_CHIPS
    from studio.core.generate.export import check_hf_folder, export_llm
    from studio.core.generate.memory import estimate_memory

    if args.estimate:
        check_hf_folder(Path(args.model).expanduser(), args.trust_remote_code)
        estimate = estimate_memory(
            Path(args.model).expanduser(), args.precision, args.context_length
        )
        emit_json(estimate) if args.json else print(f"memory: {estimate.summary()}")
        return 0
    if not args.out:
        raise BadInput("llm-export needs --out", "Add --out FOLDER for the bundle")

    if args.chip in AXERA_LLM_CHIPS:
        return _export_pulsar2(args)
    if args.chip:
        return _export_openvino(args)
    report, bar = reporter_for(args)
    try:
        result = export_llm(
            args.model,
            args.out,
            precision=args.precision,
            context_length=args.context_length,
            force=args.force,
            trust_remote_code=args.trust_remote_code,
            report=report,
        )
    finally:
        bar.close()
    if args.json:
        emit_json(result)
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"{result.architecture} → {result.precision.value}: "
        f"{result.size_bytes / 1024**2:.1f} MB in {result.seconds:.0f} s"
    )
    print(f"memory: {result.memory.summary()}")
    print(f"parity: {result.parity.summary()}")
    print(f"bundle: {result.bundle} (verified)")
    return 0


def _export_pulsar2(args: argparse.Namespace) -> int:
    from studio.core.compile.pulsar2_llm import export_pulsar2_llm

    kit = export_pulsar2_llm(
        args.model, args.out, args.chip, context_length=args.context_length, force=args.force
    )
    if args.json:
        emit_json(kit)
        return 0
    if not kit.verified:
        print(
            f"warning: {kit.model_type or 'this model type'} is not in Axera's list of verified "
            "models; Pulsar2 may refuse it",
            file=sys.stderr,
        )
    for note in kit.notes:
        print(note)
    print(f"build: {kit.build_command}")
    print(f"bundle: {kit.bundle} (verified)")
    return 0


def _export_openvino(args: argparse.Namespace) -> int:
    from studio.core.ovgenai.export import export_ov_llm

    manifest = export_ov_llm(args.model, args.out, args.chip, force=args.force)
    if args.json:
        emit_json(manifest)
        return 0
    size = sum(f.size for f in manifest.files)
    print(f"{manifest.method} for {manifest.chip}: {size / 1024**2:.1f} MB")
    print(f"bundle: {args.out} (verified)")
    return 0


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "generate", "Generate text with a language model, streaming tokens and speed", cmd_generate
    )
    p.add_argument(
        "model",
        nargs="?",
        default=None,
        help="LLM bundle or genai folder (default: the bundled demo model)",
    )
    p.add_argument("--prompt", required=True, help="text for the model to continue")
    p.add_argument("--max-new-tokens", type=int, help="longest answer in tokens (default 128)")
    p.add_argument("--temperature", type=float, help="randomness, 0 = greedy (default 0.7)")
    p.add_argument("--top-p", type=float, help="nucleus sampling threshold (default 0.9)")
    p.add_argument("--top-k", type=int, help="sample among this many tokens (default 40)")
    p.add_argument(
        "--repetition-penalty", type=float, help="above 1 repeats text less (default 1.1)"
    )
    p.add_argument(
        "--seed", type=int, help="same seed + prompt + settings = same answer (default: random)"
    )
    p.add_argument("--device", metavar="SERIAL", help="run on this adb device instead of this PC")
    p.add_argument(
        "--trust-bundle-runner",
        action="store_true",
        help="with --device: run the bundle's runner/ even though it is not one the studio "
        "shipped (it is code from whoever made the bundle)",
    )

    p = add(
        "llm-export",
        "Export a Hugging Face language model to an INT4/INT8/FP16/FP32 bundle",
        cmd_llm_export,
    )
    p.add_argument("model", help="Hugging Face model folder (config.json, weights, tokenizer)")
    p.add_argument("--out", help="bundle folder to write")
    p.add_argument("--precision", default="int4", help="int4 | int8 | fp16 | fp32 (default int4)")
    p.add_argument(
        "--chip",
        help="intel-core-ultra-meteor-lake: an OpenVINO GenAI model (INT4 symmetric, group 128) "
        "for Intel's NPU pipeline; axera-ax650n: a Pulsar2 `llm_build` kit (the compile runs in "
        "Axera's docker image); default: an onnxruntime-genai bundle",
    )
    p.add_argument("--context-length", type=int, help="longest prompt + answer in tokens")
    p.add_argument("--force", action="store_true", help="replace an existing bundle at --out")
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="run the modelling .py files in the model folder (InternLM2): they run with your "
        "permissions; never downloaded",
    )
    p.add_argument(
        "--estimate",
        action="store_true",
        help="only print the memory estimate for this precision and context length",
    )
