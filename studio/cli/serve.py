"""`studio serve BUNDLE`: answer a bundle's model over HTTP (Open Inference Protocol V2)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

TOKEN_ENV_HELP = "token in STUDIO_SERVE_TOKEN or the keyring"


def cmd_serve(args: argparse.Namespace) -> int:
    if args.device:
        return _serve_on_device(args)
    from studio.core.serve.server import TOKEN_ENV, ServeOptions, Server, is_loopback

    options = ServeOptions(
        bundle=Path(args.bundle),
        host=args.host,
        port=args.port,
        workers=args.workers,
        queue=args.queue,
        max_body=int(args.max_body_mb * (1 << 20)),
    )
    server = Server(options)
    model = server.model.name
    if args.json:
        # One line, so a script can read the address before the server's lifetime ends.
        info = {"url": server.url, "model": model, "token_required": bool(server.token)}
        print(json.dumps(info))
    else:
        print(f"serving {model} from {args.bundle} at {server.url} (verified; Ctrl+C stops)")
        if server.token:
            where = "on the network" if not is_loopback(args.host) else "here"
            print(f"clients {where} must send 'Authorization: Bearer <token>' ({TOKEN_ENV})")
        print(server.curl_example())
    sys.stdout.flush()
    # uvicorn stops gracefully on Ctrl+C, then raises it again for the caller.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    print("stopped", file=sys.stderr)
    return 0


def _serve_on_device(args: argparse.Namespace) -> int:
    from studio.cli.support import reporter_for
    from studio.core.errors import OutputError
    from studio.core.serve.on_device import DeviceServeOptions, serve_on_device

    if args.host != "127.0.0.1":
        from studio.core.errors import BadInput

        raise BadInput(
            "A device's server appears on 127.0.0.1 of this PC only (through adb forward)",
            "Leave out --host when serving with --device",
        )
    options = DeviceServeOptions(
        bundle=Path(args.bundle),
        device=args.device,
        port=args.port,
        to=args.to,
        max_body=int(args.max_body_mb * (1 << 20)),
    )
    report, bar = reporter_for(args)
    try:
        server = serve_on_device(options, report=report)
    finally:
        bar.close()
    if args.json:
        info = {"url": server.url, "model": server.model, "device": server.serial}
        print(json.dumps({**info, "token_required": False, "curl": server.curl_example()}))
    else:
        print(f"serving {server.model} on {server.serial} at {server.url} (Ctrl+C stops)")
        print(server.curl_example())
    sys.stdout.flush()
    try:
        ended = server.wait()
    except KeyboardInterrupt:
        ended = False
    finally:
        server.stop()
    if ended:
        raise OutputError(
            f"The server on {server.serial} stopped (the device went away or the server exited)",
            "Check the connection (`studio devices`) and serve again",
        )
    print("stopped", file=sys.stderr)
    return 0


def register(sub, add) -> None:
    p = add(
        "serve",
        "Answer a bundle's model over HTTP (Open Inference Protocol V2) on this PC or a device",
        cmd_serve,
    )
    p.add_argument("bundle", help="bundle folder (verified before serving)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help=f"interface to listen on (default 127.0.0.1; any other needs the {TOKEN_ENV_HELP})",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--workers", type=int, default=2, help="requests run at once (default 2)")
    p.add_argument("--queue", type=int, default=64, help="requests that may wait (default 64)")
    p.add_argument(
        "--max-body-mb", type=float, default=32.0, help="largest request in MB (default 32)"
    )
    p.add_argument(
        "--device",
        help="serve on this phone or board (serial): deployed, started there, and reached at "
        "127.0.0.1:PORT on this PC through adb forward",
    )
    p.add_argument("--to", help="folder on the device (default: the deploy folder)")
