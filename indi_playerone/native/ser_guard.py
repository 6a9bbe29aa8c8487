"""The SER kill guard: a small separate process that keeps a recording valid if the
recording process dies (SIGKILL, crash). Started by `SerWriter(guard=True)` (ser.py) as

    python -I -S ser_guard.py FD PIPE FRAME_BYTES

with the SER file open on FD and the read end of a pipe on PIPE. It waits for the pipe to
close. A normal close writes one byte first; EOF without it means the recorder died, and
the guard cuts the file back to the header size plus FrameCount whole frames: a frame
half-written when the process died would otherwise sit where readers look for the
optional timestamp trailer. Standard library only (it runs with -I -S, no site packages),
and it ignores the terminal's and the session's signals so it outlives its recorder.
"""
from __future__ import annotations

import os
import signal
import struct
import sys

#: SER v3: the header is 178 bytes; FrameCount is the little-endian uint32 at offset 38.
HEADER_BYTES = 178
FRAME_COUNT_OFFSET = 38


def wait_for_close(pipe: int) -> bytes:
    """One byte if the recorder closed the file itself, b"" if it died."""
    while True:
        try:
            return os.read(pipe, 1)
        except InterruptedError:
            continue


def cut_to_whole_frames(fd: int, frame_bytes: int) -> None:
    (count,) = struct.unpack("<I", os.pread(fd, 4, FRAME_COUNT_OFFSET))
    end = HEADER_BYTES + count * frame_bytes
    if os.fstat(fd).st_size > end:
        os.ftruncate(fd, end)


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    fd, pipe, frame_bytes = (int(a) for a in argv)
    if not wait_for_close(pipe):
        cut_to_whole_frames(fd, frame_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
