"""Models already on this computer: HF-format folders (config.json + weights) and .onnx files."""

from __future__ import annotations

import json
import struct
import threading
import time
from pathlib import Path

from studio.core.errors import BadInput
from studio.core.hubs.base import (
    CachedModel,
    DownloadResult,
    Hub,
    ModelDetails,
    ModelHit,
    RepoFileInfo,
    SearchPage,
    SearchPager,
    SearchQuery,
    TransferCallback,
)
from studio.core.hubs.memory import WEIGHT_SUFFIXES, estimate
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.this_pc import THIS_PC_NAME

HF_WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".msgpack", ".h5")
SAFETENSORS_HEADER_LIMIT = 100 * 1024 * 1024


def strip_front_matter(text: str) -> str:
    """Drop a model card's YAML header (between leading '---' lines)."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            return text[end + 4 :].lstrip("\n")
    return text


def safetensors_header(path: Path) -> dict[str, object]:
    with path.open("rb") as handle:
        raw = handle.read(8)
        if len(raw) != 8:
            raise ValueError("too short")
        (length,) = struct.unpack("<Q", raw)
        if length > SAFETENSORS_HEADER_LIMIT:
            raise ValueError("header too large")
        return json.loads(handle.read(length))  # type: ignore[no-any-return]


def safetensors_parameters(folder: Path) -> dict[str, int]:
    """dtype → parameter count from the headers of every .safetensors file (no weights read)."""
    counts: dict[str, int] = {}
    for path in sorted(folder.rglob("*.safetensors")):
        try:
            header = safetensors_header(path)
        except (OSError, ValueError):
            continue
        for name, tensor in header.items():
            if name == "__metadata__" or not isinstance(tensor, dict):
                continue
            count = 1
            for dim in tensor.get("shape", []):
                count *= int(dim)
            dtype = str(tensor.get("dtype", "F32"))
            counts[dtype] = counts.get(dtype, 0) + count
    return counts


def model_kind(path: Path) -> str | None:
    """'onnx' for an .onnx file or a folder holding one, 'hf' for config.json + weights."""
    if path.is_file():
        return "onnx" if path.suffix.lower() == ".onnx" else None
    if not path.is_dir():
        return None
    if (path / "config.json").is_file() and any(
        p.suffix.lower() in HF_WEIGHTS for p in path.iterdir() if p.is_file()
    ):
        return "hf"
    if any(path.rglob("*.onnx")):
        return "onnx"
    return None


def check_local_model(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise BadInput(f"{path} does not exist", "Check the path, or pick it with Open")
    if path.is_dir() and not any(path.iterdir()):
        raise BadInput(
            f"The folder {path} is empty",
            "Pick a folder with config.json and weights, or an .onnx file",
        )
    if model_kind(path) is None:
        raise BadInput(
            f"{path} is not a model the studio can open",
            "Pick an .onnx file, or a Hugging Face folder (config.json + weights)",
        )
    return path


class _LocalPager(SearchPager):
    def __init__(self, hits: list[ModelHit], size: int) -> None:
        self.hits, self.size, self.number = hits, size, 0

    def next_page(self) -> SearchPage:
        start = self.number * self.size
        self.number += 1
        return SearchPage(
            hits=self.hits[start : start + self.size],
            number=self.number,
            has_more=start + self.size < len(self.hits),
        )


class LocalHub(Hub):
    kind = "local"
    title = THIS_PC_NAME

    def __init__(self, folders: list[str] | None = None) -> None:
        if folders is None:
            from studio.core.hubs.settings import load_settings

            folders = load_settings().local_folders
        self.folders = [Path(f).expanduser() for f in folders]

    def _candidates(self) -> list[Path]:
        found: list[Path] = []
        for root in self.folders:
            if not root.is_dir():
                continue
            for entry in [root, *sorted(root.iterdir())]:
                kind = model_kind(entry)
                if kind and entry not in found and (entry != root or kind == "hf"):
                    found.append(entry)
        return found

    def search(self, query: SearchQuery) -> SearchPager:
        text = query.text.strip().lower()
        hits = []
        for path in self._candidates():
            if text and text not in str(path).lower():
                continue
            stat = path.stat()
            size = (
                stat.st_size
                if path.is_file()
                else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            )
            hits.append(
                ModelHit(
                    id=str(path),
                    author=None,
                    size=size,
                    cached=True,
                    library="onnx" if model_kind(path) == "onnx" else "transformers",
                )
            )
        return _LocalPager(hits, query.page_size)

    def info(
        self, repo: str, revision: str | None = None, *, memory_budget: int | None = None
    ) -> ModelDetails:
        path = check_local_model(repo)
        root = path if path.is_dir() else path.parent
        paths = [p for p in sorted(root.rglob("*")) if p.is_file()] if path.is_dir() else [path]
        files = [
            RepoFileInfo(path=p.relative_to(root).as_posix(), size=p.stat().st_size, cached=True)
            for p in paths
        ]
        dtypes = safetensors_parameters(path) if path.is_dir() else {}
        parameters = sum(dtypes.values()) or None
        if parameters is None and model_kind(path) == "onnx":
            parameters = _onnx_parameters(path)
        license_name = None
        readme = root / "README.md"
        if path.is_dir() and readme.is_file():
            license_name = _license_from_card(readme.read_text("utf-8", "replace"))
        return ModelDetails(
            hub="local",
            id=str(path),
            author=None,
            license=license_name,
            files=files,
            parameters=parameters,
            parameter_dtypes=dtypes,
            local_path=str(path),
            library="onnx" if model_kind(path) == "onnx" else "transformers",
            memory=estimate(
                budget_bytes=memory_budget,
                parameter_dtypes=dtypes,
                files=[(f.path, f.size) for f in files if f.path.lower().endswith(WEIGHT_SUFFIXES)],
            ),
        )

    def card(self, repo: str, revision: str | None = None) -> str:
        path = Path(repo).expanduser()
        readme = (path if path.is_dir() else path.parent) / "README.md"
        if readme.is_file():
            return strip_front_matter(readme.read_text("utf-8", "replace")[: 256 * 1024])
        return ""

    def download(
        self,
        repo: str,
        *,
        revision: str | None = None,
        include: list[str] | None = None,
        report: Reporter = NULL_REPORTER,
        on_transfer: TransferCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> DownloadResult:
        """Nothing to fetch: check the model is usable and return where it is."""
        started = time.monotonic()
        path = check_local_model(repo)
        root = path if path.is_dir() else path.parent
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        size = sum(p.stat().st_size for p in files)
        report.progress(1.0, "already on this computer")
        return DownloadResult(
            hub="local",
            repo=str(path),
            revision="local",
            commit="local",
            path=str(root),
            files=[p.relative_to(root).as_posix() for p in files],
            downloaded_bytes=0,
            total_bytes=size,
            reused_bytes=size,
            seconds=time.monotonic() - started,
            complete=True,
        )

    def cached(self) -> list[CachedModel]:
        return []


def _onnx_parameters(path: Path) -> int | None:
    from studio.core.model.loader import summarize

    try:
        return summarize(path).parameter_count
    except BadInput:
        return None


def _license_from_card(text: str) -> str | None:
    if not text.startswith("---"):
        return None
    for line in text.split("\n---", 1)[0].splitlines():
        if line.strip().startswith("license:"):
            return line.split(":", 1)[1].strip() or None
    return None
