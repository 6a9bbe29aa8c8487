"""The driver on the SDK backend under the real indiserver, loading the simulated SDK library.

(The whole driver suite runs on this one path; here are the SDK-only checks: that the cameras
really come through the SDK backend, and that each fault injected in the library ends in an
Alert with a message and a working driver afterwards.)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from helpers import simsdk
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
ARES = "PlayerOne CCD Ares-C PRO"


def sdk_server(tmp_path: Path, models: str, options: str = "") -> IndiServer:
    """The driver with simulated cameras ``models``, ``INDI_PLAYERONE_SIM_OPTIONS`` ``options``
    (faults there are armed at every open) and a fault file (``tmp_path / "faults"``)."""
    fault_file = tmp_path / "faults"
    fault_file.write_text("")
    server = IndiServer([DRIVER], env=simsdk.env(models, INDI_PLAYERONE_SIM_FAULT_FILE=str(fault_file),
                                                 INDI_PLAYERONE_SIM_OPTIONS=options),
                        home=tmp_path / "home")
    server.start()
    return server


def test_the_sdk_backend_serves_the_simulated_cameras(tmp_path: Path) -> None:
    with sdk_server(tmp_path, "Ares-C PRO,Ares-C PRO") as server, IndiClient(server.port) as client:
        client.wait_device(ARES, timeout=15)
        client.wait_device(ARES + " 1", timeout=15)
        client.connect_device(ARES, timeout=15)
        deadline = time.monotonic() + 10
        while not (online := [m for m in client.messages(ARES) if "is online" in m]):
            assert time.monotonic() < deadline, client.messages(ARES)
            time.sleep(0.05)
        # The simulated camera's serial, read through the SDK (POAGetCameraProperties while open).
        assert "(serial SIM-ARES-C-PRO-0001)" in online[-1], online[-1]
        client.enable_blobs(ARES)
        assert client.expose(ARES, 0.1, timeout=20).format == ".fits"


@pytest.mark.parametrize("fault", ["timeout=2", "never_ready=2"])
def test_readout_fault_ends_in_alert_then_next_exposure_works(tmp_path: Path, fault: str) -> None:
    """Both attempts (the first and the second) fail; the next exposure is clean. With the USB
    reset off (CCD_USB_RESET): on, the camera would be reset and tried a third time
    (tests/ccd/test_driver_field_failures.py)."""
    with sdk_server(tmp_path, "Ares-C PRO") as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        client.set_switch(ARES, "CCD_USB_RESET", ["INDI_DISABLED"])
        client.wait_until(ARES, "CCD_USB_RESET", lambda s: s.values()["INDI_DISABLED"], timeout=10)
        with (tmp_path / "faults").open("a") as f:
            f.write(fault + "\n")
        time.sleep(0.2)  # the library looks at the file at most every 50 ms
        client.set_number(ARES, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1})
        client.wait_state(ARES, "CCD_EXPOSURE", {"Alert"}, timeout=20)
        assert any("no image" in m for m in client.messages(ARES)), client.messages(ARES)
        assert client.expose(ARES, 0.1, timeout=20).format == ".fits"
        assert client.state(ARES, "CCD_EXPOSURE") == "Ok"


def test_open_error_ends_in_alert_then_connect_works(tmp_path: Path) -> None:
    """The first open is the enumeration's (for the serial), the second the client's connect
    (``open_error=2`` in the options: the first two opens of the process fail)."""
    with sdk_server(tmp_path, "Ares-C PRO", "open_error=2") as server, IndiClient(server.port) as client:
        client.wait_device(ARES, timeout=15)
        client.wait_property(ARES, "CONNECTION", timeout=15)
        client.set_switch(ARES, "CONNECTION", ["CONNECT"])
        client.wait_state(ARES, "CONNECTION", {"Alert"}, timeout=15)
        assert any("POAOpenCamera" in m for m in client.messages(ARES)), client.messages(ARES)
        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        assert client.expose(ARES, 0.1, timeout=20).format == ".fits"
