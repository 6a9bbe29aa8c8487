"""The driver on the SDK backend under the real indiserver, loading the fake SDK library.

(The whole driver suite of ``test_driver_indiserver.py`` also runs on this backend; here are the
SDK-only checks: that it really is the SDK backend serving, and that each fault injected in the
fake ends in an Alert with a message and a working driver afterwards.)
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from indi_playerone.camera.fake_sdk_build import build_fake_sdk
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

ROOT = Path(__file__).resolve().parents[1]
DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
ARES = "PlayerOne CCD Ares-C PRO"


@pytest.fixture(scope="module")
def fake_lib() -> Path:
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.skip("no C compiler to build the fake SDK")
    return build_fake_sdk(ROOT / "build" / "fake-sdk")


def sdk_server(tmp_path: Path, lib: Path, models: str, **env: str) -> IndiServer:
    server = IndiServer([DRIVER], env={"INDI_PLAYERONE_SDK": str(lib), "FAKE_POA_CAMERAS": models, **env},
                        home=tmp_path / "home")
    server.start()
    return server


def test_the_sdk_backend_serves_the_fake_cameras(tmp_path: Path, fake_lib: Path) -> None:
    with sdk_server(tmp_path, fake_lib, "Ares-C PRO,Ares-C PRO") as server, IndiClient(server.port) as client:
        client.wait_device(ARES, timeout=15)
        client.wait_device(ARES + " 1", timeout=15)
        client.connect_device(ARES, timeout=15)
        deadline = time.monotonic() + 10
        while not (online := [m for m in client.messages(ARES) if "is online" in m]):
            assert time.monotonic() < deadline, client.messages(ARES)
            time.sleep(0.05)
        assert "(serial FAKE" in online[-1]  # the fake's serials, read through the SDK
        client.enable_blobs(ARES)
        assert client.expose(ARES, 0.1, timeout=20).format == ".fits"


@pytest.mark.parametrize("fault", ["timeout=2", "never_ready=2"])
def test_readout_fault_ends_in_alert_then_next_exposure_works(tmp_path: Path, fake_lib: Path, fault: str) -> None:
    """Both attempts (the first and the watchdog's restart) fail; the third exposure is clean."""
    with sdk_server(tmp_path, fake_lib, "Ares-C PRO", FAKE_POA_FAULTS=fault) as server, \
            IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        client.set_number(ARES, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1})
        client.wait_state(ARES, "CCD_EXPOSURE", {"Alert"}, timeout=20)
        assert any("no image" in m for m in client.messages(ARES)), client.messages(ARES)
        assert client.expose(ARES, 0.1, timeout=20).format == ".fits"
        assert client.state(ARES, "CCD_EXPOSURE") == "Ok"


def test_open_error_ends_in_alert_then_connect_works(tmp_path: Path, fake_lib: Path) -> None:
    """The first open is the enumeration's (for the serial), the second the client's connect."""
    with sdk_server(tmp_path, fake_lib, "Ares-C PRO", FAKE_POA_FAULTS="open_error=2") as server, \
            IndiClient(server.port) as client:
        client.wait_device(ARES, timeout=15)
        client.wait_property(ARES, "CONNECTION", timeout=15)
        client.set_switch(ARES, "CONNECTION", ["CONNECT"])
        client.wait_state(ARES, "CONNECTION", {"Alert"}, timeout=15)
        assert any("POAOpenCamera" in m for m in client.messages(ARES)), client.messages(ARES)
        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        assert client.expose(ARES, 0.1, timeout=20).format == ".fits"
