"""The model graph (Netron) inside the app, with a latency heat-map and selection sync.

QtWebEngine costs a noticeable start-up time, so it is imported only when the first graph is
shown. Each view has its own off-the-record browser profile (no cookies or cache on disk) and a
request interceptor that blocks anything not addressed to the view's own server on 127.0.0.1;
the page talks back through console lines starting with ``studio:``.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from studio.core.privacy import keep_private
from studio.ui.i18n import tr

HOST = "127.0.0.1"  # studio.core.analyze.netron_server binds here; imported lazily with WebEngine

log = logging.getLogger("studio")

OVERLAY_JS = Path(__file__).with_name("web") / "studio_overlay.js"
OVERLAY_NAME = "studio-overlay.js"
LOCAL_SCHEMES = {"data", "blob", "about"}

# Heat-map: pale yellow (little time) → orange → deep red (most time). Readable on Netron's
# white background and distinct from its own node colours.
HEAT_STOPS = [(0.0, QColor("#fff3b0")), (0.5, QColor("#f59e0b")), (1.0, QColor("#b91c1c"))]
NOT_TIMED = QColor("#e5e7eb")  # nodes with no time of their own (folded away, not run)
DIFF_COLOURS = {"added": "#16a34a", "changed": "#f59e0b", "removed": "#dc2626"}

Colours = dict[str, tuple[str, str]]  # node name → (background, text)


def _rgb(colour: QColor | str) -> tuple[int, int, int]:
    if isinstance(colour, str) and len(colour) == 7 and colour.startswith("#"):
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
    red, green, blue, _ = QColor(colour).getRgb()
    return red, green, blue


def with_text(colour: QColor | str) -> tuple[str, str]:
    """A background and a text colour that reads on it."""
    red, green, blue = _rgb(colour)
    light = (0.299 * red + 0.587 * green + 0.114 * blue) / 255 > 0.6
    return f"#{red:02x}{green:02x}{blue:02x}", "#1f2937" if light else "#ffffff"


def heat_colour(fraction: float) -> str:
    """Colour for a node using ``fraction`` (0..1) of the slowest node's time.

    Plain arithmetic, no QColor: building a QColor from three ints took 70–85 µs in PySide6,
    0.7–0.9 s of the UI thread for a 10,000-node heat-map.
    """
    fraction = min(max(fraction, 0.0), 1.0)
    stops = [(at, _rgb(colour.name())) for at, colour in HEAT_STOPS]
    for (lo, c0), (hi, c1) in itertools.pairwise(stops):
        if fraction <= hi:
            t = (fraction - lo) / (hi - lo)
            red, green, blue = (round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True))
            return f"#{red:02x}{green:02x}{blue:02x}"
    return HEAT_STOPS[-1][1].name()


@functools.cache
def _heat_palette() -> list[tuple[str, str]]:
    return [with_text(heat_colour(step / 255)) for step in range(256)]


def heat_map(shares: dict[str, float]) -> Colours:
    """Node name → colours, scaled to the largest share so the slowest node is always deep red.

    The colours come from a 256-step palette (finer than the eye tells apart): a 10,000-node
    graph then costs a lookup per node on the UI thread, not a colour computed per node.
    """
    scale = 255 / (max(shares.values(), default=0.0) or 1.0)
    palette = _heat_palette()
    return {name: palette[min(255, max(0, round(share * scale)))] for name, share in shares.items()}


class HeatLegend(QWidget):
    """Colour bar with the share each end stands for."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bar = _GradientBar(self)
        self._low = QLabel("0%")
        self._high = QLabel("")
        self._title = QLabel(tr("Share of time per layer:"))
        self._title.setToolTip(
            tr(
                "How much of the measured time each layer takes. Layers that "
                "onnxruntime fused into one step share one colour; grey layers "
                "took no time of their own (folded away by onnxruntime)."
            )
        )
        grey = QLabel("  ")
        grey.setStyleSheet(f"background: {NOT_TIMED.name()}; border: 1px solid #9ca3af;")
        grey.setFixedSize(14, 12)
        self._grey = QLabel(tr("no time of its own (folded away by onnxruntime)"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for widget in (self._title, self._low, self._bar, self._high, grey, self._grey):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.setVisible(False)

    def set_range(self, top_share: float) -> None:
        self._high.setText(tr("{share:.0%} (slowest)", share=top_share))
        self.setVisible(True)


class _GradientBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(140, 12)

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        gradient = QLinearGradient(0, 0, self.width(), 0)
        for stop, colour in HEAT_STOPS:
            gradient.setColorAt(stop, colour)
        painter.fillRect(self.rect(), gradient)
        painter.end()


def _make_interceptor(ports: set[int], blocked: list[str], seen: list[str]) -> QObject:
    from PySide6.QtWebEngineCore import QWebEngineUrlRequestInterceptor

    class LocalOnly(QWebEngineUrlRequestInterceptor):
        """Let requests reach this view's own server on 127.0.0.1 and nothing else."""

        def interceptRequest(self, info: Any) -> None:
            url = info.requestUrl()
            seen.append(url.toString())
            scheme = url.scheme()
            local = scheme in LOCAL_SCHEMES or (
                scheme == "http" and url.host() == HOST and url.port() in ports
            )
            if not local:
                blocked.append(url.toString())
                info.block(True)

    return LocalOnly()


def _make_page(profile: QObject, view: NetronView, parent: QObject) -> QObject:
    from PySide6.QtWebEngineCore import QWebEnginePage

    class StudioPage(QWebEnginePage):
        def javaScriptConsoleMessage(
            self, level: Any, message: str, line: int, source: str
        ) -> None:
            if message.startswith("studio:"):
                kind, _, payload = message[len("studio:") :].partition(" ")
                view._on_page_message(kind, json.loads(payload) if payload else None)
            elif level == QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel:
                log.debug("netron page: %s (%s:%s)", message, source, line)

        def acceptNavigationRequest(self, url: QUrl, kind: Any, main: bool) -> bool:
            # Netron's links (GitHub, "report issue") must not turn the view into a browser.
            local = url.scheme() in LOCAL_SCHEMES or url.host() == HOST
            if not local:
                view.blocked.append(url.toString())
            return local

    return StudioPage(profile, parent)


class NetronView(QWidget):
    """Shows one model's graph. Signals: ``ready(node_count)``, ``nodeClicked(name)``,
    ``failed(message)``, ``notice(message)``."""

    ready = Signal(int)
    nodeClicked = Signal(str)
    failed = Signal(str)
    notice = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.blocked: list[str] = []  # URLs the view refused to load (for tests and the log)
        self.requests: list[str] = []
        self.node_count = 0
        self._server: Any = None  # NetronServer, created with the web view
        self._web: Any = None
        self._url = ""
        self._colours: Colours = {}
        self._others: tuple[str, str] | None = None
        self._status = QLabel(tr("The graph appears here."))
        self._status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._status.setWordWrap(True)
        self._stack = QStackedLayout()
        holder = QWidget(self)
        holder.setLayout(self._stack)
        self._stack.addWidget(self._status)
        self.legend = HeatLegend(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(holder, 1)
        layout.addWidget(self.legend)

    # -- loading ------------------------------------------------------------------------------
    def _ensure_web(self) -> Any:
        if self._web is not None:
            return self._web
        keep_private()  # Chromium reads its flags when WebEngine first starts, i.e. just below
        from PySide6.QtWebEngineCore import QWebEngineProfile
        from PySide6.QtWebEngineWidgets import QWebEngineView

        from studio.core.analyze.netron_server import NetronServer

        self._server = NetronServer({OVERLAY_NAME: OVERLAY_JS.read_bytes()})
        web = QWebEngineView(self)  # created before the profile, so it is deleted first
        profile = QWebEngineProfile(self)  # no storage name: off the record, nothing on disk
        profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
        profile.setPersistentCookiesPolicy(
            QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies
        )
        self._ports = {self._server.port}
        self._interceptor = _make_interceptor(self._ports, self.blocked, self.requests)
        self._interceptor.setParent(profile)
        profile.setUrlRequestInterceptor(self._interceptor)
        self._profile = profile
        web.setPage(_make_page(profile, self, web))
        web.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        # The page must be gone before the app (and WebEngine) shuts down.
        QApplication.instance().aboutToQuit.connect(self.shutdown)
        self._stack.addWidget(web)
        self._web = web
        return web

    def add_startup_script(self, source: str) -> None:
        """Run ``source`` in the page before Netron's own scripts (tests fake the clock so)."""
        from PySide6.QtWebEngineCore import QWebEngineScript

        web = self._ensure_web()
        script = QWebEngineScript()
        script.setSourceCode(source)
        script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
        script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
        web.page().scripts().insert(script)

    def load_model(self, path: str | Path, name: str | None = None) -> None:
        web = self._ensure_web()
        assert self._server is not None
        if self._url:
            self._server.forget(self._url)
        self.node_count = 0
        self._colours = {}
        self._url = self._server.serve(path, name)
        # The page must be visible while it draws: Chromium pauses hidden pages' rendering.
        self._stack.setCurrentWidget(web)
        web.load(QUrl(self._url))

    def load_url(self, url: str, allow_port: int | None = None) -> None:
        """Load another page in this view; ``allow_port`` lets it reach that 127.0.0.1 port too
        (tests compare with Netron's own server this way)."""
        self._ensure_web()
        if allow_port is not None:
            self._ports.add(allow_port)
        self._stack.setCurrentWidget(self._web)
        self._web.load(QUrl(url))

    def clear(self, message: str | None = None) -> None:
        """Drop the current graph (a new model is coming) and show ``message`` instead."""
        message = message or tr("The graph appears here.")
        self.node_count = 0
        self._colours, self._others = {}, None
        self.legend.setVisible(False)
        self._status.setText(message)
        self._stack.setCurrentWidget(self._status)
        if self._web is not None:
            if self._url and self._server is not None:
                self._server.forget(self._url)
            self._url = ""
            self._web.load(QUrl("about:blank"))

    @property
    def url(self) -> str:
        return self._url

    @property
    def web(self) -> Any:
        return self._web

    def _on_page_message(self, kind: str, payload: Any) -> None:
        if kind == "ready":
            self.node_count = int(payload)
            self._apply_colours()
            self.ready.emit(self.node_count)
        elif kind == "select":
            self.nodeClicked.emit(str(payload))
        elif kind == "error":
            self._status.setText(tr("Netron could not draw this graph: {error}", error=payload))
            self._stack.setCurrentWidget(self._status)
            self.failed.emit(str(payload))
        elif kind == "notice":
            self.notice.emit(str(payload))

    # -- overlay and selection ----------------------------------------------------------------
    def _run(self, script: str, callback: Callable[[Any], None] | None = None) -> None:
        if self._web is None:
            return
        if callback is None:
            self._web.page().runJavaScript(script)
        else:
            self._web.page().runJavaScript(script, 0, callback)

    def run_js(self, script: str, callback: Callable[[Any], None]) -> None:
        self._run(script, callback)

    def _apply_colours(self) -> None:
        if self.node_count and (self._colours or self._others is not None):
            self._run(
                f"window.studio.colour({json.dumps(self._colours)}, {json.dumps(self._others)})"
            )

    def set_colours(self, colours: Colours, others: tuple[str, str] | None = None) -> None:
        """Colour nodes by name (others too, if given); re-applied once the graph is drawn."""
        self._colours = dict(colours)
        self._others = others
        self._apply_colours()

    def set_heat(self, shares: dict[str, float]) -> None:
        """Colour each node by its share of time; the legend shows what the colours mean."""
        self.set_colours(heat_map(shares), others=with_text(NOT_TIMED))
        self.legend.set_range(max(shares.values(), default=0.0))

    def clear_colours(self) -> None:
        self._colours, self._others = {}, None
        self._run("window.studio.colour({}, null)")
        self.legend.setVisible(False)

    def select_node(self, name: str) -> None:
        if self.node_count:
            self._run(f"window.studio.select({json.dumps(name)})")

    def shutdown(self) -> None:
        """Stop the page and its server (call before the app quits or the view is dropped)."""
        if self._web is not None:
            # The page must go before its profile (Qt warns and may crash otherwise).
            import shiboken6

            self._web.stop()
            self._stack.setCurrentWidget(self._status)
            shiboken6.delete(self._web.page())
            shiboken6.delete(self._profile)
            self._web.deleteLater()
            self._web = None
            self.node_count = 0
        if self._server is not None:
            self._server.stop()
            self._server = None

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)
