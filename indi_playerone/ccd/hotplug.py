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

The watching itself is the generic :class:`~indi_playerone.indi.hotplug.DeviceWatcher`, shared
with the filter-wheel driver; this module says what a camera is to it.
"""
from __future__ import annotations

from typing import Any, Callable

from ..camera.interface import CameraBackend, CameraError
from ..indi.hotplug import (  # noqa: F401  (re-exported: the camera driver's names)
    MISSING_SCANS, PERIOD_ENV, POLL_S, DeviceWatcher, Scan, kept_while_answering, poll_period,
    unique_name,
)

__all__ = ["HotPlugWatcher", "MISSING_SCANS", "PERIOD_ENV", "POLL_S", "poll_period", "unique_name"]


#: A connected camera missing from the list is kept while it answers a status call.
_still_answers = kept_while_answering(lambda device: device.camera.temperature(), (CameraError,))


class HotPlugWatcher(DeviceWatcher):
    """Keeps the loop's devices in step with the registry's camera list.

    ``scan()`` lists the cameras present (key -> details); ``make_camera(key, details)`` makes
    the backend of a new one and ``make_device(camera, used_names)`` its device (named not to
    clash with ``used_names``); ``devices`` are the devices served at start, by key.
    """

    def __init__(self, scan: Scan, make_camera: Callable[[Any, Any], CameraBackend],
                 loop: Any, transport: Any,
                 make_device: Callable[[CameraBackend, set[str]], Any],
                 devices: dict[Any, Any], period: float = POLL_S) -> None:
        def add(key: Any, details: Any, used: set[str]) -> tuple[Any, str]:
            camera = make_camera(key, details)
            return make_device(camera, used), camera.info.model

        super().__init__(scan, add, loop, transport, devices, period, still_there=_still_answers)
