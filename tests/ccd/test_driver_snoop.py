"""Snooped FITS keywords under one real indiserver with Debian's telescope, focuser and
filter-wheel simulators beside our driver."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from astropy.io import fits

from tests.harness.client import IndiClient
from tests.harness.server import IndiServer
from helpers.driver_server import ARES, DRIVER

pytestmark = pytest.mark.indiserver

MOUNT, FOCUSER, WHEEL = "Telescope Simulator", "Focuser Simulator", "Filter Simulator"


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
def test_mount_focuser_and_wheel_keywords(tmp_path: Path) -> None:
    drivers = [DRIVER, "indi_simulator_telescope", "indi_simulator_focus", "indi_simulator_wheel"]
    with IndiServer(drivers, env={"INDI_PLAYERONE_SIMULATE": "Ares-C PRO"},
                    home=tmp_path / "home") as server, IndiClient(server.port) as client:
        for device in (MOUNT, FOCUSER, WHEEL):
            client.connect_device(device, timeout=20)
        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        client.set_text(ARES, "ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": MOUNT, "ACTIVE_FOCUSER": FOCUSER,
                                                 "ACTIVE_FILTER": WHEEL, "ACTIVE_ROTATOR": "",
                                                 "ACTIVE_SKYQUALITY": ""})
        client.wait_state(ARES, "ACTIVE_DEVICES", {"Ok"}, timeout=5)
        client.set_number(WHEEL, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 2})
        client.wait_until(WHEEL, "FILTER_SLOT", lambda s: s.values()["FILTER_SLOT_VALUE"] == 2
                          and s.state == "Ok", timeout=20)
        slot2 = client.text(WHEEL, "FILTER_NAME")["FILTER_SLOT_NAME_2"]
        # The simulator starts parked at the pole, where RA means nothing: unpark and sync it
        # to RA 5.5 h, DEC +20 (JNow).
        if "TELESCOPE_PARK" in client.property_names(MOUNT):
            client.set_switch(MOUNT, "TELESCOPE_PARK", ["UNPARK"])
            client.wait_until(MOUNT, "TELESCOPE_PARK", lambda s: s.values()["UNPARK"], timeout=10)
        client.set_switch(MOUNT, "ON_COORD_SET", ["SYNC"])
        client.wait_until(MOUNT, "ON_COORD_SET", lambda s: s.values()["SYNC"], timeout=10)
        client.set_number(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": 5.5, "DEC": 20})
        mount = client.wait_until(MOUNT, "EQUATORIAL_EOD_COORD",
                                  lambda s: abs(s.values()["DEC"] - 20) < 0.01, timeout=10).values()
        focus = client.number(FOCUSER, "ABS_FOCUS_POSITION")["FOCUS_ABSOLUTE_POSITION"]
        client.wait_quiet(ARES, quiet=0.5, timeout=10)

        with fits.open(io.BytesIO(client.expose(ARES, 0.1, timeout=20).data)) as hdul:
            h = hdul[0].header
        assert h["FILTER"] == slot2
        assert h["FOCUSPOS"] == int(focus)
        for key in ("OBJCTRA", "OBJCTDEC", "RA", "DEC", "EQUINOX", "SITELAT", "SITELONG"):
            assert key in h, key
        # J2000 from JNow: within half a degree (precession since 2000 is ~0.3 deg).
        assert abs(h["RA"] - mount["RA"] * 15) < 0.5 or abs(abs(h["RA"] - mount["RA"] * 15) - 360) < 0.5
        assert abs(h["DEC"] - mount["DEC"]) < 0.5
        assert h["EQUINOX"] == 2000
        assert "CRVAL1" not in h  # WCS is off by default

        # WCS: a tangent-plane solution at the mount position, scale from the focal length.
        client.set_number(ARES, "SCOPE_INFO", {"FOCAL_LENGTH": 500, "APERTURE": 100})
        client.wait_state(ARES, "SCOPE_INFO", {"Ok"}, timeout=5)
        client.set_switch(ARES, "WCS_CONTROL", ["WCS_ENABLE"])
        client.wait_property(ARES, "CCD_ROTATION", timeout=5)
        client.set_number(ARES, "CCD_ROTATION", {"CCD_ROTATION_VALUE": 30})
        client.wait_state(ARES, "CCD_ROTATION", {"Ok"}, timeout=5)
        with fits.open(io.BytesIO(client.expose(ARES, 0.1, timeout=20).data)) as hdul:
            h = hdul[0].header
        assert h["CTYPE1"] == "RA---TAN" and h["CROTA2"] == pytest.approx(30)
        assert h["CRVAL1"] == pytest.approx(h["RA"]) and h["CRPIX1"] == pytest.approx(1504.5)
        assert h["CDELT1"] * 3600 == pytest.approx(3.76 / 500 * 206.3, rel=1e-4)
        from astropy.wcs import WCS
        center = WCS(h).pixel_to_world(1503.5, 1503.5)  # 0-based centre pixel
        assert center.ra.deg == pytest.approx(h["RA"], abs=1e-6)

        # Mount coordinates go on light frames only (libindi).
        client.set_switch(ARES, "CCD_FRAME_TYPE", ["FRAME_DARK"])
        client.wait_state(ARES, "CCD_FRAME_TYPE", {"Ok"}, timeout=5)
        with fits.open(io.BytesIO(client.expose(ARES, 0.1, timeout=20).data)) as hdul:
            h = hdul[0].header
        assert "OBJCTRA" not in h and h["FILTER"] == slot2
