"""How many threads are inside C calls on one C object, so it is freed only once they left.

The frame ring (`ring.FrameRing`) and an SDK camera's C object (``camera/sdk_binding.py``) are
freed by one thread while others may be inside a call on them (a frame wait, an SDK call the
reader serialises): the call is counted while it runs, and the freeing waits until none is left.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Optional, TypeVar

__all__ = ["BusyCount"]

T = TypeVar("T")


class BusyCount:
    """The calls in progress on one C object, under ``cond`` (the owner's condition, which may
    guard more of its state)."""

    def __init__(self, cond: Optional[threading.Condition] = None) -> None:
        self.cond = cond if cond is not None else threading.Condition()
        self.count = 0

    @contextlib.contextmanager
    def use(self, take: Callable[[], T], after: Optional[Callable[[], None]] = None) -> Iterator[T]:
        """``take()``'s object (taken under the condition: it raises when the object is gone),
        counted as in use until the block ends; then ``after()``, still under the condition."""
        with self.cond:
            obj = take()
            self.count += 1
        try:
            yield obj
        finally:
            with self.cond:
                self.count -= 1
                self.cond.notify_all()
                if after is not None:
                    after()

    def wait_idle(self) -> None:
        """Until no call is in progress (the condition held)."""
        self.cond.wait_for(lambda: self.count == 0)
