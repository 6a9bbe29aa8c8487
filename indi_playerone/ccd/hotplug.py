"""Cameras plugged in or out while the driver runs: devices appear and disappear.

One thread per driver process asks the vendor SDK for its camera list every ``POLL_S``
(2 s; the C++ driver's HotPlugManager looks every second) and compares the camera IDs with the
devices it serves, as the C++ driver keys them (§3.2: identifiers are camera IDs):

* a new ID becomes a new device, named as at start-up (`PlayerOne CCD <model>` or the
  nickname, then ` 1`, ` 2`, ... for the first free name) and defined to the clients at once
  (they asked for every device's properties long ago);
* an ID that is gone is removed: disconnected first when it was connected, then deleted
  (`delProperty` of the whole device) and dropped from the loop.

Not disturbing open cameras: the scan only calls ``POAGetCameraCount`` and
``POAGetCameraProperties`` (under the C layer's enumeration lock, never a camera's lock), and
opens only a camera it has never served (to read its serial number, as the C++ driver does
at enumeration). A camera is removed only when it is missing from three scans in a row (4-6 s),
and a connected one only when it also fails a status call: the C++ driver disabled hot-plug for
a while because cameras "dropped out" (§3.2), so a camera still answering, or back within a few
seconds (a USB reset), keeps its device and its connection.

``INDI_PLAYERONE_HOTPLUG_S`` sets the scan period in seconds; 0 turns hot-plug off (the
cameras found at start are served until the driver exits).

Simulated cameras are fixed for the life of the process and are not watched.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable

from ..camera.interface import CameraBackend, CameraError
from ..indi import xmlout

log = logging.getLogger(__name__)

POLL_S = 2.0
PERIOD_ENV = "INDI_PLAYERONE_HOTPLUG_S"
#: Scans in a row a camera must be missing from before its device is removed.
MISSING_SCANS = 3


def poll_period() -> float:
    """The scan period: ``INDI_PLAYERONE_HOTPLUG_S`` (0 = off) or ``POLL_S``."""
    text = os.environ.get(PERIOD_ENV, "").strip()
    try:
        value = float(text) if text else POLL_S
    except ValueError:
        value = POLL_S
    return max(0.0, value)


def unique_name(base: str, used: set[str]) -> str:
    """`base`, or `base 1`, `base 2`, ... : the first one not in use (the C++ driver's rule)."""
    name, index = base, 0
    while name in used:
        index += 1
        name = f"{base} {index}"
    return name


def camera_id(camera: CameraBackend) -> int | None:
    """The SDK camera ID of an SDK backend, None for a simulated camera."""
    props = getattr(camera, "props", None)
    value = getattr(props, "camera_id", None)
    return int(value) if value is not None else None


class HotPlugWatcher:
    """Keeps the loop's devices in step with the SDK's camera list.

    ``make_device(camera, used_names)`` builds the device of a new camera (named not to clash
    with ``used_names``); ``devices`` are the SDK devices served at start, by camera ID.
    """

    def __init__(self, sdk: Any, loop: Any, transport: Any,
                 make_device: Callable[[CameraBackend, set[str]], Any],
                 devices: dict[int, Any], period: float = POLL_S) -> None:
        self.sdk, self.loop, self.transport = sdk, loop, transport
        self._make_device = make_device
        self.devices: dict[int, Any] = dict(devices)
        self._missing: dict[int, int] = {}
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hotplug", daemon=True)

    def start(self) -> "HotPlugWatcher":
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def served(self) -> list[Any]:
        """The SDK devices served now (the caller disconnects them at exit)."""
        return list(self.devices.values())

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            try:
                self.poll_once()
            except Exception:  # one bad scan must not end hot-plug for the session
                log.exception("camera hot-plug scan failed")

    def scan(self) -> dict[int, Any] | None:
        """Camera ID -> SDK properties of the cameras present now; None when listing failed."""
        from ..camera.sdk_types import SdkError

        try:
            count = self.sdk.camera_count()
        except SdkError as exc:
            log.debug("hot-plug: listing cameras failed: %s", exc)
            return None
        present = {}
        for index in range(count):
            try:
                props = self.sdk.camera_props(index)
            except SdkError as exc:  # unplugged between the count and this call
                log.debug("hot-plug: camera #%d: %s", index, exc)
                continue
            present[int(props.camera_id)] = props
        return present

    def poll_once(self) -> None:
        present = self.scan()
        if present is None or self._stop.is_set():
            return
        for cid in [c for c in self.devices if c not in present]:
            self._missing[cid] = self._missing.get(cid, 0) + 1
            if self._missing[cid] >= MISSING_SCANS and self._gone(self.devices[cid]):
                self._remove(cid)
        for cid in [c for c in self._missing if c in present or c not in self.devices]:
            del self._missing[cid]
        for cid, props in present.items():
            if cid not in self.devices and not self._stop.is_set():
                self._add(cid, props)

    @staticmethod
    def _gone(device: Any) -> bool:
        """A connected camera missing from the list counts as gone only when it stops answering."""
        if not getattr(device, "_connected", False):
            return True
        try:
            device.camera.temperature()
        except CameraError:
            return True
        return False

    def _add(self, cid: int, props: Any) -> None:
        from ..camera.registry import with_serial
        from ..camera.sdk_camera import SdkCamera

        props = with_serial(self.sdk, props)
        device = self._make_device(SdkCamera(self.sdk, props), set(self.loop.devices))
        self.devices[cid] = device
        self.loop.add_device(device)
        device.handle_get_properties(None)  # defines it to the clients now
        text = f"{props.model} plugged in: serving it as {device.name}."
        log.info("%s", text)
        self.transport.send(xmlout.message(None, f"[INFO] {text}"))

    def _remove(self, cid: int) -> None:
        device = self.devices.pop(cid)
        self._missing.pop(cid, None)
        self.loop.remove_device(device.name)  # no more client requests reach it
        try:
            device.disconnect()
        except Exception:  # it is gone anyway: report, and still delete it
            log.exception("disconnecting the unplugged %s", device.name)
        device.delete(None, f"{device.name} was unplugged.")
        log.info("%s was unplugged: device deleted", device.name)
