"""`studio devices`, `studio deploy`, `studio device-run`: phones, boards and this PC."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from studio.cli.support import emit_json, reporter_for
from studio.core.units import human_size


def cmd_devices(args: argparse.Namespace) -> int:
    from studio.core.devices.listing import connect, disconnect, list_devices

    if args.connect:
        message = connect(args.connect)
        if not args.json:
            print(message)
    if args.disconnect:
        disconnect(args.disconnect)
    listing = list_devices()
    if args.json:
        emit_json(listing)
        return 0
    print(f"{'SERIAL':<22} {'STATUS':<16} DEVICE")
    for d in listing.devices:
        print(f"{d.serial:<22} {d.status:<16} {d.title()}")
        if d.summary():
            print(f"{'':<22} {d.summary()}")
        if d.fix:
            print(f"{'':<22} → {d.fix}")
        if d.chip_id:
            print(f"{'':<22} chip profile: {d.chip_id}")
    if listing.adb_problem:
        print(f"phones and boards cannot be listed: {listing.adb_problem}", file=sys.stderr)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from studio.core.bundle.steps import DeployRequest, deploy

    request = DeployRequest(bundle=args.bundle, device=args.device, to=args.to)
    report, bar = reporter_for(args)
    try:
        result = deploy(request, report)
    finally:
        bar.close()
    if args.json:
        emit_json(result)
        return 0
    rate = f", {human_size(int(result.rate))}/s" if result.bytes_pushed else ""
    print(f"Verified on device ✓  {result.serial}:{result.remote_dir}")
    print(
        f"  {result.files} files: {len(result.pushed)} pushed ({human_size(result.bytes_pushed)}"
        f"{rate}), {len(result.skipped)} already there, {len(result.resumed)} resumed, "
        f"in {result.seconds:.1f} s"
    )
    return 0


def cmd_device_setup(args: argparse.Namespace) -> int:
    from studio.core.devices.setup import setup_device_runtime

    report, bar = reporter_for(args)
    try:
        result = setup_device_runtime(args.serial, remove=args.remove, report=report)
    finally:
        bar.close()
    if args.json:
        emit_json(result)
        return 0
    if result.action in ("removed", "absent"):
        what = "removed" if result.action == "removed" else "was not installed"
        print(f"The studio's runtime {what} on {result.serial} ({result.folder})")
        return 0
    verb = "installed and verified" if result.action == "installed" else "already installed"
    print(f"Runtime {verb} ✓  {result.serial}:{result.folder}")
    print(
        f"  {result.runtime} on Python {result.python} ({result.platform}); providers: "
        f"{', '.join(result.providers)}; {human_size(result.bytes_pushed)} pushed in "
        f"{result.seconds:.1f} s"
    )
    if result.vendor_note is not None:
        print(f"  {result.vendor_note}")
    return 0


def _human_event(event: Any) -> None:
    kind = event.type
    if kind == "hello":
        print(f"running on the device with {event.runtime} (Python {event.python or '-'})")
    elif kind == "token":
        sys.stdout.write(event.text)
        sys.stdout.flush()
    elif kind == "log":
        print(event.message)
    elif kind == "error":
        print(f"error: {event.message}" + (f". {event.fix}." if event.fix else ""), file=sys.stderr)


def cmd_device_run(args: argparse.Namespace) -> int:
    from studio.core.bundle.runner_protocol import ErrorEvent
    from studio.core.devices.run import run_on_device

    def as_json(event: Any) -> None:
        sys.stdout.write(json.dumps(event.model_dump(mode="json"), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    on_event: Callable[[Any], None] = as_json if args.json else _human_event
    report, bar = reporter_for(args)
    try:
        outcome = run_on_device(
            args.bundle,
            args.device,
            args.mode,
            to=args.to,
            runs=args.runs,
            warmup=args.warmup,
            threads=args.threads,
            prompt=args.prompt,
            max_tokens=args.max_tokens,
            runner=args.runner,
            trust_bundle_runner=args.trust_bundle_runner,
            on_event=on_event,
            report=report,
        )
    except BrokenPipeError:
        # The reader went away (`| head`): the run on the device was stopped; leave quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        bar.close()
    if not outcome.ok:
        if args.json:
            # The runner's own error line was already streamed; this one closes the stream for
            # runs that ended without one (crash, stopped, no result).
            as_json(ErrorEvent(message=outcome.error, fix=outcome.fix, code="failed"))
        else:
            print(
                f"error: {outcome.error}" + (f". {outcome.fix}." if outcome.fix else ""),
                file=sys.stderr,
            )
        return 1
    if not args.json:
        bench = outcome.bench()
        if bench:
            print(
                f"median {bench.median_ms:.3f} ms · p90 {bench.p90_ms:.3f} ms over {bench.runs} "
                f"runs on {outcome.serial} ({outcome.runtime.description})"
            )
        elif outcome.result:
            print()
            rate = outcome.result.get("tokens_per_s")
            print(
                f"{outcome.result.get('tokens', '?')} tokens"
                + (f" at {rate:.1f} tokens/s" if rate else "")
                + f" on {outcome.serial}"
            )
    return 0


def register(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("devices", "List phones, boards and this PC with their state and chip", cmd_devices)
    p.add_argument("--connect", metavar="HOST:PORT", help="connect a device over Wi-Fi first")
    p.add_argument("--disconnect", metavar="HOST:PORT", help="forget a Wi-Fi device")

    p = add("deploy", "Push a bundle to a device and verify every file there", cmd_deploy)
    p.add_argument("bundle", help="bundle folder (from `studio bundle`)")
    p.add_argument(
        "--device",
        metavar="SERIAL",
        help="device serial from `studio devices` (this PC: this-pc); default: the "
        "only one connected",
    )
    p.add_argument(
        "--to",
        metavar="DIR",
        help="folder on the device (default /data/local/tmp/edge-deploy-studio/<model name>)",
    )

    p = add(
        "device-setup",
        "Install onnxruntime, onnxruntime-genai and numpy on a board, in a private folder of the "
        "studio (wheels fetched on this PC and cached)",
        cmd_device_setup,
    )
    p.add_argument("serial", metavar="SERIAL", help="device serial from `studio devices`")
    p.add_argument("--remove", action="store_true", help="take the studio's runtime away again")

    p = add("device-run", "Run a deployed bundle on a device; streams its results", cmd_device_run)
    p.add_argument("bundle", help="bundle folder (as written by `studio bundle`)")
    p.add_argument(
        "--device", metavar="SERIAL", required=True, help="device serial (see `studio devices`)"
    )
    p.add_argument(
        "mode", choices=["bench", "generate"], help="time runs, or stream text (LLM bundles)"
    )
    p.add_argument("--to", metavar="DIR", help="where the bundle was deployed (if not the default)")
    p.add_argument("--runs", type=int, default=20, help="timed runs for bench")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs first (3)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: the runtime decides)")
    p.add_argument("--prompt", default="", help="text for generate")
    p.add_argument(
        "--max-new-tokens",
        dest="max_tokens",
        type=int,
        default=128,
        help="longest answer in tokens for generate (128)",
    )
    # The old name keeps working, unlisted: `generate` and this command now share one spelling.
    p.add_argument(
        "--max-tokens",
        dest="max_tokens",
        type=int,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    p.add_argument("--runner", metavar="PATH", help="your own runner program on the device")
    p.add_argument(
        "--trust-bundle-runner",
        action="store_true",
        help="run the bundle's own runner/ on a phone or board even though it is not one the "
        "studio shipped (it is code from whoever made the bundle; This PC always uses the "
        "studio's runner)",
    )
