"""The simulator's runtime fault file: ``INDI_PLAYERONE_SIM_FAULT_FILE=/path``.

So a test can break a camera inside a running driver process, each simulated camera watches the
file: it looks at the file's mtime at every camera call (at most every ``CHECK_INTERVAL_S``,
50 ms; the driver's once-a-second temperature poll is such a call) and when it changed reads the
lines it has not applied yet and applies them, once each, in order. Append lines; never rewrite
the ones already there (the camera remembers how many it applied; a file that shrank is read
again from its new end). A line is ``name[=arg]`` (every simulated camera) or
``name[=arg]@serial`` (the camera with that serial number); blank lines and ``#`` comments count
as lines but do nothing. Names, as the fake SDK's (``FAKE_POA_FAULT_FILE``):

``never_ready[=n]``
    Exposures never finish (the field failure): the frame never comes and the camera stays
    exposing until the exposure is aborted. ``n`` > 0: the next n exposures; 0 (default): until
    ``none``.
``timeout[=n]``
    The finished frame is lost on the link: the exposure fails half a second after its readout
    should have ended ("timed out"). Counts like never_ready.
``unplug_after=n``
    After n more frames are delivered the camera is gone: it closes itself and every call fails
    with "unplugged" until ``replug``. ``unplug`` is ``unplug_after=0`` (now).
``replug``
    An unplugged camera is back, closed (connect again).
``no_12v`` / ``12v``
    The 12 V supply goes / comes back: without it the camera images but cannot cool.
``corrupt_next_frame`` / ``short_next_frame``
    The next transfer arrives corrupt (CRC) / short (a lost USB packet) and the frame ring
    discards it.
``none``
    Clears every armed fault (never_ready, timeout, unplug_after, no_12v), as the fake SDK's
    ``none`` does; an unplugged camera stays unplugged (``replug``).

An unknown name or a bad argument is logged (WARNING) and skipped, like the fake SDK does.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FAULT_FILE_ENV", "CHECK_INTERVAL_S", "FAULT_NAMES", "FaultLine", "FaultFile",
           "parse_line"]

log = logging.getLogger(__name__)

FAULT_FILE_ENV = "INDI_PLAYERONE_SIM_FAULT_FILE"
CHECK_INTERVAL_S = 0.05
FAULT_NAMES = ("never_ready", "timeout", "unplug_after", "unplug", "replug", "no_12v", "12v",
               "none", "corrupt_next_frame", "short_next_frame")


@dataclass(frozen=True)
class FaultLine:
    name: str
    arg: int
    serial: str | None  # None: every simulated camera


def parse_line(line: str) -> FaultLine | None:
    """One line -> a :class:`FaultLine`; None for a blank line or a comment. ``ValueError`` for
    an unknown name or a bad argument."""
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    body, at, serial = text.partition("@")
    name, eq, arg_text = (part.strip() for part in body.partition("="))
    if name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {name!r} (known: {', '.join(FAULT_NAMES)})")
    arg = 0
    if eq:
        try:
            arg = int(arg_text)
        except ValueError:
            raise ValueError(f"fault {name}: argument {arg_text!r} is not an integer") from None
        if arg < 0:
            raise ValueError(f"fault {name}: argument {arg} is negative")
    return FaultLine(name, arg, serial.strip() if at else None)


class FaultFile:
    """One camera's reader of the fault file: :meth:`poll` returns the lines for this camera
    that appeared since the last call. Not thread-safe (the camera serialises calls)."""

    def __init__(self, path: str | os.PathLike[str] | None, serial: str,
                 interval_s: float = CHECK_INTERVAL_S) -> None:
        self.path = Path(path) if path else None
        self.serial = serial
        self.interval = interval_s
        self._next_check = 0.0
        self._mtime: int | None = None
        self._size = -1
        self._applied = 0  # lines consumed (all of them, not only ours)

    def poll(self, force: bool = False) -> list[FaultLine]:
        if self.path is None:
            return []
        now = time.monotonic()
        if not force and now < self._next_check:
            return []
        self._next_check = now + self.interval
        try:
            st = self.path.stat()
        except OSError:
            return []
        if st.st_mtime_ns == self._mtime and st.st_size == self._size:
            return []
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        self._mtime, self._size = st.st_mtime_ns, st.st_size
        # A last line without its newline counts: appends of a short line are atomic.
        lines = text.splitlines()
        if len(lines) < self._applied:  # the file was truncated: start over at its end
            self._applied = len(lines)
            return []
        new, self._applied = lines[self._applied:], len(lines)
        out = []
        for line in new:
            try:
                fault = parse_line(line)
            except ValueError as exc:
                log.warning("%s: %s: line %r skipped", self.path, exc, line)
                continue
            if fault is not None and fault.serial in (None, self.serial):
                out.append(fault)
        return out
