"""Copy the studio's current runner into the demo LM bundles shipped in assets/ (lm, lm_int8).

Run after changing studio/runner/runner.py or studio/core/generate/llm_runner.py;
tests/generate/test_shipped_runners.py fails until you do. Add the new files' SHA-256 to
studio/core/devices/known_runners.py too (tests/devices/test_runner_trust.py says which), or
phones and boards refuse to run the refreshed bundles without --trust-bundle-runner. Only the
runner files, the bundle README and the manifest hashes change — the models stay as
scripts/make_demo_lm.py made them.

    PYTHONPATH=. python scripts/refresh_demo_runners.py
"""

from __future__ import annotations

from studio.core.generate.llm_bundle import demo_lm_path, demo_lm_reference_path
from studio.core.generate.runner_refresh import refresh_llm_runner


def main() -> None:
    for folder in (demo_lm_path(), demo_lm_reference_path()):
        changed = refresh_llm_runner(folder)
        print(f"{folder}: {', '.join(changed) if changed else 'already current'}")


if __name__ == "__main__":
    main()
