"""Install wheels into a folder, run on the device by `studio device-setup` with its own python3.

Boards rarely have pip (Debian's python3 comes without it), and pip on the PC already chose every
wheel, so installing is unzipping: each wheel's files go into the target folder, and a
``NAME.data/purelib`` or ``platlib`` part goes there too (scripts and headers are not needed).
Needs Python 3.8+ and nothing else; run with ``python3 -S`` so no site-packages interfere.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import zipfile

NO_SPACE_EXIT = 28


def _destination(name: str) -> str | None:
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or "\\" in name:
        raise ValueError("unsafe path in wheel: " + name)
    if parts[0].endswith(".data"):
        if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
            return "/".join(parts[2:])
        return None
    return name


def install(wheel: str, target: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            rel = _destination(info.filename)
            if rel is None or info.filename.endswith("/"):
                continue
            path = os.path.join(target, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with archive.open(info) as source, open(path, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            if (info.external_attr >> 16) & 0o111:
                os.chmod(path, 0o755)


def main(argv: list[str]) -> int:
    wheels, target = argv[0], argv[1]
    os.makedirs(target, exist_ok=True)
    try:
        for name in sorted(os.listdir(wheels)):
            if name.endswith(".whl"):
                install(os.path.join(wheels, name), target)
                print("installed " + name, flush=True)
    except OSError as exc:
        print("error: " + str(exc), flush=True)
        return NO_SPACE_EXIT if exc.errno == errno.ENOSPC else 1
    except (ValueError, zipfile.BadZipFile) as exc:
        print("error: " + str(exc), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
