"""The SDK's dead pixel suppression as a switch (DEAD_PIXEL_SUPPRESSION), under a real indiserver
with the simulated SDK: ``POASetEnableDPS`` (``PlayerOneCamera.h`` of SDK 3.7.0), on after the
camera opens, as the vendor's ``POAInitCamera`` leaves it.

Checked end to end: the switch shows the SDK's setting (Suppress, Idle) after connect; Keep
brings back the hot pixels the camera's table corrects in the next frame (counted in the FITS
data: dark, warm, high gain) and Suppress hides them again; the choice is saved and applied at
the next connect; it is refused while exposing. A library without the function (the simulated
SDK built without it, as an older SDK) gives no switch, and the camera works.
"""
from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

import pytest
from astropy.io import fits

from helpers import simsdk
from helpers.pixels import hot_pixels as pixels_above
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Apollo-M MAX PRO"
DEVICE = f"PlayerOne CCD {MODEL}"
DPS = "DEAD_PIXEL_SUPPRESSION"


def serve(tmp: Path, **env: str) -> IndiServer:
    return IndiServer([DRIVER], env=simsdk.env(MODEL, INDI_PLAYERONE_HOTPLUG_S="0",
                                               INDI_PLAYERONE_SIM_OPTIONS="stars=0,ambient=30", **env),
                      home=tmp / "home", workdir=tmp)


def hot_pixels(client: IndiClient) -> int:
    """Pixels 20 robust sigmas above the median of a dark 0.5 s frame."""
    blob = client.expose(DEVICE, 0.5, timeout=30)
    with fits.open(io.BytesIO(blob.data)) as hdul:
        return len(pixels_above(hdul[0].data, sigmas=20))


def choose(client: IndiClient, element: str) -> None:
    client.set_switch(DEVICE, DPS, [element])
    client.wait_until(DEVICE, DPS, lambda s: s.state == "Ok" and s.values()[element], timeout=10)


def test_the_switch_follows_the_camera_and_is_kept(tmp_path: Path) -> None:
    with serve(tmp_path) as server, IndiClient(server.port) as client:
        client.connect_device(DEVICE, timeout=20)
        client.wait_property(DEVICE, DPS, timeout=10)
        assert client.switch(DEVICE, DPS) == {"INDI_ENABLED": True, "INDI_DISABLED": False}
        assert client.state(DEVICE, DPS) == "Idle" and client.rule(DEVICE, DPS) == "OneOfMany"
        client.enable_blobs(DEVICE)
        client.set_number(DEVICE, "CCD_CONTROLS", {"Gain": 400}, partial=True)
        client.wait_state(DEVICE, "CCD_CONTROLS", {"Ok"}, timeout=10)
        suppressed = hot_pixels(client)
        choose(client, "INDI_DISABLED")
        kept = hot_pixels(client)
        choose(client, "INDI_ENABLED")
        again = hot_pixels(client)
        assert kept >= suppressed + 5 and abs(again - suppressed) <= 3, (suppressed, kept, again)

        # Refused while exposing: enabling it reads the camera's table from its flash.
        exposing = threading.Thread(target=client.expose, args=(DEVICE, 2.0), kwargs={"timeout": 30})
        exposing.start()
        client.wait_state(DEVICE, "CCD_EXPOSURE", {"Busy"}, timeout=10)
        client.set_switch(DEVICE, DPS, ["INDI_DISABLED"])
        client.wait_state(DEVICE, DPS, {"Alert"}, timeout=10)
        assert client.switch(DEVICE, DPS)["INDI_ENABLED"]
        exposing.join(30)

        choose(client, "INDI_DISABLED")
        client.set_switch(DEVICE, "CONFIG_PROCESS", ["CONFIG_SAVE"])
        client.wait_state(DEVICE, "CONFIG_PROCESS", {"Ok"}, timeout=10)
        client.set_switch(DEVICE, "CONNECTION", ["DISCONNECT"])
        client.wait_until(DEVICE, "CONNECTION", lambda s: s.values()["DISCONNECT"], timeout=20)
        client.connect_device(DEVICE, timeout=20)
        # The saved choice is applied at connect (so it is the camera's, state Ok).
        client.wait_until(DEVICE, DPS, lambda s: s.state == "Ok" and s.values()["INDI_DISABLED"],
                          timeout=10)


def test_no_switch_where_the_library_lacks_the_function(tmp_path: Path) -> None:
    library = simsdk.build(tmp_path / "old-sdk", extra_cflags=["-DSIM_WITHOUT_DPS"])
    with serve(tmp_path, INDI_PLAYERONE_SIM_SDK=str(library)) as server, \
            IndiClient(server.port) as client:
        client.connect_device(DEVICE, timeout=20)
        client.wait_property(DEVICE, "CCD_CONTROLS", timeout=10)
        client.wait_quiet(DEVICE)
        assert DPS not in client.property_names(DEVICE)
        client.enable_blobs(DEVICE)
        assert len(client.expose(DEVICE, 0.05, timeout=20).data) > 0
