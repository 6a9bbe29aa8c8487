"""Video mode of the simulated camera: frames keep coming at the model's frame rate until stopped.

A real Player One camera in video mode (``POAStartExposure(id, FALSE)``) exposes frame after
frame and sends each one over USB as it is read out; the host must keep up or frames are lost,
in the camera's own buffer (``POAGetDroppedImagesCount``) or in the host's. This module does the
same with the simulator's frame synthesis (:class:`.sim_frames.FrameSynth`, used as it is) and the
same transfer path as single frames (:mod:`.sim_readout`): each frame goes into the native frame
ring as a wire header, payload blocks with a running CRC32C and a trailer, pushed with
``push_chunk`` and checked by the ring's assembler.

Timing: frame ``k`` is exposed over ``[t0 + k·P, t0 + (k+1)·P]`` with the period
``P = max(exposure, readout, 1 / FrameRateLimit)`` (:func:`video_period_s`), the readout being
the single-frame path's (:func:`.sim_sensor.readout_s`: the sensor's rows at the manual's fps,
twice as long in Low Noise mode, or the USB transfer at ``USBBandWidthLimit``, the longer), so
video runs at the rate single frames are read out at. A frame's settings are the camera's own
(``_frame_settings``: flip, sensor mode, PixelBinSum), taken when video starts; the ST4 guiding
shift is read again for every frame, so the stars move while guiding.

The camera's 512 MB DDR3 frame buffer (:class:`.sim_ddr.DdrBuffer`, the camera's own object)
sits between the sensor and the link: frame ``k`` comes off the sensor at ``t0 + (k+1)·P``
whatever the host does and is offered to the buffer; the link sends the oldest waiting frame
whenever the host ring has a slot for it. A link that cannot send (the consumer holds every
slot of the host ring, or this process was starved of CPU) leaves frames waiting; they are
sent back to back later with their own timestamps, and a frame that does not fit beside those
waiting is lost *in the camera* (``DdrBuffer.dropped``, the ``camera_dropped`` counter and
``dropped_frames()``). With nothing waiting, the frame being read is streamed during its
period and finished (trailer pushed) at its end, so frames become ready at the model's rate
and no faster.

The host ring (:class:`.video_ring.VideoRing`, shared with the SDK's video mode) is in
drop-oldest mode: a consumer that reads too slowly loses the oldest unread frame *in the host
buffer* (``host_dropped``).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from indi_playerone.native import PixFmt, RingClosed, crc32c, wire_header, wire_trailer

from .interface import CameraError, Frame
from .models import ModelSpec
from .sim_ddr import DdrBuffer
from .sim_frames import FrameSettings, FrameSynth, frame_rng
from .sim_sensor import USB3_BYTES_PER_S, readout_s
from .video_ring import VIDEO_BUFFER_BYTES, VideoRing, frame_bytes

__all__ = ["SimVideo", "VIDEO_BUFFER_BYTES", "USB3_BYTES_PER_S", "video_period_s"]

log = logging.getLogger(__name__)

#: The producer thread's name in the OS (``/proc/<pid>/task/<tid>/comm``): lets
#: ``bench/streaming.py`` tell the simulated camera's CPU from the driver's.
OS_THREAD_NAME = b"sim-video"
#: A stalled link (the consumer holds every host slot) looks again this often.
STALL_SLICE_S = 0.005


def _name_os_thread(name: bytes) -> None:
    """prctl(PR_SET_NAME) for the calling thread (Linux; elsewhere nothing)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def video_period_s(spec: ModelSpec, settings: FrameSettings, fps_limit: float = 0.0, *,
                   usb3: bool = True, bandwidth_pct: float = 100.0) -> float:
    """Seconds between video frames: the single-frame readout (:func:`.sim_sensor.readout_s`:
    sensor rows at the table's fps, doubled in Low Noise, or the USB transfer), never shorter
    than the exposure nor ``1 / fps_limit`` (the FrameRateLimit control; 0 = none)."""
    roi = settings.roi
    read = readout_s(spec, roi.height, roi.bin, frame_bytes(roi, settings.bits),
                     low_noise=settings.low_noise, usb3=usb3, bandwidth_pct=bandwidth_pct)
    limit = 1.0 / fps_limit if fps_limit > 0 else 0.0
    return max(read, settings.exposure_s, limit)


class SimVideo:
    """One run of video capture: a producer thread (sensor, camera buffer and link) and the
    host ring its frames land in.

    ``ddr`` is the camera's frame buffer, used under ``ddr_lock`` (the camera's lock, held by
    the caller while this object is made);
    ``star_shift()`` the guiding shift now (takes that lock itself). Threads: the producer is
    this object's own thread; any one consumer calls :meth:`frame` and releases frames from
    any thread. :meth:`stop` may be called from any thread.
    """

    def __init__(self, spec: ModelSpec, synth: FrameSynth, serial: str, settings: FrameSettings,
                 first_seq: int, alive: Callable[[], bool],
                 buffer_bytes: int = VIDEO_BUFFER_BYTES, *, period_s: float,
                 ddr: DdrBuffer, ddr_lock: threading.Lock,
                 star_shift: Callable[[], tuple[float, float]] | None = None) -> None:
        self.spec, self.settings, self.serial = spec, settings, serial
        self.period_s = period_s
        self._vr = VideoRing(settings.roi, settings.bits, buffer_bytes)
        self.ring, self.frame_bytes = self._vr.ring, self._vr.frame_bytes
        self._synth, self._first_seq, self._alive = synth, first_seq, alive
        self._ddr, self._ddr_lock, self._star_shift = ddr, ddr_lock, star_shift
        ddr.clear()  # made with ``ddr_lock`` held (start_video)
        self._ddr_base = ddr.dropped  # camera_dropped counts this run's
        # Given here, by the caller's thread (short-lived threads each get a malloc arena).
        self._staging = synth.block_buffer().reshape(-1).view(np.uint8)
        self._stop = threading.Event()
        self.frames_sent = 0
        self.frames_made = 0  # frames read off the sensor (kept or lost): sequence numbers used
        self.error = ""
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"sim-video-{serial}")

    def start(self) -> None:
        self._thread.start()

    # -- producer ------------------------------------------------------------------------------
    def _run(self) -> None:
        _name_os_thread(OS_THREAD_NAME)
        try:
            self._loop()
            if not self._alive():  # the camera was closed under a running stream
                self.stop()
        except RingClosed:
            pass
        except Exception as err:  # report through frame(): a consumer must not wait for ever
            log.exception("simulated video failed")
            self.error = f"video capture failed: {err}"
            self.ring.shutdown()

    def _off_sensor(self, now: float) -> None:
        """Offer the DDR buffer every frame that came off the sensor by ``now``."""
        due_count = int((now - self._t0) // self.period_s)  # frames whose period has ended
        n = due_count - self.frames_made
        if n <= 0:
            return
        with self._ddr_lock:
            self._ddr.offer_many(self.frames_made, n, self.frame_bytes)
        self.frames_made = due_count

    def _loop(self) -> None:
        s, period = self.settings, self.period_s
        width, height = s.roi.width, s.roi.height
        pixfmt = PixFmt.RAW16 if s.bits == 16 else PixFmt.RAW8
        buf = self._staging.view(np.uint16 if s.bits == 16 else np.uint8)
        # The first plan of new settings builds the noise pools (20-45 ms, plus 0.17 s for
        # the process-wide pool the first time): done before the clock starts, as a camera
        # is set up before its first frame.
        self._synth.plan(s, frame_rng(self.serial, self._first_seq))
        self._t0 = time.monotonic()
        wall0_ns = time.time_ns()
        while not self._stop.is_set() and self._alive():
            self._off_sensor(time.monotonic())
            if not self._vr.link_free():  # the consumer holds every slot: the link waits
                self._stop.wait(STALL_SLICE_S)
                continue
            with self._ddr_lock:
                waiting = self._ddr.next_for_link()
            k = self.frames_made if waiting is None else waiting
            seq = (self._first_seq + k) & 0xFFFFFFFF
            fs = s if self._star_shift is None else dataclasses.replace(
                s, star_shift=self._star_shift())
            plan = self._synth.plan(fs, frame_rng(self.serial, seq))
            header = wire_header(seq, width, height, pixfmt, wall0_ns + round(k * period * 1e9))
            crc = crc32c(header)
            self.ring.push_chunk(header)
            for block in self._synth.blocks(plan, buf):
                raw = block.reshape(-1).view(np.uint8)
                crc = crc32c(raw, crc)
                self.ring.push_chunk(raw)
            stopping = False
            if waiting is None:  # read while streamed: finished at the end of its period
                # Stopped during the readout: the frame is finished early rather than cut (a
                # cut frame would count as a corrupt transfer).
                due = self._t0 + (k + 1) * period
                stopping = self._stop.wait(max(0.0, due - time.monotonic()))
                self._off_sensor(max(time.monotonic(), due))
            with self._ddr_lock:
                if self._ddr.next_for_link() == k:
                    self._ddr.sent()
            self.ring.push_chunk(wire_trailer(crc))
            self.ring.mark_boundary()
            self.frames_sent += 1
            if stopping:
                break

    # -- consumer ------------------------------------------------------------------------------
    def frame(self, timeout: float, cancel: threading.Event | None, gain: int, offset: int,
              on_idle: Callable[[], None] | None = None) -> Frame:
        """The next frame, as a zero-copy view of its slot; release it when done. ``on_idle``
        runs between empty waits (the camera polls its fault file there)."""
        got = self._vr.acquire(timeout, cancel, on_idle, lambda: self.error)
        s = self.settings
        return self._vr.hand_out(got, s.exposure_s, gain, offset, s.temperature_c)

    def counters(self) -> dict[str, int]:
        """Frames sent by the camera, lost in its buffer (``camera_dropped``, this run's) and
        in the host ring (``host_dropped``), and the ring's received/delivered/corrupt."""
        if self._vr.stopped:
            return self._vr.final()
        return self._counters()

    def _counters(self) -> dict[str, int]:
        with self._ddr_lock:
            camera = self._ddr.dropped - self._ddr_base
        try:
            host = self._vr.host_counters()
        except RingClosed:
            host = {}
        return {"sent": self.frames_sent, "camera_dropped": camera, **host}

    # -- lifetime ------------------------------------------------------------------------------
    def stop(self, error: str = "") -> None:
        """Stop the producer, wake the consumer (with ``error``: it gets a CameraError saying
        so, else ExposureAborted); the ring is freed once no frame is held. Not with the
        camera's lock held (the producer takes it)."""
        if error and not self.error:
            self.error = error
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0 + self.period_s)
        if self._vr.stopped:
            return
        final = self._counters()
        with self._ddr_lock:
            self._ddr.clear()
        self._vr.end(final)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()
