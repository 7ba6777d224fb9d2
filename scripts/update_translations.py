"""Keep assets/translations/*.json in step with the strings wrapped in tr()/trn()/N_() in studio/ui.

Usage:
    python scripts/update_translations.py            # report missing, empty and stale entries
    python scripts/update_translations.py --write    # add missing ones as "" and drop stale ones

Then fill in the empty values (keep {placeholders} and HTML tags as they are) and run
tests/test_i18n.py. Exit code 1 while anything is missing, empty or unwrapped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.ui.i18n_scan import unwrapped_literals, wrapped_strings  # noqa: E402

LANGUAGES = ["zh_CN"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="add missing keys, drop stale ones")
    args = parser.parse_args()
    ui = ROOT / "studio" / "ui"
    keys = list(dict.fromkeys(found.text for found in wrapped_strings(ui)))
    status = 0
    for found in unwrapped_literals(ui):
        print(f"not wrapped in tr(): {found.file}:{found.line}: {found.text!r}")
        status = 1
    for language in LANGUAGES:
        path = ROOT / "assets" / "translations" / f"{language}.json"
        catalogue: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        meta = {k: v for k, v in catalogue.items() if k.startswith("@")}
        missing = [k for k in keys if k not in catalogue]
        empty = [k for k in keys if catalogue.get(k) == ""]
        stale = [k for k in catalogue if k not in keys and not k.startswith("@")]
        for label, items in (("missing", missing), ("empty", empty), ("stale", stale)):
            for key in items:
                print(f"{language}: {label}: {key!r}")
        if missing or empty:
            status = 1
        if args.write:
            updated = {**meta, **{k: catalogue.get(k, "") for k in keys}}
            text = json.dumps(updated, ensure_ascii=False, indent=1) + "\n"
            path.write_text(text, encoding="utf-8")
            print(f"{path}: {len(missing)} added, {len(stale)} dropped")
    return status


if __name__ == "__main__":
    sys.exit(main())
