"""A loopback Hugging Face Hub for tests: the endpoints huggingface_hub 2.4.0 really calls.

Checked against the client's source (hf_api.py, file_download.py, utils/_http.py,
utils/_pagination.py):

- ``GET /api/models`` (search, author, filter, pipeline_tag, sort, limit, expand) with
  ``Link: <…>; rel="next"`` pagination, which ``paginate`` follows;
- ``GET /api/models/{repo}[/revision/{rev}]`` with siblings, sha, safetensors, cardData, gated;
- ``GET /api/models/{repo}/tree/{rev}?recursive=true`` paginated the same way;
- ``HEAD``/``GET /{repo}/resolve/{rev}/{path}`` with ``X-Repo-Commit``, ``ETag``,
  ``Content-Length`` and ``Range`` (206 + ``Content-Range``);
- ``GET /api/whoami-v2`` for sign-in;
- errors the way ``hf_raise_for_status`` maps them: ``X-Error-Code`` RepoNotFound,
  RevisionNotFound, EntryNotFound, GatedRepo (401 without a token, 403 without access) and
  401 "Invalid credentials in Authorization header" for a wrong token.

Faults are injectable per request (a status such as 503, a dropped connection after N bytes, or
damaged bytes of the right length that no longer match the ETag) and downloads can be throttled so a test can cancel mid-file. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from tests.support.hub_repo import Repo, git_blob_oid, safetensors_bytes

__all__ = ["FakeHub", "Fault", "HubServer", "Repo", "git_blob_oid", "safetensors_bytes"]


@dataclass
class Fault:
    """Answer matching requests with ``status`` (or drop the connection) ``times`` times."""

    method: str
    path: str
    """Regular expression matched against the URL path."""
    status: int | None = None
    drop_after: int | None = None
    """Send headers and this many body bytes, then close the connection."""
    corrupt: bool = False
    """Send the body with its middle byte flipped: the right length, the wrong hash."""
    ignore_range: bool = False
    """Answer a ranged GET with 200 and the whole file, as some CDNs and proxies do."""
    times: int = 1
    after: int = 0
    """Let this many matching requests through first (e.g. fail only the second page)."""


class FakeHub:
    """The hub's state: repos, tokens and injected faults. Thread-safe enough for tests."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.tokens: dict[str, str] = {}
        """token → user name."""
        self.access: dict[str, set[str]] = {}
        """gated repo id → user names granted access."""
        self.faults: list[Fault] = []
        self.page_size = 1000
        self.tree_page_size = 1000
        self.bytes_per_second: float | None = None
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def add(self, repo: Repo) -> Repo:
        self.repos[repo.id] = repo
        return repo

    def fault(self, method: str, path: str, **kwargs: Any) -> Fault:
        fault = Fault(method, path, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (
                    fault.times > 0
                    and fault.method in (method, "*")
                    and re.search(fault.path, path)
                ):
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and re.search(pattern, p))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits ~40 ms for the
    # client's delayed ACK — a test-server artefact real hubs do not have.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    # ---- plumbing -------------------------------------------------------------------------------
    @property
    def hub(self) -> FakeHub:
        return self.server.hub

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _json(self, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(200, json.dumps(value).encode(), headers)

    def _error(self, status: int, code: str | None, message: str) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message}).encode(), headers)

    def _user(self) -> tuple[str | None, bool]:
        """(user name, whether a token was sent)."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None, False
        return self.hub.tokens.get(auth[7:]), True

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query)
        self.hub.requests.append((self.command, path, dict(self.headers)))
        fault = self.hub.take_fault(self.command, path)
        if fault is not None and fault.status is not None:
            return self._error(fault.status, None, f"injected {fault.status}")
        user, sent_token = self._user()
        if sent_token and user is None:
            return self._error(401, None, "Invalid credentials in Authorization header")
        if path == "/api/whoami-v2":
            if user is None:
                return self._error(401, None, "Invalid credentials in Authorization header")
            return self._json({"type": "user", "name": user, "auth": {"type": "access_token"}})
        if path == "/api/models":
            return self._search(query)
        match = re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)(/.*)?", path)
        if match:
            return self._tree(match.group(1), match.group(2), query)
        match = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
        if match:
            return self._info(match.group(1), match.group(2) or "main", query)
        match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if match:
            return self._resolve(
                match.group(1), match.group(2), match.group(3), user, sent_token, fault
            )
        return self._error(404, None, "no such endpoint")

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    # ---- endpoints ------------------------------------------------------------------------------
    def _repo_rev(self, repo_id: str, revision: str) -> tuple[Repo | None, str | None]:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", "Repository not found")
            return None, None
        sha = repo.branches.get(revision) or (revision if revision == repo.sha else None)
        if sha is None:
            self._error(404, "RevisionNotFound", "Invalid rev id: " + revision)
            return None, None
        return repo, sha

    def _page(self, items: list[Any], query: dict[str, list[str]], size: int) -> None:
        start = int(query.get("cursor", ["0"])[0])
        page = items[start : start + size]
        headers = {}
        if start + size < len(items):
            params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            params.append(("cursor", str(start + size)))
            host, port = self.server.server_address[:2]
            link = f"http://{host}:{port}{urlsplit(self.path).path}?{urlencode(params)}"
            headers["Link"] = f'<{link}>; rel="next"'
        self._json(page, headers)

    def _search(self, query: dict[str, list[str]]) -> None:
        repos = list(self.hub.repos.values())
        text = query.get("search", [""])[0].lower()
        author = query.get("author", [None])[0]
        pipeline = query.get("pipeline_tag", [None])[0]
        filters = query.get("filter", [])
        found = [
            r
            for r in repos
            if text in r.id.lower()
            and (author is None or r.author == author)
            and (pipeline is None or r.pipeline_tag == pipeline)
            and all(f in r.all_tags() for f in filters)
        ]
        sort = query.get("sort", [None])[0]
        keys = {
            "downloads": lambda r: r.downloads,
            "likes": lambda r: r.likes,
            "lastModified": lambda r: r.last_modified,
        }
        if sort in keys:
            found.sort(key=keys[sort], reverse=True)
        size = min(int(query.get("limit", [self.hub.page_size])[0]), self.hub.page_size)
        self._page([r.summary() for r in found], query, max(size, 1))

    def _info(self, repo_id: str, revision: str, query: dict[str, list[str]]) -> None:
        repo, _sha = self._repo_rev(repo_id, revision)
        if repo is None:
            return
        data = repo.summary()
        blobs = query.get("blobs", ["false"])[0].lower() == "true"
        data["siblings"] = [repo.sibling(p, blobs) for p in sorted(repo.files)]
        self._json(data)

    def _tree(self, repo_id: str, revision: str, query: dict[str, list[str]]) -> None:
        repo, _sha = self._repo_rev(repo_id, revision)
        if repo is None:
            return
        self._page(repo.tree_entries(), query, self.hub.tree_page_size)

    def _resolve(
        self,
        repo_id: str,
        revision: str,
        path: str,
        user: str | None,
        sent_token: bool,
        fault: Fault | None,
    ) -> None:
        repo, sha = self._repo_rev(repo_id, revision)
        if repo is None:
            return
        if repo.gated and user not in self.hub.access.get(repo.id, set()):
            status = 403 if sent_token else 401
            return self._error(status, "GatedRepo", f"Access to model {repo.id} is restricted.")
        data = repo.files.get(path)
        if data is None:
            return self._error(404, "EntryNotFound", f"{path} does not exist on {revision}")
        headers = {
            "X-Repo-Commit": sha or repo.sha,
            "ETag": f'"{repo.etag(path)}"',
            "Accept-Ranges": "bytes",
        }
        start, end, status = 0, len(data), 200
        ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if ranged and self.command == "GET" and not (fault and fault.ignore_range):
            start = int(ranged.group(1))
            end = min(int(ranged.group(2)) + 1, len(data)) if ranged.group(2) else len(data)
            if start >= len(data):
                return self._error(416, None, "Range Not Satisfiable")
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        headers["Content-Length"] = str(end - start)
        self._send(status, b"", headers, "application/octet-stream")
        if self.command == "HEAD":
            return
        self._stream(data[start:end], fault)

    def _stream(self, body: bytes, fault: Fault | None) -> None:
        limit = fault.drop_after if fault is not None and fault.drop_after is not None else None
        if fault is not None and fault.corrupt and body:
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
        chunk = 64 * 1024
        sent = 0
        began = time.monotonic()
        rate = self.hub.bytes_per_second
        while sent < len(body):
            piece = body[sent : sent + chunk]
            if limit is not None and sent + len(piece) > limit:
                self.wfile.write(piece[: max(limit - sent, 0)])
                self.wfile.flush()
                self.close_connection = True
                return
            try:
                self.wfile.write(piece)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                return
            sent += len(piece)
            if rate:
                ahead = sent / rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: FakeHub


class HubServer:
    """Run a ``FakeHub`` on 127.0.0.1 in a background thread; ``endpoint`` is its base URL."""

    def __init__(self, hub: FakeHub | None = None) -> None:
        self.hub = hub or FakeHub()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hub = self.hub
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="hub-server", daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, repo_id: str, path: str, revision: str = "main") -> str:
        return f"{self.endpoint}/{repo_id}/resolve/{revision}/{quote(path)}"

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
