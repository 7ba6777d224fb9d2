"""`getprop` and `df` for the virtual device (tests/support/virtual_adb.py).

They print what Android's own tools print: ``getprop`` answers from the device's property table,
``df -k`` reports the device's simulated storage (its capacity minus what lies under /data) in
toybox's format, so the studio parses the same text it gets from a phone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def getprop(root: Path, args: list[str]) -> int:
    props = json.loads((root / "props.json").read_text(encoding="utf-8"))
    if args:
        print(props.get(args[0], args[1] if len(args) > 1 else ""))
    else:
        for key in sorted(props):
            print(f"[{key}]: [{props[key]}]")
    return 0


def df(root: Path, args: list[str]) -> int:
    capacity = int((root / "capacity").read_text(encoding="utf-8"))
    used = sum(p.stat().st_size for p in (root / "data").rglob("*") if p.is_file())
    total_k, used_k = capacity // 1024, used // 1024
    avail_k = max(total_k - used_k, 0)
    pct = f"{(100 * used_k) // max(total_k, 1)}%"
    print("Filesystem            1K-blocks    Used Available Use% Mounted on")
    for _path in [a for a in args if not a.startswith("-")] or ["/data"]:
        print(f"/dev/block/dm-48      {total_k:>9} {used_k:>7} {avail_k:>9} {pct:>4} /data")
    return 0


if __name__ == "__main__":
    tool, root_text, *rest = sys.argv[1:]
    sys.exit({"getprop": getprop, "df": df}[tool](Path(root_text), rest))
