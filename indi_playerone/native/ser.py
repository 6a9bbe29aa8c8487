"""SER v3 recordings (``native/src/ser.c``): the writer the stream recorder uses, and the
guard process that keeps a file valid when the recording process is killed."""
from __future__ import annotations

import datetime as _dt
import os
import sys
from typing import Optional, Union

from indi_playerone._native import ffi, lib

from .buffers import Buffer
from .errors import NativeError, check

#: The guard's program (ser_guard.py), run by path: with -I -S the package is not importable.
_GUARD_PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ser_guard.py")

SER_COLORS = {"MONO": 0, "RGGB": 8, "GRBG": 9, "GBRG": 10, "BGGR": 11, "RGB": 100, "BGR": 101}


def ser_ticks(when: Union[_dt.datetime, int, None] = None) -> int:
    """.NET ticks (100 ns since 0001-01-01) of a UTC instant: datetime, Unix ns or now."""
    if when is None:
        when = _dt.datetime.now(_dt.timezone.utc)
    if isinstance(when, _dt.datetime):
        if when.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        d = when - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        when = (d.days * 86400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000
    return int(lib.poa_ser_ticks_from_unix_ns(int(when)))


class _SerGuard:
    """The watcher process of one SER file (started by SerWriter(guard=True))."""

    def __init__(self, path: Union[str, os.PathLike], frame_bytes: int) -> None:
        import subprocess  # only recorders with a guard need it

        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)  # pread the header, ftruncate
        r, self._w = os.pipe2(os.O_CLOEXEC)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", _GUARD_PROGRAM, str(fd), str(r), str(frame_bytes)],
                pass_fds=(fd, r), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                start_new_session=True)
        except BaseException:
            os.close(self._w)
            raise
        finally:
            os.close(fd)
            os.close(r)

    def release(self) -> None:
        """The file is complete: tell the guard to leave it alone, and reap it."""
        if self._w < 0:
            return
        try:
            os.write(self._w, b"x")
        finally:
            os.close(self._w)
            self._w = -1
        try:
            self._proc.wait(5)
        except Exception:  # a guard that hangs is killed; the file is already complete
            self._proc.kill()


class SerWriter:
    """Record frames to a SER v3 file. The header's FrameCount is kept current after
    every frame, so a recording cut short is still readable; close() adds the timestamp
    trailer. With ``guard=True`` a watcher process also keeps the file valid if this
    process is killed (``ser_guard.py``; the trailer is then missing, which SER allows).
    Not thread-safe: one recording thread."""

    def __init__(self, path: Union[str, os.PathLike], width: int, height: int, *,
                 color: Union[str, int] = "MONO", depth: int = 16, observer: str = "",
                 instrument: str = "", telescope: str = "",
                 start: Optional[_dt.datetime] = None, guard: bool = False) -> None:
        info = ffi.new("poa_ser_info_t *")
        info.width, info.height, info.pixel_depth = width, height, depth
        info.color_id = SER_COLORS[color.upper()] if isinstance(color, str) else color
        info.little_endian = 1 if sys.byteorder == "little" else 0
        for field, text in (("observer", observer), ("instrument", instrument), ("telescope", telescope)):
            setattr(info, field, text.encode("ascii", "replace")[:40])
        start = start or _dt.datetime.now(_dt.timezone.utc)
        info.date_time_utc = ser_ticks(start)
        off = start.astimezone().utcoffset() or _dt.timedelta(0)
        info.date_time = info.date_time_utc + int(off.total_seconds()) * 10_000_000
        pp = ffi.new("poa_ser_t **")
        rc = lib.poa_ser_open(pp, os.fsencode(path), info)
        if rc < 0:
            raise NativeError("poa_ser_open", rc, f"{os.fspath(path)}: {os.strerror(ffi.errno)}"
                              if rc == lib.POA_EIO else os.fspath(path))
        self._s = pp[0]
        self.frame_bytes = int(lib.poa_ser_frame_bytes(self._s))
        self._guard: Optional[_SerGuard] = None
        if guard:
            try:
                self._guard = _SerGuard(path, self.frame_bytes)
            except BaseException:
                lib.poa_ser_close(self._s)
                self._s = None
                raise

    @property
    def frame_count(self) -> int:
        return int(lib.poa_ser_frame_count(self._s)) if self._s is not None else self._final

    def write(self, frame: Buffer, timestamp: Union[_dt.datetime, int, None] = None) -> None:
        """Append one frame (exactly frame_bytes, host byte order); timestamp: UTC datetime,
        Unix ns or None for now."""
        if self._s is None:
            raise ValueError("SER file closed")
        b = ffi.from_buffer(frame)
        rc = lib.poa_ser_write_frame(self._s, ffi.cast("uint8_t *", b), len(b), ser_ticks(timestamp))
        if rc < 0:
            raise NativeError("poa_ser_write_frame", rc,
                              os.strerror(lib.poa_ser_last_errno(self._s)) if rc == lib.POA_EIO
                              else f"{len(b)} bytes, frame is {self.frame_bytes}")

    def close(self) -> None:
        if self._s is None:
            return
        s, self._s = self._s, None
        self._final = int(lib.poa_ser_frame_count(s))
        try:
            check("poa_ser_close", lib.poa_ser_close(s))
        finally:
            if self._guard is not None:
                self._guard.release()

    def __enter__(self) -> "SerWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
