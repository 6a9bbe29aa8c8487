"""SER recording of a video stream: where the file goes, and the recorder itself.

The pixels are written by the C core (``native/src/ser.c`` through :class:`..native.SerWriter`):
one ``write()`` of the frame straight from its ring slot, no copy in Python, with the GIL
released, and the header's FrameCount patched after every frame. The recorder runs on the
stream worker's thread, never on the INDI writer thread.

A recording stays a valid SER file however it ends: stop, the frame or time limit, the stream
stopped, the camera disconnected (the file is closed and gets its timestamp trailer), or the
driver killed (``SerWriter(guard=True)``: a watcher process cuts the file back to the frames
the header counts; the optional trailer is then missing).

File names (libindi's RECORD_FILE tokens): ``_D_`` → the UTC date ``YYYY-MM-DD``, ``_T_`` →
the UTC time ``HH-MM-SS`` (libindi writes local time with colons; hyphens because ':' is
invalid on FAT/exFAT and SMB volumes, as for uploads), ``_H_`` → the hour; ``$HOME`` and ``~``
are expanded in the directory. ``.ser`` is appended. An existing file is never overwritten:
``_1``, ``_2``, ... are added before the extension.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ..camera.interface import Frame
from ..indi.envvars import float_from_env
from ..native import SER_COLORS, NativeError, SerWriter
from .stream_pace import RecordPace

__all__ = ["RecordError", "RecordLimit", "SerRecorder", "expand_tokens", "record_path"]

DIR_MODE = 0o755
MAX_SUFFIX = 10000
#: Test hook: the recorder writes no faster than this many MB/s (a slow disk: it sleeps after
#: each frame for the rest of the time that disk would take), so tests can make the recording
#: fall behind the stream on any machine.
TEST_DISK_MBPS_ENV = "INDI_PLAYERONE_TEST_DISK_MBPS"


class RecordError(Exception):
    """Recording could not start or a frame could not be written; the message is for the user."""


def expand_tokens(text: str, now: datetime) -> str:
    return (text.replace("_D_", now.strftime("%Y-%m-%d"))
                .replace("_T_", now.strftime("%H-%M-%S"))
                .replace("_H_", now.strftime("%H")))


def record_path(directory: str, name: str, now: datetime | None = None) -> tuple[str, int]:
    """Create the directory and reserve a new ``<name>.ser`` in it (O_EXCL): (path, fd).

    The name may not hold a path separator or "..": it is a file name, not a path."""
    now = now or datetime.now(timezone.utc)
    if not name or "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise RecordError(f"Record file name {name!r} must be a plain file name")
    if "\x00" in directory:
        raise RecordError("Record directory contains a NUL character")
    home = os.path.expanduser("~")
    directory = os.path.expanduser(directory.replace("$HOME", home).replace("_HOME_", home))
    directory = os.path.abspath(expand_tokens(directory, now) or home)
    base = expand_tokens(name, now)
    try:
        os.makedirs(directory, mode=DIR_MODE, exist_ok=True)
    except OSError as exc:
        raise RecordError(f"Cannot create the record directory {directory}: {exc.strerror}") from exc
    for n in range(MAX_SUFFIX):
        path = os.path.join(directory, f"{base}{'' if n == 0 else f'_{n}'}.ser")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            continue
        except OSError as exc:
            raise RecordError(f"Cannot create {path}: {exc.strerror}") from exc
        return path, fd
    raise RecordError(f"No free file name for {base}.ser in {directory}")


@dataclass(frozen=True)
class RecordLimit:
    """How a recording ends by itself: ``mode`` "frames" (after ``frames``), "duration" (after
    ``seconds``) or "manual" (when stopped)."""

    mode: str
    frames: int = 0
    seconds: float = 0.0


class SerRecorder:
    """One SER recording: opened on the first frame (its size and depth fix the file's)."""

    def __init__(self, directory: str, name: str, limit: RecordLimit, *, color: str,
                 instrument: str) -> None:
        if color.upper() not in SER_COLORS:
            raise RecordError(f"SER has no colour id for {color!r} (known: {', '.join(SER_COLORS)})")
        self.limit, self.color, self.instrument = limit, color.upper(), instrument
        self.path, fd = record_path(directory, name)
        os.close(fd)  # reserved; SerWriter opens it again (O_TRUNC of the empty file)
        self._writer: SerWriter | None = None
        self._closed = False
        # write() (the stream worker) and close() (a handler, or the worker) exclude each other:
        # the C writer must not be freed while a frame is being written.
        self._lock = threading.Lock()
        self._t0 = self._t1 = 0.0  # monotonic: the first frame written, the close
        self._first: datetime | None = None  # the first frame's timestamp
        self._last: datetime | None = None
        self.frames = 0
        #: The camera's sequence numbers of the first and last frame written: a recording of
        #: every frame holds last - first + 1 frames; fewer means frames were lost on the way.
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.failed = 0  # frames that could not be written (disk full, I/O error)
        self.error = ""
        #: The recorder's pace against the stream's (stream_pace.py), kept by the stream worker.
        self.pace: RecordPace | None = None
        #: 1 frame in ``divisor`` of the stream is recorded (STREAMING_DIVISOR_VALUE).
        self.divisor = 1
        #: Frames lost in the camera or the host buffer while this recording ran (the stream
        #: worker's counts at its first frame and at its end).
        self.lost_base = 0
        self.lost = 0
        self.host_base = 0  # the host buffer's dropped count at the first frame
        # Test hook: a disk of this many MB/s (see TEST_DISK_MBPS_ENV).
        self._test_rate = float_from_env(TEST_DISK_MBPS_ENV, 0.0) * 1e6

    def write(self, frame: Frame) -> None:
        """Append a frame. Raises RecordError when it cannot be written."""
        with self._lock:
            if self._closed:
                raise RecordError(f"{self.path} is closed")
            self._write(frame)

    def _write(self, frame: Frame) -> None:
        if self._writer is None:
            h, w = frame.data.shape[:2]
            try:
                self._writer = SerWriter(self.path, w, h, color=self.color,
                                         depth=16 if frame.bits == 16 else 8,
                                         instrument=self.instrument[:40], start=frame.start_utc,
                                         guard=True)
            except (NativeError, OSError) as exc:
                raise RecordError(f"Cannot open {self.path}: {exc}") from exc
            self._t0 = time.monotonic()
            self._first = frame.start_utc
        try:
            t0 = time.monotonic()
            self._writer.write(frame.data, frame.start_utc)
            if self._test_rate > 0:
                time.sleep(max(0.0, frame.data.nbytes / self._test_rate - (time.monotonic() - t0)))
        except (NativeError, ValueError) as exc:
            self.failed += 1
            self.error = str(exc)
            raise RecordError(f"Writing frame {self.frames + 1} to {self.path} failed: {exc}") from exc
        self.frames += 1
        self._last = frame.start_utc
        if self.first_seq is None:
            self.first_seq = frame.sequence
        self.last_seq = frame.sequence

    def done(self) -> bool:
        """True when the frame or duration limit is reached. The duration is measured on the
        frames' own timestamps (first to last), not on when they were written: a backlog in
        the host buffer must not shorten or stretch the video."""
        if self.limit.mode == "frames":
            return self.frames >= self.limit.frames
        if self.limit.mode == "duration":
            if self._first is None or self._last is None:
                return False
            return (self._last - self._first).total_seconds() >= self.limit.seconds
        return False

    @property
    def elapsed(self) -> float:
        """Seconds from the first frame written to the close (or to now while recording)."""
        if not self._t0:
            return 0.0
        return (self._t1 or time.monotonic()) - self._t0

    def close(self) -> None:
        """Write the timestamp trailer and close. Idempotent; a file with no frame is removed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._t1 = time.monotonic()
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.close()
            elif self.frames == 0:
                try:
                    os.unlink(self.path)
                except OSError:
                    pass
