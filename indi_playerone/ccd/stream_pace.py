"""Is the recording keeping up with the stream? The recorder's pace against the camera's.

A disk slower than the stream does not fail a ``write()``: the call just takes longer (the page
cache fills, then the kernel throttles the writer), frames wait in the host buffer, and once it
is full the oldest waiting frame is dropped, a whole frame at a time (``video_ring.py``). The
user must hear about it before that happens, with figures to act on. Per written frame:

* the rate the disk takes: bytes ÷ the time ``write()`` took, over the last ``WINDOW`` frames;
* the rate the stream needs: bytes ÷ the camera's period, the median of the steps between the
  written frames' own timestamps (the C reader's clock when each arrived from the camera, so a
  recorder that falls behind does not slow the figure down with it) over their steps in
  sequence numbers (so frames the host buffer dropped still count as frames the stream
  brought), over the last ``STAMPS`` frames, ÷ STREAMING_DIVISOR_VALUE (frames skipped by it
  are not needed);
* when the disk is slower and frames are waiting, the time until the buffer is full:
  free slots ÷ (frames arriving − frames written per second).

`check` answers the warning text, at most once every ``REWARN_S`` of the stream's time.
"""
from __future__ import annotations

import statistics
from collections import deque

#: Writes the disk's rate is measured over: long enough to smooth one slow write, short
#: enough to warn within a fraction of a second at video rates.
WINDOW = 8
#: Frames the stream's rate is measured over (a reader delayed by the scheduler reads two
#: frames back to back: one interval is not a rate).
STAMPS = 32
#: The disk counts as too slow below this share of the needed rate (timing noise of a fast
#: disk stays above it).
SLOW_SHARE = 0.97
#: Writes measured before the disk is judged: a warning must come within a fraction of a
#: second (a 64 MB host buffer holds a third of a second of a 224 MB/s stream).
MIN_WRITES = 2
#: Frames waiting before a slow disk is reported: one waiting frame is ordinary jitter, and so
#: are a few on a starved machine (a fresh-clone test run at a load average of 15 on 2 cores
#: saw a 28 MB/s stream against a 40 MB/s disk warned about). At least MIN_BACKLOG frames and
#: BACKLOG_SHARE of the host buffer: a Zeus frame in the default buffer is an eighth of it, a
#: 1.8 MB Apollo frame in 128 MB a seventy-second, so the warning still comes well before the
#: buffer is full (within 70 ms at 224 MB/s against 40 MB/s).
MIN_BACKLOG = 2
BACKLOG_SHARE = 0.1
#: A recording that stays too slow is reminded this often (seconds of frame time).
REWARN_S = 30.0


class RecordPace:
    """The measured pace of one recording (the stream worker's thread only)."""

    def __init__(self, frame_bytes: int, divisor: int = 1) -> None:
        self.frame_bytes, self.divisor = frame_bytes, max(1, divisor)
        self._writes: deque[float] = deque(maxlen=WINDOW)
        self._stamps: deque[tuple[int, int]] = deque(maxlen=STAMPS + 1)  # (timestamp ns, seq)
        self.bytes_written = 0
        self.write_s = 0.0
        self._warned_ns: int | None = None  # frame time of the last warning

    def wrote(self, seconds: float, timestamp_ns: int, seq: int) -> None:
        """One frame written in ``seconds``; ``timestamp_ns``: its arrival from the camera,
        ``seq`` its sequence number."""
        self._writes.append(seconds)
        self._stamps.append((timestamp_ns, seq))
        self.bytes_written += self.frame_bytes
        self.write_s += seconds

    def disk_rate(self) -> float:
        """Bytes per second the recorder's writes take, over the window (0: unknown)."""
        t = sum(self._writes)
        return self.frame_bytes * len(self._writes) / t if t > 0 else 0.0

    def needed_rate(self) -> float:
        """Bytes per second the stream brings to the recorder (0: unknown)."""
        # The median step, not the first-to-last span: the span read 869 MB/s for a 224 MB/s
        # stream on a machine at a load average of 15, where the reader got some frames late
        # and then several at once. A late frame makes one long step and one short; a burst
        # many near 0: the median ignores them while they are under half the window. It runs
        # for every written frame (slow() gates the host-buffer query), so it is one pass over
        # the STAMPS steps, not every pair.
        stamps = list(self._stamps)
        periods = [(t1 - t0) / ds for (t0, s0), (t1, s1) in zip(stamps, stamps[1:])
                   if (ds := (s1 - s0) & 0xFFFFFFFF) > 0]
        period = statistics.median(periods) if periods else 0.0
        return self.frame_bytes * 1e9 / period / self.divisor if period > 0 else 0.0

    def average_rate(self) -> float:
        """Bytes per second over the whole recording's writes."""
        return self.bytes_written / self.write_s if self.write_s > 0 else 0.0

    def slow_rates(self) -> tuple[float, float] | None:
        """(disk rate, needed rate) when the disk took less than the stream needs over the last
        frames, else None."""
        if len(self._writes) < MIN_WRITES:
            return None
        disk, need = self.disk_rate(), self.needed_rate()
        return (disk, need) if need > 0 and disk < SLOW_SHARE * need else None

    def check(self, rates: tuple[float, float], waiting: int, free: int, lost: int) -> str:
        """The warning for a disk too slow (``rates``: :meth:`slow_rates`; ``waiting`` frames
        ready in the host buffer, ``free`` slots left, ``lost`` frames it dropped since the
        recording started), or an empty string while the host buffer holds little or the
        recording was just warned about."""
        if waiting < max(MIN_BACKLOG, BACKLOG_SHARE * (waiting + free)):
            return ""
        now = self._stamps[-1][0]
        if self._warned_ns is not None and now - self._warned_ns < REWARN_S * 1e9:
            return ""
        self._warned_ns = now
        disk, need = rates
        gain_fps = (need - disk) / self.frame_bytes
        left = f"about {free / gain_fps:.2g} s" if gain_fps > 0 else "a moment"
        so_far = "no frame lost yet" if lost == 0 else f"{lost} frames lost already"
        return (f"The recording cannot keep up: the disk takes {disk / 1e6:.0f} MB/s, the "
                f"stream needs {need / 1e6:.0f} MB/s. {waiting} frames are waiting ({so_far}) "
                f"and the host buffer is full in {left}; then whole frames are dropped (and "
                "counted). To lose fewer, record 1 frame in N (STREAMING_DIVISOR_VALUE), a smaller region "
                "(CCD_STREAM_FRAME), 8-bit (STREAM_FULL_DEPTH) or to a faster disk.")
