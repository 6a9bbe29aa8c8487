"""An INDI client for camera scripts: the demo and the command-line tools.

:class:`~indi_playerone.indi.client.SimpleIndiClient` speaks the protocol and knows nothing
of cameras; this adds what a camera script does with a CCD device (connect and wait for its
camera properties, take one exposure in libindi's order), with the property names of the
driver's own ``ccd/names.py``.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from ..ccd import names as P
from ..indi.client import IndiError, ReceivedBlob, SimpleIndiClient

__all__ = ["CameraClient", "IndiError", "ReceivedBlob"]


class CameraClient(SimpleIndiClient):
    def connect_device(self, device: str, timeout: float = 15.0,
                       ready: str | None = P.CCD_EXPOSURE.name) -> None:
        """CONNECTION on, and wait until the camera's CCD_EXPOSURE is defined too."""
        super().connect_device(device, timeout, ready)

    def expose(self, device: str, seconds: float, timeout: float,
               progress: Callable[[float], None] | None = None,
               cancel: threading.Event | None = None) -> ReceivedBlob:
        """One exposure in libindi's order: wait for the BLOB and for CCD_EXPOSURE Ok.

        Only BLOBs of `device` count, so another camera's image on the same server is never
        taken for this one. ``cancel`` (set by a SIGINT handler, say) makes the wait raise
        KeyboardInterrupt within 0.5 s at a safe point: a KeyboardInterrupt raised by the
        signal itself inside ``Condition.wait`` can leave the condition's lock held, and the
        reader thread and the abort that follows then wait for it forever (seen once in CI as
        a capture that ignored Ctrl-C).
        """
        # A device that was connected before this client came may still be defining its
        # properties to us: wait for CCD_EXPOSURE before using it.
        self.prop(device, P.CCD_EXPOSURE.name, timeout=min(timeout, 15.0))
        with self.condition:
            first_blob = len(self.blobs)
        self.set_number(device, P.CCD_EXPOSURE.name, {"CCD_EXPOSURE_VALUE": seconds})
        deadline = time.monotonic() + timeout
        exposure = (device, P.CCD_EXPOSURE.name)

        def ours() -> list[ReceivedBlob]:
            return [b for b in self.blobs[first_blob:] if b.device == device]

        with self.condition:
            # Wait for Busy first so a stale Ok from the previous frame does not count.
            while self.props[exposure].state not in ("Busy", "Alert") and not ours():
                if self.closed:
                    raise IndiError("the server closed the connection")
                if cancel is not None and cancel.is_set():
                    raise KeyboardInterrupt
                if (not self.condition.wait(max(0.0, min(deadline - time.monotonic(), 0.5)))
                        and time.monotonic() > deadline):
                    raise IndiError("the exposure did not start")
            while True:
                if cancel is not None and cancel.is_set():
                    raise KeyboardInterrupt
                state = self.props[exposure].state
                if state == "Alert":
                    raise IndiError(f"exposure failed: {self.props[exposure].message}")
                if ours() and state == "Ok":
                    return ours()[0]
                if progress is not None and state == "Busy":
                    progress(float(self.props[exposure].values.get("CCD_EXPOSURE_VALUE", 0.0)))
                left = deadline - time.monotonic()
                if self.closed:
                    raise IndiError("the server closed the connection during the exposure")
                if left <= 0:
                    raise IndiError(f"no image within {timeout:g} s")
                self.condition.wait(min(left, 0.5))
