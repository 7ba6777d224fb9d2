"""`studio export BUNDLE --to TARGET --out DIR`: a project serving the bundle on another stack."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.cli.support import emit_json

TARGET_NAMES = "bentoml, mlserver, kserve, ray-serve, kfp"


def cmd_export(args: argparse.Namespace) -> int:
    from studio.core.serve.export import export_bundle

    result = export_bundle(
        Path(args.bundle), args.to, Path(args.out), force=args.force, kfp_python=args.kfp_python
    )
    if args.json:
        emit_json(result)
        return 0
    print(f"{result.target} project for {result.model} written to {result.out}")
    for name in result.files:
        print(f"  {name}")
    hint = "its README.md says how to run it" if result.target == "kfp" else "README.md: a curl"
    print(f"run it: cd {result.out} && {result.command}  ({hint})")
    return 0


def register(sub, add) -> None:
    p = add(
        "export",
        "Write a project that serves a bundle with BentoML, MLServer, KServe, Ray Serve or "
        "builds it with Kubeflow Pipelines",
        cmd_export,
    )
    p.add_argument("bundle", help="bundle folder (verified, then copied into the project)")
    # Checked by core rather than argparse's choices, so a wrong value is one line.
    p.add_argument("--to", required=True, metavar="TARGET", help=f"one of: {TARGET_NAMES}")
    p.add_argument("--out", required=True, help="project folder to write (new or empty)")
    p.add_argument("--force", action="store_true", help="replace an earlier export at --out")
    p.add_argument(
        "--kfp-python",
        metavar="PYTHON",
        help="with --to kfp: a Python that has the kfp SDK, to compile the pipeline (default: this one)",
    )
