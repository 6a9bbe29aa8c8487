"""Cameras plugged in or out while the driver runs: devices appear and disappear.

One thread per driver process asks the camera registry (``camera/registry.py``) for the list of
cameras present every ``POLL_S`` (2 s; the C++ driver's HotPlugManager looks every second) and
compares their keys (library and camera ID: the C++ driver keys cameras by ID, and IDs of two
SDK libraries may collide) with the devices it serves:

* a new key becomes a new device, named as at start-up (`PlayerOne CCD <model>` or the
  nickname, then ` 1`, ` 2`, ... for the first free name) and defined to the clients at once
  (they asked for every device's properties long ago);
* a key that is gone is removed: disconnected first when it was connected, then deleted
  (`delProperty` of the whole device) and dropped from the loop.

Not disturbing open cameras: the registry's scan only enumerates (``POAGetCameraCount``,
``POAGetCameraProperties``, under the C layer's enumeration lock, never a camera's lock); only
a camera never served is opened (to read its serial number, as the C++ driver does at
enumeration). A camera is removed only when it is missing from three scans in a row (4-6 s),
and a connected one only when it also fails a status call: the C++ driver disabled hot-plug
for a while because cameras "dropped out", so a camera still answering, or back within a few
seconds (a USB reset), keeps its device and its connection.

Real and simulated cameras are watched alike: a simulated camera unplugged by its fault file
(``unplug``/``replug``) leaves and comes back as a real one does.

``INDI_PLAYERONE_HOTPLUG_S`` sets the scan period in seconds; 0 turns hot-plug off (the
cameras found at start are served until the driver exits).
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


#: Lists the cameras present now, key -> what the registry needs to make one; None when the
#: listing failed (nothing is removed then).
Scan = Callable[[], "dict[Any, Any] | None"]


class HotPlugWatcher:
    """Keeps the loop's devices in step with the registry's camera list.

    ``scan()`` lists the cameras present (key -> details); ``make_camera(key, details)`` makes
    the backend of a new one and ``make_device(camera, used_names)`` its device (named not to
    clash with ``used_names``); ``devices`` are the devices served at start, by key.
    """

    def __init__(self, scan: Scan, make_camera: Callable[[Any, Any], CameraBackend],
                 loop: Any, transport: Any,
                 make_device: Callable[[CameraBackend, set[str]], Any],
                 devices: dict[Any, Any], period: float = POLL_S) -> None:
        self._scan, self._make_camera = scan, make_camera
        self.loop, self.transport = loop, transport
        self._make_device = make_device
        self.devices: dict[Any, Any] = dict(devices)
        self._missing: dict[Any, int] = {}
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
        """The devices served now (the caller disconnects them at exit)."""
        return list(self.devices.values())

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            try:
                self.poll_once()
            except Exception:  # one bad scan must not end hot-plug for the session
                log.exception("camera hot-plug scan failed")

    def poll_once(self) -> None:
        present = self._scan()
        if present is None or self._stop.is_set():
            return
        for key in [k for k in self.devices if k not in present]:
            self._missing[key] = self._missing.get(key, 0) + 1
            if self._missing[key] >= MISSING_SCANS and self._gone(self.devices[key]):
                self._remove(key)
        for key in [k for k in self._missing if k in present or k not in self.devices]:
            del self._missing[key]
        for key, details in present.items():
            if key not in self.devices and not self._stop.is_set():
                self._add(key, details)

    @staticmethod
    def _gone(device: Any) -> bool:
        """A connected camera missing from the list counts as gone only when it stops answering."""
        if not device.connected:
            return True
        try:
            device.camera.temperature()
        except CameraError:
            return True
        return False

    def _add(self, key: Any, details: Any) -> None:
        camera = self._make_camera(key, details)
        device = self._make_device(camera, set(self.loop.devices))
        self.devices[key] = device
        self.loop.add_device(device)
        device.handle_get_properties(None)  # defines it to the clients now
        text = f"{camera.info.model} plugged in: serving it as {device.name}."
        log.info("%s", text)
        self.transport.send(xmlout.message(None, f"[INFO] {text}"))

    def _remove(self, key: Any) -> None:
        device = self.devices.pop(key)
        self._missing.pop(key, None)
        self.loop.remove_device(device.name)  # no more client requests reach it
        try:
            device.disconnect()
        except Exception:  # it is gone anyway: report, and still delete it
            log.exception("disconnecting the unplugged %s", device.name)
        device.delete(None, f"{device.name} was unplugged.")
        log.info("%s was unplugged: device deleted", device.name)
