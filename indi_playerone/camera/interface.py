"""The camera contract of the camera backend (the SDK one: a real camera through the vendor's
library, a simulated one through the simulated SDK library).

Nothing here knows about INDI: the driver policy layer (``indi_playerone.ccd``) codes against
:class:`CameraBackend` and never against a concrete backend.

Coordinates follow the Player One SDK, not INDI: a :class:`Roi` is in *binned* pixels (start position
included), width is a multiple of 4 and height a multiple of 2 (the SDK rounds silently; we round
and return what applies so the caller can re-publish it).
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # numpy is only needed for the type of Frame.data
    import numpy as np

__all__ = [
    "CameraError",
    "CameraTimeout",
    "ExposureAborted",
    "CameraInfo",
    "Roi",
    "Frame",
    "CameraBackend",
    "Control",
    "control_by_key",
    "KEY_GAIN",
    "KEY_OFFSET",
    "KEY_USB_BANDWIDTH",
    "KEY_FAN_POWER",
    "KEY_HEATER_POWER",
    "GainPreset",
    "PRESET_KEYS",
    "GUIDE_DIRECTIONS",
]

_B = TypeVar("_B", bound="CameraBackend")


class CameraError(Exception):
    """A camera operation failed or was refused. The message is shown to the user as is."""


class CameraTimeout(CameraError):
    """``wait_frame`` ran out of time; the exposure is still in progress (abort it or wait again)."""


class ExposureAborted(CameraError):
    """The exposure was aborted (``abort_exposure``, a cancel event, or the camera was closed)."""


@dataclass(frozen=True)
class CameraInfo:
    """What a camera is and can do; fixed for the lifetime of the backend object."""

    model: str  # "Ares-C PRO", exactly as the vendor manual writes it
    sensor: str  # "IMX533"
    serial: str
    width: int  # full resolution, unbinned pixels
    height: int
    pixel_size_um: float
    adc_bits: int  # 12, 14 or 16: the sensor's ADC, not the transfer format
    is_color: bool
    bayer: str | None  # "RGGB" for colour sensors, None for mono
    has_cooler: bool
    has_st4: bool
    bins: tuple[int, ...]  # supported (square) bins, e.g. (1, 2, 3, 4)
    formats: tuple[int, ...]  # bit depths the camera delivers, e.g. (8, 16)
    gain_range: tuple[int, int]
    offset_range: tuple[int, int]
    exposure_range_s: tuple[float, float]  # (32e-6, 2000.0) per the manual
    usb3: bool
    body: str  # "aluminium" | "carbon fibre"
    #: The manual's cooling ΔT below ambient (low, high), °C; None for a model not in its table.
    delta_t_c: tuple[float, float] | None = None


@dataclass(frozen=True)
class Control:
    """One writable camera setting, as the camera reports it (the SDK's ``POAConfigAttributes``).

    ``name`` is the camera's own name (the SDK's ``szConfName``, spaces and all): it becomes the
    element name in ``CCD_CONTROLS``, as in the C++ driver, so saved Ekos configs keep working.
    Exposure, cooler, target temperature, guide and flip settings are not controls: they have
    their own methods and properties.
    """

    name: str  # "Gain", "Offset", "FanPower", "LensHeaterPower", "USBBandWidthLimit", ...
    description: str
    minimum: float
    maximum: float
    default: float
    is_bool: bool  # 0/1 settings (HardwareBin, PixelBinSum, Mono Bin)
    supports_auto: bool  # gets an AUTO_<name> switch in CCD_CONTROLS_MODE
    #: What the setting is, whatever the camera calls it: the driver finds the controls it acts
    #: on by key, never by a name it guessed (the SDK backend derives the key from the SDK's
    #: ``POAConfig`` ID: "gain", "offset", "usb_bandwidth_limit", "fan_power", ...).
    key: str = ""


#: Keys of the controls the driver itself sets or reads (:attr:`Control.key`).
KEY_GAIN = "gain"
KEY_OFFSET = "offset"
KEY_USB_BANDWIDTH = "usb_bandwidth_limit"
KEY_FAN_POWER = "fan_power"
KEY_HEATER_POWER = "heater_power"


def control_by_key(controls: Iterable[Control], key: str) -> Control | None:
    """The control with this key among ``controls``, or None when the camera has none."""
    return next((c for c in controls if c.key == key), None)


#: Keys of :class:`GainPreset`, in the order the driver shows them (the manual's four cases).
PRESET_KEYS: tuple[str, ...] = ("highest_dr", "hcg", "unity", "lowest_rn")
#: ST4 directions for :meth:`CameraBackend.guide`.
GUIDE_DIRECTIONS: tuple[str, ...] = ("N", "S", "E", "W")


@dataclass(frozen=True)
class GainPreset:
    """A recommended gain/offset pair (the SDK's ``POAGetGainsAndOffsets``)."""

    key: str  # one of PRESET_KEYS
    gain: int
    offset: int


@dataclass(frozen=True)
class Roi:
    """A region of interest in binned pixels, as the SDK uses them (start included)."""

    x: int
    y: int
    width: int
    height: int
    bin: int


@dataclass
class Frame:
    """One read-out frame.

    ``data`` is 2-D ``(height, width)``: ``uint16`` in 16-bit format (12/14-bit ADC data
    left-justified, as the real cameras deliver it) or ``uint8`` in 8-bit format.

    A backend may hand the same buffer out again after :meth:`release`; never touch ``data``
    after releasing. Frames live in a small ring of buffers (the host side of the camera's
    frame buffer): release each frame when done with it. A dropped, unreleased frame is
    returned when it is garbage-collected; holding every buffer makes the next
    ``start_exposure`` fail with a clear ``CameraError``.
    """

    data: np.ndarray
    roi: Roi
    bits: int  # 8 or 16: the format, not the ADC depth
    exposure_s: float
    start_utc: datetime  # exposure start, tz-aware UTC
    sequence: int
    gain: int
    offset: int
    temperature_c: float
    #: ``start_utc`` in ns since the epoch: the C reader's stamp for the SDK's frames; from
    #: ``start_utc`` (to the microsecond) for a frame made without one.
    timestamp_ns: int | None = None
    _on_release: Callable[[np.ndarray], None] | None = field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.timestamp_ns is None:
            since_epoch = self.start_utc - datetime(1970, 1, 1, tzinfo=timezone.utc)
            self.timestamp_ns = since_epoch // timedelta(microseconds=1) * 1000

    def release(self) -> None:
        """Give the buffer back to the backend for reuse. Idempotent."""
        hook, self._on_release = self._on_release, None
        if hook is not None:
            hook(self.data)


class CameraBackend(ABC):
    """One physical (or simulated) camera.

    Every method is thread-safe: an implementation holds one lock per camera around its state,
    and blocking waits (``wait_frame``) do not hold that lock. Methods other than ``open`` raise
    :class:`CameraError` while the camera is closed.
    """

    info: CameraInfo

    # -- lifecycle ---------------------------------------------------------------------------
    @abstractmethod
    def open(self) -> None:
        """Connect to the camera. Idempotent."""

    @abstractmethod
    def close(self) -> None:
        """Abort any exposure and disconnect. Idempotent."""

    def __enter__(self: _B) -> _B:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- geometry and format -------------------------------------------------------------------
    @abstractmethod
    def set_roi(self, x: int, y: int, width: int, height: int, bin: int) -> Roi:
        """Set bin and ROI together (binned coordinates) and return what applies.

        Width is rounded down to a multiple of 4 and height to a multiple of 2, the region is
        clamped into the binned sensor. :class:`CameraError` for a bin not in ``info.bins``, an
        empty ROI, or while an exposure is in progress (the SDK wants exposures stopped first).
        """

    @abstractmethod
    def roi(self) -> Roi:
        """The ROI that applies now."""

    @abstractmethod
    def set_format(self, bits: int) -> None:
        """Select 8- or 16-bit frames. :class:`CameraError` if unsupported or while exposing."""

    @abstractmethod
    def format(self) -> int:
        """The current frame format, 8 or 16."""

    # -- controls ---------------------------------------------------------------------------
    @abstractmethod
    def set_gain(self, gain: int) -> None:
        """:class:`CameraError` outside ``info.gain_range``."""

    @abstractmethod
    def gain(self) -> int: ...

    @abstractmethod
    def set_offset(self, offset: int) -> None:
        """:class:`CameraError` outside ``info.offset_range``."""

    @abstractmethod
    def offset(self) -> int: ...

    # -- exposures ---------------------------------------------------------------------------
    @abstractmethod
    def start_exposure(self, seconds: float, into: memoryview | None = None) -> None:
        """Start one exposure. :class:`CameraError` if one is running or ``seconds`` is out of range.

        A frame read out earlier but never collected by ``wait_frame`` is discarded.

        ``into``: a writable buffer the frame should be read into (the driver's image
        payload, so the frame needs no second buffer); used when it holds exactly the frame's
        bytes, and then the frame's ``data`` views it. A backend may ignore it and read into
        its own buffer: callers check where ``data`` lies.
        """

    @abstractmethod
    def wait_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        """Block until the frame of the current exposure is read out and return it.

        :class:`ExposureAborted` when ``cancel`` is set (the exposure is then aborted too) or
        ``abort_exposure()`` is called; :class:`CameraTimeout` after ``timeout`` seconds (the
        exposure keeps running); :class:`CameraError` if no exposure was started.
        """

    def custom_id(self) -> str | None:
        """The name stored in the camera itself (the SDK's user custom ID), "" for none; None
        when the camera cannot store one."""
        return None

    def set_custom_id(self, name: str) -> None:
        """Store ``name`` in the camera ("" clears it); CameraError when it cannot be."""
        raise CameraError(f"{type(self).__name__} cannot store a name in the camera")

    def recover(self) -> list[str]:
        """Bring back a camera that stopped answering without unplugging it (close, reset its
        USB device, reopen, restore this session's settings); returns what could not be
        restored. CameraError when that is not possible (the camera is then closed)."""
        raise CameraError(f"{type(self).__name__} cannot reset its camera")

    def frame_wait_s(self) -> float:
        """Seconds after the end of the exposure started last that ``wait_frame`` may need for
        its frame, retries included, before the backend itself gives up: callers pass at least
        this as the timeout (a slow USB link must not be cut short by a caller's guess)."""
        return 15.0

    @abstractmethod
    def abort_exposure(self) -> None:
        """Abort the exposure (and drop an uncollected frame). No-op if there is none."""

    # -- temperature --------------------------------------------------------------------------
    @abstractmethod
    def temperature(self) -> float:
        """Sensor temperature in °C."""

    @abstractmethod
    def set_cooler(self, on: bool, target_c: float | None = None) -> None:
        """Switch the cooler; ``target_c`` None keeps the previous target.

        :class:`CameraError` if the camera has no cooler.
        """

    @abstractmethod
    def cooler_power(self) -> float:
        """Cooler power in percent, 0..100."""

    # -- optional capabilities -----------------------------------------------------------------
    # Concrete defaults mean "the camera has no such thing"; backends override what they have.
    # The driver defines the matching INDI property only where a capability is reported.

    def controls(self) -> tuple[Control, ...]:
        """The writable settings for ``CCD_CONTROLS``, in the camera's order (Gain and Offset
        included). Empty while closed is allowed."""
        return ()

    def get_control(self, name: str) -> tuple[float, bool]:
        """``(value, auto)`` of a control named as :meth:`controls` names it.

        :class:`CameraError` for an unknown name."""
        raise CameraError(f"{self.info.model} has no setting {name!r}")

    def set_control(self, name: str, value: float, auto: bool = False) -> None:
        """Set a control (range-checked; bools take 0/1). :class:`CameraError` if refused.

        Setting ``Gain``/``Offset`` here is the same as :meth:`set_gain`/:meth:`set_offset`."""
        raise CameraError(f"{self.info.model} has no setting {name!r}")

    def gain_presets(self) -> tuple[GainPreset, ...]:
        """The vendor's recommended gain/offset pairs, keys in :data:`PRESET_KEYS` order; empty
        when the camera reports none."""
        return ()

    def sensor_modes(self) -> tuple[str, ...]:
        """Readout mode names ("Normal", "Low Noise", ...); empty when there is no choice."""
        return ()

    def sensor_mode(self) -> int:
        """Index into :meth:`sensor_modes` of the mode in use."""
        return 0

    def set_sensor_mode(self, index: int) -> None:
        """Select a readout mode. :class:`CameraError` while exposing or for a bad index."""
        raise CameraError(f"{self.info.model} has no sensor modes")

    def can_flip(self) -> bool:
        """True when the camera flips frames itself (the SDK's POA_FLIP_* configs)."""
        return False

    def flip(self) -> tuple[bool, bool]:
        """``(horizontal, vertical)`` flip in use."""
        return (False, False)

    def set_flip(self, horizontal: bool, vertical: bool) -> None:
        """Flip the frames the camera delivers. :class:`CameraError` while exposing."""
        raise CameraError(f"{self.info.model} cannot flip frames")

    def can_suppress_dead_pixels(self) -> bool:
        """True when the camera's dead pixel suppression can be switched (the SDK's DPS)."""
        return False

    def set_dead_pixel_suppression(self, on: bool) -> None:
        """Switch dead pixel suppression; it is on after open. :class:`CameraError` if refused."""
        raise CameraError(f"{self.info.model} cannot switch dead pixel suppression")

    def usb_link(self) -> str:
        """The USB link in use: ``"USB3"``, ``"USB2"``, or ``""`` when unknown."""
        return ""

    def sdk_version(self) -> str:
        """Version of the library behind this backend (the vendor SDK's, or the simulated SDK's)."""
        return ""

    def guide(self, direction: str, on: bool) -> None:
        """Switch an ST4 guide output (one of :data:`GUIDE_DIRECTIONS`) on or off.

        Only for cameras with ``info.has_st4``; :class:`CameraError` otherwise."""
        raise CameraError(f"{self.info.model} has no ST4 port")

    # -- video mode (streaming) ---------------------------------------------------------------
    def start_video(self, exposure_s: float) -> None:
        """Start continuous capture (the SDK's video mode): frames keep coming until
        :meth:`stop_video`. :class:`CameraError` while a single exposure runs."""
        raise CameraError(f"{self.info.model} has no video mode")

    def video_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        """The next video frame (release it when done). :class:`CameraTimeout` after
        ``timeout``; :class:`ExposureAborted` when ``cancel`` is set or video stopped."""
        raise CameraError(f"{self.info.model} has no video mode")

    def stop_video(self) -> None:
        """Stop continuous capture. Idempotent."""

    def is_streaming(self) -> bool:
        return False

    def video_counters(self) -> dict[str, int]:
        """Counts of the current (or, once stopped, the last) video run, for the driver's
        statistics: ``sent`` (frames the camera sent), ``camera_dropped`` (lost in the camera,
        its buffer overflowed), ``received``/``delivered``/``host_dropped``/``corrupt`` (the
        host ring's: frames assembled, handed out, dropped oldest-first because the consumer
        fell behind, damaged); a backend may add more (the SDK's ``timeouts``). Empty when
        the backend has no video mode or no run yet."""
        return {}
