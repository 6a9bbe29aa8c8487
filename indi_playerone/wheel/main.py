"""`indi_playerone_wheel`: the filter-wheel driver process indiserver starts.

One process serves every Phoenix filter wheel it finds, each as one device (mdpd), named as the
C++ driver names them: "PlayerOne " + the SDK's name for the wheel ("PlayerOne Phoenix 7x36mm";
with a custom name stored in the wheel, "PlayerOne Phoenix 7x36mm [Triplet]"); a second wheel of
the same name gets " 1", the third " 2" (the C++ wheel driver appends its enumeration index to
every name when there are several; we keep the first name bare, as our camera driver does, so a
wheel keeps its name, its saved configuration and its Ekos profile when a second one is plugged
in). Wheels plugged in or out while it runs appear as devices or are deleted
(``indi/hotplug.py``: the SDKs' wheel lists are scanned every 2 s). It exits when stdin closes.

Real wheels come from the vendor's ``libPlayerOnePW``, simulated ones from the simulated SDK
library when ``INDI_PLAYERONE_SIMULATE_WHEEL`` names them (``camera/wheel_registry.py``).
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any

from .. import __version__, driver_version
from ..camera.interface import CameraError
from ..camera.wheel_backend import PhoenixWheel, WheelKey
from ..camera.wheel_binding import PwLibrary, WheelProps
from ..camera.wheel_registry import SIMULATE_WHEEL_ENV, discover_wheels, libraries, scan, wheel_for
from ..indi.driver import DriverLoop
from ..indi.hotplug import DeviceWatcher, kept_while_answering, poll_period, unique_name
from ..indi.process import numbered_names, open_process, serve
from ..indi.transport import Transport
from . import names as N
from .device import PlayerOneWheel

log = logging.getLogger("indi_playerone")

__all__ = ["main", "device_base_name", "device_names"]


def device_base_name(wheel: PhoenixWheel) -> str:
    return f"{N.DEVICE_PREFIX}{wheel.info.sdk_name}"


def device_names(wheels: list[PhoenixWheel]) -> list[str]:
    """The device name of each wheel: the base name, then ` 1`, ` 2` for more of one name."""
    return numbered_names(device_base_name(wheel) for wheel in wheels)


#: A connected wheel missing from the SDK's list is kept while it answers a status call.
_still_answers = kept_while_answering(lambda device: device.wheel.state(), (CameraError,))


def start_hotplug(loop: DriverLoop, transport: Transport, libs: list[PwLibrary],
                  devices: list[PlayerOneWheel], log_handler: Any) -> DeviceWatcher | None:
    period = poll_period()
    if period <= 0 or not libs:
        return None

    def add(key: WheelKey, props: WheelProps, used: set[str]) -> tuple[PlayerOneWheel, str]:
        wheel = wheel_for(libs, key, props)
        device = PlayerOneWheel(unique_name(device_base_name(wheel), used), wheel, transport,
                                driver_version(), log_handler)
        return device, f"Filter wheel {wheel.info.model} ({wheel.info.serial})"

    return DeviceWatcher(lambda: scan(libs), add, loop, transport, {d.wheel.key: d for d in devices},
                         period, still_there=_still_answers, name="wheel-hotplug").start()


def main(argv: list[str] | None = None) -> int:
    process = open_process()
    transport, log_handler, loop = process.transport, process.log_handler, process.loop

    libs = libraries()
    try:
        wheels = discover_wheels(libs)
    except ValueError as exc:  # a bad INDI_PLAYERONE_SIMULATE_WHEEL: serve no simulated wheel
        log.error("%s", exc)  # to stderr and, through the log bridge, to the client
        libs = [lib for lib in libs if not lib.simulated]
        wheels = discover_wheels(libs)
    devices = [PlayerOneWheel(name, wheel, transport, driver_version(), log_handler)
               for name, wheel in zip(device_names(wheels), wheels)]
    for device in devices:
        loop.add_device(device)
    if not devices:
        text = ("No Player One filter wheel detected. Plugged in? To try the driver without one, "
                f"set {SIMULATE_WHEEL_ENV} (for example \"Phoenix 7x36mm\").")
        log.warning("%s", text)
    log.info("indi_playerone_wheel %s serving %s (pid %d)", __version__,
             ", ".join(d.name for d in devices) or "no filter wheel", os.getpid())
    return serve(process, devices, start_hotplug(loop, transport, libs, devices, log_handler))


if __name__ == "__main__":
    sys.exit(main())
