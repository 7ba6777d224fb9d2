"""Big files travel in pieces, so a push cut off after 3.9 of 4 GB resumes at 3.9 GB.

adbd deletes a file whose transfer broke off, so without pieces a pulled cable costs the whole
file again. Each piece is a separate file on the device, checked by its own SHA-256; when all are
there the device joins them (appending one and deleting it before the next, so the extra space
needed is one piece, not a whole second copy).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

PIECE_BYTES = 64 << 20


@dataclass(frozen=True)
class Piece:
    """A byte range of a local file (``length`` None: to the end)."""

    path: Path
    offset: int = 0
    length: int | None = None

    def size(self) -> int:
        total = self.path.stat().st_size
        return (
            min(self.length, total - self.offset)
            if self.length is not None
            else total - self.offset
        )


def as_piece(item: Path | Piece) -> Piece:
    return item if isinstance(item, Piece) else Piece(Path(item))


def piece_name(part_name: str, index: int) -> str:
    return f"{part_name}.{index:04d}"


def split(path: Path, size: int, piece_bytes: int) -> list[tuple[Piece, str]]:
    """The pieces of a file and their SHA-256, reading it once."""
    pieces = []
    with path.open("rb") as handle:
        for offset in range(0, size, piece_bytes):
            digest = hashlib.sha256()
            left = min(piece_bytes, size - offset)
            while left:
                chunk = handle.read(min(left, 1 << 20))
                if not chunk:
                    break
                digest.update(chunk)
                left -= len(chunk)
            pieces.append(
                (Piece(path, offset, min(piece_bytes, size - offset)), digest.hexdigest())
            )
    return pieces
