"""The served model: a verified bundle's ONNX file in onnxruntime, and V2 tensors checked against
the bundle's manifest before they reach it (the codec is studio/core/serve/v2.py, shared with the
projects `studio export` writes).

Only the model file named by the manifest is loaded; the bundle's runner code never runs here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from studio.core.bundle.folder import Manifest, read_manifest, verify_bundle
from studio.core.errors import BadInput
from studio.core.model.ort_errors import explain_ort_error, is_ort_error, plain_ort_errors
from studio.core.serve.v2 import V2_DATATYPES, RequestError, V2Model, v2_shape

__all__ = ["V2_DATATYPES", "RequestError", "ServedModel", "is_llm", "v2_shape", "verified_manifest"]


def verified_manifest(bundle: Path) -> Manifest:
    """The bundle's manifest, once every file matched it."""
    result = verify_bundle(bundle)
    if not result.ok:
        raise BadInput(
            f"{bundle} does not match its manifest ({'; '.join(result.problems()[:3])})",
            "Rebuild or re-copy the bundle; `studio verify` lists every problem",
        )
    return read_manifest(bundle)


def is_llm(manifest: Manifest) -> bool:
    return bool((manifest.reports.get("llm") or {}).get("kind") == "llm")


class ServedModel(V2Model):
    """One bundle's model, loaded once; ``infer`` is safe to call from several threads."""

    def __init__(self, bundle: Path, manifest: Manifest) -> None:
        super().__init__(manifest.model.name, manifest.inputs, manifest.outputs)
        self.manifest = manifest
        self.entry = bundle / manifest.entry
        self.session = _open_session(self.entry)

    def run(self, wanted: list[str], feeds: dict[str, np.ndarray]) -> list[Any]:
        try:
            return list(self.session.run(wanted, feeds))
        except Exception as exc:  # the model failed on these values: the client's to fix
            if not is_ort_error(exc):
                raise
            raise RequestError(explain_ort_error(exc, self.entry, feeds).what) from exc


def _open_session(path: Path) -> Any:  # onnxruntime.InferenceSession
    import onnxruntime as ort

    # Requests run side by side in their own threads: one onnxruntime thread each, and no
    # spinning between runs (spinning threads took the CPU the HTTP side needs: half the req/s).
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with plain_ort_errors(path):
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
