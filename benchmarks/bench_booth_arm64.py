"""The booth path on the emulated arm64 board (#26): connect → runtime installed (first time
only) → demo LM pushed → tokens streaming, timed through the same core calls the Demo step's
buttons make. The board is tests/support/arm64_board.py (aarch64 under qemu user emulation: every
figure here is emulation time, many times slower than a real Cortex-A55/A76 board).

    python -m tests.support.arm64_board --prepare      # once
    PYTHONPATH=. python benchmarks/bench_booth_arm64.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    from studio.core.devices.setup import setup_device_runtime
    from studio.core.generate.on_device import generate_on_device
    from studio.core.generate.session import GenerationSummary, TokenChunk
    from studio.core.generate.settings import GenerationSettings
    from tests.devices.conftest import AdbServer, _free_port
    from tests.support import arm64_board
    from tests.support.virtual_adb import VirtualDevice, wait_until

    if arm64_board.missing():
        raise SystemExit(arm64_board.missing())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average before: {load}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STUDIO_CACHE_DIR"] = str(arm64_board.STUDIO_CACHE)
        os.environ["STUDIO_DATA_DIR"] = f"{tmp}/data"
        (Path(tmp) / "adb-home").mkdir()
        server = AdbServer(_free_port(), Path(tmp) / "adb-home")
        server.start()
        os.environ["ANDROID_ADB_SERVER_PORT"] = str(server.port)
        try:
            with VirtualDevice(Path(tmp) / "board", board=arm64_board.Arm64Board()) as board:
                t0 = time.monotonic()
                server.client().connect(board.address, timeout=10)
                assert wait_until(lambda: server.state_of(board.address) == "device", 10)
                print(f"connect: {time.monotonic() - t0:.1f} s")
                for label in ("install runtime (first time)", "install runtime again (no-op)"):
                    t = time.monotonic()
                    result = setup_device_runtime(board.address)
                    print(f"{label}: {time.monotonic() - t:.1f} s ({result.action})")
                for label in ("demo LM pushed + first answer", "second prompt (LM already there)"):
                    t = time.monotonic()
                    first = None
                    summary = None
                    settings = GenerationSettings(
                        max_new_tokens=int(os.environ.get("BOOTH_TOKENS", "6"))
                    )
                    for event in generate_on_device(
                        None, "In the beginning", board.address, settings
                    ):
                        if isinstance(event, TokenChunk) and first is None:
                            first = time.monotonic() - t
                        if isinstance(event, GenerationSummary):
                            summary = event
                    assert summary is not None and summary.tokens
                    print(
                        f"{label}: first token after {first:.1f} s, {summary.tokens} tokens in "
                        f"{time.monotonic() - t:.1f} s ({summary.decode_tokens_per_s or 0:.1f} tok/s)"
                    )
        finally:
            server.stop()
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
