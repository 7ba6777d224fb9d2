"""`studio hub …`: search, inspect, download and sign in to model hubs from a terminal."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from studio.cli.support import emit_json, reporter_for
from studio.core.errors import BadInput
from studio.core.units import human_count, human_size

if TYPE_CHECKING:  # the hub modules load only when a hub command runs
    from studio.core.hubs.base import ModelHit

SORTS = ("downloads", "likes", "updated")


def _hub(args: argparse.Namespace) -> Any:
    from studio.core.hubs import get_hub

    hub = get_hub(args.hub)
    reason = hub.unavailable_reason()
    if reason:
        raise BadInput(reason.split(". ")[0], reason.split(". ", 1)[-1])
    return hub


def _date(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def cmd_search(args: argparse.Namespace) -> int:
    from studio.core.hubs import SearchQuery

    if args.limit < 1:
        raise BadInput(f"--limit {args.limit} is not a positive number", "Use e.g. --limit 20")
    query = SearchQuery(
        text=args.query,
        task=args.task,
        library=args.library,
        author=args.author,
        sort=args.sort,
        page_size=min(args.limit, 100),
    )
    pager = _hub(args).search(query)
    hits: list[ModelHit] = []
    while len(hits) < args.limit:
        page = pager.next_page()
        hits.extend(page.hits)
        if not page.has_more:
            break
    hits = hits[: args.limit]
    if args.json:
        emit_json([h.model_dump(mode="json") for h in hits])
        return 0
    if not hits:
        print("No models found. Try fewer words or other filters.")
        return 0
    print(f"{'model':<48} {'downloads':>10} {'likes':>6} {'updated':>10} {'size':>9}  task")
    for h in hits:
        mark = " (downloaded)" if h.cached else ""
        gated = " [gated]" if h.gated else ""
        size = human_size(h.size) if h.size else "-"
        print(
            f"{h.id[:48]:<48} {human_count(h.downloads or 0):>10} {h.likes or 0:>6} "
            f"{_date(h.last_modified):>10} {size:>9}  {h.task or '-'}{gated}{mark}"
        )
    return 0


def _budget(args: argparse.Namespace) -> int | None:
    if args.memory is None:
        return None
    from studio.core.hubs.units import parse_size

    return parse_size(args.memory, "--memory")


def cmd_info(args: argparse.Namespace) -> int:
    hub = _hub(args)
    details = hub.info(args.repo, args.revision, memory_budget=_budget(args))
    if args.json:
        emit_json(details)
        return 0
    print(f"{details.id}" + (f"  @ {details.revision[:12]}" if details.revision else ""))
    rows = [
        ("license", details.license or "not stated"),
        ("access", ("gated: request access on the model page" if details.gated else "open")),
        ("task", details.task or "-"),
        ("library", details.library or "-"),
        (
            "downloads",
            human_count(details.downloads or 0) if details.downloads is not None else "-",
        ),
        ("updated", _date(details.last_modified)),
        ("parameters", human_count(details.parameters) if details.parameters else "unknown"),
        ("files", f"{len(details.files)}, {human_size(details.total_size)}"),
    ]
    if details.memory:
        whose = "--memory" if args.memory else "this PC's memory"
        rows.append(("memory", f"{details.memory.text()} ({whose})"))
    if details.local_path:
        rows.append(("local copy", details.local_path))
    for key, value in rows:
        print(f"  {key:<11} {value}")
    for f in details.files:
        mark = "  ✓" if f.cached else ""
        print(f"    {human_size(f.size or 0):>9}  {f.path}{mark}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    report, bar = reporter_for(args)
    try:
        result = _hub(args).download(
            args.repo, revision=args.revision, include=args.include, report=report
        )
    finally:
        bar.close()
    if args.json:
        emit_json(result)
        return 0
    if not args.quiet:
        print(
            f"{len(result.files)} files, {human_size(result.total_bytes)} "
            f"({human_size(result.downloaded_bytes)} downloaded, "
            f"{human_size(result.reused_bytes)} already here) in {result.seconds:.1f} s",
            file=sys.stderr,
        )
    print(result.path)
    return 0


def _read_token() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Paste your access token (input is hidden): ")
    return sys.stdin.readline()


def cmd_login(args: argparse.Namespace) -> int:
    from studio.core.hubs.auth import sign_in

    token = _read_token().strip()
    if not token:
        raise BadInput("No token was given", "Paste the token from your hub account settings")
    status, user = sign_in(token, hub=args.hub, check=not args.no_check)
    checked = user is not None
    # A command-line process ends right away: a token kept for this session only is lost, so
    # that is a failure in both output modes.
    kept = status.where != "session"
    if args.json:
        emit_json(
            {
                "user": user,
                "checked": checked,
                "kept": kept,
                "status": status.model_dump(mode="json"),
            }
        )
    who = f" as {user}" if user else ""
    if not kept:
        said = f"The token is valid{who}" if checked else "The token was not checked"
        print(f"{said}, but it could not be saved: {status.note}.", file=sys.stderr)
        print("For the command line, set HF_TOKEN in this shell instead.", file=sys.stderr)
        return 1
    if args.json:
        return 0
    if checked:
        print(f"Signed in{who}; the token is kept in the system keyring ({status.backend}).")
    else:
        print(
            "Signed in; the token was not checked with the hub and is kept in the system "
            f"keyring ({status.backend})."
        )
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from studio.core.hubs.tokens import delete_token

    removed = delete_token(args.hub)
    if args.json:
        emit_json({"signed_out": removed})
    else:
        print("Signed out; the token was removed." if removed else "You were not signed in.")
    return 0


def register(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    hub = add(
        "hub",
        "Find and download models from Hugging Face, mirrors or ModelScope",
        lambda args: (args.hub_parser.print_help(), 2)[1],
        json_flag=False,
    )
    hub.set_defaults(hub_parser=hub)
    inner = hub.add_subparsers(dest="hub_command", metavar="ACTION")

    def action(
        name: str, help_text: str, handler: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        p = inner.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
        p.add_argument(
            "--hub",
            default="huggingface",
            choices=["huggingface", "modelscope", "local"],
            help="which hub (default: huggingface; HF_ENDPOINT selects a mirror)",
        )
        return p

    p = action("search", "Search models by name, task and library", cmd_search)
    p.add_argument("query", nargs="?", default="", help="words in the model's name")
    p.add_argument("--task", help="pipeline tag, e.g. text-generation, image-classification")
    p.add_argument("--library", help="e.g. onnx, transformers")
    p.add_argument("--author", help="owner of the model, e.g. microsoft")
    p.add_argument("--sort", choices=SORTS, default="downloads", help="order of the results")
    p.add_argument("--limit", type=int, default=20, help="at most this many results (20)")

    p = action("info", "Show a model's files, license, parameters and memory need", cmd_info)
    p.add_argument("repo", help="owner/name")
    p.add_argument("--revision", help="branch, tag or commit (default: main)")
    p.add_argument("--memory", help="memory budget to judge against, e.g. 8GB (default: this PC)")

    p = action(
        "download", "Download a model (or some of its files) into the HF cache", cmd_download
    )
    p.add_argument("repo", help="owner/name")
    p.add_argument(
        "--include",
        action="append",
        metavar="PATTERN",
        help="only files matching this pattern, e.g. 'onnx/*' (repeatable)",
    )
    p.add_argument("--revision", help="branch, tag or commit (default: main)")

    p = action(
        "login",
        "Sign in: the token is read from a prompt or stdin, never the command line",
        cmd_login,
    )
    p.add_argument(
        "--no-check",
        action="store_true",
        help="store the token without asking the hub whether it is valid",
    )

    action("logout", "Sign out: delete the stored token", cmd_logout)
