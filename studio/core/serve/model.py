"""The served model: a verified bundle's ONNX file in onnxruntime, and V2 tensors checked against
the bundle's manifest before they reach it.

Only the model file named by the manifest is loaded; the bundle's runner code never runs here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core.bundle.folder import Manifest, read_manifest, verify_bundle
from studio.core.errors import BadInput, StudioError
from studio.core.model.ort_errors import explain_ort_error, is_ort_error, plain_ort_errors
from studio.core.serve import v2_codec


class RequestError(StudioError):
    """A request the client got wrong; answered with this status and the one-line message."""

    def __init__(self, what: str, status: int = 400) -> None:
        super().__init__(what)
        self.status = status


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


class ServedModel:
    """One bundle's model, loaded once; ``infer`` is safe to call from several threads."""

    def __init__(self, bundle: Path, manifest: Manifest) -> None:
        self.manifest = manifest
        self.name = self.manifest.model.name
        self.inputs = {t.name: t for t in self.manifest.inputs}
        self.outputs = {t.name: t for t in self.manifest.outputs}
        self.entry = bundle / manifest.entry
        self.session = _open_session(self.entry)

    def metadata(self) -> dict[str, Any]:
        return v2_codec.metadata(self.name, self.manifest.inputs, self.manifest.outputs)

    def infer(self, request: Any) -> dict[str, Any]:
        """A V2 inference request (parsed JSON) in, a V2 response out; RequestError if bad."""
        try:
            feeds = v2_codec.feeds(request, self.inputs)
            wanted = v2_codec.wanted_outputs(request, self.outputs)
        except v2_codec.V2Error as exc:
            raise RequestError(exc.message, exc.status) from exc
        try:
            values = self.session.run(wanted, feeds)
        except Exception as exc:  # the model failed on these values: the client's to fix
            if not is_ort_error(exc):
                raise
            raise RequestError(explain_ort_error(exc, self.entry, feeds).what) from exc
        return v2_codec.response(self.name, request, wanted, values)


def _open_session(path: Path) -> Any:  # onnxruntime.InferenceSession
    import onnxruntime as ort

    # Requests run side by side in their own threads: one onnxruntime thread each, and no
    # spinning between runs (spinning threads took the CPU the HTTP side needs: half the req/s).
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with plain_ort_errors(path):
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
