"""SER files written by the C core, read back by an independent reader.

The reader below follows the published SER v3 description (178-byte little-endian
header, frames, optional trailer of int64 UTC timestamps in .NET ticks) and shares no
code with the writer; tick values are computed here from `datetime` arithmetic.
"""
from __future__ import annotations

import datetime as dt
import os
import struct
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from indi_playerone import native as N

SER_HEADER = struct.Struct("<14s7i40s40s40sqq")
EPOCH_0001 = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)


@dataclass
class SerFile:
    color_id: int
    little_endian: int
    width: int
    height: int
    depth: int
    frame_count: int
    observer: bytes
    instrument: bytes
    telescope: bytes
    date_time: int
    date_time_utc: int
    frames: list[np.ndarray]
    timestamps: list[int] | None


def read_ser(path: Path) -> SerFile:
    raw = path.read_bytes()
    (file_id, _lu, color, le, w, h, depth, count, obs, ins, tel, t_local, t_utc) = SER_HEADER.unpack_from(raw)
    assert file_id == b"LUCAM-RECORDER"
    planes = 3 if color in (100, 101) else 1
    bps = 2 if depth > 8 else 1
    size = w * h * planes * bps
    body = SER_HEADER.size + count * size
    assert len(raw) >= body, "fewer frame bytes than FrameCount says"
    dtype = np.dtype("u1") if bps == 1 else np.dtype("<u2" if le else ">u2")
    shape = (h, w, planes) if planes == 3 else (h, w)
    frames = [np.frombuffer(raw, dtype, w * h * planes, SER_HEADER.size + i * size).reshape(shape)
              for i in range(count)]
    trailer = None
    if len(raw) >= body + 8 * count and count:
        trailer = list(struct.unpack_from(f"<{count}q", raw, body))
        assert len(raw) == body + 8 * count
    else:
        assert len(raw) == body, "a file without trailer ends after its last frame"
    return SerFile(color, le, w, h, depth, count, obs, ins, tel, t_local, t_utc, frames, trailer)


def ticks(when: dt.datetime) -> int:
    return (when - EPOCH_0001) // dt.timedelta(microseconds=1) * 10


def test_mono16_round_trip_with_trailer(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 65536, (5, 7), dtype=np.uint16) for _ in range(4)]
    start = dt.datetime(2024, 3, 1, 22, 15, 30, 123456, tzinfo=dt.timezone.utc)
    stamps = [start + dt.timedelta(milliseconds=40 * i) for i in range(4)]
    path = tmp_path / "m.ser"
    with N.SerWriter(path, 7, 5, depth=12, observer="Ada", instrument="Zeus 455M PRO",
                     telescope="RC8", start=start) as w:
        for f, t in zip(frames, stamps):
            w.write(f, t)
        assert w.frame_count == 4
    s = read_ser(path)
    assert (s.color_id, s.width, s.height, s.depth, s.frame_count) == (0, 7, 5, 12, 4)
    assert s.little_endian == (1 if sys.byteorder == "little" else 0)
    assert s.observer.rstrip(b"\0") == b"Ada" and s.instrument.rstrip(b"\0") == b"Zeus 455M PRO"
    assert s.telescope.rstrip(b"\0") == b"RC8"
    assert all(np.array_equal(a, b) for a, b in zip(s.frames, frames))
    assert s.timestamps == [ticks(t) for t in stamps]
    assert s.date_time_utc == ticks(start)
    offset = start.astimezone().utcoffset() or dt.timedelta(0)
    assert s.date_time - s.date_time_utc == offset // dt.timedelta(microseconds=1) * 10


@pytest.mark.parametrize("color,planes", [("RGB", 3), ("RGGB", 1), ("BGGR", 1)])
def test_8bit_colour_ids_and_planes(tmp_path: Path, color: str, planes: int) -> None:
    shape = (4, 6, 3) if planes == 3 else (4, 6)
    frames = [np.full(shape, i, np.uint8) for i in range(3)]
    with N.SerWriter(tmp_path / "c.ser", 6, 4, color=color, depth=8) as w:
        for f in frames:
            w.write(f)
    s = read_ser(tmp_path / "c.ser")
    assert s.color_id == N.SER_COLORS[color]
    assert [int(f.reshape(-1)[0]) for f in s.frames] == [0, 1, 2]
    assert all(np.array_equal(a, b) for a, b in zip(s.frames, frames))


def test_wrong_frame_size_is_refused(tmp_path: Path) -> None:
    with N.SerWriter(tmp_path / "x.ser", 4, 4) as w:
        with pytest.raises(N.NativeError):
            w.write(np.zeros((4, 5), np.uint16))
        w.write(np.zeros((4, 4), np.uint16))
    assert read_ser(tmp_path / "x.ser").frame_count == 1


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60)


def test_recording_killed_mid_way_leaves_a_valid_file(tmp_path: Path) -> None:
    """The process dies (SIGKILL, no close): FrameCount already says how many frames are
    whole, and the file ends after the last one (the trailer is optional)."""
    path = tmp_path / "k.ser"
    r = _run(f"""
        import os, signal, numpy as np
        from indi_playerone import native as N
        w = N.SerWriter({str(path)!r}, 8, 3)
        for i in range(3):
            w.write(np.full((3, 8), i, np.uint16))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert r.returncode == -9, r.stderr
    s = read_ser(path)
    assert s.frame_count == 3 and s.timestamps is None
    assert [int(f[0, 0]) for f in s.frames] == [0, 1, 2]


def test_failed_write_cuts_back_to_the_last_whole_frame(tmp_path: Path) -> None:
    """A write that fails part-way (file size limit here, a full disk in the field)
    raises, and leaves the file ending at the last whole frame with a valid header."""
    path = tmp_path / "f.ser"
    r = _run(f"""
        import resource, signal, numpy as np
        from indi_playerone import native as N
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = 178 + 2 * 2000 + 1000   # room for two 2000-byte frames and half a third
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        w = N.SerWriter({str(path)!r}, 100, 10)
        w.write(np.full((10, 100), 1, np.uint16))
        w.write(np.full((10, 100), 2, np.uint16))
        try:
            w.write(np.full((10, 100), 3, np.uint16))
        except N.NativeError as e:
            print("raised", e)
        try:
            w.close()   # the trailer does not fit either: still a valid file
        except N.NativeError as e:
            print("close", e)
    """)
    assert r.returncode == 0, r.stderr
    assert "raised" in r.stdout
    s = read_ser(path)
    assert s.frame_count == 2
    assert [int(f[0, 0]) for f in s.frames] == [1, 2]


def test_ticks_match_datetime_arithmetic() -> None:
    for when in [dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc),
                 dt.datetime(2025, 11, 25, 14, 0, 0, 999999, tzinfo=dt.timezone.utc),
                 dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=dt.timezone.utc)]:
        assert N.ser_ticks(when) == ticks(when)
    assert N.ser_ticks(0) == ticks(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(ValueError):
        N.ser_ticks(dt.datetime(2020, 1, 1))  # naive: ambiguous


def test_unwritable_path_raises(tmp_path: Path) -> None:
    with pytest.raises(N.NativeError):
        N.SerWriter(tmp_path / "no" / "such" / "dir.ser", 4, 4)
    if os.path.exists("/dev/full"):
        with pytest.raises(N.NativeError):
            N.SerWriter("/dev/full", 4, 4)
