"""Typed, checked Python over the vendor SDK, through our C layer (``native/src/sdk_*.c``).

Python never calls ``libPlayerOneCamera`` directly: the C layer loads it with dlopen, calls it
with its real C types (``POASetConfig`` takes a union by value, which cffi's ABI mode cannot
pass; ``long`` is 4 bytes on 32-bit ARM) and serialises the calls of each camera with one lock.
Here every call goes through :func:`SdkLibrary.check`: a non-zero code becomes
:class:`SdkError` carrying the SDK function's name, the raw code (unknown future codes pass
through) and the SDK's own text from ``POAGetErrorString``.
"""
from __future__ import annotations

import contextlib
from typing import Any

from indi_playerone._native import ffi, lib

from ..native.busy import BusyCount
from .interface import CameraError
from .sdk_types import (  # noqa: F401 (re-exported: the binding's public names)
    EBUSY, CameraProps, CameraState, Config, ConfigAttr, ConfigValue, Err, ImgFormat, Presets,
    ReadoutResult, ReadoutState, SdkError, SdkLoadError, SdkMissingSymbols, SdkNotFound,
    SensorMode, ValueType, _str, _typed,
)

__all__ = ["SdkLibrary", "SdkCameraHandle"]


class SdkLibrary:
    """One loaded ``libPlayerOneCamera`` (use :func:`sdk_loader.load_sdk`, which caches them).

    The library stays mapped until the process ends: the C layer never dlcloses it (vendor
    libraries run threads of their own).
    """

    def __init__(self, path: str) -> None:
        out = ffi.new("poa_sdk_t **")
        err = ffi.new("char[1024]")
        rc = lib.poa_sdk_load(path.encode(), out, err, 1024)
        if rc == lib.POA_SDK_EMISSING:
            text = _str(err).split(": ", 1)[-1]
            raise SdkMissingSymbols(path, [s.strip() for s in text.split(",") if s.strip()])
        if rc != 0:
            raise SdkLoadError(_str(err) or f"cannot load {path} (code {rc})")
        self._s = out[0]
        self.path = path

    # -- facts about the library ----------------------------------------------------------
    @property
    def version(self) -> str:
        """``POAGetSDKVersion()``, e.g. "3.10.1"."""
        return _str(lib.poa_sdk_version(self._s))

    @property
    def api_version(self) -> int:
        return int(lib.poa_sdk_api_version(self._s))

    @property
    def missing_optional(self) -> list[str]:
        """Optional functions (sensor modes, presets, ...) this SDK build does not export."""
        text = _str(lib.poa_sdk_missing_optional(self._s))
        return [s.strip() for s in text.split(",") if s.strip()]

    def sim_config_error(self) -> str | None:
        """The simulated SDK's ``SimPOA_GetConfigError``: what its last scan or open found
        wrong with its configuration from the environment, "" for nothing; None for a library
        without it (the vendor's)."""
        buf = ffi.new("char[512]")
        n = lib.poa_sdk_sim_config_error(self._s, buf, 512)
        return None if n < 0 else _str(buf)

    def has(self, func: str) -> bool:
        return bool(lib.poa_sdk_has(self._s, func.encode()))

    def error_text(self, code: int) -> str:
        return _str(lib.poa_sdk_error_string(self._s, code))

    def check(self, func: str, code: int) -> int:
        """``code`` if it is 0, else :class:`SdkError` with the SDK's text for it."""
        if code != 0:
            raise SdkError(func, int(code), self.error_text(code))
        return code

    # -- enumeration ------------------------------------------------------------------------
    def camera_count(self) -> int:
        n = int(lib.poa_sdk_camera_count(self._s))
        if n < 0:  # the SDK returns a count; a negative one is our own error code
            raise SdkError("POAGetCameraCount", n, self.error_text(n))
        return n

    def camera_props(self, index: int) -> CameraProps:
        p = ffi.new("poa_sdk_camera_props_t *")
        self.check("POAGetCameraProperties", lib.poa_sdk_camera_props(self._s, index, p))
        return CameraProps.from_c(p)

    def camera_props_by_id(self, camera_id: int) -> CameraProps:
        p = ffi.new("poa_sdk_camera_props_t *")
        self.check("POAGetCameraPropertiesByID", lib.poa_sdk_camera_props_by_id(self._s, camera_id, p))
        return CameraProps.from_c(p)

    def config_value_type(self, config_id: int) -> ValueType:
        t = ffi.new("int *")
        self.check("POAGetConfigValueType", lib.poa_sdk_config_value_type(self._s, config_id, t))
        return ValueType(t[0])

    def camera(self, camera_id: int) -> "SdkCameraHandle":
        """The C object of one camera (its lock and reader thread); opens nothing."""
        return SdkCameraHandle(self, camera_id)


class SdkCameraHandle:
    """One camera's C object: every SDK call of that camera, checked, under its C lock.

    ``destroy()`` must be called (the owning backend does it in ``close``); it joins the C
    reader thread.
    """

    def __init__(self, sdk: SdkLibrary, camera_id: int) -> None:
        out = ffi.new("poa_sdk_cam_t **")
        sdk.check("poa_sdk_cam_create", lib.poa_sdk_cam_create(sdk._s, camera_id, out))
        self.sdk, self.camera_id, self._c = sdk, camera_id, out[0]
        self._calls = BusyCount()  # threads inside a C call on self._c

    def destroy(self) -> None:
        """Refuse new calls, wait until no thread is inside one (callers abort first, so
        waits end at once), then free the C object (joins the reader thread)."""
        with self._calls.cond:
            c, self._c = self._c, None
            self._calls.wait_idle()
        if c is not None:
            lib.poa_sdk_cam_destroy(c)

    def _use(self) -> contextlib.AbstractContextManager[Any]:
        """The C object, counted as in use so destroy() cannot free it under a caller."""
        return self._calls.use(self._live)

    def _live(self) -> Any:
        if self._c is None:
            raise CameraError(f"camera {self.camera_id}: handle already destroyed")
        return self._c

    def _call(self, func: str, cfn: Any, *args: Any) -> None:
        with self._use() as c:
            rc = cfn(c, *args)
        self.sdk.check(func, rc)

    def _ints(self, func: str, cfn: Any, n: int) -> tuple[int, ...]:
        vals = [ffi.new("int *") for _ in range(n)]
        self._call(func, cfn, *vals)
        return tuple(int(v[0]) for v in vals)

    # -- lifecycle ----------------------------------------------------------------------------
    def open(self) -> None:
        self._call("POAOpenCamera", lib.poa_sdk_open_camera)

    def init(self) -> None:
        self._call("POAInitCamera", lib.poa_sdk_init_camera)

    def close(self) -> None:
        """Abort a readout (waiting for the reader), then ``POACloseCamera``."""
        self._call("POACloseCamera", lib.poa_sdk_close_camera)

    def props(self) -> CameraProps:
        p = ffi.new("poa_sdk_camera_props_t *")
        self._call("POAGetCameraPropertiesByID", lib.poa_sdk_cam_props, p)
        return CameraProps.from_c(p)

    # -- configs ------------------------------------------------------------------------------
    def configs_count(self) -> int:
        return self._ints("POAGetConfigsCount", lib.poa_sdk_configs_count, 1)[0]

    def config_attr(self, index: int) -> ConfigAttr:
        a = ffi.new("poa_sdk_config_attr_t *")
        self._call("POAGetConfigAttributes", lib.poa_sdk_config_attr, index, a)
        return ConfigAttr.from_c(a)

    def config_attr_by_id(self, config_id: int) -> ConfigAttr:
        a = ffi.new("poa_sdk_config_attr_t *")
        self._call("POAGetConfigAttributesByConfigID", lib.poa_sdk_config_attr_by_id, config_id, a)
        return ConfigAttr.from_c(a)

    def set_config(self, config_id: int, vtype: ValueType, value: ConfigValue,
                   auto: bool = False) -> None:
        """``POASetConfig`` with the union member of ``vtype`` (an INT value is rounded)."""
        i = int(round(value)) if vtype != ValueType.FLOAT else 0
        f = float(value) if vtype == ValueType.FLOAT else 0.0
        self._call("POASetConfig", lib.poa_sdk_set_config, config_id, int(vtype), i, f,
                   1 if auto else 0)

    def get_config(self, config_id: int, vtype: ValueType,
                   lock_ms: int = -1) -> tuple[ConfigValue, bool]:
        """``(value, is_auto)``; ``lock_ms`` bounds the wait for the camera lock (SdkError
        with code ``POA_SDK_EBUSY`` when it is not free in time)."""
        i, f, a = ffi.new("int64_t *"), ffi.new("double *"), ffi.new("int *")
        self._call("POAGetConfig", lib.poa_sdk_get_config, config_id, int(vtype), i, f, a, lock_ms)
        return _typed(int(vtype), i[0], f[0]), bool(a[0])

    # -- geometry and format ------------------------------------------------------------------
    def set_bin(self, b: int) -> None:
        self._call("POASetImageBin", lib.poa_sdk_set_image_bin, b)

    def bin(self) -> int:
        return self._ints("POAGetImageBin", lib.poa_sdk_get_image_bin, 1)[0]

    def set_size(self, width: int, height: int) -> None:
        self._call("POASetImageSize", lib.poa_sdk_set_image_size, width, height)

    def size(self) -> tuple[int, int]:
        w, h = self._ints("POAGetImageSize", lib.poa_sdk_get_image_size, 2)
        return w, h

    def set_start(self, x: int, y: int) -> None:
        self._call("POASetImageStartPos", lib.poa_sdk_set_image_start, x, y)

    def start(self) -> tuple[int, int]:
        x, y = self._ints("POAGetImageStartPos", lib.poa_sdk_get_image_start, 2)
        return x, y

    def set_format(self, fmt: ImgFormat) -> None:
        self._call("POASetImageFormat", lib.poa_sdk_set_image_format, int(fmt))

    def format(self) -> ImgFormat:
        return ImgFormat(self._ints("POAGetImageFormat", lib.poa_sdk_get_image_format, 1)[0])

    # -- state ----------------------------------------------------------------------------------
    def camera_state(self, lock_ms: int = -1) -> CameraState:
        s = ffi.new("int *")
        self._call("POAGetCameraState", lib.poa_sdk_camera_state, s, lock_ms)
        return CameraState(s[0])

    def dropped_count(self) -> int:
        return self._ints("POAGetDroppedImagesCount", lib.poa_sdk_dropped_count, 1)[0]

    def stop_exposure(self) -> None:
        self._call("POAStopExposure", lib.poa_sdk_stop_exposure)

    # -- sensor modes and presets ---------------------------------------------------------------
    def sensor_mode_count(self) -> int:
        return self._ints("POAGetSensorModeCount", lib.poa_sdk_sensor_mode_count, 1)[0]

    def sensor_mode_info(self, index: int) -> SensorMode:
        m = ffi.new("poa_sdk_mode_info_t *")
        self._call("POAGetSensorModeInfo", lib.poa_sdk_sensor_mode_info, index, m)
        return SensorMode(index, _str(m.name), _str(m.description))

    def set_sensor_mode(self, index: int) -> None:
        self._call("POASetSensorMode", lib.poa_sdk_set_sensor_mode, index)

    def sensor_mode(self) -> int:
        return self._ints("POAGetSensorMode", lib.poa_sdk_get_sensor_mode, 1)[0]

    def set_user_custom_id(self, custom_id: bytes) -> None:
        """``POASetUserCustomID`` (at most 16 bytes; empty clears it)."""
        self._call("POASetUserCustomID", lib.poa_sdk_set_user_custom_id, custom_id, len(custom_id))

    def set_dead_pixel_suppression(self, on: bool) -> None:
        """``POASetEnableDPS``: the SDK's dead pixel suppression on or off."""
        self._call("POASetEnableDPS", lib.poa_sdk_set_dps, 1 if on else 0)

    def presets(self) -> Presets:
        p = ffi.new("poa_sdk_presets_t *")
        self._call("POAGetGainsAndOffsets", lib.poa_sdk_gains_and_offsets, p)
        return Presets(int(p.gain_highest_dr), int(p.gain_hcg), int(p.gain_unity),
                       int(p.gain_lowest_rn), int(p.offset_highest_dr), int(p.offset_hcg),
                       int(p.offset_unity), int(p.offset_lowest_rn))

    def read_image(self, buf: Any, timeout_ms: int) -> None:
        """Synchronous ``POAGetImageData`` into ``buf`` (tests, diagnostics)."""
        b = ffi.from_buffer(buf, require_writable=True)
        self._call("POAGetImageData", lib.poa_sdk_get_image_data, ffi.cast("uint8_t *", b), len(b),
                   timeout_ms)

    # -- exposures through the C reader ---------------------------------------------------------
    def set_ring(self, ring_ptr: Any) -> None:
        self._call("poa_sdk_set_ring", lib.poa_sdk_set_ring, ring_ptr)

    def expose(self, exposure_s: float, *, single: bool, restarts: int, readout_ms: int, seq: int,
               width: int, height: int, pixfmt: int, into: Any = None) -> Any:
        """Start an exposure and hand it to the C reader; ``readout_ms`` is the timeout of its
        ``POAGetImageData``, called once the exposure time has passed. ``into``: a writable
        buffer the frame is read straight into instead of a ring slot; the answer (for
        ``into`` only) must be kept until the reader is done with it (see poa_sdk.h,
        ``poa_sdk_exposure_t.dst``): it keeps the buffer from being unmapped."""
        e = ffi.new("poa_sdk_exposure_t *")
        e.exposure_s, e.single, e.restarts, e.readout_ms = exposure_s, int(single), restarts, readout_ms
        e.seq, e.width, e.height, e.pixfmt = seq & 0xFFFFFFFF, width, height, pixfmt
        hold = None
        if into is not None:
            hold = ffi.from_buffer(into, require_writable=True)
            e.dst, e.dst_len = ffi.cast("uint8_t *", hold), len(hold)
        self._call("POAStartExposure", lib.poa_sdk_expose, e)
        return hold

    def abort(self) -> None:
        with self._use() as c:
            lib.poa_sdk_abort(c)

    def wait(self, timeout_ms: int) -> ReadoutResult:
        """The reader's state after waiting up to ``timeout_ms`` (-1: for ever) for it to finish."""
        r = ffi.new("poa_sdk_result_t *")
        with self._use() as c:
            lib.poa_sdk_wait(c, timeout_ms, r)
        return ReadoutResult(ReadoutState(r.state), int(r.code), _str(r.func), int(r.restarts),
                             int(r.seq), int(r.start_unix_ns))

    # -- video mode through the C reader (streaming) ----------------------------------------------
    def video_start(self, *, width: int, height: int, pixfmt: int, first_seq: int,
                    timeout_ms: int, exposure_s: float) -> None:
        """``POAStartExposure(FALSE)``; the C reader then reads frame after frame into the ring."""
        v = ffi.new("poa_sdk_video_t *")
        v.width, v.height, v.pixfmt, v.first_seq = width, height, pixfmt, first_seq & 0xFFFFFFFF
        v.timeout_ms, v.exposure_s = timeout_ms, exposure_s
        self._call("POAStartExposure", lib.poa_sdk_video_start, v)

    def video_stop(self) -> None:
        """End video mode (the reader issues ``POAStopExposure``); returns once it is idle."""
        with self._use() as c:
            lib.poa_sdk_video_stop(c)

    def video_stats(self) -> dict[str, Any]:
        """The reader's video counters: state, code, func, frames, timeouts, no_slot,
        camera_dropped (``POAGetDroppedImagesCount``, -1 when the SDK lacks it)."""
        st = ffi.new("poa_sdk_video_stats_t *")
        with self._use() as c:
            lib.poa_sdk_video_stats(c, st)
        return {"state": ReadoutState(st.state), "code": int(st.code), "func": _str(st.func),
                "frames": int(st.frames), "timeouts": int(st.timeouts),
                "no_slot": int(st.no_slot), "camera_dropped": int(st.camera_dropped)}
