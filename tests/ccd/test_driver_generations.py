"""Connect and an exposure of every frame type, under the indiserver of each INDI generation.

The rest of the generation subset (BLOB paths, streaming and recording, snooping, configuration,
hot-plug, guiding, controls, the property set, FITS_HEADER dialects) lives with the tests of each
feature, marked ``generations``; docs/indi-generations.md lists it.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from tests.harness.client import IndiClient
from tests.harness.generations import Generation
from tests.harness.server import IndiServer

pytestmark = [pytest.mark.indiserver, pytest.mark.generations]

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
CAMERA = "PlayerOne CCD Uranus-C PRO"

FRAME_TYPES = {"FRAME_LIGHT": ("Light", "Light Frame"), "FRAME_BIAS": ("Bias", "Bias Frame"),
               "FRAME_DARK": ("Dark", "Dark Frame"), "FRAME_FLAT": ("Flat", "Flat Frame")}


def test_connect_and_expose_every_frame_type(tmp_path: Path, indi_generation: Generation) -> None:
    with IndiServer([DRIVER], env={"INDI_PLAYERONE_SIMULATE": "Uranus-C PRO"}, home=tmp_path / "home") as server, \
            IndiClient(server.port) as client:
        assert server.generation.name == indi_generation.name
        client.connect_device(CAMERA, timeout=15)
        client.enable_blobs(CAMERA)
        info = client.number(CAMERA, "CCD_INFO")
        shape = (int(info["CCD_MAX_Y"]), int(info["CCD_MAX_X"]))
        exptime: dict[str, float] = {}
        for switch, (frame, imagetyp) in FRAME_TYPES.items():
            client.set_switch(CAMERA, "CCD_FRAME_TYPE", [switch])
            client.wait_state(CAMERA, "CCD_FRAME_TYPE", {"Ok"}, timeout=5)
            blob = client.expose(CAMERA, 0.05, timeout=30)
            assert blob.format == ".fits" and client.state(CAMERA, "CCD_EXPOSURE") == "Ok"
            with fits.open(io.BytesIO(blob.data)) as hdul:
                h, data = hdul[0].header, hdul[0].data
                assert data.shape == shape
                assert (h["FRAME"], h["IMAGETYP"]) == (frame, imagetyp)
                assert h["INSTRUME"] == CAMERA
                exptime[frame] = h["EXPTIME"]
                assert int(np.max(data)) > 0
        # libindi: a bias is taken at the camera's shortest exposure, the others as asked.
        assert exptime["Bias"] < 0.05 and exptime["Light"] == exptime["Dark"] == exptime["Flat"] == pytest.approx(0.05)
        assert "ERROR" not in server.log_text()
