"""Hub performance goals, measured against the loopback hub from tests/support in its own process.

1. Download throughput: the studio's download (``HuggingFaceHub.download``: resumable, cancellable,
   progress) vs a plain ``hf_hub_download`` of the same files from the same server into a fresh
   cache each run. Goal: ≥ 0.95×. Runs alternate so load drifts hit both sides.
2. Results-visible latency in the GUI: from the moment the server finished writing a search answer
   to the moment the hub browser's table shows the rows. Goal: ≤ 100 ms. The server stamps
   ``time.monotonic()`` (system-wide CLOCK_MONOTONIC on Linux, so comparable across processes).
3. Main-thread stalls while searching and downloading (a 2 ms QTimer probe): the UI must never
   block on the network.

Usage: PYTHONPATH=. python benchmarks/bench_hub.py [--mb 256] [--repeat 7] [--searches 20]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def serve(mb: int, ready: multiprocessing.Queue, stamps: multiprocessing.Queue) -> None:
    """The loopback hub, in its own process so it does not share a GIL with the client."""
    from tests.support.hub_server import HubServer, Repo

    server = HubServer()
    rng_block = os.urandom(1024 * 1024)
    big = rng_block * mb
    server.hub.add(
        Repo(
            "bench/model",
            {
                "onnx/model.onnx": big[: mb * 1024 * 1024 // 2],
                "onnx/model.onnx_data": big[mb * 1024 * 1024 // 2 :],
                "config.json": b"{}",
            },
            library_name="onnx",
        )
    )
    for i in range(60):
        server.hub.add(
            Repo(
                f"org{i % 7}/search-model-{i}",
                {"model.onnx": b"x" * (1000 + i)},
                downloads=i * 13 % 97,
                likes=i % 11,
                library_name="onnx",
                pipeline_tag="text-generation",
            )
        )
    from tests.support import hub_server as module

    send = module._Handler._send

    def stamped_send(self, status, body=b"", headers=None, content_type="application/json"):
        send(self, status, body, headers, content_type)
        if self.path.startswith("/api/models?"):
            self.wfile.flush()
            stamps.put(time.monotonic())

    module._Handler._send = stamped_send  # type: ignore[method-assign]
    server.start()
    ready.put(server.endpoint)
    while True:
        time.sleep(3600)


def bench_download(endpoint: str, repeat: int) -> dict[str, object]:
    from huggingface_hub import hf_hub_download

    from studio.core.hubs.hf_context import HubContext
    from studio.core.hubs.huggingface import HuggingFaceHub

    files = ["config.json", "onnx/model.onnx", "onnx/model.onnx_data"]
    root = Path(tempfile.mkdtemp(prefix="bench-hub-"))

    def plain() -> float:
        cache = root / "plain"
        shutil.rmtree(cache, ignore_errors=True)
        start = time.perf_counter()
        for name in files:
            hf_hub_download("bench/model", name, cache_dir=cache, endpoint=endpoint, token=False)
        return time.perf_counter() - start

    def studio() -> float:
        cache = root / "studio"
        shutil.rmtree(cache, ignore_errors=True)
        ctx = HubContext(endpoint=endpoint, token=None, cache_dir=cache, offline=False)
        start = time.perf_counter()
        HuggingFaceHub(ctx).download("bench/model")
        return time.perf_counter() - start

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    plain(), studio()  # warm up: imports, connections, page cache
    times: dict[str, list[float]] = {"plain": [], "studio": []}
    for i in range(repeat):
        order = [("plain", plain), ("studio", studio)]
        for name, run in order if i % 2 == 0 else reversed(order):
            times[name].append(run())
    shutil.rmtree(root, ignore_errors=True)
    return times


def bench_gui(endpoint: str, stamps: multiprocessing.Queue, searches: int) -> dict[str, object]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["HF_ENDPOINT"] = endpoint
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.ui.pages.model.hub_browser import HubBrowser

    app = QApplication.instance() or QApplication([])
    browser = HubBrowser()
    browser.resize(1200, 700)
    browser.show()
    clock = QElapsedTimer()
    clock.start()
    last = {"t": clock.nsecsElapsed()}
    gaps: list[float] = []

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last["t"]) / 1e6)
        last["t"] = now

    probe = QTimer()
    probe.setInterval(2)
    probe.timeout.connect(tick)

    def wait(signal, ms: int = 30_000) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        signal.disconnect(loop.quit)

    latencies: list[float] = []
    shown = {"t": 0.0}
    browser.results_shown.connect(lambda _n: shown.__setitem__("t", time.monotonic()))
    probe.start()
    for i in range(searches):
        while not stamps.empty():
            stamps.get_nowait()
        browser.search.setText(["search", "model", "org3", "search-model-1"][i % 4])
        browser.start_search()
        wait(browser.results_shown)
        answered = stamps.get(timeout=10)
        latencies.append((shown["t"] - answered) * 1000)
    search_gaps = list(gaps)
    gaps.clear()
    browser.search.setText("bench")
    browser.start_search()
    wait(browser.results_shown)
    browser.table.selectRow(0)
    wait(browser.details_shown)
    browser.detail.include.clear()
    browser.detail.download_button.click()
    assert browser.download is not None
    wait(browser.download.finished, 120_000)
    probe.stop()
    download_gaps = list(gaps)
    browser.shutdown()
    app.processEvents()
    return {
        "latency_ms": latencies,
        "search_gaps": search_gaps,
        "download_gaps": download_gaps,
        "download_status": browser.detail.status.text(),
    }


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f}, max {max(values):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--searches", type=int, default=20)
    args = parser.parse_args()
    for name in ("STUDIO_DATA_DIR", "STUDIO_CONFIG_DIR", "STUDIO_CACHE_DIR", "HF_HOME"):
        os.environ[name] = tempfile.mkdtemp(prefix="bench-hub-")
    context = multiprocessing.get_context("spawn")
    ready, stamps = context.Queue(), context.Queue()
    server = context.Process(target=serve, args=(args.mb, ready, stamps), daemon=True)
    server.start()
    try:
        endpoint = ready.get(timeout=60)
        times = bench_download(endpoint, args.repeat)
        gui = bench_gui(endpoint, stamps, args.searches)
    finally:
        server.terminate()
        server.join(5)
    size_mib = args.mb + 2 / 1024 / 1024
    plain, studio = statistics.median(times["plain"]), statistics.median(times["studio"])
    result = {
        "load_average": os.getloadavg()[0],
        "download_mib": args.mb,
        "plain_s": times["plain"],
        "studio_s": times["studio"],
        "plain_mib_s_median": size_mib / plain,
        "studio_mib_s_median": size_mib / studio,
        "ratio_median": plain / studio,
        "ratio_best": min(times["plain"]) / min(times["studio"]),
        "latency_ms": gui["latency_ms"],
        "worst_stall_search_ms": max(gui["search_gaps"]),
        "worst_stall_download_ms": max(gui["download_gaps"]),
        "p99_stall_download_ms": sorted(gui["download_gaps"])[
            int(0.99 * len(gui["download_gaps"]))
        ],
    }
    print(json.dumps(result, indent=1))
    print(
        f"throughput ratio studio/plain: {result['ratio_median']:.3f} (median), "
        f"{result['ratio_best']:.3f} (best)"
    )
    print(f"results visible after the server answered (ms): {summary(gui['latency_ms'])}")
    print(
        f"main-thread stalls (ms): search {summary(gui['search_gaps'])}; "
        f"download {summary(gui['download_gaps'])}"
    )


if __name__ == "__main__":
    main()
