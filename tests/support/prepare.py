"""Everything the test suite needs beyond the studio's extras, fetched once and cached: the real
models of tests/test_real_models.py, the emulated arm64 board, the serving frameworks' venvs and
the mlflow server's venv. Run by the README's test command (and so by .ci/run); the tests
themselves never reach the network. Each step is a no-op when its cache is already there.

    python -m tests.support.prepare
"""

from __future__ import annotations

import subprocess
import sys

STEPS = (
    ["-m", "benchmarks.corpus.fetch", "--ci"],
    ["-m", "tests.support.arm64_board", "--prepare"],
    ["-m", "tests.support.framework_envs", "--prepare"],
    ["-m", "tests.support.mlflow_server", "--prepare"],
)


def main() -> int:
    # Side by side: they mostly wait on downloads.
    running = [subprocess.Popen([sys.executable, *step]) for step in STEPS]
    failed = [" ".join(step) for step, proc in zip(STEPS, running, strict=True) if proc.wait()]
    for step in failed:
        print(f"prepare: `python {step}` failed (see above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
