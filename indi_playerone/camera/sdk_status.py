"""Status reads of an SDK camera (sensor temperature, cooler power) and its cooler switch: a
part of :class:`~.sdk_camera.SdkCamera` over its :class:`~.sdk_session.CameraSession`.

A status read must not stall the driver's 1 s poll behind a readout, which holds the camera's C
lock: it waits at most :data:`STATUS_LOCK_MS` for it and otherwise answers the last value. The
same reads give each frame its metadata (temperature, gain, offset) when an exposure or a video
run starts.
"""
from __future__ import annotations

import logging

from .interface import CameraError
from .sdk_binding import SdkCameraHandle
from .sdk_session import CameraSession, unplug_said_plainly
from .sdk_types import EBUSY, Config, SdkError, ValueType

__all__ = ["CameraStatus", "STATUS_LOCK_MS", "PLAUSIBLE_TEMP_C"]

log = logging.getLogger(__name__)

#: Status reads (temperature, cooler power) wait at most this long for the camera lock and
#: otherwise return the last value: a readout holds the lock and must not stall the 1 s poll.
STATUS_LOCK_MS = 250
#: Sensor temperatures outside this range are no reading (NaN fails the test too).
PLAUSIBLE_TEMP_C = (-80.0, 90.0)


class CameraStatus:
    """Temperature, cooler power and the cooler of one camera; the last good readings."""

    def __init__(self, session: CameraSession) -> None:
        self._s = session
        self._last: dict[Config, float] = {Config.TEMPERATURE: float("nan"),
                                           Config.COOLER_POWER: 0.0}

    def status_float(self, h: SdkCameraHandle, cid: Config) -> float:
        """A status value, or the last one when a readout holds the camera lock. A temperature
        no sensor reads (the SDK's -300 °C of indi-3rdparty #1165 and #1328, NaN) is dropped:
        the last good reading stands, so it never reaches a FITS header or the client. Lock held."""
        attrs = self._s.attrs
        if cid not in attrs:
            return self._last[cid]
        try:
            value = float(h.get_config(cid, attrs[cid].value_type, STATUS_LOCK_MS)[0])
        except SdkError as exc:
            if exc.code != EBUSY:
                raise
            return self._last[cid]
        if cid == Config.TEMPERATURE and not PLAUSIBLE_TEMP_C[0] <= value <= PLAUSIBLE_TEMP_C[1]:
            log.debug("%s: dropped a sensor temperature of %r C", self._s.info.model, value)
            return self._last[cid]
        self._last[cid] = value
        return value

    def frame_meta(self, h: SdkCameraHandle) -> tuple[float, int, int]:
        """(temperature, gain, offset) for the frames of an exposure or video run. Lock held."""
        attrs = self._s.attrs
        temp = self.status_float(h, Config.TEMPERATURE)
        gain = int(h.get_config(Config.GAIN, ValueType.INT)[0]) if Config.GAIN in attrs else 0
        offset = int(h.get_config(Config.OFFSET, ValueType.INT)[0]) if Config.OFFSET in attrs else 0
        return temp, gain, offset

    def temperature(self) -> float:
        with self._s.lock, unplug_said_plainly():
            return self.status_float(self._s.need_open(), Config.TEMPERATURE)

    def cooler_power(self) -> float:
        with self._s.lock, unplug_said_plainly():
            return self.status_float(self._s.need_open(), Config.COOLER_POWER)

    def set_cooler(self, on: bool, target_c: float | None = None) -> None:
        s = self._s
        if not s.info.has_cooler:
            raise CameraError(f"{s.info.model} has no cooler")
        with s.lock:
            h = s.need_open()
            if target_c is not None:
                a = s.attr(Config.TARGET_TEMP)
                target = round(target_c)  # POA_TARGET_TEMP is an integer °C
                if not a.min <= target <= a.max:
                    raise CameraError(f"target temperature {target_c} °C outside {a.min}..{a.max} °C")
                h.set_config(Config.TARGET_TEMP, a.value_type, target)
                s.remembered.config(Config.TARGET_TEMP, target)
            h.set_config(Config.COOLER, s.attr(Config.COOLER).value_type, bool(on))
            s.remembered.config(Config.COOLER, bool(on))
