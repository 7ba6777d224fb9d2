"""Bundles as registered model versions: name = model + chip, tagged with precision, method,
chip and the bundle's SHA-256, the bundle folder as the version's artifact.

Registering happens in the sender with the bundle's run (the job only names the folder); a folder
changed since it was written is not registered. ``fetch_bundle`` brings a version back and
verifies it against its manifest and that SHA-256 before it appears at ``out``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from studio.core.errors import BadInput, StudioError
from studio.core.progress import NULL_REPORTER, Reporter

if TYPE_CHECKING:
    from studio.core.bundle.folder import VerifyResult

ARTIFACT = "bundle"
TAG_SHA = "bundle_sha256"


class Registration(BaseModel):
    name: str
    folder: str
    tags: dict[str, str] = {}


class FetchedBundle(BaseModel):
    name: str
    version: str
    bundle: str
    files: int
    sha256: str


def model_name(model: str, chip: str) -> str:
    """The registered model's name; MLflow names and ``NAME/VERSION`` need no '/' or spaces."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{model}-{chip}").strip("-") or "model"


def registration(folder: Path) -> Registration:
    from studio.core.bundle.folder import MANIFEST, read_manifest, sha256_file

    manifest = read_manifest(folder)
    return Registration(
        name=model_name(manifest.model.name, manifest.chip),
        folder=str(folder.resolve()),
        tags={
            "precision": manifest.precision,
            "method": manifest.method,
            "chip": manifest.chip,
            TAG_SHA: sha256_file(folder / MANIFEST),
        },
    )


def register(client: Any, run_id: str, entry: Registration) -> str | None:
    """Upload the bundle as the run's artifact and make it a model version; None if the folder
    no longer matches what was bundled (the run stays, tagged with why)."""
    from studio.core.bundle.folder import MANIFEST, sha256_file, verify_bundle

    folder = Path(entry.folder)
    try:
        intact = verify_bundle(folder).ok and sha256_file(folder / MANIFEST) == entry.tags[TAG_SHA]
    except (StudioError, OSError):
        intact = False
    if not intact:
        client.set_tag(run_id, "studio.registry", "not registered: the bundle changed or is gone")
        return None
    client.log_artifacts(run_id, str(folder), ARTIFACT)
    if client.search_registered_models(f"name = '{entry.name}'") == []:
        client.create_registered_model(entry.name)
    source = f"{client.get_run(run_id).info.artifact_uri}/{ARTIFACT}"
    version = client.create_model_version(entry.name, source, run_id=run_id, tags=entry.tags)
    client.set_tag(run_id, "studio.registry", f"{entry.name}/{version.version}")
    return str(version.version)


def parse_spec(spec: str) -> tuple[str, str]:
    name, _, version = spec.strip().rpartition("/")
    if not name or not version.isdigit():
        raise BadInput(
            f"{spec!r} is not NAME/VERSION",
            "e.g. digits_cnn-this-pc/1 (see `studio runs show` of a bundle run)",
        )
    return name, version


def fetch_bundle(
    spec: str, out: Path | None = None, force: bool = False, report: Reporter = NULL_REPORTER
) -> FetchedBundle:
    from studio.core.atomic import atomic_path
    from studio.core.bundle.folder import MANIFEST, check_destination, sha256_file, verify_bundle
    from studio.core.track.runs import _client

    name, version = parse_spec(spec)
    out = Path(out or f"{name}-v{version}").expanduser()
    check_destination(out, force)
    client, _ = _client()
    try:
        found = client.get_model_version(name, version)
    except Exception as exc:  # MLflow's own error type for an unknown name or version
        raise BadInput(
            f"No model version {name}/{version} in the registry",
            "Bundle the model first; each bundle is registered as a new version",
        ) from exc
    report.progress(0.1, f"Downloading {name}/{version}")
    with atomic_path(out, replace=force) as partial:
        partial.mkdir()
        try:
            got = Path(client.download_artifacts(found.run_id, ARTIFACT, str(partial)))
        except Exception as exc:
            raise StudioError(
                f"Cannot download {name}/{version} ({str(exc).splitlines()[0][:120]})",
                "Check that the tracking server is running and its artifacts are in place",
            ) from exc
        for item in list(got.iterdir()):  # the files sit in partial/bundle: lift them up a level
            shutil.move(str(item), partial / item.name)
        got.rmdir()
        report.progress(0.7, "Verifying")
        result = verify_bundle(partial)
        _refuse_bad(spec, result)
        sha = sha256_file(partial / MANIFEST)
        if sha != found.tags.get(TAG_SHA):
            raise BadInput(
                f"The manifest of {spec} is not the one registered (SHA-256 differs)",
                "Do not use this version: register the bundle again from a good copy",
            )
    report.progress(1.0, "Done")
    return FetchedBundle(
        name=name, version=version, bundle=str(out), files=result.checked, sha256=sha
    )


def _refuse_bad(spec: str, result: VerifyResult) -> None:
    if result.ok:
        return
    problems = result.problems()
    raise BadInput(
        f"The registered bundle {spec} does not match its manifest ({problems[0]}"
        + (f" and {len(problems) - 1} more" if len(problems) > 1 else "")
        + ")",
        "Do not use this version: register the bundle again from a good copy",
    )
