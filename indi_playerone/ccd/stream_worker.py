"""The stream worker: one thread per stream that takes every video frame from the camera,
records it, and now and then sends one to the client as a preview.

Per frame (on this thread, never the INDI writer thread): ``camera.video_frame`` hands out a
zero-copy view of a ring slot; the recorder writes it to the SER file in C (GIL released);
when a preview is due (at most ``LIMITS_PREVIEW_FPS`` a second and ``PREVIEW_BYTES_PER_S``) and
the previous preview has left the driver, the frame is copied once into a shared-memory payload
and queued for the writer thread as ``CCD1`` with format ``.stream``; then the slot is released. A preview that
is not due, or whose predecessor is still queued behind a slow client, is simply not made:
previews are thinned, never queued up, so a slow client cannot stall the recording.

Frames lost anywhere are counted: in the camera (the SDK's dropped count, or the simulator
falling behind), in the host ring (the consumer fell behind: the oldest frame was dropped),
and by the recorder (a write failed). Once a second the worker updates FPS and, when a count
rose, says so in a message.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..camera.interface import CameraBackend, CameraError, CameraTimeout, ExposureAborted, Frame
from ..indi.payload import SharedPayload
from .stream_record import RecordError, SerRecorder

log = logging.getLogger(__name__)

#: A frame may take this long beyond its period before the stream gives up on the camera.
FRAME_TIMEOUT_S = 5.0
STATS_PERIOD_S = 1.0
#: Previews are also limited in bytes. Each costs the driver a copy into a fresh shared-memory
#: payload (measured on the project VM under load: ~94 ms for a 61 MB Zeus frame, page faults
#: included, i.e. ~1.5 ms per MB), then indiserver base64-encodes it for a TCP client and the
#: client decodes it, on the same machine as the recording. At 100 MB/s previews took 0.15 core
#: of a Zeus stream; 40 MB/s keeps it near 0.06 core and still lets small frames go at
#: LIMITS_PREVIEW_FPS (an Apollo-M 1.8 MB frame 10 a second, an Ares 9 MB frame 4.4, a Zeus
#: 61 MB frame 0.65).
PREVIEW_BYTES_PER_S = 40e6
#: Test hook: the worker sleeps this long once, after its 20th frame, so tests can stall the
#: consumer while the camera keeps sending (the host buffer then overflows).
TEST_STALL_ENV = "INDI_PLAYERONE_TEST_STREAM_STALL_S"


@dataclass
class StreamCounters:
    frames: int = 0  # frames received from the camera
    recorded: int = 0
    previews: int = 0
    camera_dropped: int = 0
    host_dropped: int = 0
    recorder_dropped: int = 0

    @property
    def dropped(self) -> int:
        return self.camera_dropped + self.host_dropped + self.recorder_dropped


class StreamSink(Protocol):
    """What the worker reports to (stream_reports.StreamReports)."""

    def stream_preview(self, payload: SharedPayload) -> bool: ...
    def stream_stats(self, est_fps: float, avg_fps: float, counters: StreamCounters,
                     new_drops: str) -> None: ...
    def stream_record_ended(self, recorder: SerRecorder, reason: str, ok: bool) -> None: ...
    def stream_ended(self, error: str) -> None: ...


class StreamWorker:
    """Runs one video stream of ``camera`` until :meth:`stop`."""

    def __init__(self, camera: CameraBackend, sink: StreamSink, exposure_s: float,
                 preview_fps: float) -> None:
        self._camera, self._sink = camera, sink
        self._lock = threading.Lock()
        self._exposure_s = exposure_s
        self._restart = False
        self._preview_interval = 1.0 / max(preview_fps, 1e-3)
        self._recorder: SerRecorder | None = None
        self._stop = threading.Event()
        #: Set by a disconnect waiting for this worker: its last reports skip the properties.
        self.detached = False
        self.counters = StreamCounters()
        self._inflight: SharedPayload | None = None
        self._camera_base = self._host_base = 0  # drops of earlier video runs of this stream
        try:
            self._stall_s = float(os.environ.get(TEST_STALL_ENV, "0") or 0)
        except ValueError:
            self._stall_s = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"stream-{camera.info.model}")

    def start(self) -> None:
        self._thread.start()

    # -- commands (any thread) -------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 10.0) -> None:
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def set_exposure(self, seconds: float) -> None:
        """Takes effect from the next frame: video is restarted with the new exposure."""
        with self._lock:
            if seconds != self._exposure_s:
                self._exposure_s, self._restart = seconds, True

    def set_preview_fps(self, fps: float) -> None:
        with self._lock:
            self._preview_interval = 1.0 / max(fps, 1e-3)

    def start_recording(self, recorder: SerRecorder) -> SerRecorder | None:
        """Record from the next frame on; returns the recording this one replaces (to close)."""
        with self._lock:
            old, self._recorder = self._recorder, recorder
        return old

    def stop_recording(self) -> SerRecorder | None:
        """The recording is detached at once; the caller closes it (after the frame being
        written, if any: close waits for the worker's write through the recorder lock)."""
        with self._lock:
            old, self._recorder = self._recorder, None
        return old

    @property
    def recording(self) -> bool:
        with self._lock:
            return self._recorder is not None

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        error = ""
        try:
            error = self._stream()
        except Exception as exc:  # never die silently: the client must see the stream end
            log.exception("streaming failed")
            error = f"Streaming failed: internal error: {exc}"
        finally:
            with self._lock:
                recorder, self._recorder = self._recorder, None
            if recorder is not None:
                self._end_recording(recorder, "the stream stopped", ok=not error)
            self._sink.stream_ended(error)

    def _start_video(self) -> float:
        with self._lock:
            exposure, self._restart = self._exposure_s, False
        self._camera.start_video(exposure)
        return exposure

    def _stream(self) -> str:
        try:
            exposure = self._start_video()
        except CameraError as exc:
            return f"Could not start streaming: {exc}"
        base_camera_drops = self._camera_drops()
        arrivals: deque[float] = deque()
        last_stats = time.monotonic()
        last_preview = 0.0
        reported = StreamCounters()
        try:
            while not self._stop.is_set():
                with self._lock:
                    restart = self._restart
                if restart:
                    self._camera.stop_video()
                    self._fold_run(base_camera_drops)
                    base_camera_drops = 0  # the counts restart with video (SDK and simulator)
                    exposure = self._start_video()
                try:
                    frame = self._camera.video_frame(2 * exposure + FRAME_TIMEOUT_S, self._stop)
                except ExposureAborted:
                    break
                except CameraTimeout as exc:
                    return f"Streaming stopped: the camera sent no frame ({exc})."
                except CameraError as exc:
                    return f"Streaming stopped: {exc}"
                now = time.monotonic()
                try:
                    if self._handle(frame, now - last_preview):
                        last_preview = now
                finally:
                    frame.release()
                arrivals.append(now)
                if self.counters.frames == 20 and self._stall_s > 0:
                    time.sleep(self._stall_s)
                while arrivals and now - arrivals[0] > 1.0:
                    arrivals.popleft()
                if now - last_stats >= STATS_PERIOD_S:
                    last_stats = now
                    self._report_stats(arrivals, base_camera_drops, reported)
        finally:
            try:
                self._camera.stop_video()
            except CameraError as exc:
                log.warning("stopping video: %s", exc)
            self._update_drops(base_camera_drops)
        return ""

    def _handle(self, frame: Frame, since_preview: float) -> bool:
        """Record the frame and maybe preview it; True if a preview was made."""
        self.counters.frames += 1
        with self._lock:
            recorder = self._recorder
            interval = self._preview_interval
        if recorder is not None:
            try:
                recorder.write(frame)
                self.counters.recorded += 1
            except RecordError as exc:
                self.counters.recorder_dropped += 1
                with self._lock:
                    if self._recorder is recorder:
                        self._recorder = None
                self._end_recording(recorder, str(exc), ok=False)
                recorder = None
            if recorder is not None and recorder.done():
                with self._lock:
                    if self._recorder is recorder:
                        self._recorder = None
                self._end_recording(recorder, "", ok=True)
        data = frame.data
        interval = max(interval, data.nbytes / PREVIEW_BYTES_PER_S)
        if since_preview < interval or (self._inflight is not None and not self._inflight.closed):
            return False
        payload = SharedPayload.allocate(data.nbytes)
        np.copyto(np.frombuffer(payload.view, dtype=data.dtype).reshape(data.shape), data)
        self._inflight = payload  # closed by the transport once sent: then the next may go
        if self._sink.stream_preview(payload):
            self.counters.previews += 1
        return True

    def _end_recording(self, recorder: SerRecorder, reason: str, ok: bool) -> None:
        try:
            recorder.close()
        except Exception as exc:  # the frames are written; say the trailer failed
            reason, ok = f"{reason}; closing {recorder.path} failed: {exc}".lstrip("; "), False
        self._sink.stream_record_ended(recorder, reason, ok)

    # -- counters ------------------------------------------------------------------------------
    def _camera_drops(self) -> int:
        counters = getattr(self._camera, "video_counters", None)
        if counters is not None:
            return int(counters().get("camera_dropped", 0))
        try:
            return self._camera.dropped_frames()
        except CameraError:
            return 0

    def _host_drops(self) -> int:
        counters = getattr(self._camera, "video_counters", None)
        return int(counters().get("host_dropped", 0)) if counters is not None else 0

    def _fold_run(self, base_camera_drops: int) -> None:
        """Video is restarted (new exposure): keep the finished run's drops in the totals."""
        self._update_drops(base_camera_drops)
        self._camera_base = self.counters.camera_dropped
        self._host_base = self.counters.host_dropped

    def _update_drops(self, base_camera_drops: int) -> None:
        self.counters.camera_dropped = self._camera_base + max(
            0, self._camera_drops() - base_camera_drops)
        self.counters.host_dropped = self._host_base + self._host_drops()

    def _report_stats(self, arrivals: deque[float], base_camera_drops: int,
                      reported: StreamCounters) -> None:
        self._update_drops(base_camera_drops)
        c = self.counters
        est = 1.0 / (arrivals[-1] - arrivals[-2]) if len(arrivals) >= 2 and arrivals[-1] > arrivals[-2] else 0.0
        avg = float(len(arrivals))
        news = []
        for label, attr in (("in the camera", "camera_dropped"), ("in the host buffer", "host_dropped"),
                            ("by the recorder", "recorder_dropped")):
            if getattr(c, attr) > getattr(reported, attr):
                news.append(f"{getattr(c, attr)} {label}")
                setattr(reported, attr, getattr(c, attr))
        self._sink.stream_stats(est, avg, c, ", ".join(news))
