"""`studio serve` against a bare onnxruntime loop: requests/s and p50/p99 latency, batch 1.

Both sides run the demo CNN with N client threads (default 8) for the same time: the bare loop
calls one InferenceSession's run() from each thread; the served side starts the real
`studio serve BUNDLE --port 0 --json` in a child process and each client POSTs V2 JSON requests
over its own keep-alive connection (goal: served ≥ 0.8 × the bare loop's requests/s).
Each `studio export` server (BentoML, MLServer, KServe, Ray Serve; started as the tests start them,
from the venvs of `python -m tests.support.framework_envs --prepare`) gets the same clients and
requests, one round each after the alternating rounds (``--exports ""`` skips them).
Usage: python benchmarks/bench_serve.py [--clients 8] [--seconds 10] [--rounds 3] [--workers 2]
       [--exports bentoml,mlserver,kserve,ray-serve]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _drive(clients: int, seconds: float, make_call: Callable[[], Callable[[], None]]) -> dict:
    """Run ``clients`` threads, each repeating its own call until time is up; latencies in ms."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = []

    def client(index: int) -> None:
        call = make_call()
        call()  # warm: connection open, first run done
        start.wait()
        while time.perf_counter() < stop_at[0]:
            t = time.perf_counter()
            call()
            latencies[index].append((time.perf_counter() - t) * 1000)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at.append(time.perf_counter() + seconds + 0.5)
    start.wait()
    began, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    # This process's CPU per request: the whole bare loop, or only the HTTP clients' share.
    cpu_ms = (time.process_time() - cpu) * 1000
    flat = sorted(x for per in latencies for x in per)
    return {
        "requests_per_s": len(flat) / elapsed,
        "p50_ms": statistics.median(flat),
        "p99_ms": flat[int(0.99 * (len(flat) - 1))],
        "requests": len(flat),
        "client_cpu_ms": cpu_ms / max(len(flat), 1),
    }


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far (Linux; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare(model: Path, image: np.ndarray, clients: int, seconds: float) -> dict:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return _drive(clients, seconds, lambda: lambda: session.run(None, {"image": image}))


def v2_clients(url: str, model: str, image: np.ndarray) -> Callable[[], Callable[[], None]]:
    """Each client's call: POST one V2 JSON request over its own keep-alive connection."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    path = f"/v2/models/{model}/infer"
    tensor = {"name": "image", "shape": [1, 1, 16, 16], "datatype": "FP32"}
    body = json.dumps({"inputs": [{**tensor, "data": image.ravel().tolist()}]})
    headers = {"Content-Type": "application/json"}

    def make_call() -> Callable[[], None]:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)

        def call() -> None:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status

        return call

    return make_call


def served(bundle: Path, image: np.ndarray, clients: int, seconds: float, extra: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("STUDIO_SERVE_TOKEN", None)
    command = [sys.executable, "-m", "studio", "serve", str(bundle), "--port", "0", "--json"]
    proc = subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        before = _cpu_seconds(proc.pid)
        result = _drive(clients, seconds, v2_clients(info["url"], info["model"], image))
        after = _cpu_seconds(proc.pid)
        if before is not None and after is not None:
            result["server_cpu_ms"] = (after - before) * 1000 / max(result["requests"], 1)
        return result
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def exported(bundle: Path, target: str, image: np.ndarray, clients: int, seconds: float) -> dict:
    """The `studio export --to target` project, run by its framework's own command."""
    from studio.core.serve.export import export_bundle
    from tests.support.export_servers import serving

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / target
        result = export_bundle(bundle, target, project)
        with serving(target, project) as url:
            return _drive(clients, seconds, v2_clients(url, result.model, image))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="`studio serve --workers`")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per side")
    parser.add_argument(
        "--exports", default="bentoml,mlserver,kserve,ray-serve", help="export servers, one round"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from studio.core.bundle.folder import create_bundle
    from studio.core.paths import demo_model_path

    image = np.random.default_rng(0).random((1, 1, 16, 16), dtype=np.float32)
    names = ("bare onnxruntime loop", "studio serve (V2 JSON)")
    runs: dict[str, list[dict]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "demo-bundle"
        create_bundle(demo_model_path(), bundle)
        # Alternating rounds: the machine's load drifts, so each side sees the same drift.
        for _ in range(args.rounds):
            runs[names[0]].append(bare(bundle / "model.onnx", image, args.clients, args.seconds))
            workers = ["--workers", str(args.workers)]
            runs[names[1]].append(served(bundle, image, args.clients, args.seconds, workers))
        for target in filter(None, args.exports.split(",")):
            name = f"export {target}"
            runs[name] = [exported(bundle, target, image, args.clients, args.seconds)]
    load = os.getloadavg()[0]
    print(f"demo CNN, batch 1, {args.clients} clients, {args.rounds} rounds of {args.seconds:g} s")
    print(f"(median round by requests/s; load average {load:.1f} at the end; CPU ms: this")
    print(" process's CPU per request, i.e. the whole bare loop, or only the HTTP clients' share;")
    print(" server CPU ms: the `studio serve` process's CPU per request)")
    header = f"{'':24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'server':>7}"
    print(header + "   all rounds req/s")
    rows = {}
    for name in runs:
        ordered = sorted(runs[name], key=lambda r: r["requests_per_s"])
        rows[name] = row = ordered[len(ordered) // 2]
        every = " ".join(f"{r['requests_per_s']:.0f}" for r in runs[name])
        print(
            f"{name:24} {row['requests_per_s']:9.0f} {row['p50_ms']:8.3f} {row['p99_ms']:8.3f}"
            f" {row['client_cpu_ms']:7.3f} {row.get('server_cpu_ms', float('nan')):7.3f}"
            f"   {every}"
        )
    for name in list(runs)[1:]:
        ratio = rows[name]["requests_per_s"] / rows[names[0]]["requests_per_s"]
        print(f"{name} / bare: {ratio:.2f} (goal ≥ 0.8)")


if __name__ == "__main__":
    main()
