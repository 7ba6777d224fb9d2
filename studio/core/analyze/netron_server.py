"""Serve the Netron graph viewer (the installed `netron` package's web app) on 127.0.0.1.

Why not ``netron.start``: its server keeps the served model on the request-handler *class*, so two
viewers in one process (original vs compressed) would both show the last model, and it offers no
way to change the page. We serve the same files, unchanged except for three patches that keep the
viewer private and working offline for good:

* no consent/cookie screen and no analytics: the page's start-up calls to ``consent()`` (which
  first asks ipinfo.io where the user is) and ``telemetry()`` (Google Analytics) are removed, and
  the page's Content-Security-Policy allows connections to this server only;
* no expiry: Netron refuses to run ~180 days after the date in ``<meta name="date">`` (netron
  issues #1164, #1537). Without that tag the page takes "now" as its release date, so the age check
  always passes, whatever the clock says;
* a hook for the studio's own script (heat-map overlay, selection sync), served from here so the
  page's CSP (``script-src 'self'``) allows it.

Each model gets its own page under ``/m/<id>/`` so one server serves any number of views. Only GET
and HEAD are answered, only for ``Host: 127.0.0.1:<port>``, so a web page elsewhere cannot read a
model through DNS rebinding. A path no file can have (a NUL or other control character, an
over-long name) or an over-long request line gets a 400. Request handlers are plain functions
returning (status, type, bytes).
"""

from __future__ import annotations

import http.server
import mimetypes
import re
import socketserver
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

from studio.core.errors import BadInput, StudioError

HOST = "127.0.0.1"

# The page may talk to this server only; inline styles are Netron's own (set from its scripts).
CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self' data:; worker-src 'self' blob:; "
    "frame-src 'none'; object-src 'none'; form-action 'none'; base-uri 'self'"
)

_DATE_META = re.compile(r'<meta name="date" content="[^"]*">\s*')
_CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">')
_VERSION_META = re.compile(r'<meta name="version" content="[^"]*">')
_PRIVACY_CALLS = re.compile(r"await consent\(\);\s*await telemetry\(\);")
_SCRIPT_TAG = '<script type="text/javascript" src="index.js"></script>'


class NetronPatchError(StudioError):
    """The installed netron package differs from the one these patches were written for."""


def netron_dir() -> Path:
    import netron

    return Path(netron.__file__).resolve().parent


def netron_version() -> str:
    from netron.server import __version__

    return str(__version__)


@dataclass(frozen=True)
class ServedModel:
    key: str
    path: Path  # the .onnx file; its folder holds any external-data files it references
    name: str


def patch_index(html: str, model: ServedModel, scripts: list[str]) -> str:
    """Netron's index.html for one model: no expiry date, strict CSP, studio scripts."""
    if not _DATE_META.search(html) or not _CSP_META.search(html) or _SCRIPT_TAG not in html:
        raise NetronPatchError(
            f"netron {netron_version()}'s page is not the expected one",
            "Install the netron version pinned in pyproject.toml",
        )
    html = _DATE_META.sub("", html)
    html = _CSP_META.sub(f'<meta http-equiv="Content-Security-Policy" content="{CSP}">', html)
    meta = "\n".join(
        [
            '<meta name="type" content="Python">',
            f'<meta name="version" content="{netron_version()}">',
            f'<meta name="file" content="data/{urllib.parse.quote(model.path.name)}">',
            f'<meta name="name" content="{_escape(model.name)}">',
            f'<meta name="identifier" content="{_escape(model.path.name)}">',
        ]
    )
    html = _VERSION_META.sub(lambda _: meta, html, count=1)
    tags = "".join(f'<script type="text/javascript" src="{name}"></script>\n' for name in scripts)
    return html.replace(_SCRIPT_TAG, tags + _SCRIPT_TAG)


def patch_browser_js(source: str) -> str:
    """Drop the consent screen (and its ipinfo.io lookup) and Google Analytics start-up."""
    if not _PRIVACY_CALLS.search(source):
        raise NetronPatchError(
            f"netron {netron_version()}'s browser.js is not the expected one",
            "Install the netron version pinned in pyproject.toml",
        )
    return _PRIVACY_CALLS.sub("/* studio: no consent screen, no telemetry */", source)


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


Response = tuple[int, str, bytes]
_NOT_FOUND: Response = (404, "text/plain", b"not found")
_BAD_REQUEST: Response = (400, "text/plain", b"bad request")

# Longer than any name a disk accepts (NAME_MAX 255 bytes, a path of ~4 KiB): such a request is
# refused before it reaches the file system, whose errors would drop the connection unanswered.
MAX_NAME_BYTES = 255
MAX_PATH_CHARS = 2048
MAX_REQUEST_LINE = 8192
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_bad_path(path: str) -> bool:
    """A decoded URL path no file can have: control characters (NUL too) or over-long names."""
    if len(path) > MAX_PATH_CHARS or _CONTROL.search(path):
        return True
    return any(len(part.encode("utf-8", "replace")) > MAX_NAME_BYTES for part in path.split("/"))


class NetronSite:
    """What the server answers, as plain functions (no sockets, no Qt): easy to test."""

    def __init__(self, scripts: dict[str, bytes] | None = None) -> None:
        self.root = netron_dir()
        self.scripts = dict(scripts or {})
        self.models: dict[str, ServedModel] = {}
        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}
        # Fail now, not in a view: patch both files once to prove the installed netron fits.
        patch_browser_js((self.root / "browser.js").read_text(encoding="utf-8"))
        patch_index(
            (self.root / "index.html").read_text(encoding="utf-8"),
            ServedModel("check", Path("model.onnx"), "model"),
            [],
        )

    def add_model(self, path: str | Path, name: str | None = None) -> str:
        path = Path(path).expanduser().resolve()
        if not path.is_file():
            raise BadInput(f"{path} is not a model file", "Pick an .onnx file")
        key = uuid.uuid4().hex[:12]
        with self._lock:
            self.models[key] = ServedModel(key, path, name or path.name)
        return key

    def remove_model(self, key: str) -> None:
        with self._lock:
            self.models.pop(key, None)

    def get(self, raw_path: str) -> Response:
        path = urllib.parse.unquote(urllib.parse.urlparse(raw_path).path)
        if is_bad_path(path):
            return _BAD_REQUEST
        match = re.fullmatch(r"/m/([0-9a-f]{12})/(.*)", path)
        if not match:
            return _NOT_FOUND
        with self._lock:
            model = self.models.get(match.group(1))
        if model is None:
            return _NOT_FOUND
        rest = match.group(2)
        if rest.startswith("data/"):
            return self._model_file(model, rest[len("data/") :])
        return self._asset(model, rest or "index.html")

    def _model_file(self, model: ServedModel, relative: str) -> Response:
        # The model and the external-data files beside it, never anything outside its folder.
        folder = model.path.parent
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            return _NOT_FOUND
        return 200, "application/octet-stream", target.read_bytes()

    def _asset(self, model: ServedModel, name: str) -> Response:
        if name in self.scripts:
            return 200, "text/javascript", self.scripts[name]
        if name == "index.html":
            index = self._file("index.html")
            if index is None:  # a netron install without its page
                return _NOT_FOUND
            html = index.decode("utf-8")
            page = patch_index(html, model, list(self.scripts))
            return 200, "text/html; charset=utf-8", page.encode("utf-8")
        if "/" in name or name.startswith("."):
            return _NOT_FOUND
        data = self._file(name)
        if data is None:
            return _NOT_FOUND
        if name == "browser.js":
            data = patch_browser_js(data.decode("utf-8")).encode("utf-8")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".js"):
            kind = "text/javascript"
        return 200, kind, data

    def _file(self, name: str) -> bytes | None:
        if name not in self._cache:
            target = (self.root / name).resolve()
            if not target.is_relative_to(self.root) or not target.is_file():
                return None
            self._cache[name] = target.read_bytes()
        return self._cache[name]


class _Handler(http.server.BaseHTTPRequestHandler):
    site: NetronSite
    allowed_hosts: set[str]
    raw_requestline: bytes  # set by the standard library before parse_request

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        if self.headers.get("Host", "") not in self.allowed_hosts:
            status, kind, body = 403, "text/plain", b"forbidden"
        else:
            status, kind, body = self.site.get(self.path)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def parse_request(self) -> bool:
        # Netron's URLs are short; a longer request line is refused before it is looked at.
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.send_error(400, "Request line too long")
            return False
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The standard library answers a request line over 64 KiB with 414; every malformed
        # request gets the same 400 here, so a client needs to handle one answer only.
        if code == 414:
            code, message = 400, "Request line too long"
        super().send_error(code, message, explain)

    def _refuse(self) -> None:
        self.send_error(405, "Only GET is served")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are not worth a log line each


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = False


class NetronServer:
    """Netron's pages on 127.0.0.1, on a free port chosen by the OS. Use as a context manager."""

    def __init__(self, scripts: dict[str, bytes] | None = None) -> None:
        self.site = NetronSite(scripts)
        handler: type[_Handler] = type(
            "Handler", (_Handler,), {"site": self.site, "allowed_hosts": set()}
        )
        self._server = _Server((HOST, 0), handler)
        self.port = self._server.server_address[1]
        handler.allowed_hosts = {f"{HOST}:{self.port}"}
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"netron-{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def serve(self, model: str | Path, name: str | None = None) -> str:
        """The URL of a page showing ``model``."""
        key = self.site.add_model(model, name)
        return f"{self.origin}/m/{key}/"

    def forget(self, url: str) -> None:
        match = re.search(r"/m/([0-9a-f]{12})/", url)
        if match:
            self.site.remove_model(match.group(1))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> NetronServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
