"""What is using the camera now: an exposure, the video stream, or nothing.

Settings that need the camera idle (frame, binning, format, stream settings) ask here, and
the exposure and streaming components each answer for themselves, so neither reaches into
the other. The refusals are the messages clients have always seen.
"""
from __future__ import annotations

from typing import Any, Protocol

from ..camera.interface import CameraBackend
from ..indi.device import Device


class Busy(Protocol):
    def busy(self) -> bool:
        """True while this part of the driver is using the camera."""


class CameraActivity:
    """The exposure and the stream register themselves; the others ask."""

    def __init__(self, device: Device, camera: CameraBackend) -> None:
        self._device = device
        self._camera = camera
        self.exposure: Busy | None = None
        self.stream: Busy | None = None

    def exposing(self) -> bool:
        return self.exposure is not None and self.exposure.busy()

    def streaming(self) -> bool:
        return self.stream is not None and self.stream.busy()

    def refuse_while_streaming(self, vector: Any, what: str) -> bool:
        """Alert and True when the stream runs (exposures and geometry changes wait for it)."""
        if self.streaming():
            self._device.alert(vector, f"Cannot {what} while the video stream is on; stop "
                                       "streaming first.")
            return True
        return False

    def refuse_while_imaging(self, vector: Any, what: str) -> bool:
        """Alert and True while the stream or an exposure runs: changing the `what` then
        would change the frame being read out."""
        if self.refuse_while_streaming(vector, f"change the {what}"):
            return True
        if self.exposing():
            self._device.alert(vector, f"Cannot change the {what} while an exposure is running.")
            return True
        return False

    def refuse_while_camera_busy(self, vector: Any, what: str) -> bool:
        """Alert and True while an exposure runs or the camera is in video mode (a stream that
        is still stopping included): the SDK wants the camera stopped for the `what`."""
        if self.exposing() or self._camera.is_streaming():
            self._device.alert(vector, f"Cannot change the {what} while an exposure or the "
                                       "video stream is running.")
            return True
        return False
