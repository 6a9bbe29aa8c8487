"""Injected transfer faults, as far as the simulator offers them (issue 8, part 2, partly).

The simulated camera can damage the next transfer the way a bad USB link does: one byte changed
after the CRC was computed, or one 1024-byte bulk packet lost. Through the real camera device
(``PlayerOneCCD``, in process, fed INDI bytes by DriverLoop) each must end with CCD_EXPOSURE
Alert and a message saying what happened, no frame sent to the client, no handler exception, and
the next exposure must deliver a frame. The SDK-level faults of issue 8 part 2 (unplug, frame
never ready, read timeout, every call failing once, 12 V removed) wait for the SDK backend.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from fuzz.indi_target import CCD_NAME, CheckingTransport, FailureLog, ccd_device, make_loop

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


@pytest.mark.parametrize("fault", ["corrupt_next_frame", "short_next_frame"])
def test_damaged_transfer_is_reported_and_the_next_frame_works(tmp_path: Path, fault: str) -> None:
    tr = CheckingTransport()
    with FailureLog() as log:
        dev = ccd_device(tr, tmp_path)
        if not hasattr(dev.camera, "inject_fault"):
            dev.disconnect()
            pytest.skip("this simulator has no transfer faults")
        loop = make_loop(tr, dev)
        try:
            loop.feed(EXPOSE)
            assert wait_done(dev) == "Ok" and tr.blobs == 1      # a healthy frame first
            tr.take()
            dev.camera.inject_fault(fault)
            loop.feed(EXPOSE)
            assert wait_done(dev) == "Alert"
            out = tr.take()
            alerts = [e for e in out if e.get("name") == "CCD_EXPOSURE" and e.get("state") == "Alert"]
            assert alerts and alerts[-1].get("message"), [e.attrib for e in out]
            print(f"\n{fault}: {alerts[-1].get('message')}")
            assert tr.blobs == 1, "a damaged frame was sent to the client"
            loop.feed(EXPOSE)
            assert wait_done(dev) == "Ok" and tr.blobs == 2      # the driver carries on
        finally:
            dev.disconnect()
    assert not log.failures and not tr.bad, (log.failures, tr.bad)
