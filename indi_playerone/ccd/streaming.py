"""Streaming: libindi's StreamManager properties on top of the camera's video mode.

Mixed into `PlayerOneCCD` (device.py): the handlers of the stream family (names.py,
"Streaming" group) and the reports of the stream worker (stream_worker.py). What each does:

* CCD_VIDEO_STREAM on: the camera switches to video mode (8-bit frames unless
  STREAM_FULL_DEPTH says 16-bit; the CCD_STREAM_FRAME region, in unbinned pixels, at the
  current binning) with STREAMING_EXPOSURE; off: back to the CCD_FRAME region and capture
  format. Refused while an exposure runs, and exposures are refused while streaming.
* STREAMING_EXPOSURE changes apply live (video restarts with the new exposure).
* Previews go to the client as CCD1 with format ``.stream`` (raw pixels, as libindi's RAW
  encoder) at most LIMITS_PREVIEW_FPS a second; MJPEG is refused (not implemented).
* RECORD_STREAM: SER recording of every frame (RECORD_ON until RECORD_OFF, RECORD_DURATION_ON
  for RECORD_DURATION seconds, RECORD_FRAME_ON for RECORD_FRAME_TOTAL frames) into
  RECORD_FILE (stream_record.py); starting a recording starts the stream if needed, as libindi.
* FPS: EST_FPS (from the last two frames) and AVG_FPS (frames in the last second), once a
  second. Dropped frames (camera, host buffer, recorder) are reported in messages as they
  happen and in the message that ends the stream or the recording.
* LIMITS_BUFFER_MAX sizes the host buffer of video frames (a ring of at least 3 frames; the
  backends read ``video_buffer_bytes``, set just before ``start_video``).
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from ..camera.interface import CameraError
from ..indi.payload import SharedPayload
from ..indi.properties import State
from ..indi.transport import BlobItem, TransportClosed
from . import names as P
from .stream_record import RecordError, RecordLimit, SerRecorder
from .stream_worker import StreamCounters, StreamWorker

log = logging.getLogger(__name__)

STREAM_FORMAT = ".stream"
RECORD_MODES = {"RECORD_ON": "manual", "RECORD_DURATION_ON": "duration", "RECORD_FRAME_ON": "frames"}


class _WorkerSink:
    """The reports of one stream worker, tagged with it (a late report of a stopped stream
    must not change the properties of the next one)."""

    def __init__(self, device: "StreamingMixin") -> None:
        self.device = device
        self.worker: StreamWorker | None = None

    def stream_preview(self, payload: SharedPayload) -> bool:
        return self.device._stream_preview(self.worker, payload)

    def stream_stats(self, est: float, avg: float, counters: StreamCounters, news: str) -> None:
        self.device._stream_stats(self.worker, est, avg, counters, news)

    def stream_record_ended(self, recorder: SerRecorder, reason: str, ok: bool) -> None:
        self.device._stream_record_ended(self.worker, recorder, reason, ok)

    def stream_ended(self, error: str) -> None:
        self.device._stream_ended(self.worker, error)


class StreamingMixin:
    """Mixed into PlayerOneCCD; relies on its `prop`, `update`, `_alert`, `lock`, `camera`,
    `transport`, `log`, `_worker` (the exposure worker) and `_push_roi`."""

    _stream: StreamWorker | None = None
    _stream_saved: tuple[Any, int] | None = None  # (roi, bits) to restore after streaming

    def stream_handlers(self) -> dict[str, Any]:
        """The handlers of the stream family, for the device's handler table."""
        return {
            P.CCD_VIDEO_STREAM.name: self._on_video_stream,
            P.STREAM_FULL_DEPTH.name: self._on_full_depth,
            P.STREAMING_EXPOSURE.name: self._on_stream_exposure,
            P.RECORD_STREAM.name: self._on_record_stream,
            P.RECORD_FILE.name: self._on_record_file,
            P.RECORD_OPTIONS.name: self._on_record_options,
            P.CCD_STREAM_FRAME.name: self._on_stream_frame,
            P.CCD_STREAM_ENCODER.name: self._on_stream_encoder,
            P.CCD_STREAM_RECORDER.name: self._on_stream_recorder,
            P.LIMITS.name: self._on_limits,
        }

    # --- state ------------------------------------------------------------------------------
    def streaming(self) -> bool:
        return self._stream is not None and not self._stream.stopping

    def refuse_while_streaming(self, vector: Any, what: str) -> bool:
        """Alert and True when streaming runs (exposures and geometry changes wait for it)."""
        if self.streaming():
            self._alert(vector, f"Cannot {what} while the video stream is on; stop streaming first.")
            return True
        return False

    def apply_stream_limits(self) -> None:
        """At connect: CCD_STREAM_FRAME limits and default from the sensor."""
        info = self.camera.info
        frame = self.prop(P.CCD_STREAM_FRAME)
        for elem, top in (("X", info.width - 1), ("Y", info.height - 1),
                          ("WIDTH", info.width), ("HEIGHT", info.height)):
            frame[elem].min = 0 if elem in ("X", "Y") else 1
            frame[elem].max = top
            frame[elem].step = 1
        if frame["WIDTH"].value <= 0 or frame["HEIGHT"].value <= 0:
            frame["WIDTH"].value, frame["HEIGHT"].value = info.width, info.height

    # --- handlers ---------------------------------------------------------------------------
    def _on_video_stream(self, vector: Any, values: dict) -> None:
        if values.get("STREAM_ON"):
            if self.streaming():
                vector.state = State.BUSY
                self.update(vector)
                return
            if self._worker is not None and self._worker.busy:
                vector.set_only("STREAM_OFF")
                self._alert(vector, "Cannot start streaming while an exposure is running; "
                                    "abort it or wait for it to finish.")
                return
            error = self._start_stream()
            if error:
                vector.set_only("STREAM_OFF")
                self._alert(vector, error)
                return
            vector.set_only("STREAM_ON")
            vector.state = State.BUSY
            self.update(vector, "Starting the video stream...")
        else:
            self._stop_stream()
            vector.set_only("STREAM_OFF")
            vector.state = State.IDLE
            self.update(vector)

    def _start_stream(self) -> str:
        """Set the camera up for video and start the worker; an error message or ""."""
        if self._stream is not None:  # stopping: it restores the camera when it ends
            return "The previous video stream is still stopping; try again in a moment."
        depth = 16 if self.prop(P.STREAM_FULL_DEPTH)["FULL_DEPTH_16BIT"].on else 8
        if depth not in self.camera.info.formats:
            depth = self.camera.info.formats[0]
        sf, b = self.prop(P.CCD_STREAM_FRAME), self._bin()
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
        self.camera.video_buffer_bytes = int(self.prop(P.LIMITS)["LIMITS_BUFFER_MAX"].value) << 20
        exp = self.prop(P.STREAMING_EXPOSURE)["STREAMING_EXPOSURE_VALUE"].value
        lo, hi = self.camera.info.exposure_range_s
        exp = min(max(exp, lo), hi)
        sink = _WorkerSink(self)
        worker = StreamWorker(self.camera, sink, exp,
                              self.prop(P.LIMITS)["LIMITS_PREVIEW_FPS"].value)
        sink.worker = worker
        self._stream = worker
        worker.start()
        return ""

    def _restore_after_stream(self) -> None:
        saved, self._stream_saved = self._stream_saved, None
        try:
            if saved is not None:
                self.camera.set_format(saved[1])
            self._push_roi()
        except CameraError as exc:
            log.warning("restoring the frame after streaming: %s", exc)

    def _stop_stream(self) -> None:
        """STREAM_OFF: stop the worker and wait for it (at most its join timeout), then put the
        camera back in its capture format and frame before answering.

        Why wait: Ekos's next request is usually an exposure; answering before the worker ended
        let that exposure come out in the stream's 8-bit format (found by the injected-fault
        tests). The handler holds the device lock, so the worker is detached first: its last
        reports (the stream summary, the recording's end) go out as messages instead of waiting
        for the lock, and the bookkeeping its ``_stream_ended`` would do is done here."""
        worker = self._stream
        if worker is None:
            return
        worker.detached = True
        worker.stop()
        worker.join()
        if worker.alive:  # the camera did not stop within the join timeout: it ends on its own
            log.warning("the video stream is still stopping")
            return
        self._stream = None
        self._restore_after_stream()
        fps = self.prop(P.FPS)
        fps["EST_FPS"].value = fps["AVG_FPS"].value = 0
        fps.state = State.IDLE
        self.update(fps)
        rec = self.prop(P.RECORD_STREAM)
        if not rec["RECORD_OFF"].on:
            rec.set_only("RECORD_OFF")
            rec.state = State.IDLE
            self.update(rec)

    def stop_streaming_for_disconnect(self) -> None:
        """Disconnect: stop the stream and wait for it. The CONNECTION handler holds the device
        lock here, so the worker is detached first: its last reports skip the properties
        (which are about to be deleted) instead of waiting for the lock."""
        with self.lock:
            worker, self._stream = self._stream, None
            self._stream_saved = None
        if worker is not None:
            worker.detached = True
            worker.stop()
            worker.join()

    @contextlib.contextmanager
    def _reporting(self, worker: StreamWorker | None) -> Iterator[bool]:
        """The device lock for a worker's report, or False once the worker is detached (a
        disconnect holding the lock is waiting for the worker to end)."""
        while not self.lock.acquire(timeout=0.05):
            if worker is None or worker.detached:
                yield False
                return
        try:
            yield True
        finally:
            self.lock.release()

    def _on_stream_exposure(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)
        if self.streaming():
            assert self._stream is not None
            lo, hi = self.camera.info.exposure_range_s
            self._stream.set_exposure(min(max(values.get("STREAMING_EXPOSURE_VALUE",
                                      vector["STREAMING_EXPOSURE_VALUE"].value), lo), hi))

    def _on_full_depth(self, vector: Any, values: dict) -> None:
        if self.refuse_while_streaming(vector, "change the stream depth"):
            return
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)

    def _on_stream_frame(self, vector: Any, values: dict) -> None:
        if self.refuse_while_streaming(vector, "change the stream frame"):
            return
        new = {k: vector[k].value for k in ("X", "Y", "WIDTH", "HEIGHT")}
        new.update(values)
        info = self.camera.info
        if (new["X"] < 0 or new["Y"] < 0 or new["WIDTH"] <= 0 or new["HEIGHT"] <= 0
                or new["X"] + new["WIDTH"] > info.width or new["Y"] + new["HEIGHT"] > info.height):
            self._alert(vector, f"Invalid stream frame: it must fit in the {info.width}x"
                                f"{info.height} sensor with a positive size.")
            return
        vector.apply(new)
        vector.state = State.OK
        self.update(vector)

    def _on_stream_encoder(self, vector: Any, values: dict) -> None:
        if values.get("MJPEG"):
            vector.set_only("RAW")
            self._alert(vector, "MJPEG is not available in this driver; previews are RAW.",
                        "WARNING")
            return
        vector.set_only("RAW")
        vector.state = State.OK
        self.update(vector)

    def _on_stream_recorder(self, vector: Any, values: dict) -> None:
        vector.set_only("SER")
        vector.state = State.OK
        self.update(vector)

    def _on_limits(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)
        if self._stream is not None:
            self._stream.set_preview_fps(vector["LIMITS_PREVIEW_FPS"].value)

    def _on_record_file(self, vector: Any, values: dict) -> None:
        name = values.get("RECORD_FILE_NAME", vector["RECORD_FILE_NAME"].value)
        if not name or "/" in name or "\\" in name or ".." in name:
            self._alert(vector, f"Record file name {name!r} must be a plain file name.")
            return
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)

    def _on_record_options(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)

    def _on_record_stream(self, vector: Any, values: dict) -> None:
        chosen = next((n for n, on in values.items() if on), "RECORD_OFF")
        if chosen == "RECORD_OFF":
            recorder = self._stream.stop_recording() if self._stream is not None else None
            vector.set_only("RECORD_OFF")
            vector.state = State.IDLE
            self.update(vector)
            if recorder is not None:
                self._close_recording(recorder, "stopped")
            return
        if self._stream is not None and self._stream.recording:
            vector.state = State.BUSY
            self._alert(vector, "A recording is already running; stop it first.", "WARNING")
            return
        opts, rf = self.prop(P.RECORD_OPTIONS), self.prop(P.RECORD_FILE)
        limit = RecordLimit(RECORD_MODES[chosen], int(opts["RECORD_FRAME_TOTAL"].value),
                            float(opts["RECORD_DURATION"].value))
        info = self.camera.info
        try:
            recorder = SerRecorder(rf["RECORD_FILE_DIR"].value, rf["RECORD_FILE_NAME"].value,
                                   limit, color=(self.prop(P.CCD_CFA)["CFA_TYPE"].value or "RGGB")
                                   if info.is_color else "MONO", instrument=info.model)
        except RecordError as exc:
            vector.set_only("RECORD_OFF")
            self._alert(vector, f"Recording not started: {exc}")
            return
        if not self.streaming():
            if self._worker is not None and self._worker.busy:
                recorder.close()
                vector.set_only("RECORD_OFF")
                self._alert(vector, "Cannot record while an exposure is running.")
                return
            error = self._start_stream()
            stream = self.prop(P.CCD_VIDEO_STREAM)
            if error:
                recorder.close()
                vector.set_only("RECORD_OFF")
                self._alert(vector, error)
                return
            stream.set_only("STREAM_ON")
            stream.state = State.BUSY
            self.update(stream)
        assert self._stream is not None
        old = self._stream.start_recording(recorder)
        if old is not None:
            self._close_recording(old, "replaced")
        vector.set_only(chosen)
        vector.state = State.BUSY
        what = {"manual": "until stopped", "frames": f"{limit.frames} frames",
                "duration": f"{limit.seconds:g} s"}[limit.mode]
        self.update(vector, f"Recording {what} to {recorder.path}")

    def _close_recording(self, recorder: SerRecorder, why: str) -> None:
        try:
            recorder.close()
        except Exception as exc:
            self.log(f"Closing {recorder.path} failed: {exc}", "ERROR")
            return
        self.log(f"Recording {why}: {recorder.frames} frames in {recorder.path}")

    # --- worker reports (stream worker thread) ----------------------------------------------
    def _stream_preview(self, worker: StreamWorker | None, payload: SharedPayload) -> bool:
        with self._reporting(worker) as ok:
            if not ok or worker is not self._stream or worker is None or worker.stopping:
                payload.close()
                return False
            try:
                self.transport.send_blob_vector(self.name, P.CCD1.name, State.OK.value,
                                                [BlobItem(P.CCD1.name, STREAM_FORMAT, payload)])
            except TransportClosed:
                return False
            stream = self.prop(P.CCD_VIDEO_STREAM)
            if stream.state is not State.OK:
                stream.state = State.OK
                self.update(stream)
        return True

    def _stream_stats(self, worker: StreamWorker | None, est: float, avg: float,
                      counters: StreamCounters, news: str) -> None:
        with self._reporting(worker) as ok:
            if not ok or worker is not self._stream:
                return
            fps = self.prop(P.FPS)
            fps["EST_FPS"].value, fps["AVG_FPS"].value = est, avg
            fps.state = State.OK
            self.update(fps)
            if news:
                self.log(f"Frames dropped so far: {news}.", "WARNING")

    def _stream_record_ended(self, worker: StreamWorker | None, recorder: SerRecorder,
                             reason: str, ok: bool) -> None:
        text = (f"Recording ended: {recorder.frames} frames in {recorder.elapsed:.2f} s to "
                f"{recorder.path}" + (f" ({reason})" if reason else ""))
        with self._reporting(worker) as locked:
            if not locked:
                self.log(text, "INFO" if ok else "ERROR")
            elif worker is self._stream or worker is None:
                rec = self.prop(P.RECORD_STREAM)
                rec.set_only("RECORD_OFF")
                rec.state = State.OK if ok else State.ALERT
                self.update(rec, text)
            else:
                self.log(text, "INFO" if ok else "ERROR")

    def _stream_ended(self, worker: StreamWorker | None, error: str) -> None:
        c = worker.counters if worker is not None else StreamCounters()
        summary = (f"Video stream stopped: {c.frames} frames, {c.recorded} recorded, "
                   f"{c.previews} previews; dropped {c.camera_dropped} in the camera, "
                   f"{c.host_dropped} in the host buffer, {c.recorder_dropped} by the recorder.")
        with self._reporting(worker) as ok:
            if not ok or worker is not self._stream:
                self.log(summary)
                return
            self._stream = None
            self._restore_after_stream()
            fps = self.prop(P.FPS)
            fps["EST_FPS"].value = fps["AVG_FPS"].value = 0
            fps.state = State.IDLE
            if not self.is_defined(fps.name):  # disconnected meanwhile
                return
            self.update(fps)
            stream = self.prop(P.CCD_VIDEO_STREAM)
            stream.set_only("STREAM_OFF")
            if error:
                self._alert(stream, error)
            else:
                stream.state = State.IDLE
                self.update(stream)
            self.log(summary)
