"""Streaming: libindi's StreamManager properties on top of the camera's video mode.

The component that owns the stream family (names.py, "Streaming" group), their handlers and,
while a stream runs, its `StreamWorker` (stream_worker.py), whose reports come back here.
It borrows the camera's region and format from the frame settings (frame.py) while it
streams and gives them back when the stream ends. What each property does:

* CCD_VIDEO_STREAM on: the camera switches to video mode (8-bit frames unless
  STREAM_FULL_DEPTH says 16-bit; the CCD_STREAM_FRAME region, in unbinned pixels, at the
  current binning) with STREAMING_EXPOSURE; off: back to the CCD_FRAME region and capture
  format. Refused while an exposure runs, and exposures are refused while streaming.
* STREAMING_EXPOSURE changes apply live (video restarts with the new exposure); its
  STREAMING_DIVISOR_VALUE N keeps 1 frame in N for the recording and the previews (from the
  next frame; the camera still runs at its rate). libindi 2.2.4.2's StreamManager
  (``streammanager.cpp``, ``newFrame``) instead discards every Nth frame, keeping N-1 in N;
  1 in N is what the name says and what lets a slow disk keep up (N = 4: a quarter of the rate).
* Previews go to the client as CCD1 with format ``.stream`` (raw pixels, as libindi's RAW
  encoder) at most LIMITS_PREVIEW_FPS a second; MJPEG is refused (not implemented).
* RECORD_STREAM: SER recording of every kept frame (RECORD_ON until RECORD_OFF, RECORD_DURATION_ON
  for RECORD_DURATION seconds, RECORD_FRAME_ON for RECORD_FRAME_TOTAL frames) into
  RECORD_FILE (stream_record.py); starting a recording starts the stream if needed, as libindi.
* FPS: EST_FPS (from the last two frames) and AVG_FPS (frames in the last second), once a
  second. Dropped frames (camera, host buffer, recorder) are reported in messages as they
  happen and in the message that ends the stream or the recording.
* LIMITS_BUFFER_MAX sizes the host buffer of video frames (a ring of at least 3 frames; the
  backends read ``video_buffer_bytes``, set just before ``start_video``).
"""
from __future__ import annotations

import logging
from typing import Any

from ..camera.interface import CameraBackend, CameraError
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from . import names as P
from .activity import CameraActivity
from .frame import FrameSettings, limit_region
from .stream_record import RecordError, RecordLimit, SerRecorder
from .stream_reports import StreamReports
from .stream_worker import StreamWorker

log = logging.getLogger(__name__)

RECORD_MODES = {"RECORD_ON": "manual", "RECORD_DURATION_ON": "duration", "RECORD_FRAME_ON": "frames"}


class Streaming(Component):
    def __init__(self, device: DefaultDevice, camera: CameraBackend, activity: CameraActivity,
                 frame: FrameSettings) -> None:
        super().__init__(device, camera=camera, activity=activity, frame=frame)
        self.worker: StreamWorker | None = None  # the running stream's
        self._stream_saved: tuple[Any, int] | None = None  # (roi, bits) to restore after streaming
        self.vectors = {spec.name: self.build_present(spec) for spec in P.STREAM_SPECS}
        activity.stream = self

    def v(self, spec: P.PropertySpec) -> Any:
        return self.vectors[spec.name]

    def busy(self) -> bool:
        """Streaming (a stream that is stopping no longer counts)."""
        return self.worker is not None and not self.worker.stopping

    def connect(self) -> None:
        """CCD_STREAM_FRAME limits and default from the sensor."""
        info = self.camera.info
        frame = self.v(P.CCD_STREAM_FRAME)
        limit_region(frame, info.width, info.height)
        if frame["WIDTH"].value <= 0 or frame["HEIGHT"].value <= 0:
            frame["WIDTH"].value, frame["HEIGHT"].value = info.width, info.height

    # --- handlers ---------------------------------------------------------------------------
    @handles(P.CCD_VIDEO_STREAM)
    def on_video_stream(self, vector: Any, values: dict) -> None:
        if values.get("STREAM_ON"):
            if self.busy():
                vector.state = State.BUSY
                self.device.update(vector)
                return
            if self.activity.exposing():
                vector.set_only("STREAM_OFF")
                self.device.alert(vector, "Cannot start streaming while an exposure is running; "
                                    "abort it or wait for it to finish.")
                return
            error = self._start_stream()
            if error:
                vector.set_only("STREAM_OFF")
                self.device.alert(vector, error)
                return
            vector.set_only("STREAM_ON")
            vector.state = State.BUSY
            self.device.update(vector, "Starting the video stream...")
        else:
            self._stop_stream()
            vector.set_only("STREAM_OFF")
            vector.state = State.IDLE
            self.device.update(vector)

    def _start_stream(self) -> str:
        """Set the camera up for video and start the worker; an error message or ""."""
        if self.worker is not None:  # stopping: it restores the camera when it ends
            return "The previous video stream is still stopping; try again in a moment."
        depth = 16 if self.v(P.STREAM_FULL_DEPTH)["FULL_DEPTH_16BIT"].on else 8
        if depth not in self.camera.info.formats:
            depth = self.camera.info.formats[0]
        sf, b = self.v(P.CCD_STREAM_FRAME), self.frame.bin()
        try:
            saved = (self.camera.roi(), self.camera.format())
            self.camera.set_format(depth)
            x, y = int(sf["X"].value), int(sf["Y"].value)
            w, h = int(sf["WIDTH"].value), int(sf["HEIGHT"].value)
            self.camera.set_roi(x // b, y // b, w // b, h // b, b)
        except CameraError as exc:
            self._restore_after_stream()
            return f"Could not set the camera up for streaming: {exc}"
        self._stream_saved = saved
        # LIMITS_BUFFER_MAX sizes the host buffer of video frames: an attribute both of our
        # backends read in start_video (the camera interface's start_video takes no size).
        self.camera.video_buffer_bytes = int(self.v(P.LIMITS)["LIMITS_BUFFER_MAX"].value) << 20
        stream_exp = self.v(P.STREAMING_EXPOSURE)
        exp = stream_exp["STREAMING_EXPOSURE_VALUE"].value
        lo, hi = self.camera.info.exposure_range_s
        exp = min(max(exp, lo), hi)
        reports = StreamReports(self)
        worker = StreamWorker(self.camera, reports, exp,
                              self.v(P.LIMITS)["LIMITS_PREVIEW_FPS"].value,
                              divisor=round(stream_exp["STREAMING_DIVISOR_VALUE"].value))
        reports.worker = worker
        self.worker = worker
        worker.start()
        return ""

    def stream_ended(self) -> None:
        """The running stream ended (its worker's last report): the camera gets back the
        capture region and format."""
        self.worker = None
        self._restore_after_stream()

    def _restore_after_stream(self) -> None:
        saved, self._stream_saved = self._stream_saved, None
        try:
            if saved is not None:
                self.camera.set_format(saved[1])
            self.frame.push_roi()
        except CameraError as exc:
            log.warning("restoring the frame after streaming: %s", exc)

    def _stop_stream(self) -> None:
        """STREAM_OFF: stop the worker and wait for it (at most its join timeout), then put the
        camera back in its capture format and frame before answering.

        Why wait: Ekos's next request is usually an exposure; answering before the worker ended
        let that exposure come out in the stream's 8-bit format (found by the injected-fault
        tests). The handler holds the device lock, so the worker is detached first: its last
        reports (the stream summary, the recording's end) go out as messages instead of waiting
        for the lock, and the bookkeeping its ``stream_ended`` report would do is done here."""
        worker = self.worker
        if worker is None:
            return
        worker.detached = True
        worker.stop()
        worker.join()
        if worker.alive:  # the camera did not stop within the join timeout: it ends on its own
            log.warning("the video stream is still stopping")
            return
        self.stream_ended()
        fps = self.v(P.FPS)
        fps["EST_FPS"].value = fps["AVG_FPS"].value = 0
        fps.state = State.IDLE
        self.device.update(fps)
        rec = self.v(P.RECORD_STREAM)
        if not rec["RECORD_OFF"].on:
            rec.set_only("RECORD_OFF")
            rec.state = State.IDLE
            self.device.update(rec)

    def disconnect(self) -> None:
        """Disconnect: stop the stream and wait for it. The CONNECTION handler holds the device
        lock here, so the worker is detached first: its last reports skip the properties
        (which are about to be deleted) instead of waiting for the lock."""
        with self.device.lock:
            worker, self.worker = self.worker, None
            self._stream_saved = None
        if worker is not None:
            worker.detached = True
            worker.stop()
            worker.join()

    @handles(P.STREAMING_EXPOSURE)
    def on_stream_exposure(self, vector: Any, values: dict) -> None:
        self.device.accept(vector, values)
        if self.busy():
            assert self.worker is not None
            lo, hi = self.camera.info.exposure_range_s
            self.worker.set_exposure(min(max(vector["STREAMING_EXPOSURE_VALUE"].value, lo), hi))
            self.worker.set_divisor(round(vector["STREAMING_DIVISOR_VALUE"].value))

    @handles(P.STREAM_FULL_DEPTH)
    def on_full_depth(self, vector: Any, values: dict) -> None:
        if self.activity.refuse_while_streaming(vector, "change the stream depth"):
            return
        self.device.accept(vector, values)

    @handles(P.CCD_STREAM_FRAME)
    def on_stream_frame(self, vector: Any, values: dict) -> None:
        if self.activity.refuse_while_streaming(vector, "change the stream frame"):
            return
        new = {k: vector[k].value for k in ("X", "Y", "WIDTH", "HEIGHT")}
        new.update(values)
        info = self.camera.info
        if (new["X"] < 0 or new["Y"] < 0 or new["WIDTH"] <= 0 or new["HEIGHT"] <= 0
                or new["X"] + new["WIDTH"] > info.width or new["Y"] + new["HEIGHT"] > info.height):
            self.device.alert(vector, f"Invalid stream frame: it must fit in the {info.width}x"
                                f"{info.height} sensor with a positive size.")
            return
        self.device.accept(vector, new)

    @handles(P.CCD_STREAM_ENCODER)
    def on_stream_encoder(self, vector: Any, values: dict) -> None:
        if values.get("MJPEG"):
            vector.set_only("RAW")
            self.device.alert(vector, "MJPEG is not available in this driver; previews are RAW.",
                        "WARNING")
            return
        vector.set_only("RAW")
        self.device.ok(vector)

    @handles(P.CCD_STREAM_RECORDER)
    def on_stream_recorder(self, vector: Any, values: dict) -> None:
        vector.set_only("SER")
        self.device.ok(vector)

    @handles(P.LIMITS)
    def on_limits(self, vector: Any, values: dict) -> None:
        self.device.accept(vector, values)
        if self.worker is not None:
            self.worker.set_preview_fps(vector["LIMITS_PREVIEW_FPS"].value)

    @handles(P.RECORD_FILE)
    def on_record_file(self, vector: Any, values: dict) -> None:
        name = values.get("RECORD_FILE_NAME", vector["RECORD_FILE_NAME"].value)
        if not name or "/" in name or "\\" in name or ".." in name:
            self.device.alert(vector, f"Record file name {name!r} must be a plain file name.")
            return
        self.device.accept(vector, values)

    @handles(P.RECORD_STREAM)
    def on_record_stream(self, vector: Any, values: dict) -> None:
        chosen = next((n for n, on in values.items() if on), "RECORD_OFF")
        if chosen == "RECORD_OFF":
            recorder = self.worker.stop_recording() if self.worker is not None else None
            vector.set_only("RECORD_OFF")
            vector.state = State.IDLE
            self.device.update(vector)
            if recorder is not None:
                self._close_recording(recorder, "stopped")
            return
        if self.worker is not None and self.worker.recording:
            vector.state = State.BUSY
            self.device.alert(vector, "A recording is already running; stop it first.", "WARNING")
            return
        opts, rf = self.v(P.RECORD_OPTIONS), self.v(P.RECORD_FILE)
        limit = RecordLimit(RECORD_MODES[chosen], int(opts["RECORD_FRAME_TOTAL"].value),
                            float(opts["RECORD_DURATION"].value))
        info = self.camera.info
        try:
            recorder = SerRecorder(rf["RECORD_FILE_DIR"].value, rf["RECORD_FILE_NAME"].value,
                                   limit, color=(self.frame.cfa_pattern() or "RGGB")
                                   if info.is_color else "MONO", instrument=info.model)
        except RecordError as exc:
            vector.set_only("RECORD_OFF")
            self.device.alert(vector, f"Recording not started: {exc}")
            return
        if not self.busy():
            if self.activity.exposing():
                recorder.close()
                vector.set_only("RECORD_OFF")
                self.device.alert(vector, "Cannot record while an exposure is running.")
                return
            error = self._start_stream()
            stream = self.v(P.CCD_VIDEO_STREAM)
            if error:
                recorder.close()
                vector.set_only("RECORD_OFF")
                self.device.alert(vector, error)
                return
            stream.set_only("STREAM_ON")
            stream.state = State.BUSY
            self.device.update(stream)
        assert self.worker is not None
        old = self.worker.start_recording(recorder)
        if old is not None:
            self._close_recording(old, "replaced")
        vector.set_only(chosen)
        vector.state = State.BUSY
        what = {"manual": "until stopped", "frames": f"{limit.frames} frames",
                "duration": f"{limit.seconds:g} s"}[limit.mode]
        self.device.update(vector, f"Recording {what} to {recorder.path}")

    def _close_recording(self, recorder: SerRecorder, why: str) -> None:
        try:
            recorder.close()
        except Exception as exc:
            self.device.log(f"Closing {recorder.path} failed: {exc}", "ERROR")
            return
        self.device.log(f"Recording {why}: {recorder.frames} frames in {recorder.path}")
