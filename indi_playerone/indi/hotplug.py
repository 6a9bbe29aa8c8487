"""Devices that come and go while a driver runs (hot-plug), whatever the hardware.

One thread per driver process asks a ``scan`` function for what is present every ``period``
seconds (2 s by default; ``INDI_PLAYERONE_HOTPLUG_S``, 0 = off) and compares the keys with the
devices it serves:

* a new key becomes a new device (``add(key, details, used_names)`` makes it, named not to clash
  with the names in use), added to the loop and defined to the clients at once (they asked for
  every device's properties long ago);
* a key that is gone is removed once it has been missing from ``MISSING_SCANS`` scans in a row
  and ``still_there(device)`` says no (a connected device that still answers keeps its device and
  its connection: a USB reset or a scan that missed it must not tear a session down):
  disconnected, deleted (``delProperty`` of the whole device) and dropped from the loop.

A scan that fails (None) changes nothing. Nothing here knows what the devices drive: the
camera driver (``ccd/hotplug.py`` says what a camera is to it) and the filter-wheel driver
(``wheel/main.py``) both use it.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from . import xmlout
from .envvars import float_from_env

log = logging.getLogger(__name__)

__all__ = ["POLL_S", "PERIOD_ENV", "MISSING_SCANS", "poll_period", "unique_name", "DeviceWatcher",
           "kept_while_answering"]

POLL_S = 2.0
PERIOD_ENV = "INDI_PLAYERONE_HOTPLUG_S"
MISSING_SCANS = 3

Scan = Callable[[], "dict[Any, Any] | None"]


def poll_period() -> float:
    """The scan period: ``INDI_PLAYERONE_HOTPLUG_S`` (0 = off) or ``POLL_S``."""
    return max(0.0, float_from_env(PERIOD_ENV, POLL_S))


def unique_name(base: str, used: set[str]) -> str:
    """`base`, or `base 1`, `base 2`, ... : the first one not in use (the Player One C++ camera
    driver's rule)."""
    name, index = base, 0
    while name in used:
        index += 1
        name = f"{base} {index}"
    return name


def kept_while_answering(status: Callable[[Any], object],
                         errors: tuple[type[BaseException], ...]) -> Callable[[Any], bool]:
    """A ``still_there`` for :class:`DeviceWatcher`: a connected device missing from the list
    is kept while ``status(device)``, a call to its hardware, raises none of ``errors``."""
    def still_there(device: Any) -> bool:
        if not device.connected:
            return False
        try:
            status(device)
        except errors:
            return False
        return True
    return still_there


class DeviceWatcher:
    """Keeps a loop's devices in step with what ``scan`` lists.

    ``add(key, details, used)`` returns ``(device, what)``: the new device and the words for it
    in the "plugged in" message ("Phoenix 7x36mm"); ``devices`` are those served at start, by key.
    """

    def __init__(self, scan: Scan, add: Callable[[Any, Any, set[str]], tuple[Any, str]],
                 loop: Any, transport: Any, devices: dict[Any, Any], period: float = POLL_S,
                 still_there: Callable[[Any], bool] = lambda device: False,
                 name: str = "hotplug") -> None:
        self._scan, self._add_device, self._still_there = scan, add, still_there
        self.loop, self.transport = loop, transport
        self.devices: dict[Any, Any] = dict(devices)
        self._missing: dict[Any, int] = {}
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "DeviceWatcher":
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
                log.exception("hot-plug scan failed")

    def poll_once(self) -> None:
        present = self._scan()
        if present is None or self._stop.is_set():
            return
        for key in [k for k in self.devices if k not in present]:
            self._missing[key] = self._missing.get(key, 0) + 1
            if self._missing[key] >= MISSING_SCANS and not self._still_there(self.devices[key]):
                self._remove(key)
        for key in [k for k in self._missing if k in present or k not in self.devices]:
            del self._missing[key]
        for key, details in present.items():
            if key not in self.devices and not self._stop.is_set():
                self._add(key, details)

    def _add(self, key: Any, details: Any) -> None:
        device, what = self._add_device(key, details, set(self.loop.devices))
        self.devices[key] = device
        self.loop.add_device(device)
        device.handle_get_properties(None)  # defines it to the clients now
        text = f"{what} plugged in: serving it as {device.name}."
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
