"""Push throughput: the studio's push vs `adb push` of the same files to the same virtual device.

Both go through the same real adb server (from the adbutils wheel, on a private port) to the
virtual device in tests/support, so the only difference is the client side. Runs alternate
(adb, studio, adb, studio, ...) into fresh folders; medians are reported. Also times a full
`deploy_bundle` (local check + push + on-device SHA-256 of every file) for the same bundle.

    PYTHONPATH=. python benchmarks/bench_push.py [--mb 64] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=64, help="size of the weights file")
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--no-deploy", action="store_true", help="time only the two pushes")
    args = parser.parse_args()

    from tests.devices.conftest import AdbServer, _free_port
    from tests.support.virtual_adb import wait_until

    def attach_serial(server: AdbServer, serial: str) -> None:
        server.client().connect(serial, timeout=10)
        assert wait_until(lambda: server.state_of(serial) == "device", 10)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    tmp = Path(tempfile.mkdtemp(prefix="bench-push-"))
    server = AdbServer(_free_port(), tmp / "home")
    (tmp / "home").mkdir()
    server.start()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(server.port)
    os.environ["STUDIO_DATA_DIR"] = str(tmp / "data")
    try:
        from studio.core.bundle.folder import create_bundle
        from studio.core.devices.adb_device import AdbDevice
        from studio.core.devices.deploy import deploy_bundle
        from studio.core.devices.listing import get_device
        from studio.core.paths import demo_model_path

        weights = tmp / "weights.bin"
        weights.write_bytes(os.urandom(args.mb << 20))
        bundle = tmp / "bundle"
        create_bundle(demo_model_path(), bundle, extra_files={"weights/weights.bin": weights})
        files = sorted(p for p in bundle.rglob("*") if p.is_file())
        total = sum(p.stat().st_size for p in files)

        # The device runs in its own process, like a phone would: no shared GIL with the client.
        phone_root = tmp / "phone"
        phone = subprocess.Popen(
            [sys.executable, "-m", "tests.support.virtual_adb", str(phone_root)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert phone.stdout is not None and phone.stdin is not None
        serial = f"127.0.0.1:{phone.stdout.readline().strip()}"
        try:
            attach_serial(server, serial)
            device = get_device(serial)
            assert isinstance(device, AdbDevice)
            adb_times, studio_times, deploy_times = [], [], []
            for i in range(args.repeat):

                def adb_push(i: int = i) -> None:
                    start = time.perf_counter()
                    done = server.adb("-s", serial, "push", str(bundle), f"/data/local/tmp/adb-{i}")
                    adb_times.append(time.perf_counter() - start)
                    assert done.returncode == 0, done.stderr

                def studio_push(i: int = i) -> None:
                    items = [
                        (p, f"/data/local/tmp/studio-{i}/{p.relative_to(bundle).as_posix()}")
                        for p in files
                    ]
                    start = time.perf_counter()
                    device.send_files(items, lambda n, name: None)
                    studio_times.append(time.perf_counter() - start)

                # Alternate which goes first, so neither always runs on a warmer device.
                for push in (adb_push, studio_push) if i % 2 == 0 else (studio_push, adb_push):
                    push()

                if args.no_deploy:
                    deploy_times.append(float("nan"))
                    subprocess.run(["rm", "-rf", str(phone_root / "data/local/tmp")], check=True)
                    (phone_root / "data/local/tmp").mkdir()
                    continue
                start = time.perf_counter()
                result = deploy_bundle(bundle, serial, to=f"/data/local/tmp/deploy-{i}")
                deploy_times.append(time.perf_counter() - start)
                assert result.verified
                subprocess.run(["rm", "-rf", str(phone_root / "data/local/tmp")], check=True)
                (phone_root / "data/local/tmp").mkdir()
            server.client().disconnect(serial)
        finally:
            phone.stdin.close()
            phone.wait(10)
    finally:
        server.stop()

    mb = total / (1 << 20)
    print(
        f"files: {len(files)}, {mb:.1f} MiB; {args.repeat} alternating runs; "
        f"load average before: {load}"
    )
    print(f"{'':26}{'best':>9}{'median':>9}  MiB/s (best, median)")
    rows = {"adb push": adb_times, "studio push (send_files)": studio_times}
    if not args.no_deploy:
        rows["studio deploy (verified)"] = deploy_times
    for name, times in rows.items():
        best, med = min(times), statistics.median(times)
        print(f"{name:<26}{best:8.3f}s{med:8.3f}s  {mb / best:7.1f} {mb / med:7.1f}")
    print(
        f"throughput ratio studio/adb: best {min(adb_times) / min(studio_times):.3f}, "
        f"median {statistics.median(adb_times) / statistics.median(studio_times):.3f} "
        f"(goal >= 0.95)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
