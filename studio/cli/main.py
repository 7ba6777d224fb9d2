"""The `studio` command: no arguments opens the GUI; subcommands run the same core functions headless."""

from __future__ import annotations

import argparse
import logging
import sys
from importlib import import_module
from pathlib import Path

from studio import __version__
from studio.cli.support import emit_json, reporter_for, run_isolated
from studio.core.errors import BadInput, StudioError
from studio.core.units import human_count, human_size

# Modules that add their own subcommands with `register(subparsers)`. One line per capability, so
# new areas plug in without editing the commands below.
COMMAND_MODULES: list[str] = [
    "studio.cli.chips",
    "studio.cli.compress",
    "studio.cli.inspect",
    "studio.cli.devices",
    "studio.cli.hub",
    "studio.cli.generate",
    "studio.cli.compile",
    "studio.cli.serve",
    "studio.cli.export",
    "studio.cli.runs",
    "studio.cli.sweep",
]

# The wizard's steps: find and read a model, check the target, compress, inspect, bundle and
# deploy, demo; `run` replays all of them.
WORKFLOW_ORDER: list[str] = [
    "hub",
    "info",
    "convert",
    "chips",
    "check",
    "fix-shapes",
    "compress",
    "profile",
    "diff",
    "graph",
    "compile",
    "bundle",
    "verify",
    "devices",
    "deploy",
    "device-setup",
    "serve",
    "export",
    "device-run",
    "generate",
    "llm-export",
    "runs",
    "sweep",
    "run",
]


def _print_summary(summary) -> None:
    print(f"{summary.name}  ({summary.path})")
    print(f"  size        {human_size(summary.file_size)}")
    print(f"  parameters  {human_count(summary.parameter_count)}")
    print(f"  opset       {summary.opset}   nodes {summary.node_count}")
    print(f"  precision   {summary.precision.summary()}")
    for label, tensors in (("inputs", summary.inputs), ("outputs", summary.outputs)):
        print(f"  {label}")
        for t in tensors:
            print(f"    {t.name:<24} {t.dtype:<10} {t.shape_text()}")
    ops = ", ".join(f"{op} {n}" for op, n in list(summary.op_histogram.items())[:12])
    print(f"  ops         {ops}")


def cmd_info(args: argparse.Namespace) -> int:
    from studio.core.model.loader import summarize

    summary = summarize(args.model)
    emit_json(summary) if args.json else _print_summary(summary)
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from studio.core.bundle.steps import BundleRequest, bundle

    if args.from_registry:
        return _bundle_from_registry(args)
    if not args.model or not args.out:
        raise BadInput(
            "`studio bundle` needs a model and --out",
            "e.g. studio bundle model.onnx --out bundle/, or --from-registry NAME/VERSION",
        )
    request = BundleRequest(
        model=args.model, out=args.out, chip=args.chip, method=args.method, force=args.force
    )
    report, bar = reporter_for(args)
    try:
        manifest = bundle(request, report)
    finally:
        bar.close()
    if args.json:
        emit_json({"bundle": str(Path(args.out)), "manifest": manifest})
    else:
        print(f"bundle written to {args.out} ({len(manifest.files)} files, verified)")
    return 0


def _bundle_from_registry(args: argparse.Namespace) -> int:
    if args.model:
        raise BadInput(
            "Give a model or --from-registry, not both", "Leave the model out with --from-registry"
        )
    fetched = run_isolated(
        args,
        "studio.core.track.registry:fetch_bundle",
        outputs=[args.out],
        spec=args.from_registry,
        out=args.out,
        force=args.force,
    )
    if args.json:
        emit_json(fetched)
    else:
        print(
            f"{fetched.name}/{fetched.version} written to {fetched.bundle} "
            f"({fetched.files} files, verified)"
        )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from studio.core.bundle.folder import verify_bundle

    result = verify_bundle(args.bundle)
    if args.json:
        emit_json(result)
    elif result.ok:
        print(f"OK: all {result.checked} files match the manifest")
    else:
        for problem in result.problems():
            print(problem)
        print(
            f"FAILED: {args.bundle} does not match its manifest; rebuild or re-copy it",
            file=sys.stderr,
        )
    return 0 if result.ok else 1


def cmd_run(args: argparse.Namespace) -> int:
    from studio.core.bundle.recipe import load_recipe

    # A bad recipe is refused here, before a worker starts and imports onnxruntime.
    load_recipe(args.recipe)
    result = run_isolated(
        args,
        "studio.core.bundle.pipeline:run_recipe",
        outputs=[args.out],
        recipe=args.recipe,
        out=args.out,
        force=args.force,
    )
    if args.json:
        emit_json(result)
        return 0
    c = result.compress
    print(f"optimized: {c.method.value}, {human_size(c.size_before)} → {human_size(c.size_after)}")
    print(f"latency on this PC: {result.profile.end_to_end_ms:.3f} ms")
    print(f"bundle: {result.bundle} (verified, {result.verify.checked} files)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Edge Deploy Studio. Run without arguments to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"Edge Deploy Studio {__version__}")
    parser.add_argument(
        "--lang",
        choices=["en", "zh_CN"],
        help="open the app in this language (default: the system's)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str, handler, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
        return p

    p = add("info", "Describe a model: inputs, outputs, size, parameters, ops", cmd_info)
    p.add_argument("model", help=".onnx file or folder holding one")

    p = add("bundle", "Write a verified bundle folder for a chip", cmd_bundle)
    p.add_argument(
        "model", nargs="?", help=".onnx file or folder holding one (as `compress` wrote it)"
    )
    p.add_argument("--chip", default="this-pc", help="target chip id (see `studio chips`)")
    p.add_argument("--out", help="bundle folder to write")
    p.add_argument("--method", default="none", help=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true", help="replace an existing bundle at --out")
    p.add_argument(
        "--from-registry",
        metavar="NAME/VERSION",
        help="bring back a registered bundle (run tracking) and verify it; --out defaults to "
        "NAME-vVERSION",
    )

    p = add("verify", "Re-hash every file of a bundle against its manifest", cmd_verify)
    p.add_argument("bundle", help="bundle folder")

    p = add("run", "Replay a recipe headless: optimize, profile, bundle, verify", cmd_run)
    p.add_argument("recipe", help="recipe .yaml (File → Save recipe in the app)")
    p.add_argument("--out", required=True, help="bundle folder to write")
    p.add_argument("--force", action="store_true", help="replace an existing bundle at --out")

    for module in COMMAND_MODULES:
        import_module(module).register(sub, add)
    # `studio --help` lists the commands in the wizard's order, whichever module added them.
    # A command missing from the list goes last rather than breaking the CLI (a test lists it).
    sub._choices_actions.sort(
        key=lambda a: (
            WORKFLOW_ORDER.index(a.dest) if a.dest in WORKFLOW_ORDER else len(WORKFLOW_ORDER)
        )
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    from studio.core.privacy import keep_private

    keep_private()  # before onnxruntime or Qt WebEngine loads; every child inherits it
    multiprocessing.freeze_support()  # frozen builds start job children through this entry point
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from studio.ui.app import run_gui

        return run_gui()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        if args.lang:  # `studio --lang zh_CN`: the app, in that language
            from studio.ui.app import run_gui

            return run_gui(lang=args.lang)
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    # onnxruntime's quantizer logs advice on the root logger that users cannot act on.
    logging.getLogger().setLevel(logging.ERROR)
    try:
        # A CLI process runs one command; its temporary files are owned like a job's.
        from studio.core.atomic import owned_temp_dir

        with owned_temp_dir():
            return args.handler(args)
    except StudioError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `studio … | head` closed our output early; that is the reader's choice, not an error.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        if "studio.core.devices.listing" in sys.modules:  # a device command talked to adb
            from studio.core.devices.listing import release_adb

            release_adb()  # the adb server this studio started, unless others still use it


if __name__ == "__main__":
    sys.exit(main())
