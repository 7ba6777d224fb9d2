"""Check a downloaded blob against the hash its name (the hub's ETag) promises.

The Hugging Face cache names each blob by its ETag: the SHA-256 of the content for LFS files,
the git blob SHA-1 (``sha1(b"blob <size>\\0" + content)``) for the others. A blob whose bytes
do not match was damaged on the way (a proxy, a mirror, a flipped bit on a resumed file) and
must never be renamed into place. The bytes are hashed as they are written, so a multi-GB file
is not read a second time; bytes already on disk from an earlier run are hashed first.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, BinaryIO

_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")
_READ_SIZE = 1024 * 1024


class BlobCheck:
    """A running hash of ``partial`` and what it must equal when the file is complete."""

    def __init__(self, etag: str, size: int | None, partial: Path) -> None:
        self.etag = etag.lower()
        self.size = size
        self.partial = partial
        if _SHA256.fullmatch(self.etag):
            self.kind = "SHA-256"
        elif _GIT_SHA1.fullmatch(self.etag) and size is not None:
            self.kind = "git blob SHA-1"
        else:
            # Another hub's ETag format (or no size for the git header): nothing to check.
            self.kind = ""
        self._restart()

    def _restart(self) -> None:
        self.hashed = 0
        if self.kind == "SHA-256":
            self._hash: Any = hashlib.sha256()
        else:
            self._hash = hashlib.sha1()
            if self.kind and self.size is not None:  # __init__ picks the git check with a size only
                self._hash.update(b"blob %d\0" % self.size)

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        self.hashed += len(data)

    def catch_up(self) -> None:
        """Make the hash cover exactly the bytes now on disk (a resume, or a truncated file)."""
        size = self.partial.stat().st_size if self.partial.exists() else 0
        if size == self.hashed:
            return
        self._restart()
        if size:
            with self.partial.open("rb") as handle:
                while chunk := handle.read(_READ_SIZE):
                    self.update(chunk)

    def writer(self, handle: BinaryIO) -> HashingWriter:
        return HashingWriter(handle, self)

    def matches(self) -> bool:
        self.catch_up()
        return not self.kind or self._hash.hexdigest() == self.etag


class HashingWriter:
    """The file object ``http_get`` writes to: every chunk also goes into the hash."""

    def __init__(self, handle: BinaryIO, check: BlobCheck) -> None:
        self._handle = handle
        self._check = check

    def write(self, data: bytes) -> int:
        written = self._handle.write(data)
        self._check.update(data)
        return written

    def __getattr__(self, name: str) -> Any:
        # tell, seek, truncate …: when a server ignores Range, http_get truncates the file and
        # the hash no longer covers what is on disk; catch_up() notices by the byte count.
        return getattr(self._handle, name)
