"""Smoke-test a frozen build folder: the real program, its CLI, jobs, runner, GUI and WebEngine.

    python packaging/smoke_test.py dist/EdgeDeployStudio [--gui-seconds 10] [--only NAME ...]

Every check starts the built program itself (never the Python install), with HOME and the XDG
folders pointed at a temporary folder, so user data lands there and nothing of the real user's is
touched. The last check confirms the build folder was not written to. Exit code 0 only when every
check passed. Slow (a minute or two on 2 cores): not part of the pytest suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_SCRIPT_FLAG = "--run-python-script"  # studio/core/frozen.py


class CheckFailed(Exception):
    pass


@dataclass
class Context:
    app: Path  # the build folder
    exe: Path  # its program
    console: Path  # the program that prints (studio.exe on Windows, the same program elsewhere)
    internal: Path  # the folder holding assets/ (sys._MEIPASS)
    tmp: Path
    env: dict[str, str]
    gui_seconds: float

    def run(
        self,
        *args: str,
        timeout: float = 300,
        program: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(program or self.console), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            env=env or self.env,
            cwd=self.tmp,
        )

    def script(
        self, name: str, source: str, *args: str, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        path = self.tmp / f"{name}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return self.run(RUN_SCRIPT_FLAG, str(path), *args, timeout=timeout)

    @property
    def demo_model(self) -> Path:
        return self.internal / "assets" / "demo" / "digits_cnn.onnx"

    @property
    def demo_samples(self) -> Path:
        return self.internal / "assets" / "demo" / "digits_samples.npz"


def expect(done: subprocess.CompletedProcess[str], code: int = 0) -> str:
    if done.returncode != code:
        tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
        raise CheckFailed(f"exit {done.returncode} (wanted {code}): " + " | ".join(tail))
    if "Traceback (most recent call last)" in done.stderr + done.stdout:
        raise CheckFailed("a traceback was printed: " + done.stderr.strip().splitlines()[-1])
    return done.stdout


def check_version(ctx: Context) -> str:
    out = expect(ctx.run("--version")).strip()
    want = re.search(r'__version__ = "([^"]+)"', (ROOT / "studio" / "__init__.py").read_text())
    if want and out != f"Edge Deploy Studio {want.group(1)}":
        raise CheckFailed(f"printed {out!r}")
    return out


def check_info(ctx: Context) -> str:
    info = json.loads(expect(ctx.run("info", str(ctx.demo_model), "--json")))
    if info["node_count"] < 1 or info["parameter_count"] < 1:
        raise CheckFailed(f"odd summary: {info}")
    human = expect(ctx.run("info", str(ctx.demo_model)))
    if "parameters" not in human:
        raise CheckFailed("human output lacks the parameter count")
    return (
        f"{info['name']}: {info['node_count']} nodes, {info['parameter_count']} parameters, "
        f"opset {info['opset']}"
    )


def check_compress(ctx: Context) -> str:
    out = ctx.tmp / "compressed" / "digits_cnn.int8.onnx"
    result = json.loads(
        expect(
            ctx.run(
                "compress",
                str(ctx.demo_model),
                "--method",
                "int8-static",
                "--calib",
                str(ctx.demo_samples),
                "--out",
                str(out),
                "--json",
                "-q",
            )
        )
    )
    if not out.is_file() or result["size_after"] >= result["size_before"]:
        raise CheckFailed(f"no smaller model at {out}")
    cosine = min(o["cosine"] for o in result["report"]["outputs"])
    if cosine < 0.99:
        raise CheckFailed(f"int8 output drifted: cosine {cosine}")
    return (
        f"int8-static {result['size_before'] / 1024:.0f} KB → "
        f"{result['size_after'] / 1024:.0f} KB, cosine {cosine:.5f}"
    )


def check_generate(ctx: Context) -> str:
    done = ctx.run(
        "generate",
        "--prompt",
        "Hello",
        "--max-new-tokens",
        "16",
        "--temperature",
        "0",
        "--json",
        "-q",
    )
    events = [json.loads(line) for line in expect(done).splitlines() if line.startswith("{")]
    summary = next((e for e in events if e.get("type") == "summary"), None)
    if not summary or summary["tokens"] < 1 or not summary["text"].strip():
        raise CheckFailed(f"no generated text: {events[-1:] or done.stdout[-300:]}")
    return (
        f"{summary['tokens']} tokens from the bundled demo LM ({summary['model']}), "
        f"{summary['decode_tokens_per_s']:.0f} tok/s: {summary['text'][:40]!r}"
    )


JOBS_SCRIPT = """
    # The guard matters: a spawn child imports this script again (as __mp_main__).
    import json, sys
    from studio.core.jobs import JobHandle, JobSpec, JobState, run_job
    from studio.core.paths import demo_model_path


    def main():
        model = str(demo_model_path())
        profile = run_job(JobSpec("profile", "studio.core.analyze.profile:profile_model",
                                  {"model": model, "runs": 5}))
        events = []
        gen = run_job(JobSpec("generate", "studio.core.generate.session:generate_job",
                              {"model": None, "prompt": "Hello",
                               "settings": {"max_new_tokens": 8, "temperature": 0}}),
                      on_event=events.append)
        slow = JobHandle(JobSpec("cancel me", "studio.core.analyze.profile:profile_model",
                                 {"model": model, "runs": 100000})).start()
        slow.cancel()
        list(slow.events())
        print(json.dumps({"profile_ms": profile.end_to_end_ms, "gen_tokens": gen.tokens,
                          "gen_events": len(events), "cancelled": slow.state is JobState.CANCELLED,
                          "executable": sys.executable}))


    if __name__ == "__main__":
        main()
"""


def check_jobs(ctx: Context) -> str:
    result = json.loads(expect(ctx.script("jobs", JOBS_SCRIPT)).strip().splitlines()[-1])
    if not (
        result["profile_ms"] > 0
        and result["gen_tokens"] > 0
        and result["gen_events"] > 0
        and result["cancelled"]
    ):
        raise CheckFailed(f"job results: {result}")
    if Path(result["executable"]).resolve() != ctx.console.resolve():
        raise CheckFailed(f"children ran {result['executable']}, not the frozen program")
    return (
        f"spawn children of the frozen program: profile {result['profile_ms']:.3f} ms, "
        f"generate {result['gen_tokens']} tokens in {result['gen_events']} events, cancel ok"
    )


def check_this_pc_runner(ctx: Context) -> str:
    bundle = ctx.tmp / "bundle"
    expect(ctx.run("bundle", str(ctx.demo_model), "--chip", "this-pc", "--out", str(bundle), "-q"))
    expect(ctx.run("verify", str(bundle)))
    expect(ctx.run("deploy", str(bundle), "--device", "this-pc", "-q"))
    done = ctx.run(
        "device-run", str(bundle), "--device", "this-pc", "bench", "--runs", "5", "--json", "-q"
    )
    text = expect(done)
    if "runtime_missing" in text or '"error"' in text:
        raise CheckFailed(f"runner reported an error: {text[-300:]}")
    match = re.search(r'"(?:median_ms|p50_ms|mean_ms|latency_ms)":\s*([0-9.]+)', text)
    detail = f"{match.group(0)}" if match else text.strip().splitlines()[-1][:120]
    return f"bundle → verify → deploy → runner.py bench on This PC via the app's Python: {detail}"


def check_export_message(ctx: Context) -> str:
    pt = ctx.tmp / "model.pt"
    pt.write_bytes(b"not a real model")
    done = ctx.run(
        "convert", str(pt), "--to", "onnx", "--out", str(ctx.tmp / "m.onnx"), "--shape", "x=1x4"
    )
    expect(done, code=2)
    hf = ctx.tmp / "tiny-llama"
    hf.mkdir()
    (hf / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    (hf / "tokenizer.json").write_text("{}")
    done2 = ctx.run("llm-export", str(hf), "--out", str(ctx.tmp / "llm"))
    expect(done2, code=2)
    for d in (done, done2):
        lines = d.stderr.strip().splitlines()
        if (
            len(lines) != 1
            or "packaged app does not include" not in lines[0]
            or "[export] extra" not in lines[0]
        ):
            raise CheckFailed(f"unclear message: {d.stderr.strip()!r}")
    return done.stderr.strip()


KEYRING_SCRIPT = """
    import importlib.metadata, json, keyring.backend
    from studio.core.hubs import tokens
    names = sorted(e.name for e in importlib.metadata.entry_points(group="keyring.backends"))
    usable = [type(b).__module__ for b in keyring.backend.get_all_keyring()]
    import keyring.backends.SecretService, keyring.backends.Windows, keyring.backends.macOS
    secure = tokens.secure_backend()
    print(json.dumps({"entry_points": names, "usable": usable,
                      "secure": type(secure).__module__ if secure else None}))
"""


def check_keyring(ctx: Context) -> str:
    result = json.loads(
        expect(ctx.script("keyring_check", KEYRING_SCRIPT)).strip().splitlines()[-1]
    )
    missing = {"SecretService", "Windows", "macOS", "KWallet"} - set(result["entry_points"])
    if missing:
        raise CheckFailed(f"keyring backends missing from the build: {sorted(missing)}")
    if any("plaintext" in m.lower() or m.startswith("keyrings.alt") for m in result["usable"]):
        raise CheckFailed(f"a plaintext keyring is usable: {result['usable']}")
    return (
        f"backends registered: {', '.join(result['entry_points'])}; secure one usable here: "
        f"{result['secure'] or 'none (no Secret Service on this machine: session-only tokens)'}"
    )


ADB_SCRIPT = """
    import json, os
    os.environ["PATH"] = ""  # no adb on PATH: the build's own copy must be found
    for name in ("ADBUTILS_ADB_PATH", "ANDROID_HOME", "ANDROID_SDK_ROOT"):
        os.environ.pop(name, None)
    from studio.core.devices.adb_server import adb_program, program_version
    program = adb_program()
    print(json.dumps({"program": str(program), "version": program_version(program)}))
"""


def check_adb(ctx: Context) -> str:
    result = json.loads(expect(ctx.script("adb_check", ADB_SCRIPT)).strip().splitlines()[-1])
    program = Path(result["program"])
    if not program.resolve().is_relative_to(ctx.app.resolve()) or not result["version"]:
        raise CheckFailed(f"adb: {result}")
    return f"bundled adb {program.relative_to(ctx.app)} runs (1.0.{result['version']})"


NETRON_SCRIPT = """
    import json, sys
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication(sys.argv[:1])
    from studio.core.paths import demo_model_path
    from studio.ui.pages.inspect.netron_view import NetronView
    view = NetronView()
    view.resize(900, 700)
    view.show()
    result = {}
    loop = QEventLoop()
    view.ready.connect(lambda n: (result.update(nodes=n), loop.quit()))
    view.failed.connect(lambda m: (result.update(error=m), loop.quit()))
    QTimer.singleShot(120_000, loop.quit)
    view.load_model(demo_model_path())
    loop.exec()
    view.shutdown()
    print(json.dumps(result))
"""


def check_netron_webengine(ctx: Context) -> str:
    result = json.loads(expect(ctx.script("netron_check", NETRON_SCRIPT)).strip().splitlines()[-1])
    if not result.get("nodes"):
        raise CheckFailed(f"Netron did not draw the graph: {result}")
    return f"QtWebEngine drew the demo model's graph with Netron: {result['nodes']} nodes"


CHINESE_SCRIPT = """
    import json, sys
    from PySide6.QtCore import QCoreApplication, Qt, QThreadPool
    from PySide6.QtWidgets import QApplication, QPushButton
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication(sys.argv[:1])
    from studio.ui.app import install_qt_translations
    from studio.ui.i18n import set_language, tr
    set_language("zh_CN")
    qt = install_qt_translations(app, "zh_CN")
    from studio.ui.main_window import MainWindow
    window = MainWindow()
    window.show()
    app.processEvents()
    buttons = [b.text() for b in window.findChildren(QPushButton)]
    window.close()
    # Let the window's background checks finish before the interpreter goes away.
    QThreadPool.globalInstance().waitForDone(30_000)
    print(json.dumps({"studio": tr("Use the demo model"), "on_screen": tr("Use the demo model") in buttons,
                      "qt_files": len(qt), "qt": QCoreApplication.translate("QPlatformTheme", "Cancel")}))
"""


def check_chinese_ui(ctx: Context) -> str:
    last = expect(ctx.script("chinese_check", CHINESE_SCRIPT)).strip().splitlines()[-1]
    result = json.loads(last)
    if result["studio"] == "Use the demo model" or not result["on_screen"]:
        raise CheckFailed(f"the studio's Chinese catalogue was not used: {result}")
    if result["qt_files"] < 2 or result["qt"] == "Cancel":
        raise CheckFailed(f"Qt's Chinese translations were not loaded: {result}")
    return (
        f"main window in Chinese ({result['studio']!r} on a button), Qt's own texts too "
        f"(Cancel → {result['qt']!r}, {result['qt_files']} Qt catalogues)"
    )


def check_gui(ctx: Context) -> str:
    log = ctx.tmp / "gui.log"
    with log.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen(
            [str(ctx.exe)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=ctx.env,
            cwd=ctx.tmp,
            start_new_session=os.name != "nt",
        )
        try:
            process.wait(timeout=ctx.gui_seconds)
            raise CheckFailed(
                f"the GUI exited with {process.returncode} within "
                f"{ctx.gui_seconds:.0f} s: {log.read_text()[-400:]}"
            )
        except subprocess.TimeoutExpired:
            pass
        finally:
            if process.poll() is None:
                if os.name == "nt":
                    process.terminate()
                else:
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    text = log.read_text(encoding="utf-8", errors="replace")
    bad = [
        line
        for line in text.splitlines()
        if re.search(r"Traceback|Error|error:|CRITICAL|cannot|could not", line, re.I)
    ]
    if bad:
        raise CheckFailed("the GUI logged problems: " + " | ".join(bad[:5]))
    return f"the window ran {ctx.gui_seconds:.0f} s offscreen; {len(text.splitlines())} log lines, none an error"


CHECKS: dict[str, Callable[[Context], str]] = {
    "version": check_version,
    "info": check_info,
    "compress": check_compress,
    "generate": check_generate,
    "jobs": check_jobs,
    "this-pc-runner": check_this_pc_runner,
    "export-message": check_export_message,
    "keyring": check_keyring,
    "adb": check_adb,
    "netron-webengine": check_netron_webengine,
    "chinese-ui": check_chinese_ui,
    "gui": check_gui,
}


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def make_context(app: Path, tmp: Path, gui_seconds: float) -> Context:
    windows = os.name == "nt"
    exe = app / ("EdgeDeployStudio.exe" if windows else "EdgeDeployStudio")
    console = app / "studio.exe" if windows else exe
    internal = app / "_internal"
    home = tmp / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XDG_", "STUDIO_", "PYTHON", "QT_", "HF_"))
    }
    env.update(
        {
            "HOME": str(home),
            "USERPROFILE": str(home),
            "APPDATA": str(home / "AppData" / "Roaming"),
            "LOCALAPPDATA": str(home / "AppData" / "Local"),
            "QT_QPA_PLATFORM": "offscreen",
            "QTWEBENGINE_CHROMIUM_FLAGS": "--disable-gpu",
            # Never start or use the machine's adb server (port 9 is "discard": nothing answers).
            "STUDIO_ADB_AUTOSTART": "0",
            "ANDROID_ADB_SERVER_PORT": "9",
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"  # Chromium's sandbox refuses to run as root
    return Context(app, exe, console, internal, tmp, env, gui_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", type=Path, help="the build folder, e.g. dist/EdgeDeployStudio")
    parser.add_argument("--gui-seconds", type=float, default=10.0)
    parser.add_argument("--only", nargs="+", choices=sorted(CHECKS), help="run just these checks")
    args = parser.parse_args(argv)
    app = args.app.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="studio-smoke-"))
    try:
        ctx = make_context(app, tmp, args.gui_seconds)
        if not ctx.exe.is_file() or not (ctx.internal / "assets").is_dir():
            print(
                f"error: {app} is not a build folder (no {ctx.exe.name} or _internal/assets)",
                file=sys.stderr,
            )
            return 2
        before = snapshot(app)
        failed = 0
        for name in args.only or CHECKS:
            started = time.monotonic()
            try:
                detail, ok = CHECKS[name](ctx), True
            except (
                CheckFailed,
                subprocess.TimeoutExpired,
                json.JSONDecodeError,
                KeyError,
                OSError,
            ) as exc:
                detail, ok = f"{type(exc).__name__}: {exc}", False
            failed += not ok
            print(
                f"{'PASS' if ok else 'FAIL'}  {name:<17} {time.monotonic() - started:5.1f} s  "
                f"{detail}",
                flush=True,
            )
        after = snapshot(app)
        changed = sorted(set(before.items()) ^ set(after.items()))
        if changed:
            failed += 1
            print(f"FAIL  install-untouched   the build folder changed: {changed[:5]}")
        else:
            written = sum(1 for p in (tmp / "home").rglob("*") if p.is_file())
            print(
                f"PASS  install-untouched   nothing written into {app.name}/; "
                f"{written} files went to the temporary user folders"
            )
        total = len(args.only or CHECKS) + 1
        print(f"{total - failed} passed, {failed} failed")
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
