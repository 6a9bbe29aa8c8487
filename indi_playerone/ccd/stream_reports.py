"""The reports of one stream worker, back on the streaming component's properties.

One `StreamReports` per worker, tagged with it: a late report of a stream that was stopped
(or replaced) must not change the properties of the next one. A report waits for the device
lock, unless the worker was detached meanwhile: a disconnect or a STREAM_OFF that holds the
lock is then waiting for the worker to end, and the report goes out as a message instead.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

from ..indi.defaultdevice import DefaultDevice
from ..indi.payload import SharedPayload
from ..indi.properties import State
from ..indi.transport import BlobItem, TransportClosed
from . import names as P
from .stream_record import SerRecorder
from .stream_worker import StreamCounters, StreamWorker


class StreamOwner(Protocol):
    """What the reports need of the streaming component."""

    device: DefaultDevice
    worker: StreamWorker | None  # the running stream's

    def v(self, spec: P.PropertySpec) -> Any: ...
    def stream_ended(self) -> None: ...

#: CCD1's format for previews: raw pixels, as libindi's RAW stream encoder sends them.
STREAM_FORMAT = ".stream"


def recording_summary(recorder: SerRecorder, reason: str) -> str:
    """The "Recording ended" message: frames, time, file, the camera's sequence numbers it
    spans, frames lost meanwhile and, when any were, the disk's rate against the stream's."""
    text = f"Recording ended: {recorder.frames} frames in {recorder.elapsed:.2f} s to {recorder.path}"
    if recorder.first_seq is not None:
        text += f", sequence {recorder.first_seq}-{recorder.last_seq}"
    if recorder.divisor > 1:
        text += f", 1 frame in {recorder.divisor}"
    if recorder.lost:
        text += f"; {recorder.lost} frames lost"
        pace = recorder.pace
        if pace is not None and pace.average_rate() > 0:
            text += f" (the disk took {pace.average_rate() / 1e6:.0f} MB/s"
            need = pace.needed_rate()
            text += f", the stream needed {need / 1e6:.0f} MB/s)" if need else ")"
    return text + (f" ({reason})" if reason else "")


class StreamReports:
    """The `StreamSink` of one worker (stream_worker.py)."""

    def __init__(self, streaming: StreamOwner) -> None:
        self.streaming = streaming
        self.worker: StreamWorker | None = None

    @contextlib.contextmanager
    def _reporting(self) -> Iterator[bool]:
        """The device lock for a worker's report, or False once the worker is detached (a
        disconnect holding the lock is waiting for the worker to end)."""
        lock, worker = self.streaming.device.lock, self.worker
        while not lock.acquire(timeout=0.05):
            if worker is None or worker.detached:
                yield False
                return
        try:
            yield True
        finally:
            lock.release()

    def stream_preview(self, payload: SharedPayload) -> bool:
        worker, streaming = self.worker, self.streaming
        with self._reporting() as ok:
            if not ok or worker is not streaming.worker or worker is None or worker.stopping:
                payload.close()
                return False
            try:
                streaming.device.transport.send_blob_vector(
                    streaming.device.name, P.CCD1.name, State.OK.value,
                    [BlobItem(P.CCD1.name, STREAM_FORMAT, payload)])
            except TransportClosed:
                return False
            stream = streaming.v(P.CCD_VIDEO_STREAM)
            if stream.state is not State.OK:
                streaming.device.ok(stream)
        return True

    def stream_warning(self, text: str) -> None:
        """A warning for the user now (the recorder cannot keep up)."""
        with self._reporting():
            self.streaming.device.log(text, "WARNING")

    def stream_stats(self, est: float, avg: float, counters: StreamCounters, news: str) -> None:
        worker, streaming = self.worker, self.streaming
        with self._reporting() as ok:
            if not ok or worker is not streaming.worker:
                return
            fps = streaming.v(P.FPS)
            fps["EST_FPS"].value, fps["AVG_FPS"].value = est, avg
            streaming.device.ok(fps)
            if news:
                streaming.device.log(f"Frames dropped so far: {news}.", "WARNING")

    def stream_record_ended(self, recorder: SerRecorder, reason: str, ok: bool) -> None:
        worker, streaming = self.worker, self.streaming
        text = recording_summary(recorder, reason)
        with self._reporting() as locked:
            if not locked:
                streaming.device.log(text, "INFO" if ok else "ERROR")
            elif worker is streaming.worker or worker is None:
                rec = streaming.v(P.RECORD_STREAM)
                rec.set_only("RECORD_OFF")
                rec.state = State.OK if ok else State.ALERT
                streaming.device.update(rec, text)
            else:
                streaming.device.log(text, "INFO" if ok else "ERROR")

    def stream_ended(self, error: str) -> None:
        worker, streaming = self.worker, self.streaming
        c = worker.counters if worker is not None else StreamCounters()
        skipped = f" ({c.skipped} skipped: 1 frame in N kept)" if c.skipped else ""
        summary = (f"Video stream stopped: {c.frames} frames{skipped}, {c.recorded} recorded, "
                   f"{c.previews} previews; dropped {c.drops.text()}.")
        with self._reporting() as ok:
            if not ok or worker is not streaming.worker:
                streaming.device.log(summary)
                return
            streaming.stream_ended()
            fps = streaming.v(P.FPS)
            fps["EST_FPS"].value = fps["AVG_FPS"].value = 0
            fps.state = State.IDLE
            if not streaming.device.is_defined(fps.name):  # disconnected meanwhile
                return
            streaming.device.update(fps)
            stream = streaming.v(P.CCD_VIDEO_STREAM)
            stream.set_only("STREAM_OFF")
            if error:
                streaming.device.alert(stream, error)
            else:
                stream.state = State.IDLE
                streaming.device.update(stream)
            streaming.device.log(summary)
