"""The studio works offline and tells no one: no DNS lookup, no connection off this machine.

The CLI and the app run in a user + network namespace (``unshare -rn``: loopback only, no route)
under ``strace -f``, which records every connect/sendto/sendmsg of every process and thread they
start (job children, runners, Qt WebEngine's Chromium processes). Any address outside 127.0.0.0/8
and ::1, or anything to port 53 (DNS, even on 127.0.0.53), fails the test. Unix sockets are fine.

The environment given to them has none of studio.core.privacy's settings: the studio must set them
itself. Without ORT_DISABLE_TELEMETRY, onnxruntime looks up mobile.events.data.microsoft.com ~10 s
after it loads, which is why each process here lives longer than that.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.devices.this_pc import ThisPC
from studio.core.jobs import JobSpec
from studio.core.jobs.runner import run_job
from studio.core.privacy import CHROMIUM_FLAGS, CHROMIUM_FLAGS_VAR, TELEMETRY_OFF, keep_private

REPO = Path(__file__).resolve().parent.parent
GUI_DRIVER = REPO / "tests" / "support" / "offline_gui.py"

# `ip link set lo up` without needing iproute2: SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP.
_LOOPBACK_UP = (
    "import fcntl, socket, struct; s = socket.socket(); f = '16sH14x'; "
    'up = struct.unpack(f, fcntl.ioctl(s, 0x8913, struct.pack(f, b"lo", 0)))[1] | 1; '
    'fcntl.ioctl(s, 0x8914, struct.pack(f, b"lo", up))'
)
_INET = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')
# With strace -yy a socket argument reads 9<UDP:[inode]>, or once connected
# 9<UDP:[127.0.0.1:40000->127.0.0.53:53]> (IPv6: [[::1]:40000->[::1]:53]).
_CALL = re.compile(r"\b(connect|sendto|sendmsg|sendmmsg)\(\d+<(\w+):\[(.*?)\]>")
_PEER = re.compile(r"->\[?([^\]]+?)\]?:(\d+)$")


def _off_machine(host: str, port: str) -> bool:
    address = ipaddress.ip_address(host.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return int(port) == 53 or not (mapped or address).is_loopback


def outbound(trace: str) -> list[str]:
    """The lines of an ``strace -yy`` log that reach off this machine or ask DNS.

    A connect() on a UDP socket sends no packet: it asks the kernel for a route (Chromium does
    this with 2001:4860:4860::8888 to learn whether IPv6 works), so it counts only for port 53;
    anything the socket then sends names its peer and is judged like any other send.
    """
    found = []
    for line in trace.splitlines():
        call = _CALL.search(line)
        if not call:
            continue
        name, protocol, endpoints = call.groups()
        targets = _INET.findall(line) + _INET6.findall(line)
        if name == "connect" and protocol.startswith("UDP"):
            targets = [(port, host) for port, host in targets if int(port) == 53]
        peer = _PEER.search(endpoints)
        if name != "connect" and peer:
            targets.append((peer.group(2), peer.group(1)))
        if any(_off_machine(host, port) for port, host in targets):
            found.append(line.strip())
    return found


def _sandbox_tools() -> None:
    if not (shutil.which("unshare") and shutil.which("strace")):
        pytest.skip("needs unshare and strace (Debian: util-linux, strace)")
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"no user + network namespaces here: {probe.stderr.decode()[-200:]}")


def _clean_env(**extra: str) -> dict[str, str]:
    """This test run's environment without the privacy settings the studio must make itself."""
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    env[CHROMIUM_FLAGS_VAR] = "--disable-gpu --no-sandbox"  # tests' own (conftest), no privacy
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**env, **extra}


def run_offline(script: str, tmp_path: Path, timeout: float, **env: str) -> tuple[str, list[str]]:
    """Run a shell script with no network under strace; (its output, the outbound lines)."""
    log = tmp_path / "strace.log"
    inner = (
        f"{sys.executable} -c {shlex.quote(_LOOPBACK_UP)} && exec strace -f --seccomp-bpf -qq -yy "
        f'-e trace=connect,sendto,sendmsg,sendmmsg -o {log} sh -c "$0"'
    )
    done = subprocess.run(
        ["unshare", "-rn", "sh", "-c", inner, script],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env=_clean_env(**env),
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return output, outbound(log.read_text())


def _without_privacy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TELEMETRY_OFF:
        monkeypatch.delenv(name, raising=False)


def test_keep_private_switches_telemetry_off_and_keeps_the_users_chromium_flags() -> None:
    env = keep_private({"DO_NOT_TRACK": "0", CHROMIUM_FLAGS_VAR: "--disable-gpu --no-pings"})
    assert {k: env[k] for k in TELEMETRY_OFF} == TELEMETRY_OFF
    flags = env[CHROMIUM_FLAGS_VAR].split()
    assert flags[0] == "--disable-gpu" and sorted(set(flags) - {"--disable-gpu"}) == sorted(
        CHROMIUM_FLAGS
    )
    assert keep_private(dict(env)) == env  # idempotent


def test_a_job_child_starts_with_telemetry_off(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_privacy_settings(monkeypatch)
    target = "tests.support.job_targets:environment_value"
    spec = JobSpec("env", target, {"name": "ORT_DISABLE_TELEMETRY"})
    assert run_job(spec) == "1"


def test_a_runner_on_this_pc_starts_with_telemetry_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_privacy_settings(monkeypatch)
    code = "import os; print(os.environ.get('ORT_DISABLE_TELEMETRY'))"
    process = ThisPC().stream(["python3", "-c", code], cwd=str(tmp_path))
    assert list(process.lines) == ["1"], process.stderr_tail()


def test_the_detector_reads_strace_lines() -> None:
    dns = 'sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")'
    google6 = 'inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr)'
    lines = [
        f"1 connect(8<UDP:[1]>, {{sa_family=AF_INET, {dns}}}, 16) = 0",
        '2 connect(9<TCP:[2]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("20.42.65.85")}, 16) = -1',
        f"3 sendmsg(5<UDPv6:[3]>, {{msg_name={{sa_family=AF_INET6, sin6_port=htons(443), {google6}}}}}, 0) = -1",
        '4 sendto(4<UDP:[127.0.0.1:40000->127.0.0.53:53]>, "x", 1, 0, NULL, 0) = 1',
        '5 sendto(4<UDPv6:[[2001:db8::2]:40000->[2001:4860:4860::8888]:443]>, "x", 1, 0, NULL, 0) = 1',
        f"6 connect(6<TCPv6:[6]>, {{sa_family=AF_INET6, sin6_port=htons(443), {google6}}}, 28) = -1",
        # Not outbound: loopback, a UDP route query, a Unix socket, an unconnected UDP send.
        '7 connect(4<TCP:[7]>, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '7 connect(4<TCPv6:[7]>, {sa_family=AF_INET6, sin6_port=htons(80), inet_pton(AF_INET6, "::1", &sin6_addr)}, 28) = 0',
        '7 sendto(4<UDPv6:[[::1]:5000->[::1]:8080]>, "x", 1, 0, NULL, 0) = 1',
        f"7 connect(9<UDPv6:[8]>, {{sa_family=AF_INET6, sin6_port=htons(443), {google6}}}, 28) = -1",
        '7 connect(4<UNIX:[9]>, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 110) = -1',
        '7 sendto(5<UDP:[10]>, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = 1',
    ]  # fmt: skip
    assert [line[0] for line in outbound("\n".join(lines))] == ["1", "2", "3", "4", "5", "6"]


@pytest.mark.slow
def test_the_sandbox_catches_a_dns_lookup_and_lets_loopback_and_route_queries_through(
    tmp_path: Path,
) -> None:
    _sandbox_tools()
    code = (
        "import socket\n"
        "server = socket.create_server(('127.0.0.1', 0))\n"
        "socket.create_connection(server.getsockname()).close()\n"
        "route = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
        "try:\n    route.connect(('2001:4860:4860::8888', 443))\nexcept OSError:\n    pass\n"
        "try:\n    socket.getaddrinfo('example.com', 80)\nexcept OSError:\n    pass\n"
    )
    (tmp_path / "probe.py").write_text(code)
    _, found = run_offline(f"{sys.executable} probe.py", tmp_path, timeout=60)
    assert found, "a getaddrinfo() inside the sandbox was not seen"
    assert all("htons(53)" in line for line in found), found  # nothing but the lookup


@pytest.mark.slow
def test_the_cli_demo_run_profile_and_info_stay_on_this_machine(tmp_path: Path) -> None:
    _sandbox_tools()
    studio = f"{sys.executable} -m studio"
    model = tmp_path / "demo" / "model.onnx"
    script = " && ".join(
        [
            f"{studio} run {REPO / 'assets/recipes/demo.yaml'} --out demo -q",
            # Enough runs to outlive onnxruntime's ~10 s telemetry timer on its own.
            f"{studio} profile {model.parent} --runs 4000 -q",
            f"{studio} info {model.parent}",
        ]
    )
    output, found = run_offline(script, tmp_path, timeout=240)
    assert "bundle: demo (verified" in output and "end to end" in output, output[-2000:]
    assert found == [], "\n".join(found)


@pytest.mark.slow
def test_the_app_through_to_inspects_graph_stays_on_this_machine(tmp_path: Path) -> None:
    pytest.importorskip("PySide6.QtWebEngineWidgets")
    _sandbox_tools()
    output, found = run_offline(
        f"{sys.executable} {GUI_DRIVER} 12", tmp_path, timeout=400, QT_QPA_PLATFORM="offscreen"
    )
    assert "graph drawn:" in output, output[-3000:]
    assert found == [], "\n".join(found)
