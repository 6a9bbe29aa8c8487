"""ST4 guiding through the camera's guide port.

libindi's GuiderInterface properties, TELESCOPE_TIMED_GUIDE_NS (TIMED_GUIDE_N/S) and
TELESCOPE_TIMED_GUIDE_WE (TIMED_GUIDE_W/E), in milliseconds, defined while connected to a
camera that reports an ST4 port (``info.has_st4``). A pulse switches the camera's guide output
on (``CameraBackend.guide``), the property turns Busy, and when the time is up the output goes
off and the property turns Ok with both values back at 0 (libindi's
GuiderInterface, guiderinterface.cpp; the C++ driver's playerone_base.cpp guidePulse).

Each axis (N/S, W/E) has its own thread that sleeps on a condition until the running pulse's
end or a change; nothing polls. Differences from the C++ driver, on purpose:

- a new pulse on an axis that is still pulsing first switches the running direction off, then
  starts the new one (the C++ driver only stops its timer, so the earlier direction could stay
  on: with N then S both outputs were on). The earlier pulse is not reported complete; the
  property stays Busy for the new one.
- 0 ms on both elements of an axis ends its running pulse now (Ok at once).
- disconnecting ends every running pulse (outputs off) before the camera closes, as the C++
  driver's Disconnect does.

Lock order: the device lock, then an axis lock. The axis thread therefore drops its own lock
before it reports to the device.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from ..camera.interface import CameraBackend, CameraError
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from . import names as P

log = logging.getLogger(__name__)

#: Axis -> (property, {element: direction}).
AXES = {
    "NS": (P.TELESCOPE_TIMED_GUIDE_NS, {"TIMED_GUIDE_N": "N", "TIMED_GUIDE_S": "S"}),
    "WE": (P.TELESCOPE_TIMED_GUIDE_WE, {"TIMED_GUIDE_W": "W", "TIMED_GUIDE_E": "E"}),
}


class GuideAxis:
    """The pulse of one axis: ``switch(direction, on)`` drives the output, ``done(generation)``
    is called (without the axis lock) when a pulse ran its full length."""

    def __init__(self, name: str, switch: Callable[[str, bool], None],
                 done: Callable[[int], None]) -> None:
        self.name = name
        self._switch = switch
        self._done = done
        self._cond = threading.Condition(threading.Lock())
        self._direction: str | None = None  # the output that is on
        self._deadline = 0.0
        self.generation = 0  # counts pulses; a report for an older one is stale
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"guide-{name}", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        with self._cond:
            return self._direction is not None

    def pulse(self, direction: str, ms: float) -> int:
        """End the running pulse (output off), start this one; returns its generation.

        :class:`CameraError` when the camera refuses either switch (the axis is then idle)."""
        with self._cond:
            if self._closed:
                raise CameraError("guiding has stopped (disconnecting)")
            self._off_locked()
            self.generation += 1
            self._switch(direction, True)
            self._direction = direction
            self._deadline = time.monotonic() + ms / 1000.0
            self._cond.notify_all()
            return self.generation

    def stop(self) -> None:
        """End the running pulse now (output off), without a completion report."""
        with self._cond:
            self.generation += 1
            self._off_locked()
            self._cond.notify_all()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the pulse and the thread."""
        with self._cond:
            self._closed = True
            self.generation += 1
            try:
                self._off_locked()
            finally:
                self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _off_locked(self) -> None:
        direction, self._direction = self._direction, None
        if direction is not None:
            self._switch(direction, False)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._direction is None
                                            or time.monotonic() < self._deadline):
                    if self._direction is None:
                        self._cond.wait()
                    else:
                        self._cond.wait(max(0.0, self._deadline - time.monotonic()))
                if self._closed:
                    return
                generation = self.generation
                try:
                    self._off_locked()
                except CameraError as exc:
                    log.warning("guide %s: switching the output off failed: %s", self.name, exc)
            self._done(generation)


class Guiding(Component):
    """TELESCOPE_TIMED_GUIDE_NS/WE on a device whose camera has an ST4 port."""

    def __init__(self, device: DefaultDevice, camera: CameraBackend) -> None:
        super().__init__(device, camera=camera)
        self._axes: dict[str, GuideAxis] = {}
        self.vectors = {axis: self.build_present(spec) for axis, (spec, _) in AXES.items()}

    def start(self) -> None:
        if self.camera.info.has_st4:
            self._axes = {axis: GuideAxis(axis, self.camera.guide, self._pulse_done_cb(axis))
                          for axis in AXES}

    def disconnect(self) -> None:
        """End running pulses (outputs off) and stop the axis threads, before the camera closes.

        Called without the device lock: an axis thread may be waiting for it to report."""
        device = self.device
        with device.lock:
            axes, self._axes = self._axes, {}
        for axis in axes.values():
            try:
                axis.close()
            except CameraError as exc:
                log.warning("%s: ending the %s guide pulse: %s", device.name, axis.name, exc)
        with device.lock:
            for axis in axes:
                vector = self.vectors.get(axis)
                if vector is not None and vector.state is State.BUSY:
                    self._reset_guide_vector(vector, State.IDLE)

    def _pulse_done_cb(self, axis: str) -> Callable[[int], None]:
        return lambda generation: self._pulse_done(axis, generation)

    def _pulse_done(self, axis: str, generation: int) -> None:
        with self.device.lock:
            current = self._axes.get(axis)
            if current is None or current.generation != generation or current.active:
                return  # a newer pulse, a stop or a disconnect came first
            self._reset_guide_vector(self.vectors[axis], State.OK)

    def _reset_guide_vector(self, vector: Any, state: State) -> None:
        for element in vector:
            element.value = 0
        vector.state = state
        self.device.update(vector)

    @handles(P.TELESCOPE_TIMED_GUIDE_NS)
    def on_guide_ns(self, vector: Any, values: dict) -> None:
        self._on_guide("NS", vector, values)

    @handles(P.TELESCOPE_TIMED_GUIDE_WE)
    def on_guide_we(self, vector: Any, values: dict) -> None:
        self._on_guide("WE", vector, values)

    def _on_guide(self, axis: str, vector: Any, values: dict) -> None:
        spec, directions = AXES[axis]
        guide_axis = self._axes.get(axis)
        if guide_axis is None:
            self.device.alert(vector, "Guiding is not available: the camera is not connected "
                              "or has no ST4 port.")
            return
        # libindi's order: the first element (N, W) if non-zero, else the second.
        chosen = next(((el, values[el]) for el in directions if values.get(el, 0) > 0), None)
        if chosen is None:
            guide_axis.stop()
            self._reset_guide_vector(vector, State.OK)
            return
        element, ms = chosen
        for name in directions:
            vector[name].value = ms if name == element else 0
        try:
            guide_axis.pulse(directions[element], ms)
        except CameraError as exc:
            for name in directions:
                vector[name].value = 0
            self.device.alert(vector, f"Guide pulse {directions[element]} {ms:g} ms failed: {exc}")
            return
        vector.state = State.BUSY
        self.device.update(vector)
        log.debug("%s: guide %s %g ms", self.device.name, directions[element], ms)
