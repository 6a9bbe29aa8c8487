"""The driver under Debian's real indiserver, driven by the real C++ client library (pyindi-client).

Each test starts its own indiserver with `indi_playerone_ccd` serving simulated cameras.
What a client receives is checked with astropy and, where the driver also saved the
image locally (UPLOAD_BOTH), byte for byte against that file: the shared-memory and
the inline BLOB paths must deliver exactly what the driver wrote.
"""
from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from helpers.driver_server import ARES, connected_ares, start_server
from tests.harness.client import IndiClient

pytestmark = pytest.mark.indiserver


@pytest.fixture
def ares(tmp_path: Path):
    """indiserver + driver with one simulated Ares-C PRO, and a connected pyindi-client."""
    with connected_ares(tmp_path) as pair:
        yield pair


def open_fits(data: bytes) -> fits.HDUList:
    return fits.open(io.BytesIO(data))


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
def test_exposure_arrives_as_fits_with_headers(ares) -> None:
    _, client = ares
    blob = client.expose(ARES, 0.5, timeout=20)
    assert blob.format == ".fits"
    with open_fits(blob.data) as hdul:
        hdu = hdul[0]
        assert hdu.data.shape == (3008, 3008)
        assert hdu.header["BITPIX"] == 16 and hdu.header["BZERO"] == 32768
        h = hdu.header
        assert h["INSTRUME"] == ARES
        assert h["EXPTIME"] == pytest.approx(0.5)
        assert h["ROWORDER"] == "TOP-DOWN"
        assert h["PIXSIZE1"] == pytest.approx(3.76) and h["XBINNING"] == 1
        assert h["FRAME"] == "Light" and h["IMAGETYP"] == "Light Frame"
        assert h["BAYERPAT"] == "RGGB" and h["XBAYROFF"] == 0 and h["YBAYROFF"] == 0
        assert "DATE-OBS" in h and "GAIN" in h and "OFFSET" in h and "CCD-TEMP" in h
        # 14-bit ADC left-justified into 16 bits: every value is a multiple of 4.
        assert int(np.max(hdu.data)) > 0 and not np.any(hdu.data.astype(np.int64) % 4)
    assert client.state(ARES, "CCD_EXPOSURE") == "Ok"
    assert client.number(ARES, "CCD_EXPOSURE")["CCD_EXPOSURE_VALUE"] == 0


def test_abort_mid_exposure_then_next_exposure_works(ares) -> None:
    _, client = ares
    client.set_number(ARES, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 20})
    client.wait_state(ARES, "CCD_EXPOSURE", {"Busy"}, timeout=5)
    started = time.monotonic()
    client.abort(ARES)
    client.wait_state(ARES, "CCD_EXPOSURE", {"Idle"}, timeout=5)
    assert time.monotonic() - started < 3
    assert client.state(ARES, "CCD_ABORT_EXPOSURE") == "Ok"
    blob = client.expose(ARES, 0.2, timeout=20)
    with open_fits(blob.data) as hdul:
        assert hdul[0].data.shape == (3008, 3008)


def test_binning_and_subframe_change_the_shape(ares) -> None:
    _, client = ares
    client.set_number(ARES, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2})
    client.wait_state(ARES, "CCD_BINNING", {"Ok"}, timeout=5)
    with open_fits(client.expose(ARES, 0.1, timeout=20).data) as hdul:
        assert hdul[0].data.shape == (1504, 1504)
        assert hdul[0].header["XBINNING"] == 2
        assert hdul[0].header["XPIXSZ"] == pytest.approx(7.52)

    client.set_number(ARES, "CCD_BINNING", {"HOR_BIN": 1, "VER_BIN": 1})
    client.wait_state(ARES, "CCD_BINNING", {"Ok"}, timeout=5)
    # Width 1002 is rounded down to a multiple of 4, as the SDK does; the driver says so.
    client.set_number(ARES, "CCD_FRAME", {"X": 100, "Y": 200, "WIDTH": 1002, "HEIGHT": 801})
    frame = client.wait_until(ARES, "CCD_FRAME", lambda s: s.values()["WIDTH"] != 3008,
                              timeout=5).values()
    assert (frame["X"], frame["Y"], frame["WIDTH"], frame["HEIGHT"]) == (100, 200, 1000, 800)
    with open_fits(client.expose(ARES, 0.1, timeout=20).data) as hdul:
        assert hdul[0].data.shape == (800, 1000)

    client.set_switch(ARES, "CCD_FRAME_RESET", ["RESET"])
    client.wait_until(ARES, "CCD_FRAME", lambda s: s.values()["WIDTH"] == 3008, timeout=5)
    with open_fits(client.expose(ARES, 0.1, timeout=20).data) as hdul:
        assert hdul[0].data.shape == (3008, 3008)


def test_invalid_requests_get_alert_and_keep_values(ares) -> None:
    _, client = ares
    # Out of range (the camera's longest exposure is 2000 s).
    client.set_number(ARES, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 5000})
    client.wait_state(ARES, "CCD_EXPOSURE", {"Alert"}, timeout=5)
    # Binning the camera cannot do.
    client.set_number(ARES, "CCD_BINNING", {"HOR_BIN": 3.5, "VER_BIN": 3.5})
    client.wait_state(ARES, "CCD_BINNING", {"Alert"}, timeout=5)
    assert client.number(ARES, "CCD_BINNING")["HOR_BIN"] == 1
    # A frame larger than the sensor.
    client.set_number(ARES, "CCD_FRAME", {"X": 2000, "Y": 0, "WIDTH": 2000, "HEIGHT": 100})
    client.wait_state(ARES, "CCD_FRAME", {"Alert"}, timeout=5)
    assert client.number(ARES, "CCD_FRAME")["WIDTH"] == 3008
    # A hostile upload prefix.
    client.set_text(ARES, "UPLOAD_SETTINGS", {"UPLOAD_DIR": "/tmp", "UPLOAD_PREFIX": "../../etc/evil"})
    client.wait_state(ARES, "UPLOAD_SETTINGS", {"Alert"}, timeout=5)
    assert client.text(ARES, "UPLOAD_SETTINGS")["UPLOAD_PREFIX"] == "IMAGE_XXX"
    # The driver still works.
    with open_fits(client.expose(ARES, 0.1, timeout=20).data) as hdul:
        assert hdul[0].data.shape == (3008, 3008)


def _upload_both(client: IndiClient, directory: Path, prefix: str) -> None:
    client.set_text(ARES, "UPLOAD_SETTINGS", {"UPLOAD_DIR": str(directory), "UPLOAD_PREFIX": prefix})
    client.wait_state(ARES, "UPLOAD_SETTINGS", {"Ok"}, timeout=5)
    client.set_switch(ARES, "UPLOAD_MODE", ["UPLOAD_BOTH"])
    client.wait_property(ARES, "CCD_FILE_PATH", timeout=5)


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
@pytest.mark.parametrize("blob_mode", ["attached", "inline"])
def test_blob_paths_deliver_exactly_the_saved_file(tmp_path: Path, blob_mode: str) -> None:
    with start_server(tmp_path, "Ares-C PRO", blob_mode) as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        _upload_both(client, tmp_path / "images", "BOTH_XXX")
        blob = client.expose(ARES, 0.2, timeout=30)
        path = client.wait_until(ARES, "CCD_FILE_PATH",
                                 lambda s: s.values()["FILE_PATH"].endswith(".fits"), timeout=5)
        saved = Path(path.values()["FILE_PATH"])
        assert saved.parent == tmp_path / "images" and saved.name == "BOTH_001.fits"
        assert blob.data == saved.read_bytes()
        # The driver says at start which path it uses; indiserver logs the driver's stderr.
        assert f"images are sent as {blob_mode} BLOBs" in server.log_text()


def test_local_upload_writes_files_and_never_overwrites(ares, tmp_path: Path) -> None:
    _, client = ares
    directory = tmp_path / "local"
    directory.mkdir()
    (directory / "L_001.fits").write_bytes(b"precious")
    client.set_text(ARES, "UPLOAD_SETTINGS", {"UPLOAD_DIR": str(directory), "UPLOAD_PREFIX": "L_XXX"})
    client.wait_state(ARES, "UPLOAD_SETTINGS", {"Ok"}, timeout=5)
    client.set_switch(ARES, "UPLOAD_MODE", ["UPLOAD_LOCAL"])
    client.wait_property(ARES, "CCD_FILE_PATH", timeout=5)
    for expected in ("L_002.fits", "L_003.fits"):
        client.set_number(ARES, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1})
        client.wait_until(ARES, "CCD_FILE_PATH",
                          lambda s, e=expected: s.values()["FILE_PATH"].endswith(e), timeout=20)
        client.wait_state(ARES, "CCD_EXPOSURE", {"Ok"}, timeout=10)
    assert (directory / "L_001.fits").read_bytes() == b"precious"
    with fits.open(directory / "L_003.fits") as hdul:
        assert hdul[0].data.shape == (3008, 3008)
    assert not [p for p in os.listdir(directory) if "tmp" in p]


def test_two_cameras_of_one_model_are_named_like_the_cpp_driver(tmp_path: Path) -> None:
    with start_server(tmp_path, "Ares-C PRO, Ares-C PRO,Uranus-M PRO") as server, \
            IndiClient(server.port) as client:
        for name in (ARES, ARES + " 1", "PlayerOne CCD Uranus-M PRO"):
            client.wait_device(name, timeout=15)
        client.connect_device(ARES + " 1", timeout=15)
        client.enable_blobs(ARES + " 1")
        with open_fits(client.expose(ARES + " 1", 0.1, timeout=20).data) as hdul:
            assert hdul[0].header["INSTRUME"] == ARES + " 1"
        assert client.text(ARES, "DRIVER_INFO")["DRIVER_EXEC"] == "indi_playerone_ccd"


def test_indi_getprop_lists_the_properties(ares) -> None:
    server, _ = ares
    props = server.getprop(f"{ARES}.*.*", timeout=3)
    for key in ("CONNECTION.CONNECT", "DRIVER_INFO.DRIVER_EXEC", "CCD_EXPOSURE.CCD_EXPOSURE_VALUE",
                "CCD_INFO.CCD_MAX_X", "CCD_FRAME.WIDTH", "CCD_BINNING.HOR_BIN", "CCD_CFA.CFA_TYPE",
                "UPLOAD_SETTINGS.UPLOAD_PREFIX", "CCD_TEMPERATURE.CCD_TEMPERATURE_VALUE"):
        assert f"{ARES}.{key}" in props, key
    assert props[f"{ARES}.CCD_INFO.CCD_MAX_X"] == "3008"
    assert props[f"{ARES}.DRIVER_INFO.DRIVER_EXEC"] == "indi_playerone_ccd"
