"""Injected transfer faults through the real camera device, in process (issue 8, part 2).

The simulated camera (the simulated SDK library behind the SDK backend) loses the next frame's
transfer part way (``short_next_frame``): through the real camera device (``PlayerOneCCD``,
in process, fed INDI bytes by DriverLoop) it must end with CCD_EXPOSURE Alert and a message
saying what happened, no frame sent to the client, no handler exception, and the next exposure
must deliver a frame. A transfer damaged where no SDK can see it (``corrupt_next_frame``) is
in ``test_reliability_injected.py``; unplug, frame never ready, read timeout, every call
failing once and 12 V removed are there too, through indiserver.
"""
from __future__ import annotations

import time
from pathlib import Path

from fuzz.indi_target import CCD_NAME, CheckingTransport, FailureLog, ccd_device, make_loop
from helpers.simsdk import SimControl

EXPOSE = (f"<newNumberVector device='{CCD_NAME}' name='CCD_EXPOSURE'><oneNumber name='CCD_EXPOSURE_VALUE'>"
          "0.01</oneNumber></newNumberVector>").encode()


def wait_done(dev, timeout: float = 20) -> str:
    """Wait until CCD_EXPOSURE leaves Busy; returns its state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = dev.exposure.worker
        with dev.lock:
            state = dev.get("CCD_EXPOSURE").state.value
        if state != "Busy" and (worker is None or not worker.busy):
            return state
        time.sleep(0.01)
    raise TimeoutError("exposure still busy")


def test_short_transfer_is_reported_and_the_next_frame_works(tmp_path: Path) -> None:
    tr = CheckingTransport()
    with FailureLog() as log:
        dev = ccd_device(tr, tmp_path)
        loop = make_loop(tr, dev)
        try:
            loop.feed(EXPOSE)
            assert wait_done(dev) == "Ok" and tr.blobs == 1      # a healthy frame first
            tr.take()
            SimControl().fault(dev.camera.props.camera_id, "short_next_frame", 1)
            loop.feed(EXPOSE)
            assert wait_done(dev) == "Alert"
            out = tr.take()
            alerts = [e for e in out if e.get("name") == "CCD_EXPOSURE" and e.get("state") == "Alert"]
            assert alerts and alerts[-1].get("message"), [e.attrib for e in out]
            print(f"\nshort_next_frame: {alerts[-1].get('message')}")
            assert tr.blobs == 1, "a damaged frame was sent to the client"
            loop.feed(EXPOSE)
            assert wait_done(dev) == "Ok" and tr.blobs == 2      # the driver carries on
        finally:
            dev.disconnect()
    assert not log.failures and not tr.bad, (log.failures, tr.bad)
