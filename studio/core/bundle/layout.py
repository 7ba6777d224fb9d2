"""The manifest's layout: its version, where each report sits, and reading older layouts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.core.analyze.profile import ProfileResult
    from studio.core.compress import CompressResult

MANIFEST_VERSION = 2
"""2: the drift report is ``reports["drift"]`` whoever made the bundle (version 1 had it there
from ``studio run`` and inside ``reports["compress"]`` from the wizard); see migrate_manifest."""


def manifest_reports(
    compressed: CompressResult | None, profiled: ProfileResult | None
) -> dict[str, Any]:
    """The reports of a bundle's manifest, in this version's layout, whichever face made it."""
    reports: dict[str, Any] = {}
    if compressed is not None:
        reports["compress"] = compressed.model_dump(
            mode="json", exclude={"source", "output", "report"}
        )
        if compressed.report is not None:
            reports["drift"] = compressed.report.model_dump(mode="json")
    if profiled is not None:
        reports["profile"] = profiled.bundle_summary()
    return reports


def migrate_manifest(data: dict[str, Any]) -> dict[str, Any]:
    """A manifest's JSON of an older layout in this version's layout; the file is not touched
    (its hashes never cover manifest.json, so an old bundle still verifies)."""
    if data.get("schema_version") != 1:
        return data
    data = {**data, "schema_version": MANIFEST_VERSION}
    reports = data.get("reports")
    if not isinstance(reports, dict):
        return data  # left to validation, which says what is wrong
    reports = dict(reports)
    compress = reports.get("compress")
    if isinstance(compress, dict) and "report" in compress:
        compress = dict(compress)
        drift = compress.pop("report")
        reports["compress"] = compress
        if reports.get("drift") is None:
            reports["drift"] = drift
    if reports.get("drift", "absent") is None:  # `studio run` wrote null when there was none
        del reports["drift"]
    data["reports"] = reports
    return data
