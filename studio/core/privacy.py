"""Keep the studio offline and private: no library's telemetry, usage pings or update checks.

The libraries decide at start-up, from the environment, whether to report home, so
``keep_private()`` is called at the top of every process the studio starts (the CLI and app in
``studio.cli.main``, job and generation children, This PC's runners, the export tool) before
onnxruntime or Qt WebEngine loads; children inherit the environment it sets. What each setting
stops, as found in the installed libraries:

* onnxruntime 1.32 and onnxruntime-genai 0.18 wheels (Linux and macOS too, not just Windows) carry
  Microsoft's 1DS uploader: ~10 s after import they look up ``mobile.events.data.microsoft.com``
  and keep a device id under ``~/.cache/Microsoft/DeveloperTools``. ``ORT_DISABLE_TELEMETRY=1``
  before they load stops the uploader, the events and the id (onnxruntime's Privacy.md); the
  ``disable_telemetry_events()`` call only mutes later events, so it is a fallback for a process
  that loaded onnxruntime before this ran.
* huggingface_hub (and transformers through it) send usage pings unless
  ``HF_HUB_DISABLE_TELEMETRY`` or ``DO_NOT_TRACK`` is set, and its CLI checks PyPI for updates
  unless ``HF_HUB_DISABLE_UPDATE_CHECK`` is set. Hub searches and downloads the user asks for still
  work.
* MLflow 3 (the ``[track]`` extra) sends usage telemetry unless ``MLFLOW_DISABLE_TELEMETRY`` is
  true (mlflow/telemetry/utils.py; its ``DO_NOT_TRACK`` check wants the word "true", not "1").
* Ray (the ``[ray]`` extra, for sweeps) reports cluster usage statistics unless
  ``RAY_USAGE_STATS_ENABLED`` is 0 (Ray's usage-stats documentation).
* Qt WebEngine (Chromium) shows only 127.0.0.1 pages here, but Chromium itself may fetch
  component updates, send hyperlink-auditing pings and domain-reliability reports; the flags below
  turn those off. Netron's own analytics and consent lookup are removed from its page by
  studio.core.analyze.netron_server; the studio serves Netron's files itself, so netron's Python server
  (and any version check of its own) never runs.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import MutableMapping

TELEMETRY_OFF: dict[str, str] = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "DO_NOT_TRACK": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "RAY_USAGE_STATS_ENABLED": "0",
}

CHROMIUM_FLAGS_VAR = "QTWEBENGINE_CHROMIUM_FLAGS"
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--no-pings",
)


def keep_private(env: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Switch every known telemetry and update check off in ``env`` (default: this process's).

    Idempotent. The settings win over the user's own values: the studio promises offline use.
    Chromium flags the user set are kept; the missing ones are appended.
    """
    env = os.environ if env is None else env
    env.update(TELEMETRY_OFF)
    flags = env.get(CHROMIUM_FLAGS_VAR, "").split()
    env[CHROMIUM_FLAGS_VAR] = " ".join(flags + [f for f in CHROMIUM_FLAGS if f not in flags])
    if env is os.environ and "onnxruntime" in sys.modules:
        # Too late for the variable in this process; at least mute what is still to come.
        with contextlib.suppress(AttributeError):
            sys.modules["onnxruntime"].disable_telemetry_events()
    return env
