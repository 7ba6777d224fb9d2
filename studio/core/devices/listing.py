"""Find devices: list them (This PC first), pick one by serial, connect over Wi-Fi, and watch for
hot-plug on a background thread (adb's track-devices), all without Qt."""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Callable

from pydantic import BaseModel

from studio.core.devices import adb_server, states
from studio.core.devices.adb_device import AdbDevice
from studio.core.devices.base import Device
from studio.core.devices.models import THIS_PC_SERIAL, DeviceInfo, DeviceState
from studio.core.devices.this_pc import ThisPC
from studio.core.errors import BadInput, OutputError, StudioError
from studio.core.messages import Fix, message

log = logging.getLogger("studio")
_WATCHERS: weakref.WeakSet[DeviceWatcher] = weakref.WeakSet()


class DeviceListing(BaseModel):
    version: int = 1
    devices: list[DeviceInfo]
    adb_problem: str = ""  # why phones cannot be listed right now (adb missing, old server)


def _entries(client: object) -> dict[str, str]:
    """serial → adb state, as the server lists them."""
    from adbutils import AdbError

    try:
        return {e.serial: e.state for e in client.list()}  # type: ignore[attr-defined]
    except (AdbError, OSError, EOFError) as exc:
        raise OutputError(
            f"The adb server is not answering ({exc or type(exc).__name__})",
            "Try again; if it keeps failing, restart the studio",
        ) from exc


def _identify(client: object, serial: str, adb_state: str) -> DeviceInfo:
    try:
        return AdbDevice(client, serial, adb_state).describe()
    except StudioError as exc:
        state, status, _fix = states.explain_messages("offline")
        return DeviceInfo(
            serial=serial,
            kind="adb",
            state=state,
            adb_state=adb_state,
            status=status.english(),
            fix=exc.message,
            status_message=status,
            fix_message=exc.msg,
            transport=states.transport_of(serial),
        )


def list_devices(include_this_pc: bool = True) -> DeviceListing:
    devices = [ThisPC().describe()] if include_this_pc else []
    try:
        client = adb_server.client()
        entries = _entries(client)
    except StudioError as exc:
        return DeviceListing(devices=devices, adb_problem=exc.message)
    devices += [_identify(client, serial, state) for serial, state in entries.items()]
    return DeviceListing(devices=devices)


def get_device(serial: str | None) -> Device:
    """The device for ``serial``; None picks the only connected phone or board."""
    if serial == THIS_PC_SERIAL:
        return ThisPC()
    client = adb_server.client()
    entries = _entries(client)
    if serial is None:
        ready = [s for s, st in entries.items() if st == "device"]
        if len(ready) == 1:
            return AdbDevice(client, ready[0], "device")
        if not ready:
            waiting = [f"{s} ({states.explain(st)[1]})" for s, st in entries.items()]
            raise BadInput(
                msg=message(
                    "devices.none_ready",
                    Fix(action="plug_in_device"),
                    waiting=f": {', '.join(waiting)}" if waiting else "",
                )
            )
        raise BadInput(
            msg=message("devices.several", Fix(action="choose_device"), serials=", ".join(ready))
        )
    if serial not in entries:
        raise BadInput(
            f"No device '{serial}' is connected",
            "Run `studio devices` to see what is connected (this PC is 'this-pc')",
        )
    state, status, fix = states.explain(entries[serial])
    if state is not DeviceState.READY:
        raise BadInput(f"{serial}: {status}", fix)
    return AdbDevice(client, serial, entries[serial])


def connect(address: str) -> str:
    """``adb connect host:port`` (Wi-Fi debugging or a board on the network)."""
    address = address.strip()
    if not states.is_host_port(address):
        raise BadInput(f"'{address}' is not HOST:PORT", "Write it like 192.168.1.20:5555")
    client = adb_server.client()
    try:
        message: str = client.connect(address, timeout=15)
    except OSError as exc:
        message = str(exc)
    except Exception as exc:  # adbutils raises its own AdbError/AdbTimeout
        message = str(exc)
    if "authenticate" in message:
        raise BadInput(
            f"{address} has not allowed this computer yet",
            "On the device, tap 'Allow' on the 'Allow debugging?' prompt, then connect again",
        )
    if "connected to" not in message:
        raise BadInput(
            f"Could not connect to {address} ({message.strip() or 'no answer'})",
            "Check the device is on the same network with Wireless debugging (or adb over TCP) "
            "on; Android 11+ phones must be paired once with `adb pair`",
        )
    return message.strip()


def disconnect(address: str) -> None:
    with contextlib.suppress(Exception):
        adb_server.client().disconnect(address)


class DeviceWatcher:
    """Keeps a current device list and calls ``on_change(listing)`` from its own thread whenever
    a device appears, disappears or changes state. Identification is cached per serial+state."""

    def __init__(
        self, on_change: Callable[[DeviceListing], None], include_this_pc: bool = True
    ) -> None:
        self.on_change = on_change
        self.include_this_pc = include_this_pc
        self._stop = threading.Event()
        self._conn = None
        self._cache: dict[tuple[str, str], DeviceInfo] = {}
        self._this_pc: DeviceInfo | None = None
        self._last: DeviceListing | None = None
        self._client: object | None = None
        self._last_text: str | None = None
        self._thread = threading.Thread(target=self._run, name="device-watcher", daemon=True)

    def start(self) -> DeviceWatcher:
        _WATCHERS.add(self)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.conn.shutdown(2)
            with contextlib.suppress(Exception):
                conn.close()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def forget(self, serial: str) -> None:
        """Drop cached identification (e.g. after a push changed free space)."""
        if serial == THIS_PC_SERIAL:
            self._this_pc = None
        for key in [k for k in self._cache if k[0] == serial]:
            del self._cache[key]

    def refresh(self, serial: str) -> None:
        """Identify ``serial`` again now and report the list (call off the UI thread)."""
        self.forget(serial)
        if self._client is not None and self._last_text is not None:
            self._emit(self._listing(self._client, self._last_text))

    def _emit(self, listing: DeviceListing) -> None:
        if listing != self._last:  # retries while adb is unavailable repeat the same answer
            self._last = listing
            self.on_change(listing)

    def _listing(self, client: object, text: str) -> DeviceListing:
        devices = []
        if self.include_this_pc:
            self._this_pc = self._this_pc or ThisPC().describe()
            devices.append(self._this_pc)
        for line in text.splitlines():
            serial, _, state = line.strip().partition("\t")
            if not serial:
                continue
            key = (serial, state)
            if key not in self._cache:
                self._cache[key] = _identify(client, serial, state)
            devices.append(self._cache[key])
        return DeviceListing(devices=devices)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                client = adb_server.client()
                self._conn = conn = client.make_connection()
                conn.send_command("host:track-devices")
                conn.check_okay()
                while not self._stop.is_set():
                    text = conn.read_string_block()
                    self._client, self._last_text = client, text
                    self._emit(self._listing(client, text))
            except StudioError as exc:
                if not self._stop.is_set():
                    self._this_pc = self._this_pc or ThisPC().describe()
                    devices = [self._this_pc] if self.include_this_pc else []
                    self._emit(DeviceListing(devices=devices, adb_problem=exc.message))
            except Exception as exc:  # the adb server went away; try again shortly
                log.info("device watcher: %s", exc)
            finally:
                if self._conn is not None:
                    with contextlib.suppress(Exception):
                        self._conn.close()
                    self._conn = None
            self._stop.wait(1.0)


def release_adb() -> bool:
    """At quit: stop every watcher (one would start the server again), then stop the adb server
    if the studio started it and no other program uses it (adb_owner.py). True if stopped."""
    for watcher in list(_WATCHERS):
        watcher.stop()
    try:
        return adb_server.stop_own_server()
    except Exception as exc:  # quitting must never fail over adb
        log.info("adb server not stopped: %s", exc)
        return False
