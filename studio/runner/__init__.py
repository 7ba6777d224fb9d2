"""The small program shipped inside every bundle and started on the device (see runner.py)."""

from pathlib import Path

RUNNER_DIR = Path(__file__).resolve().parent


def runner_files() -> dict[str, Path]:
    """Bundle-relative path → source file, for create_bundle's extra files."""
    return {"runner/runner.py": RUNNER_DIR / "runner.py"}


def compile_runner_files() -> dict[str, Path]:
    """The runners `studio compile` adds to its bundles (known_runners lists their hashes)."""
    return {
        "runner/openvino_npu.py": RUNNER_DIR / "openvino_npu.py",
        "runner/nnapi.py": RUNNER_DIR / "nnapi.py",
    }
