"""The stream worker: one thread per stream that takes every video frame from the camera,
records it, and now and then sends one to the client as a preview.

Per frame (on this thread, never the INDI writer thread): ``camera.video_frame`` hands out a
zero-copy view of a ring slot; the recorder writes it to the SER file in C (GIL released);
when a preview is due (at most ``LIMITS_PREVIEW_FPS`` a second and ``PREVIEW_BYTES_PER_S``) and
the previous preview has left the driver, the frame is copied once into a shared-memory payload
and queued for the writer thread as ``CCD1`` with format ``.stream``; then the slot is released. A preview that
is not due, or whose predecessor is still queued behind a slow client, is simply not made:
previews are thinned, never queued up, so a slow client cannot stall the recording.

STREAMING_DIVISOR_VALUE N keeps 1 frame in N for the recording and the previews (the others
are released at once and counted as skipped, not lost); FPS counts the kept frames, as
libindi's StreamManager does.

Frames lost anywhere are counted: in the camera (the SDK's dropped count), in the host ring
(the consumer fell behind: the oldest frame was dropped), and by the recorder (a write
failed). While recording, every write is timed (stream_pace.py): a disk slower than the stream
is reported at once, with both rates and the time left until the host buffer is full, before
any frame is lost. Once a second the worker updates FPS and, when a count rose, says so in a
message.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Protocol

import numpy as np

from ..camera.interface import CameraBackend, CameraError, CameraTimeout, ExposureAborted, Frame
from ..indi.envvars import float_from_env
from ..indi.payload import SharedPayload
from .stream_pace import RecordPace
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
#: 61 MB frame 0.65). Re-measured (issue 19): 49 ms of CPU per 61 MB preview, nearly all the
#: fresh memfd's page allocation, so at most about 0.03 core. Previews are whole frames, not
#: subsampled: Ekos shows a RAW ``.stream`` frame only when its size is CCD_STREAM_FRAME's
#: width x height (kstars ``kstars/indi/videowg.cpp``, ``VideoWG::newFrame``); a smaller
#: preview would be a blank stream window there.
PREVIEW_BYTES_PER_S = 40e6
#: Test hook: the worker sleeps this long once, after its 20th frame, so tests can stall the
#: consumer while the camera keeps sending (the host buffer then overflows).
TEST_STALL_ENV = "INDI_PLAYERONE_TEST_STREAM_STALL_S"


@dataclass
class Drops:
    """Frames lost, by where: in the camera (its buffer overflowed), in the host buffer (the
    consumer fell behind: the oldest frame was dropped), by the recorder (a write failed)."""

    camera: int = 0
    host: int = 0
    recorder: int = 0

    WHERE = {"camera": "in the camera", "host": "in the host buffer", "recorder": "by the recorder"}

    def text(self, since: Drops | None = None) -> str:
        """"N in the camera, M in the host buffer, K by the recorder"; with `since`, only the
        counts that rose since then, and `since` catches up."""
        said = []
        for f in fields(self):
            count = getattr(self, f.name)
            if since is None or count > getattr(since, f.name):
                said.append(f"{count} {self.WHERE[f.name]}")
                if since is not None:
                    setattr(since, f.name, count)
        return ", ".join(said)


@dataclass
class StreamCounters:
    frames: int = 0  # frames received from the camera
    skipped: int = 0  # not kept: STREAMING_DIVISOR_VALUE
    recorded: int = 0
    previews: int = 0
    drops: Drops = field(default_factory=Drops)


class StreamSink(Protocol):
    """What the worker reports to (stream_reports.StreamReports)."""

    def stream_preview(self, payload: SharedPayload) -> bool: ...
    def stream_warning(self, text: str) -> None: ...
    def stream_stats(self, est_fps: float, avg_fps: float, counters: StreamCounters,
                     new_drops: str) -> None: ...
    def stream_record_ended(self, recorder: SerRecorder, reason: str, ok: bool) -> None: ...
    def stream_ended(self, error: str) -> None: ...


class StreamWorker:
    """Runs one video stream of ``camera`` until :meth:`stop`."""

    def __init__(self, camera: CameraBackend, sink: StreamSink, exposure_s: float,
                 preview_fps: float, divisor: int = 1) -> None:
        self._camera, self._sink = camera, sink
        self._lock = threading.Lock()
        self._exposure_s = exposure_s
        self._restart = False
        self._preview_interval = 1.0 / max(preview_fps, 1e-3)
        self._recorder: SerRecorder | None = None
        self._divisor = max(1, int(divisor))
        self._stop = threading.Event()
        #: Set by a disconnect waiting for this worker: its last reports skip the properties.
        self.detached = False
        self.counters = StreamCounters()
        self._inflight: SharedPayload | None = None
        self._camera_base = self._host_base = 0  # drops of earlier video runs of this stream
        self._run_base = 0  # the camera's dropped count when this video run started
        self._stall_s = float_from_env(TEST_STALL_ENV, 0.0)
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

    def set_divisor(self, divisor: int) -> None:
        """Keep 1 frame in ``divisor`` from the next frame on."""
        with self._lock:
            self._divisor = max(1, int(divisor))

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
        self._run_base = self._video_drops()[0]
        arrivals: deque[float] = deque()
        last_stats = time.monotonic()
        last_preview = 0.0
        reported = Drops()
        try:
            while not self._stop.is_set():
                with self._lock:
                    restart = self._restart
                if restart:
                    self._camera.stop_video()
                    self._fold_run()
                    self._run_base = 0  # the counts restart with video
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
                self.counters.frames += 1
                with self._lock:
                    divisor = self._divisor
                kept = (self.counters.frames - 1) % divisor == 0
                try:
                    if not kept:
                        self.counters.skipped += 1
                    elif self._handle(frame, now - last_preview):
                        last_preview = now
                finally:
                    frame.release()
                if kept:
                    arrivals.append(now)
                if self.counters.frames == 20 and self._stall_s > 0:
                    time.sleep(self._stall_s)
                while arrivals and now - arrivals[0] > 1.0:
                    arrivals.popleft()
                if now - last_stats >= STATS_PERIOD_S:
                    last_stats = now
                    self._report_stats(arrivals, reported)
        finally:
            try:
                self._camera.stop_video()
            except CameraError as exc:
                log.warning("stopping video: %s", exc)
            self._update_drops()
        return ""

    def _handle(self, frame: Frame, since_preview: float) -> bool:
        """Record the frame and maybe preview it; True if a preview was made."""
        with self._lock:
            recorder = self._recorder
            interval = self._preview_interval
        if recorder is not None:
            try:
                self._record(recorder, frame)
                self.counters.recorded += 1
            except RecordError as exc:
                self.counters.drops.recorder += 1
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

    def _record(self, recorder: SerRecorder, frame: Frame) -> None:
        """Write the frame (one write() from its ring slot, in C), timed; a disk slower than
        the stream is reported before the host buffer overflows."""
        if recorder.pace is None:  # its first frame
            with self._lock:
                recorder.divisor = self._divisor
            recorder.pace = RecordPace(frame.data.nbytes, recorder.divisor)
            recorder.lost_base = self._lost()
            host = self._host_fill()
            recorder.host_base = host["host_dropped"] if host else 0
        pace = recorder.pace
        t0 = time.monotonic()
        recorder.write(frame)
        pace.wrote(time.monotonic() - t0, frame.timestamp_ns, frame.sequence)
        rates = pace.slow_rates()
        if rates is not None:  # only then is the host buffer looked at (a C call and a lock)
            host = self._host_fill()
            if host is not None:
                warning = pace.check(rates, host["ready"], host["free_slots"],
                                     max(0, host["host_dropped"] - recorder.host_base))
                if warning:
                    log.warning("%s", warning)
                    self._sink.stream_warning(warning)

    def _host_fill(self) -> dict[str, int] | None:
        """The host buffer now: ready (frames waiting), free_slots, host_dropped (this video
        run's), if the backend tells."""
        c = self._camera.video_counters()
        if "ready" not in c:
            return None
        return {k: int(c.get(k, 0)) for k in ("ready", "free_slots", "host_dropped")}

    def _end_recording(self, recorder: SerRecorder, reason: str, ok: bool) -> None:
        if recorder.pace is not None:
            recorder.lost = self._lost() - recorder.lost_base
        try:
            recorder.close()
        except Exception as exc:  # the frames are written; say the trailer failed
            reason, ok = f"{reason}; closing {recorder.path} failed: {exc}".lstrip("; "), False
        self._sink.stream_record_ended(recorder, reason, ok)

    # -- counters ------------------------------------------------------------------------------
    def _video_drops(self) -> tuple[int, int]:
        """(camera_dropped, host_dropped) of this video run, from the backend's
        ``video_counters`` (zeros before a run)."""
        c = self._camera.video_counters()
        return int(c.get("camera_dropped", 0)), int(c.get("host_dropped", 0))

    def _fold_run(self) -> None:
        """Video is restarted (new exposure): keep the finished run's drops in the totals."""
        self._update_drops()
        self._camera_base = self.counters.drops.camera
        self._host_base = self.counters.drops.host

    def _update_drops(self) -> None:
        drops, (camera, host) = self.counters.drops, self._video_drops()
        drops.camera = self._camera_base + max(0, camera - self._run_base)
        drops.host = self._host_base + host

    def _lost(self) -> int:
        """Frames lost so far in the camera and the host buffer (counts brought up to date)."""
        self._update_drops()
        return self.counters.drops.camera + self.counters.drops.host

    def _report_stats(self, arrivals: deque[float], reported: Drops) -> None:
        self._update_drops()
        c = self.counters
        est = 1.0 / (arrivals[-1] - arrivals[-2]) if len(arrivals) >= 2 and arrivals[-1] > arrivals[-2] else 0.0
        avg = float(len(arrivals))
        self._sink.stream_stats(est, avg, c, c.drops.text(since=reported))
