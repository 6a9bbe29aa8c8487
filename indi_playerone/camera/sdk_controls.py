"""The SDK backend's optional capabilities of the neutral camera interface, on top of the SDK's
configs: controls by name (CCD_CONTROLS), gain presets, sensor modes, flips, dropped frames, the
USB link and the SDK version. Mixed into :class:`~.sdk_camera.SdkCamera`, whose lock, config
attributes (``_attrs``, in the SDK's order) and handle it uses.

Which configs are controls follows the C++ driver (``createControls`` in indi-3rdparty's
``indi-playerone/playerone_base.cpp``; ``docs/upstream-facts.md`` section 5.2): every writable
config except exposure, target temperature, cooler, guide and flip configs, named by
``szConfName``. Values are checked here before ``POASetConfig``: a BOOL config would silently
take 0.5 as TRUE.
"""
from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from .interface import PRESET_KEYS, CameraError, Control, GainPreset
from .sdk_types import Config, ConfigAttr, ConfigValue, Presets, SdkError, SensorMode, ValueType

if TYPE_CHECKING:
    import threading

    from .sdk_binding import SdkCameraHandle, SdkLibrary
    from .sdk_types import CameraProps
    from .interface import CameraInfo

__all__ = ["SdkCapabilitiesMixin", "NOT_CONTROLS", "FLIP_CONFIGS", "config_key"]

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


class SdkCapabilitiesMixin:
    # Provided by SdkCamera.
    sdk: SdkLibrary
    props: CameraProps
    info: CameraInfo
    _lock: threading.Lock
    _handle: SdkCameraHandle | None
    _attrs: dict[int, ConfigAttr]
    _sensor_mode: int | None
    _dps: bool | None

    if TYPE_CHECKING:  # SdkCamera's methods, declared for type checkers only
        def _need_open(self) -> SdkCameraHandle: ...
        def _need_idle(self, what: str) -> SdkCameraHandle: ...
        def _attr(self, cid: int) -> ConfigAttr: ...
        def _remember(self, cid: int, value: ConfigValue, auto: bool = False) -> None: ...
        def _set_config_locked(self, h: SdkCameraHandle, cid: int, value: ConfigValue,
                               auto: bool = False) -> None: ...

    # -- neutral controls (CCD_CONTROLS): the writable configs by szConfName --------------------
    def _control_attrs(self) -> dict[str, ConfigAttr]:
        """Writable configs that are controls, by element name, in the SDK's order. Lock held.

        The name is the camera's own ``szConfName`` (as the C++ driver shows it, so saved
        configurations and clients keep their names); a config whose name is empty or already
        taken gets ``POA_<config>`` instead, so every control stays reachable."""
        out: dict[str, ConfigAttr] = {}
        for cid, a in self._attrs.items():
            if not a.writable or cid in NOT_CONTROLS:
                continue
            name = a.name.strip()
            if not name or name in out:
                name = _config_label(cid)
            out[name] = a
        return out

    def controls(self) -> tuple[Control, ...]:
        """Every writable config except exposure, cooler, target temperature, guide and flip
        (those have their own properties), as the C++ driver builds CCD_CONTROLS
        (``docs/upstream-facts.md`` section 5.2), each with the key of its ``POAConfig`` ID;
        empty while closed."""
        with self._lock:
            if self._handle is None:
                return ()
            return tuple(
                Control(name, a.description, float(a.min), float(a.max), float(a.default),
                        a.value_type == ValueType.BOOL, a.supports_auto, config_key(a.config_id))
                for name, a in self._control_attrs().items())

    def _control_attr(self, name: str) -> ConfigAttr:
        a = self._control_attrs().get(name)
        if a is None:
            raise CameraError(f"{self.info.model} has no setting {name!r}")
        return a

    def get_control(self, name: str) -> tuple[float, bool]:
        with self._lock:
            h = self._need_open()
            a = self._control_attr(name)
            value, auto = h.get_config(a.config_id, a.value_type)
            return float(value), auto

    def set_control(self, name: str, value: float, auto: bool = False) -> None:
        """Range-checked here (the SDK would answer POA_ERROR_OUT_OF_LIMIT), bools take 0/1 only
        (POASetConfig of a BOOL config would silently turn 0.5 into TRUE), whole-number settings
        are rounded."""
        if not math.isfinite(value):
            raise CameraError(f"{name} {value}: not a number")
        with self._lock:
            h = self._need_open()
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
        with self._lock:
            return self._need_open().presets()

    def gain_presets(self) -> tuple[GainPreset, ...]:
        """The presets of ``POAGetGainsAndOffsets``; empty when this SDK lacks the function or
        the camera does not answer it (SDKs before 3.2.0)."""
        try:
            p = self.sdk_presets()
        except SdkError as exc:
            # An old SDK without the function is normal (debug); a camera that fails the call
            # is worth a word to the user (the injected-fault tests found it silent).
            level = logging.WARNING if self.sdk.has("POAGetGainsAndOffsets") else logging.DEBUG
            log.log(level, "%s: no gain presets (the preset switch is left out): %s",
                    self.info.model, exc)
            return ()
        pairs = {"highest_dr": (p.gain_highest_dr, p.offset_highest_dr),
                 "hcg": (p.gain_hcg, p.offset_hcg), "unity": (p.gain_unity, p.offset_unity),
                 "lowest_rn": (p.gain_lowest_rn, p.offset_lowest_rn)}
        return tuple(GainPreset(k, *pairs[k]) for k in PRESET_KEYS)

    def sdk_sensor_modes(self) -> list[SensorMode]:
        """The readout modes (empty when the camera has no mode selection)."""
        with self._lock:
            h = self._need_open()
            if not self.sdk.has("POAGetSensorModeCount"):
                return []
            return [h.sensor_mode_info(i) for i in range(h.sensor_mode_count())]

    def sensor_modes(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.sdk_sensor_modes())

    def sensor_mode(self) -> int:
        with self._lock:
            return self._need_open().sensor_mode()

    def set_sensor_mode(self, index: int) -> None:
        if not self.sensor_modes():  # else the SDK's bare "invalid argument"
            raise CameraError(f"{self.info.model} has no sensor modes")
        with self._lock:
            h = self._need_idle("the sensor mode")
            h.stop_exposure()
            h.set_sensor_mode(index)
            self._sensor_mode = index

    def can_flip(self) -> bool:
        """The C++ driver's test: the camera lists POA_FLIP_BOTH among its configs."""
        with self._lock:
            return Config.FLIP_BOTH in self._attrs

    def flip(self) -> tuple[bool, bool]:
        """Reading a flip config says whether that flip is the active one (``PlayerOneCamera.h``
        V3.10, ``POA_FLIP_BOTH``; ``docs/upstream-facts.md`` section 3)."""
        with self._lock:
            h = self._need_open()
            if Config.FLIP_BOTH not in self._attrs:
                return (False, False)
            if h.get_config(Config.FLIP_BOTH, ValueType.BOOL)[0]:
                return (True, True)
            return (bool(h.get_config(Config.FLIP_HORI, ValueType.BOOL)[0]),
                    bool(h.get_config(Config.FLIP_VERT, ValueType.BOOL)[0]))

    def set_flip(self, horizontal: bool, vertical: bool) -> None:
        """One of POA_FLIP_NONE/HORI/VERT/BOTH (the value is ignored by the SDK; setting one
        selects it). Stopped first, as for a format change."""
        cid = FLIP_CONFIGS[(bool(horizontal), bool(vertical))]
        with self._lock:
            h = self._need_idle("the flip")
            self._attr(cid)
            h.stop_exposure()
            h.set_config(cid, ValueType.BOOL, True)
            self._remember(cid, True)

    def dropped_frames(self) -> int:
        with self._lock:
            return self._need_open().dropped_count()

    # -- dead pixel suppression (DPS) --------------------------------------------------------------
    def can_suppress_dead_pixels(self) -> bool:
        """The SDK exports ``POASetEnableDPS`` (declared in ``PlayerOneCamera.h`` of SDK 3.7.0;
        older libraries may lack it: the switch is then left out, nothing is called)."""
        return self.sdk.has("POASetEnableDPS")

    def set_dead_pixel_suppression(self, on: bool) -> None:
        """``POASetEnableDPS``. The SDK has no getter; its ``POAInitCamera`` turns DPS on (SDK
        3.7.0, ``docs/upstream-facts.md`` section 2.4), so after open it is on until set here.
        Remembered for a reopen after a USB reset."""
        if not self.can_suppress_dead_pixels():
            raise CameraError(f"this SDK ({self.sdk.version}) cannot switch dead pixel suppression")
        with self._lock:
            self._need_open().set_dead_pixel_suppression(on)
            self._dps = bool(on)

    # -- the user custom ID: a name stored in the camera ------------------------------------------
    def custom_id(self) -> str | None:
        """``userCustomID`` (the SDK shows it in ``cameraModelName`` as "Model [ID]"); None when
        this SDK lacks ``POASetUserCustomID``."""
        if not self.sdk.has("POASetUserCustomID"):
            return None
        return self.props.custom_id

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
        if not self.sdk.has("POASetUserCustomID"):
            raise CameraError(f"this SDK ({self.sdk.version}) cannot store a name in the camera")
        with self._lock:
            h = self._need_idle("the name stored in the camera")
            if getattr(self, "_video", None) is not None:
                raise CameraError("cannot change the name stored in the camera while streaming")
            h.set_user_custom_id(data)
            self.props = h.props()

    def usb_link(self) -> str:
        return "USB3" if self.props.usb3 else "USB2"

    def sdk_version(self) -> str:
        return self.sdk.version


def config_key(cid: int) -> str:
    """The neutral key of a config (:attr:`Control.key`): its ``POAConfig`` name in lower case
    ("gain", "usb_bandwidth_limit"), ``config_<n>`` for an ID newer than this binding."""
    try:
        return Config(cid).name.lower()
    except ValueError:
        return f"config_{cid}"


def _config_label(cid: int) -> str:
    try:
        return f"POA_{Config(cid).name}"
    except ValueError:
        return f"POA_CONFIG_{cid}"
