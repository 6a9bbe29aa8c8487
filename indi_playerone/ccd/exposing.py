"""Taking exposures: CCD_EXPOSURE, CCD_ABORT_EXPOSURE and fast exposure (CCD_FAST_TOGGLE,
CCD_FAST_COUNT), as libindi's INDI::CCD does them.

The handlers only start and abort; the `ExposureWorker` (exposure.py), which this component
owns while the camera is connected, does the waiting and reports back here. What happens to
a frame is the image output's business (imaging.py), what happens before each exposure
(BLINK frames) the controls' (controls.py): both are reached through the narrow interfaces
below.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Protocol

from ..camera.interface import CameraBackend, Frame
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from . import names as P
from .activity import CameraActivity
from .exposure import ExposureWorker

Failed = Callable[[str], None]


class ImageOutput(Protocol):
    def frame_type(self) -> tuple[str, str]:
        """(FITS FRAME, IMAGETYP) of the chosen CCD_FRAME_TYPE."""

    def frame_buffer(self, seconds: float) -> memoryview | None:
        """Before the exposure: the coming image's payload, allocated; the part of it the
        camera reads the frame into (None: the image is not built around the frame)."""

    def prepare_frame(self, seconds: float) -> None:
        """While the camera exposes: get the buffer of the coming image ready."""

    def deliver(self, frame: Frame, aborted: threading.Event, failed: Failed) -> bool:
        """Make the image and send/save it; False (after `failed` or an abort) if it did not."""


class BeforeExposure(Protocol):
    def blink_before_exposure(self, abort: threading.Event, failed: Failed) -> bool:
        """Take and drop the BLINK frames; False if aborted or failed (reported with `failed`)."""


class CameraRecovery(Protocol):
    def recover(self, reason: str) -> str | None:
        """Bring back a camera that stopped answering; None when it answers again, else the
        words to add to the failure report (ccd/recovery.py)."""


class Exposure(Component):
    vector_table = {"exposure": P.CCD_EXPOSURE, "abort": P.CCD_ABORT_EXPOSURE,
                    "fast_toggle": P.CCD_FAST_TOGGLE, "fast_count": P.CCD_FAST_COUNT}

    def __init__(self, device: DefaultDevice, camera: CameraBackend, activity: CameraActivity,
                 output: ImageOutput, before: BeforeExposure, recovery: CameraRecovery) -> None:
        super().__init__(device, camera=camera, activity=activity, output=output, before=before,
                         recovery=recovery)
        self.worker: ExposureWorker | None = None
        self.exposure.set_limits("CCD_EXPOSURE_VALUE", *camera.info.exposure_range_s)
        activity.exposure = self

    def busy(self) -> bool:
        return self.worker is not None and self.worker.busy

    # --- connect / disconnect -----------------------------------------------------------

    def start(self) -> None:
        """The camera is connected: the worker thread that runs its exposures."""
        self.worker = ExposureWorker(self.camera, self, self.device.lock,
                                     self.device.polling_period_s)

    def detach_worker(self) -> ExposureWorker | None:
        """Disconnecting (under the device lock): no new exposure starts; the caller joins the
        worker outside the lock, as its last reports take it."""
        worker, self.worker = self.worker, None
        return worker

    def reset(self) -> None:
        """After the camera closed: CCD_EXPOSURE back at 0, Idle."""
        self.exposure.state = State.IDLE
        self.exposure["CCD_EXPOSURE_VALUE"].value = 0

    # --- handlers -----------------------------------------------------------------------

    @handles(P.CCD_EXPOSURE)
    def on_exposure(self, vector: Any, values: dict) -> None:
        if self.activity.refuse_while_streaming(vector, "take an exposure"):
            return
        seconds = values["CCD_EXPOSURE_VALUE"]
        if self.output.frame_type()[0] == "Bias":
            seconds = vector["CCD_EXPOSURE_VALUE"].min
        assert self.worker is not None
        vector["CCD_EXPOSURE_VALUE"].value = seconds
        vector.state = State.BUSY
        self.device.update(vector)
        self.device.log(f"Taking a {seconds:g} seconds frame...")
        self.worker.start(seconds)

    @handles(P.CCD_ABORT_EXPOSURE)
    def on_abort(self, vector: Any, values: dict) -> None:
        vector["ABORT"].on = False
        if self.worker is not None:
            self.worker.abort()
        self.device.ok(vector)
        exp = self.exposure
        exp["CCD_EXPOSURE_VALUE"].value = 0
        exp.state = State.IDLE
        self.device.update(exp, "Exposure aborted.")
        if self.fast_count["FRAMES"].value != 1:
            self.fast_count["FRAMES"].value = 1
            self.device.update(self.fast_count)

    @handles(P.CCD_FAST_TOGGLE)
    def on_fast_toggle(self, vector: Any, values: dict) -> None:
        self.device.accept(vector, values)
        if not values.get("INDI_ENABLED") and self.busy():
            # libindi: turning fast exposure off aborts the exposure in progress.
            self.on_abort(self.abort, {"ABORT": True})

    # --- the worker's reports (exposure.ExposureSink) -----------------------------------

    def exposure_progress(self, seconds_left: float) -> None:
        self.exposure["CCD_EXPOSURE_VALUE"].value = seconds_left
        self.exposure.state = State.BUSY
        self.device.update(self.exposure)

    def exposure_done(self) -> None:
        self.exposure["CCD_EXPOSURE_VALUE"].value = 0
        self.device.ok(self.exposure)

    def exposure_failed(self, message: str) -> None:
        self.device.alert(self.exposure, message)

    def next_fast_frame(self) -> bool:
        toggle, count = self.fast_toggle, self.fast_count
        if not toggle["INDI_ENABLED"].on or count["FRAMES"].value <= 1:
            return False
        count["FRAMES"].value -= 1
        count.state = State.BUSY
        self.device.update(count)
        return True

    def exposure_frame(self, frame: Frame, more_follow: bool, aborted: threading.Event) -> bool:
        return self.output.deliver(frame, aborted, self.exposure_failed)

    def frame_buffer(self, seconds: float) -> memoryview | None:
        return self.output.frame_buffer(seconds)

    def prepare_frame(self, seconds: float) -> None:
        self.output.prepare_frame(seconds)

    def blink_before_exposure(self, abort: threading.Event) -> bool:
        return self.before.blink_before_exposure(abort, self.exposure_failed)

    def recover_camera(self, reason: str) -> str | None:
        return self.recovery.recover(reason)
