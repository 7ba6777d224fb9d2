"""Build the one-folder frozen app: dist/EdgeDeployStudio/ (see packaging/README.md).

    python packaging/build.py            # build with the Python running this script
    python packaging/build.py --smoke    # then run packaging/smoke_test.py against it

Run it with the Python that has the studio and the [package] extra installed (the build freezes
whatever that interpreter imports). Build output stays in build/ and dist/ (both git-ignored).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "EdgeDeployStudio.spec"
NAME = "EdgeDeployStudio"
# Pinned in pyproject.toml's [package] extra; a different PyInstaller may collect differently.
TOOLS = ("pyinstaller", "pyinstaller-hooks-contrib")


def pinned_version(dist: str) -> str | None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(rf'"{re.escape(dist)}==([^"]+)"', text)
    return match.group(1) if match else None


def check_tools() -> list[str]:
    problems = []
    for dist in TOOLS:
        want = pinned_version(dist)
        try:
            have = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            have = None
        if have != want:
            problems.append(f"{dist} {have or 'is not installed'} (pyproject.toml pins {want})")
    for dist in ("torch", "transformers"):
        # Excluded by the spec anyway; a note so nobody wonders why the build is smaller.
        try:
            importlib.metadata.version(dist)
            print(f"note: {dist} is installed here but left out of the build (export extra)")
        except importlib.metadata.PackageNotFoundError:
            pass
    return problems


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build(dist_dir: Path, work_dir: Path, clean: bool) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--distpath",
        str(dist_dir),
        "--workpath",
        str(work_dir),
        str(SPEC),
    ]
    if clean:
        cmd.insert(4, "--clean")
    print("running:", " ".join(cmd), flush=True)
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True)
    out = dist_dir / NAME
    print(
        f"built {out} in {time.monotonic() - started:.0f} s, {folder_size(out) / 1024**2:.0f} MB",
        flush=True,
    )
    return out


def studio_version() -> str:
    text = (ROOT / "studio" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    return match.group(1) if match else "0.0.0"


def build_installer() -> int:
    """Windows only: compile installer.iss with Inno Setup 6 (untested: see packaging/README.md)."""
    candidates = [shutil.which("iscc")] + [
        str(Path(os.environ.get(env, "")) / "Inno Setup 6" / "ISCC.exe")
        for env in ("ProgramFiles(x86)", "ProgramFiles")
    ]
    iscc = next((c for c in candidates if c and Path(c).is_file()), None)
    if iscc is None:
        print("error: Inno Setup 6 (ISCC.exe) was not found", file=sys.stderr)
        print("fix: install Inno Setup 6.3+ or put ISCC.exe on PATH", file=sys.stderr)
        return 2
    cmd = [iscc, f"/DAppVersion={studio_version()}", str(ROOT / "installer.iss")]
    print("running:", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the app goes")
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "build" / "pyinstaller",
        help="PyInstaller's work folder",
    )
    parser.add_argument("--clean", action="store_true", help="forget PyInstaller's cache first")
    parser.add_argument(
        "--keep-work", action="store_true", help="keep the work folder (faster rebuilds; ~100 MB)"
    )
    parser.add_argument("--smoke", action="store_true", help="run smoke_test.py afterwards")
    parser.add_argument(
        "--installer", action="store_true", help="Windows: then compile installer.iss (Inno Setup)"
    )
    parser.add_argument(
        "--force", action="store_true", help="build even when PyInstaller is not the pinned version"
    )
    args = parser.parse_args(argv)
    if args.installer and os.name != "nt":
        print("error: the installer is built on Windows only (Inno Setup)", file=sys.stderr)
        return 2
    if os.name != "nt" and hasattr(os, "nice"):
        os.nice(10)  # a build takes both cores for minutes; let interactive work go first
    problems = check_tools()
    if problems and not args.force:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print("fix: pip install -e '.[package]' (or pass --force)", file=sys.stderr)
        return 2
    out = build(args.dist.resolve(), args.work.resolve(), args.clean)
    if not args.keep_work:
        shutil.rmtree(args.work, ignore_errors=True)
    if args.smoke:
        smoke = ROOT / "packaging" / "smoke_test.py"
        code = subprocess.run([sys.executable, str(smoke), str(out)], cwd=ROOT).returncode
        if code:
            return code
    if args.installer:
        return build_installer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
