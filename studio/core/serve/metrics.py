"""Counters for `/metrics`, written in the Prometheus text format (no client library needed)."""

from __future__ import annotations

import threading
from collections import Counter

# Seconds; the demo CNN answers in about a millisecond, a large model in seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Requests by route and status, inference latency, and the queue; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.bucket_counts = [0] * len(BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.waiting = 0
        self.running = 0
        self.tokens = 0
        self.tokens_per_s: float | None = None

    def generated(self, tokens: int, tokens_per_s: float | None) -> None:
        """A language model's finished generation: its tokens and decode speed."""
        with self._lock:
            self.tokens += tokens
            self.tokens_per_s = tokens_per_s if tokens_per_s else self.tokens_per_s

    def admit(self, limit: int) -> bool:
        """Take a place in the queue, or False when ``limit`` requests are already in it."""
        with self._lock:
            if self.waiting + self.running >= limit:
                return False
            self.waiting += 1
            return True

    def start(self) -> None:
        with self._lock:
            self.waiting -= 1
            self.running += 1

    def leave(self, started: bool) -> None:
        with self._lock:
            if started:
                self.running -= 1
            else:
                self.waiting -= 1

    def count(self, route: str, status: int) -> None:
        with self._lock:
            self.requests[(route, status)] += 1

    def observe(self, seconds: float) -> None:
        with self._lock:
            self.latency_sum += seconds
            self.latency_count += 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.bucket_counts[i] += 1

    def text(self) -> str:
        with self._lock:
            lines = [
                "# HELP studio_serve_requests_total HTTP requests answered, by route and status.",
                "# TYPE studio_serve_requests_total counter",
            ]
            for (route, status), n in sorted(self.requests.items()):
                lines.append(f'studio_serve_requests_total{{route="{route}",code="{status}"}} {n}')
            lines += [
                "# HELP studio_serve_inference_seconds Time from accepting an inference request "
                "to its answer, queueing included.",
                "# TYPE studio_serve_inference_seconds histogram",
            ]
            for bound, n in zip(BUCKETS, self.bucket_counts, strict=True):
                lines.append(f'studio_serve_inference_seconds_bucket{{le="{bound}"}} {n}')
            lines += [
                f'studio_serve_inference_seconds_bucket{{le="+Inf"}} {self.latency_count}',
                f"studio_serve_inference_seconds_sum {self.latency_sum:.6f}",
                f"studio_serve_inference_seconds_count {self.latency_count}",
                "# HELP studio_serve_queue_depth Inference requests waiting for a worker.",
                "# TYPE studio_serve_queue_depth gauge",
                f"studio_serve_queue_depth {self.waiting}",
                "# HELP studio_serve_in_flight Inference requests running in onnxruntime.",
                "# TYPE studio_serve_in_flight gauge",
                f"studio_serve_in_flight {self.running}",
            ]
            if self.tokens:  # language-model bundles only
                lines += [
                    "# HELP studio_serve_generated_tokens_total Tokens generated.",
                    "# TYPE studio_serve_generated_tokens_total counter",
                    f"studio_serve_generated_tokens_total {self.tokens}",
                    "# HELP studio_serve_decode_tokens_per_second The last generation's speed.",
                    "# TYPE studio_serve_decode_tokens_per_second gauge",
                    f"studio_serve_decode_tokens_per_second {self.tokens_per_s or 0:.2f}",
                ]
        return "\n".join(lines) + "\n"
