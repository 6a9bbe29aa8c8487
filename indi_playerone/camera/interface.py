"""The camera contract every backend implements (simulator now, the vendor SDK later).

Nothing here knows about INDI: the driver policy layer (``indi_playerone.ccd``) codes against
:class:`CameraBackend` and never against a concrete backend.

Coordinates follow the Player One SDK, not INDI: a :class:`Roi` is in *binned* pixels (start position
included), width is a multiple of 4 and height a multiple of 2 (the SDK rounds silently; we round
and return what applies so the caller can re-publish it).
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
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
    _on_release: Callable[[np.ndarray], None] | None = field(
        default=None, repr=False, compare=False
    )

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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
    def start_exposure(self, seconds: float) -> None:
        """Start one exposure. :class:`CameraError` if one is running or ``seconds`` is out of range.

        A frame read out earlier but never collected by ``wait_frame`` is discarded.
        """

    @abstractmethod
    def wait_frame(self, timeout: float, cancel: threading.Event | None = None) -> Frame:
        """Block until the frame of the current exposure is read out and return it.

        :class:`ExposureAborted` when ``cancel`` is set (the exposure is then aborted too) or
        ``abort_exposure()`` is called; :class:`CameraTimeout` after ``timeout`` seconds (the
        exposure keeps running); :class:`CameraError` if no exposure was started.
        """

    @abstractmethod
    def abort_exposure(self) -> None:
        """Abort the exposure (and drop an uncollected frame). No-op if there is none."""

    @abstractmethod
    def is_exposing(self) -> bool:
        """True from ``start_exposure`` until the frame is read out or the exposure aborted."""

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
