"""Push a bundle to a device safely and prove it arrived intact.

Rules (why they exist):
- Free space is checked before the first byte moves: a full phone refuses up front, not halfway.
- Each file travels under a ``.studio-part`` name and is renamed only when complete, and
  ``manifest.json`` is pushed last, after every other file's SHA-256 matched on the device. A
  folder without a matching manifest is therefore never mistaken for a deployed bundle, whatever
  happened mid-push (cable pulled, Cancel, crash).
- Files already on the device with the right hash are skipped, so pushing again after an
  interruption resumes where it stopped.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from studio.core.bundle.folder import MANIFEST, Manifest, read_manifest, sha256_file, verify_bundle
from studio.core.devices import pieces
from studio.core.devices.base import Device
from studio.core.devices.listing import get_device
from studio.core.devices.models import THIS_PC_SERIAL, DeployResult, DeviceVerifyResult
from studio.core.devices.pieces import Piece, piece_name, split
from studio.core.errors import BadInput, OutputError
from studio.core.messages import Fix, message
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.units import human_size

PART = ".studio-part"
SPACE_MARGIN = 16 << 20  # leave the device some room to breathe


class PushMeter:
    """Bytes, rate and time left, reported at most ~8 times a second."""

    def __init__(self, total: int, report: Reporter) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.report = report
        self.start = time.monotonic()
        self._last = 0.0

    def rate(self) -> float:
        elapsed = time.monotonic() - self.start
        return self.done / elapsed if elapsed > 0 else 0.0

    def __call__(self, n: int, name: str) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last < 0.12 and self.done < self.total:
            return
        self._last = now
        rate = self.rate()
        left = (self.total - self.done) / rate if rate > 0 else 0
        self.report.progress(
            self.done / self.total,
            f"Pushing {name} · {human_size(self.done)} of {human_size(self.total)} · "
            f"{human_size(int(rate))}/s · about {_duration(left)} left",
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(int(seconds), 1)} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def device_folder_name(manifest: Manifest) -> str:
    """The folder a bundle gets under the device's deploy root: its model's name as one plain
    file name. Never the bundle path as typed: `studio deploy .` or `..` named it '' or '..' and
    pushed into the parent of the deploy root, replacing what was there."""
    name = _NOT_IN_A_NAME.sub("-", manifest.model.name).strip(".-")[:80].rstrip(".-")
    if not name:
        raise BadInput(
            msg=message(
                "devices.bad_model_name", Fix(action="device_folder"), name=manifest.model.name
            )
        )
    return name


def resolve_target(device: Device, manifest: Manifest, to: str | None) -> str:
    if device.serial == THIS_PC_SERIAL:
        if to:
            return str(Path(to).expanduser().resolve())
        return device.default_dir(device_folder_name(manifest))
    if not to:
        return device.default_dir(device_folder_name(manifest))
    path = PurePosixPath(to)
    if not path.is_absolute() or ".." in path.parts or any(c in to for c in "\n\r\0"):
        raise BadInput(msg=message("devices.not_absolute", path=to))
    return str(path)


def _expected(bundle: Path, manifest: Manifest) -> dict[str, tuple[int, str]]:
    files = {f.path: (f.size, f.sha256) for f in manifest.files}
    manifest_path = bundle / MANIFEST
    files[MANIFEST] = (manifest_path.stat().st_size, sha256_file(manifest_path))
    return files


@dataclass
class _Plan:
    items: list[tuple[Path | Piece, str]] = field(default_factory=list)
    bytes: int = 0
    joins: dict[str, list[str]] = field(default_factory=dict)  # rel → piece names, in order
    pieces_there: dict[str, int] = field(default_factory=dict)  # rel → pieces already pushed
    join_room: int = 0


def _plan(
    dev: Device, bundle: Path, remote: str, to_push: list[str], expected: dict[str, tuple[int, str]]
) -> _Plan:
    """What to send: small files whole, big files as the pieces not already on the device."""
    plan = _Plan()
    big = {
        r: split(bundle / r, expected[r][0], pieces.PIECE_BYTES)
        for r in to_push
        if expected[r][0] > pieces.PIECE_BYTES
    }
    names = {r: [piece_name(r + PART, i) for i in range(len(parts))] for r, parts in big.items()}
    there = dev.hash_files(remote, [n for group in names.values() for n in group]) if big else {}
    for rel in to_push:
        if rel not in big:
            plan.items.append((bundle / rel, dev.join(remote, rel + PART)))
            plan.bytes += expected[rel][0]
            continue
        plan.joins[rel] = names[rel]
        plan.join_room = max(plan.join_room, pieces.PIECE_BYTES)
        for (piece, digest), name in zip(big[rel], names[rel], strict=True):
            if there.get(name) == digest:
                plan.pieces_there[rel] = plan.pieces_there.get(rel, 0) + 1
                continue
            plan.items.append((piece, dev.join(remote, name)))
            plan.bytes += piece.size()
    return plan


def deploy_bundle(
    bundle: str | Path,
    device: str | None = None,
    to: str | None = None,
    *,
    report: Reporter = NULL_REPORTER,
    cancel: threading.Event | None = None,
) -> DeployResult:
    """Push ``bundle`` to ``device`` (a serial, 'this-pc', or None for the only one connected)."""
    started = time.monotonic()
    bundle = Path(bundle).expanduser()
    report.progress(0.0, "Checking the bundle")
    local = verify_bundle(bundle)
    if not local.ok:
        raise BadInput(
            f"The bundle {bundle} does not match its manifest ({'; '.join(local.problems()[:3])})",
            "Rebuild it with `studio bundle`; `studio verify` shows every problem",
        )
    manifest = read_manifest(bundle)
    expected = _expected(bundle, manifest)
    dev = get_device(device)
    remote = resolve_target(dev, manifest, to)
    rels = sorted(r for r in expected if r != MANIFEST)

    report.progress(0.02, "Checking what is already on the device")
    have = dev.hash_files(remote, [*rels, *(r + PART for r in rels), MANIFEST])
    skipped = [r for r in rels if have.get(r) == expected[r][1]]
    resumed = [r for r in rels if r not in skipped and have.get(r + PART) == expected[r][1]]
    to_push = [r for r in rels if r not in skipped and r not in resumed]
    manifest_ok = have.get(MANIFEST) == expected[MANIFEST][1]

    if not (manifest_ok and not to_push and not resumed):
        if MANIFEST in have:
            # The folder stops looking deployed before anything in it changes.
            dev.remove([dev.join(remote, MANIFEST)])
        plan = _plan(dev, bundle, remote, to_push, expected)
        whole_parts = list(resumed)  # complete .studio-part files left by an earlier push
        resumed += [r for r in to_push if plan.pieces_there.get(r)]
        need = plan.bytes + plan.join_room + expected[MANIFEST][0]
        free = dev.free_bytes(remote)
        if free is not None and need + SPACE_MARGIN > free:
            raise OutputError(
                msg=message(
                    "devices.no_space",
                    Fix(action="other_device_folder"),
                    serial=dev.serial,
                    free=human_size(free),
                    path=remote,
                    need=human_size(need),
                )
            )
        meter = PushMeter(plan.bytes, report.sub(0.05, 0.85))
        push_started = time.monotonic()
        dev.send_files(plan.items, meter, cancel)
        push_seconds = time.monotonic() - push_started
        for rel, names in plan.joins.items():
            report.progress(0.86, f"Joining the pieces of {rel} on the device")
            dev.join_pieces([dev.join(remote, n) for n in names], dev.join(remote, rel + PART))
        dev.rename(
            [(dev.join(remote, r + PART), dev.join(remote, r)) for r in to_push + whole_parts]
        )
        bytes_pushed = plan.bytes

        report.progress(0.88, "Checking every file on the device (SHA-256)")
        _check(dev, remote, rels, expected)
        dev.send_files(
            [(bundle / MANIFEST, dev.join(remote, MANIFEST + PART))], lambda n, name: None, cancel
        )
        dev.rename([(dev.join(remote, MANIFEST + PART), dev.join(remote, MANIFEST))])
    else:
        push_seconds, bytes_pushed = 0.0, 0
        report.progress(0.88, "Already on the device; checking every file (SHA-256)")
        _check(dev, remote, rels, expected)
    _check(dev, remote, [MANIFEST], expected)
    report.progress(1.0, "Verified on device")
    return DeployResult(
        serial=dev.serial,
        device=dev.serial,
        remote_dir=remote,
        files=len(expected),
        pushed=to_push,
        skipped=skipped,
        resumed=resumed,
        bytes_pushed=bytes_pushed,
        total_bytes=sum(size for size, _ in expected.values()),
        seconds=time.monotonic() - started,
        push_seconds=push_seconds,
        verified=True,
    )


def _check(dev: Device, remote: str, rels: list[str], expected: dict[str, tuple[int, str]]) -> None:
    got = dev.hash_files(remote, rels)
    bad = [r for r in rels if got.get(r) != expected[r][1]]
    if bad:
        raise OutputError(
            f"{len(bad)} file(s) did not arrive intact on {dev.serial}: {', '.join(bad[:3])}",
            "Deploy again to re-send them (intact files are skipped); if it repeats, try another "
            "cable or check the device's storage",
        )


def verify_on_device(
    bundle: str | Path,
    device: str | None = None,
    to: str | None = None,
    *,
    report: Reporter = NULL_REPORTER,
) -> DeviceVerifyResult:
    """Re-hash every file of a deployed bundle on the device against the local manifest."""
    bundle = Path(bundle).expanduser()
    manifest = read_manifest(bundle)
    expected = _expected(bundle, manifest)
    dev = get_device(device)
    remote = resolve_target(dev, manifest, to)
    report.progress(0.1, "Checking every file on the device (SHA-256)")
    got = dev.hash_files(remote, sorted(expected))
    missing = sorted(r for r in expected if r not in got)
    changed = sorted(r for r in expected if r in got and got[r] != expected[r][1])
    report.progress(1.0, "Checked")
    return DeviceVerifyResult(
        serial=dev.serial,
        remote_dir=remote,
        ok=not (missing or changed),
        checked=len(expected),
        missing=missing,
        changed=changed,
    )


def deployed_matches(dev: Device, remote: str, bundle: Path) -> bool:
    """Quick check before a run: the device holds this bundle's manifest (written last)."""
    manifest_path = bundle / MANIFEST
    got = dev.hash_files(remote, [MANIFEST])
    return got.get(MANIFEST) == sha256_file(manifest_path)
