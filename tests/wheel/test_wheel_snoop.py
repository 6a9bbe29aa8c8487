"""The camera's FITS ``FILTER`` keyword from our own wheel: both drivers in one indiserver.

Ekos names the wheel in the camera's ACTIVE_DEVICES (ACTIVE_FILTER); the camera then snoops the
wheel's FILTER_SLOT and FILTER_NAME through indiserver and writes the current slot's name into
every frame (``ccd/snoop.py``). The name is the alias stored in the wheel.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from astropy.io import fits

from harness import IndiClient
from helpers.wheel import CCD_DRIVER, W7, WHEEL_DRIVER, wheel_env

pytestmark = [pytest.mark.indiserver, pytest.mark.generations]

ARES = "PlayerOne CCD Ares-C PRO"


def test_a_frame_taken_on_slot_3_carries_slot_3s_name(indiserver_factory, tmp_path: Path) -> None:
    env = {**wheel_env(tmp_path / "state"), "INDI_PLAYERONE_SIMULATE": "Ares-C PRO"}
    server = indiserver_factory([CCD_DRIVER, WHEEL_DRIVER], env=env)
    with IndiClient(server.port) as client:
        client.connect_device(W7)
        client.wait_state(W7, "FILTER_SLOT", {"Ok"}, timeout=10)
        names = {"FILTER_SLOT_NAME_3": "OIII 3nm", "FILTER_SLOT_NAME_4": "SII 3nm"}
        mark = client._mark()
        client.set_text(W7, "FILTER_NAME", names)
        client.wait_until(W7, "FILTER_NAME", lambda s: s.seq > mark and s.state == "Ok", timeout=5)

        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        client.set_text(ARES, "ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": "", "ACTIVE_ROTATOR": "",
                                                 "ACTIVE_FOCUSER": "", "ACTIVE_FILTER": W7,
                                                 "ACTIVE_SKYQUALITY": ""})
        client.wait_state(ARES, "ACTIVE_DEVICES", {"Ok"}, timeout=5)
        for slot, name in ((3, "OIII 3nm"), (4, "SII 3nm")):
            mark = client._mark()
            client.set_number(W7, "FILTER_SLOT", {"FILTER_SLOT_VALUE": slot})
            client.wait_until(W7, "FILTER_SLOT", lambda s: s.seq > mark and s.state == "Ok"
                              and s.values()["FILTER_SLOT_VALUE"] == slot, timeout=10)
            # No wait for the camera: indiserver queued the wheel's Ok to it before this client
            # got it, so it reads the update before the exposure request.
            with fits.open(io.BytesIO(client.expose(ARES, 0.05, timeout=20).data)) as hdul:
                assert hdul[0].header["FILTER"] == name
