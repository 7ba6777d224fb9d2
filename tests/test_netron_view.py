"""The embedded Netron graph: draws offscreen, heat-map, selection both ways, privacy, no expiry."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")

from studio.ui.pages.inspect.netron_view import (
    HEAT_STOPS,
    NetronView,
    heat_colour,
    heat_map,
    with_text,
)

CONV = "/features/features.2/Conv"


def test_heat_colours_run_from_the_palest_to_the_deepest_stop() -> None:
    colours = heat_map({"slow": 0.5, "half": 0.25, "idle": 0.0})
    assert colours["slow"] == (HEAT_STOPS[-1][1].name(), "#ffffff")  # white text on deep red
    assert colours["idle"] == (HEAT_STOPS[0][1].name(), "#1f2937")  # dark text on pale yellow
    assert heat_colour(0.5) == HEAT_STOPS[1][1].name()
    # From a 256-step palette: within one step of the exact colour.
    half, exact = colours["half"][0], heat_colour(0.5)
    assert all(abs(int(half[i : i + 2], 16) - int(exact[i : i + 2], 16)) <= 2 for i in (1, 3, 5))
    assert with_text("#ffffff") == ("#ffffff", "#1f2937")


TWO_YEARS_AHEAD = """
(() => {
    const Real = Date;
    const shift = 2 * 366 * 24 * 3600 * 1000;
    class Shifted extends Real {
        constructor(...args) {
            if (args.length === 0) { super(Real.now() + shift); } else { super(...args); }
        }
        static now() { return Real.now() + shift; }
    }
    window.Date = Shifted;
})();
"""


def js(qtbot: Any, view: NetronView, script: str) -> Any:
    """Evaluate ``script`` in the page; JSON in between, as PySide does not convert arrays."""
    with qtbot.waitCallback(timeout=10_000) as callback:
        view.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0]) if callback.args[0] else None


@pytest.fixture
def view(qtbot: Any):
    widget = NetronView()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    yield widget
    widget.shutdown()


def load(qtbot: Any, view: NetronView, model: Path) -> int:
    with qtbot.waitSignal(view.ready, timeout=60_000) as blocker:
        view.load_model(model)
    return blocker.args[0]


def test_graph_is_drawn_offscreen_with_named_nodes(
    qtbot: Any, view: NetronView, demo_model: Path
) -> None:
    count = load(qtbot, view, demo_model)
    assert count >= 12  # 12 operators (+ input and output boxes)
    ids = js(qtbot, view, "Array.from(document.querySelectorAll('g.node')).map(e => e.id)")
    assert f"node-name-{CONV}" in ids
    assert js(qtbot, view, "document.body.classList.contains('default')") is True


def test_heat_map_colours_nodes_and_shows_a_legend(
    qtbot: Any, view: NetronView, demo_model: Path
) -> None:
    load(qtbot, view, demo_model)
    view.set_heat({CONV: 0.5, "/features/features.0/Conv": 0.05})
    script = (
        f"(() => {{ const e = document.getElementById('node-name-{CONV}');"
        " const p = e.querySelector('.node-item path');"
        " return [e.getAttribute('data-studio-colour'), getComputedStyle(p).fill]; })()"
    )
    qtbot.waitUntil(lambda: js(qtbot, view, script)[0] is not None, timeout=5_000)
    colour, fill = js(qtbot, view, script)
    assert colour == heat_colour(1.0)  # the slowest node is the deepest colour
    red = int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
    assert fill == f"rgb({red[0]}, {red[1]}, {red[2]})"
    assert view.legend.isVisible()
    untimed = js(
        qtbot,
        view,
        "document.getElementById('node-name-/classifier/classifier.0/"
        "Flatten').getAttribute('data-studio-colour')",
    )
    assert untimed == "#e5e7eb"  # not in the profile: grey, not Netron's own colour
    view.clear_colours()
    qtbot.waitUntil(lambda: js(qtbot, view, script)[0] is None, timeout=5_000)


def test_selection_syncs_both_ways(qtbot: Any, view: NetronView, demo_model: Path) -> None:
    load(qtbot, view, demo_model)
    with qtbot.waitSignal(view.nodeClicked, timeout=5_000) as clicked:
        js(
            qtbot,
            view,
            f"document.getElementById('node-name-{CONV}').querySelector("
            "'.node-item path').dispatchEvent("
            "new MouseEvent('click', {bubbles: true}))",
        )
    assert clicked.args == [CONV]
    view.select_node("/classifier/classifier.1/Gemm")
    qtbot.waitUntil(
        lambda: js(qtbot, view, "window.studio.selected()") == ["/classifier/classifier.1/Gemm"],
        timeout=5_000,
    )


def test_no_request_leaves_127_0_0_1(qtbot: Any, view: NetronView, demo_model: Path) -> None:
    load(qtbot, view, demo_model)
    assert view.requests and all(u.startswith("http://127.0.0.1:") for u in view.requests)
    assert view.blocked == []
    # A page without Netron's CSP asking for outside resources: the interceptor stops them.
    view.load_url(
        "data:text/html,<img src='http://example.com/x.png'>"
        "<script>fetch('https://analytics.google.com/g/collect')</script>"
    )
    qtbot.waitUntil(lambda: any("example.com" in u for u in view.blocked), timeout=10_000)
    qtbot.waitUntil(lambda: any("analytics.google.com" in u for u in view.blocked), timeout=10_000)
    # Links in the page (Netron's GitHub logo) cannot navigate the view away either.
    load(qtbot, view, demo_model)
    js(qtbot, view, "(window.location.href = 'https://github.com/lutzroeder/netron', true)")
    qtbot.waitUntil(lambda: any("github.com" in u for u in view.blocked), timeout=5_000)


def test_still_works_with_the_clock_two_years_ahead(
    qtbot: Any, view: NetronView, demo_model: Path
) -> None:
    view.add_startup_script(TWO_YEARS_AHEAD)
    notices: list[str] = []
    view.notice.connect(notices.append)
    load(qtbot, view, demo_model)
    year = js(qtbot, view, "new Date().getFullYear()")
    assert year >= datetime.date.today().year + 2
    assert not any("update" in n.lower() for n in notices)


def test_unpatched_netron_expires_under_the_same_clock(
    qtbot: Any, view: NetronView, demo_model: Path
) -> None:
    """Control for the test above: Netron's own server, same fake clock → refuses to run."""
    import netron

    host, port = netron.start(str(demo_model), address=("127.0.0.1", 0), browse=False)
    try:
        view.add_startup_script(TWO_YEARS_AHEAD)
        view.load_url(f"http://{host}:{port}/", allow_port=port)
        message = "(document.getElementById('message-text') || {}).innerText || ''"
        qtbot.waitUntil(lambda: "update" in js(qtbot, view, message).lower(), timeout=30_000)
        assert js(qtbot, view, "document.querySelectorAll('g.node').length") == 0
    finally:
        netron.stop((host, port))


def test_labels_name_fonts_with_the_shape_brackets(
    qtbot: Any, view: NetronView, demo_model: Path
) -> None:
    """Netron's "sans-serif" is Noto Sans on a plain Debian, which has no 〈 〉 (empty boxes)."""
    load(qtbot, view, demo_model)
    labels = "Array.from(document.querySelectorAll('.node-argument > text'))"
    texts = js(qtbot, view, f"{labels}.map(e => e.textContent)")
    assert any("〈" in text for text in texts)  # weight shapes, e.g. W〈32×1×3×3〉
    family = js(qtbot, view, f"getComputedStyle({labels}[0]).fontFamily")
    assert '"Noto Sans CJK SC"' in family and '"Noto Sans Yi"' in family
