"""The camera's frame buffer: 512 MB of DDR3 between the sensor and the USB link.

The manual: "512MB DDR3 Buffer. It helps stabilize and secure data transmission, it effectively
avoids frame dropping" (the buffer size follows the sensor, with three sizes across the line;
only 512 MB is named, so every model gets 512 MB here). A frame read off the sensor waits in the
buffer until the link has carried it to the host, and the link only carries it while the host
has somewhere to put it (a free slot of the frame ring: a host that does not collect or release
frames stalls the link). When a frame read off the sensor does not fit beside the frames still
waiting, it is lost and counted: ``dropped_frames()``.

In snap mode (one exposure at a time) the buffer never holds more than one frame, so it cannot
overflow; it matters for video mode, where the sensor keeps reading at the frame rate whatever
the host does. The video code calls :meth:`DdrBuffer.offer` when a frame comes off the sensor,
:meth:`DdrBuffer.next_for_link` / :meth:`DdrBuffer.sent` around each transfer
(:mod:`.sim_video`, with :meth:`DdrBuffer.offer_many` for every frame read since it last
looked). Not thread-safe:
the camera calls it under its lock.
"""
from __future__ import annotations

from collections import deque

from .sim_sensor import DDR_BYTES

__all__ = ["DdrBuffer"]


class DdrBuffer:
    """Frames waiting in the camera for the link, by size; counts the frames it had to drop."""

    def __init__(self, capacity_bytes: int = DDR_BYTES) -> None:
        self.capacity = capacity_bytes
        self._frames: deque[tuple[int, int]] = deque()  # (sequence, bytes), oldest first
        self.used = 0
        self.dropped = 0

    def offer(self, seq: int, nbytes: int) -> bool:
        """A frame came off the sensor: keep it (True) or drop it when it does not fit."""
        if self.used + nbytes > self.capacity:
            self.dropped += 1
            return False
        self._frames.append((seq, nbytes))
        self.used += nbytes
        return True

    def offer_many(self, first_seq: int, count: int, nbytes: int) -> int:
        """``count`` frames came off the sensor (sequences from ``first_seq``) while the link
        was not looking: keep those that fit, count the rest dropped; returns how many were
        kept. One call for a long stall (a process starved for minutes at 1000 fps) instead of
        one :meth:`offer` per frame."""
        if count <= 0:
            return 0
        room = (self.capacity - self.used) // nbytes if nbytes > 0 else count
        kept = max(0, min(count, room))
        for i in range(kept):
            self._frames.append((first_seq + i, nbytes))
        self.used += kept * nbytes
        self.dropped += count - kept
        return kept

    def next_for_link(self) -> int | None:
        """The sequence number of the oldest waiting frame (the next to send), or None."""
        return self._frames[0][0] if self._frames else None

    def sent(self) -> None:
        """The oldest frame reached the host: its space is free."""
        _, nbytes = self._frames.popleft()
        self.used -= nbytes

    def clear(self) -> None:
        """Video stopped or settings changed: waiting frames are discarded (not dropped)."""
        self._frames.clear()
        self.used = 0

    def __len__(self) -> int:
        return len(self._frames)

    def frames_that_fit(self, nbytes: int) -> int:
        return self.capacity // nbytes if nbytes > 0 else 0
