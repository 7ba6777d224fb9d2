"""onnxruntime-qnn, the plugin that puts Qualcomm's HTP compiler and emulator behind onnxruntime.

It is an optional extra (``pip install 'edge-deploy-studio[qnn]'``): a separate library that
registers into the onnxruntime we pin, not a second onnxruntime. On x86 its HTP backend is an
emulator of the NPU's arithmetic, so a compiled model runs here too (at emulator speed).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from studio.core.compile.result import PLUMBING, NodePlace, Placement
from studio.core.errors import StudioError

EP_NAME = "QNNExecutionProvider"
EXTRA_PIN = "onnxruntime-qnn==2.7.0"
INSTALL_FIX = (
    "Install the qnn extra: pip install 'edge-deploy-studio[qnn]' (it brings "
    f"{EXTRA_PIN}, Qualcomm's compiler and NPU emulator for onnxruntime)"
)
# Graph-input Q and graph-output DQ stay on the CPU by design (offload_graph_io_quantization):
# they convert the app's floats, and are not a part of the model that fell back.
IO_REASONS = ("not take Q nodes that consume a graph input", "not take DQ nodes that generate")
_TOKEN = re.compile(r"_token_\d+$")
_FAILED = re.compile(r"Validation FAILED for \d+ nodes in [^\n]*\n((?:\t[^\n]*\n)+)")
_NODE = re.compile(r"\tOperator type: (\S+) Node name: (.*) Node index: \d+")


class MissingExtra(StudioError):
    """The optional onnxruntime-qnn package is not installed."""


def library_path() -> str:
    try:
        import onnxruntime_qnn
    except ImportError:
        raise MissingExtra(
            "Compiling for the Snapdragon NPU needs onnxruntime-qnn, which is not installed",
            INSTALL_FIX,
        ) from None
    return str(onnxruntime_qnn.get_library_path())


def qnn_devices() -> list[Any]:
    """The QNN EP's devices, registering the plugin library once per process."""
    import onnxruntime as ort

    devices = [d for d in ort.get_ep_devices() if d.ep_name == EP_NAME]
    if not devices:
        ort.register_execution_provider_library(EP_NAME, library_path())
        devices = [d for d in ort.get_ep_devices() if d.ep_name == EP_NAME]
    if not devices:
        raise StudioError("onnxruntime-qnn offers no HTP device on this computer", INSTALL_FIX)
    return devices


def session_options(
    arch: str = "", soc_model: int | None = None, *, strict: bool = False, verbose: bool = False
) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 0 if verbose else 3
    if strict:
        options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    provider: dict[str, str] = {"backend_type": "htp"}
    if arch:
        provider["htp_arch"] = arch.lstrip("vV")
    if soc_model is not None:
        provider["soc_model"] = str(soc_model)
    options.add_provider_for_devices(qnn_devices(), provider)
    return options


def open_on_emulator(path: Path, *, strict: bool) -> Any:
    """A session on the HTP emulator; ``strict``: refuse to put any node on the CPU."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), session_options(strict=strict))


@contextlib.contextmanager
def native_stderr() -> Iterator[list[str]]:
    """Capture what native code writes to file descriptor 2 (the QNN EP's log) into a list."""
    lines: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines.append(capture.read().decode("utf-8", "replace"))


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Qualcomm's libraries print to file descriptor 1, which must carry only `--json` output."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def fallback_reasons(log_text: str) -> dict[str, str]:
    """Node name → the QNN EP's reason for not taking it (its verbose 'Validation FAILED')."""
    reasons: dict[str, str] = {}
    for block in _FAILED.finditer(log_text):
        body = block.group(1)
        reason = next(
            (line.split(":", 1)[1].strip() for line in body.splitlines() if "REASON" in line), ""
        )
        for match in _NODE.finditer(body):
            reasons.setdefault(match.group(2).strip(), reason)
    return reasons


def placement(session: Any, log_text: str) -> Placement:
    """Read the assignment the session recorded (session.record_ep_graph_assignment_info)."""
    reasons = fallback_reasons(log_text)
    nodes: dict[str, NodePlace] = {}
    partitions = 0
    for subgraph in session.get_provider_graph_assignment_info():
        on_npu = subgraph.ep_name == EP_NAME
        partitions += on_npu
        for node in subgraph.get_nodes():
            if node.op_type in PLUMBING:
                continue  # quantization's Q/DQ pairs: not the model's own work
            # The layout pass renames a node it rewrites "<name>_token_<n>" and adds Transposes.
            name = _TOKEN.sub("", node.name)
            if node.op_type == "Transpose" and name != node.name and on_npu:
                continue
            reason = "" if on_npu else reasons.get(node.name, reasons.get(name, ""))
            if not on_npu and any(text in reason for text in IO_REASONS):
                continue
            nodes[name] = NodePlace(name=name, op_type=node.op_type, on_npu=on_npu, reason=reason)
    return Placement(
        nodes=list(nodes.values()),
        npu_partitions=partitions,
        source="checked by Qualcomm's compiler",
    )
