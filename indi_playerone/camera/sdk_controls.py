"""The SDK backend's configs and optional capabilities of the neutral camera interface: configs
by ID, controls by name (CCD_CONTROLS), gain and offset, ST4 guide outputs, gain presets, sensor
modes, flips, dropped frames, dead pixel suppression, the name stored in the camera, the USB link
and the SDK version. A
part of :class:`~.sdk_camera.SdkCamera` over its :class:`~.sdk_session.CameraSession` (the lock,
the config attributes in the SDK's order, the handle, the settings remembered for a reopen).

Which configs are controls follows the C++ driver (``createControls`` in indi-3rdparty's
``indi-playerone/playerone_base.cpp``; ``docs/upstream-facts.md`` section 5.2): every writable
config except exposure, target temperature, cooler, guide and flip configs, named by
``szConfName``. Values are checked here before ``POASetConfig``: a BOOL config would silently
take 0.5 as TRUE. Config values are read through the union member of their value type (issue
#684: a FLOAT config read as an integer gives garbage).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable

from .interface import PRESET_KEYS, CameraError, Control, GainPreset
from .sdk_binding import SdkCameraHandle
from .sdk_session import CameraSession
from .sdk_types import (
    Config, ConfigAttr, ConfigValue, Presets, SdkError, SensorMode, ValueType, config_name,
)

__all__ = ["SdkCapabilities", "NOT_CONTROLS", "FLIP_CONFIGS", "GUIDE_CONFIGS"]

log = logging.getLogger(__name__)

#: Writable configs that are not CCD_CONTROLS elements (the C++ driver's list in
#: ``playerone_base.cpp``, ``docs/upstream-facts.md`` section 5.2):
#: they have properties of their own (exposure, cooler, guiding, FLIP).
NOT_CONTROLS: frozenset[int] = frozenset({
    Config.EXPOSURE, Config.EXP, Config.TARGET_TEMP, Config.COOLER, Config.GUIDE_NORTH,
    Config.GUIDE_SOUTH, Config.GUIDE_EAST, Config.GUIDE_WEST, Config.FLIP_NONE, Config.FLIP_HORI,
    Config.FLIP_VERT, Config.FLIP_BOTH})
#: ``POASetUserCustomID``'s limit ("max len is 16", ``PlayerOneCamera.h``).
CUSTOM_ID_BYTES = 16
#: (horizontal, vertical) -> the flip config that selects it.
FLIP_CONFIGS: dict[tuple[bool, bool], Config] = {
    (False, False): Config.FLIP_NONE, (True, False): Config.FLIP_HORI,
    (False, True): Config.FLIP_VERT, (True, True): Config.FLIP_BOTH}
#: ST4 direction -> the guide config that switches it.
GUIDE_CONFIGS: dict[str, Config] = {"N": Config.GUIDE_NORTH, "S": Config.GUIDE_SOUTH,
                                    "E": Config.GUIDE_EAST, "W": Config.GUIDE_WEST}


class SdkCapabilities:
    """Configs and capabilities of one camera. ``streaming``: whether a video run is attached
    (asked with the lock held; the name stored in the camera is not changed while streaming)."""

    def __init__(self, session: CameraSession, streaming: Callable[[], bool]) -> None:
        self._s, self._streaming = session, streaming

    # -- SDK configs (by POAConfig id) ------------------------------------------------------
    def set_config(self, cid: int, value: ConfigValue, auto: bool = False) -> None:
        """Set an SDK config by id, checked against its attributes' range and type."""
        with self._s.lock:
            self._set_config_locked(self._s.need_open(), cid, value, auto)

    def _set_config_locked(self, h: SdkCameraHandle, cid: int, value: ConfigValue,
                           auto: bool = False) -> None:
        a = self._s.attr(cid)
        if not a.writable:
            raise CameraError(f"{a.name} is read-only")
        if a.value_type != ValueType.BOOL and not a.min <= value <= a.max:
            raise CameraError(f"{a.name} {value:g} outside {a.min:g}..{a.max:g}")
        h.set_config(cid, a.value_type, value, auto)
        self._s.remembered.config(cid, value, auto)

    def config(self, cid: int, lock_ms: int = -1) -> ConfigValue:
        """An SDK config's value, read through the union member of its type."""
        with self._s.lock:
            h = self._s.need_open()
            return h.get_config(cid, self._s.attr(cid).value_type, lock_ms)[0]

    def configs(self) -> dict[int, ConfigAttr]:
        """Every config the camera reports, by POAConfig id, in the SDK's order."""
        with self._s.lock:
            self._s.need_open()
            return dict(self._s.attrs)

    def set_gain(self, gain: int) -> None:
        self.set_config(Config.GAIN, int(gain))

    def gain(self) -> int:
        return int(self.config(Config.GAIN))

    def set_offset(self, offset: int) -> None:
        self.set_config(Config.OFFSET, int(offset))

    def offset(self) -> int:
        return int(self.config(Config.OFFSET))

    def guide(self, direction: str, on: bool) -> None:
        """``POASetConfig(POA_GUIDE_<dir>, POA_TRUE/FALSE)``, as the C++ driver pulses
        (``guidePulse`` in ``playerone_base.cpp``; ``docs/upstream-facts.md`` section 5.2).

        The driver times the pulse. The SDK serialises this with a running readout (one C
        lock per camera), so a pulse sent during a readout starts when that call returns."""
        s = self._s
        if not s.info.has_st4:
            raise CameraError(f"{s.info.model} has no ST4 port")
        cid = GUIDE_CONFIGS.get(direction)
        if cid is None:
            raise CameraError(f"unknown guide direction {direction!r} (N, S, E or W)")
        with s.lock:
            h = s.need_open()
            a = s.attrs.get(cid)
            h.set_config(cid, a.value_type if a is not None else ValueType.BOOL, bool(on))

    # -- neutral controls (CCD_CONTROLS): the writable configs by szConfName --------------------
    def _control_attrs(self) -> dict[str, ConfigAttr]:
        """Writable configs that are controls, by element name, in the SDK's order. Lock held.

        The name is the camera's own ``szConfName`` (as the C++ driver shows it, so saved
        configurations and clients keep their names); a config whose name is empty or already
        taken gets ``POA_<config>`` instead, so every control stays reachable."""
        out: dict[str, ConfigAttr] = {}
        for cid, a in self._s.attrs.items():
            if not a.writable or cid in NOT_CONTROLS:
                continue
            name = a.name.strip()
            if not name or name in out:
                name = config_name(cid)
            out[name] = a
        return out

    def controls(self) -> tuple[Control, ...]:
        """Every writable config except exposure, cooler, target temperature, guide and flip
        (those have their own properties), as the C++ driver builds CCD_CONTROLS
        (``docs/upstream-facts.md`` section 5.2), each with the key of its ``POAConfig`` ID (the
        header's name in lower case without its prefix: "gain", "usb_bandwidth_limit",
        "config_<n>" for an ID newer than this binding); empty while closed."""
        with self._s.lock:
            if self._s.handle is None:
                return ()
            return tuple(
                Control(name, a.description, float(a.min), float(a.max), float(a.default),
                        a.value_type == ValueType.BOOL, a.supports_auto,
                        config_name(a.config_id).removeprefix("POA_").lower())
                for name, a in self._control_attrs().items())

    def _control_attr(self, name: str) -> ConfigAttr:
        a = self._control_attrs().get(name)
        if a is None:
            raise CameraError(f"{self._s.info.model} has no setting {name!r}")
        return a

    def get_control(self, name: str) -> tuple[float, bool]:
        with self._s.lock:
            h = self._s.need_open()
            a = self._control_attr(name)
            value, auto = h.get_config(a.config_id, a.value_type)
            return float(value), auto

    def set_control(self, name: str, value: float, auto: bool = False) -> None:
        """Range-checked here (the SDK would answer POA_ERROR_OUT_OF_LIMIT), bools take 0/1 only
        (POASetConfig of a BOOL config would silently turn 0.5 into TRUE), whole-number settings
        are rounded."""
        if not math.isfinite(value):
            raise CameraError(f"{name} {value}: not a number")
        with self._s.lock:
            h = self._s.need_open()
            a = self._control_attr(name)
            if a.value_type == ValueType.BOOL:
                if value not in (0, 1):
                    raise CameraError(f"{a.name} is an on/off setting: 0 or 1, not {value:g}")
                typed: ConfigValue = bool(value)
            elif a.value_type == ValueType.INT:
                typed = round(value)  # rounded; the C++ driver truncates with (long)
            else:
                typed = float(value)
            self._set_config_locked(h, a.config_id, typed, auto)

    # -- vendor extras (presets, sensor modes, flips, SDK facts) ---------------------------------
    def sdk_presets(self) -> Presets:
        """``POAGetGainsAndOffsets``: highest DR, HCG, unity and lowest read-noise pairs."""
        with self._s.lock:
            return self._s.need_open().presets()

    def gain_presets(self) -> tuple[GainPreset, ...]:
        """The presets of ``POAGetGainsAndOffsets``; empty when this SDK lacks the function or
        the camera does not answer it (SDKs before 3.2.0)."""
        try:
            p = self.sdk_presets()
        except SdkError as exc:
            # An old SDK without the function is normal (debug); a camera that fails the call
            # is worth a word to the user (the injected-fault tests found it silent).
            level = logging.WARNING if self._s.sdk.has("POAGetGainsAndOffsets") else logging.DEBUG
            log.log(level, "%s: no gain presets (the preset switch is left out): %s",
                    self._s.info.model, exc)
            return ()
        pairs = {"highest_dr": (p.gain_highest_dr, p.offset_highest_dr),
                 "hcg": (p.gain_hcg, p.offset_hcg), "unity": (p.gain_unity, p.offset_unity),
                 "lowest_rn": (p.gain_lowest_rn, p.offset_lowest_rn)}
        return tuple(GainPreset(k, *pairs[k]) for k in PRESET_KEYS)

    def sdk_sensor_modes(self) -> list[SensorMode]:
        """The readout modes (empty when the camera has no mode selection)."""
        with self._s.lock:
            h = self._s.need_open()
            if not self._s.sdk.has("POAGetSensorModeCount"):
                return []
            return [h.sensor_mode_info(i) for i in range(h.sensor_mode_count())]

    def sensor_modes(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.sdk_sensor_modes())

    def sensor_mode(self) -> int:
        with self._s.lock:
            return self._s.need_open().sensor_mode()

    def set_sensor_mode(self, index: int) -> None:
        if not self.sensor_modes():  # else the SDK's bare "invalid argument"
            raise CameraError(f"{self._s.info.model} has no sensor modes")
        with self._s.lock:
            h = self._s.need_idle("the sensor mode")
            h.stop_exposure()
            h.set_sensor_mode(index)
            self._s.remembered.sensor_mode = index

    def can_flip(self) -> bool:
        """The C++ driver's test: the camera lists POA_FLIP_BOTH among its configs."""
        with self._s.lock:
            return Config.FLIP_BOTH in self._s.attrs

    def flip(self) -> tuple[bool, bool]:
        """Reading a flip config says whether that flip is the active one (``PlayerOneCamera.h``
        V3.10, ``POA_FLIP_BOTH``; ``docs/upstream-facts.md`` section 3)."""
        with self._s.lock:
            h = self._s.need_open()
            if Config.FLIP_BOTH not in self._s.attrs:
                return (False, False)
            if h.get_config(Config.FLIP_BOTH, ValueType.BOOL)[0]:
                return (True, True)
            return (bool(h.get_config(Config.FLIP_HORI, ValueType.BOOL)[0]),
                    bool(h.get_config(Config.FLIP_VERT, ValueType.BOOL)[0]))

    def set_flip(self, horizontal: bool, vertical: bool) -> None:
        """One of POA_FLIP_NONE/HORI/VERT/BOTH (the value is ignored by the SDK; setting one
        selects it). Stopped first, as for a format change."""
        cid = FLIP_CONFIGS[(bool(horizontal), bool(vertical))]
        with self._s.lock:
            h = self._s.need_idle("the flip")
            self._s.attr(cid)
            h.stop_exposure()
            h.set_config(cid, ValueType.BOOL, True)
            self._s.remembered.config(cid, True)

    def dropped_frames(self) -> int:
        with self._s.lock:
            return self._s.need_open().dropped_count()

    # -- dead pixel suppression (DPS) --------------------------------------------------------------
    def can_suppress_dead_pixels(self) -> bool:
        """The SDK exports ``POASetEnableDPS`` (declared in ``PlayerOneCamera.h`` of SDK 3.7.0;
        older libraries may lack it: the switch is then left out, nothing is called)."""
        return self._s.sdk.has("POASetEnableDPS")

    def set_dead_pixel_suppression(self, on: bool) -> None:
        """``POASetEnableDPS``. The SDK has no getter; its ``POAInitCamera`` turns DPS on (SDK
        3.7.0, ``docs/upstream-facts.md`` section 2.4), so after open it is on until set here.
        Remembered for a reopen after a USB reset."""
        if not self.can_suppress_dead_pixels():
            raise CameraError(f"this SDK ({self._s.sdk.version}) cannot switch dead pixel suppression")
        with self._s.lock:
            self._s.need_open().set_dead_pixel_suppression(on)
            self._s.remembered.dps = bool(on)

    # -- the user custom ID: a name stored in the camera ------------------------------------------
    def custom_id(self) -> str | None:
        """``userCustomID`` (the SDK shows it in ``cameraModelName`` as "Model [ID]"); None when
        this SDK lacks ``POASetUserCustomID``."""
        if not self._s.sdk.has("POASetUserCustomID"):
            return None
        return self._s.props.custom_id

    def set_custom_id(self, name: str) -> None:
        """``POASetUserCustomID``: at most 16 bytes, kept in the camera's flash, so the camera
        carries its name to any computer. It interrupts an exposure (``PlayerOneCamera.h``), so
        it is refused while one runs. Printable characters only, no slash, backslash or square
        bracket: the
        name becomes part of the device name and of its configuration file's name, and the
        SDK's "Model [ID]" must still parse."""
        data = name.encode("utf-8")
        if len(data) > CUSTOM_ID_BYTES:
            raise CameraError(f"a name stored in the camera has at most {CUSTOM_ID_BYTES} bytes "
                              f"({len(data)} given)")
        if any(ord(ch) < 32 or ch in "/\\[]" for ch in name):
            raise CameraError("a name stored in the camera may not hold control characters, "
                              "'/', '\\', '[' or ']'")
        if not self._s.sdk.has("POASetUserCustomID"):
            raise CameraError(f"this SDK ({self._s.sdk.version}) cannot store a name in the camera")
        with self._s.lock:
            h = self._s.need_idle("the name stored in the camera")
            if self._streaming():
                raise CameraError("cannot change the name stored in the camera while streaming")
            h.set_user_custom_id(data)
            self._s.props = h.props()

    def usb_link(self) -> str:
        return "USB3" if self._s.props.usb3 else "USB2"

    def sdk_version(self) -> str:
        return self._s.sdk.version
