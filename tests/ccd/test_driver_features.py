"""Driver features through a real indiserver and pyindi-client: formats, frame types,
FITS_HEADER, fast exposures, temperature, and a full 61-megapixel Zeus frame."""
from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from tests.harness.client import IndiClient
from helpers.driver_server import ARES, connected_ares, start_server

pytestmark = pytest.mark.indiserver

ZEUS = "PlayerOne CCD Zeus 455M PRO"


@pytest.fixture
def ares(tmp_path: Path):
    with connected_ares(tmp_path) as pair:
        yield pair


def header_of(blob) -> fits.Header:
    with fits.open(io.BytesIO(blob.data)) as hdul:
        return hdul[0].header.copy()


def test_raw8_capture_gives_8_bit_fits(ares) -> None:
    _, client = ares
    client.set_switch(ARES, "CCD_CAPTURE_FORMAT", ["POA_RAW8"])
    client.wait_until(ARES, "CCD_INFO", lambda s: s.values()["CCD_BITSPERPIXEL"] == 8, timeout=5)
    blob = client.expose(ARES, 0.1, timeout=20)
    with fits.open(io.BytesIO(blob.data)) as hdul:
        assert hdul[0].header["BITPIX"] == 8 and "BZERO" not in hdul[0].header
        assert hdul[0].data.dtype == np.uint8 and hdul[0].data.shape == (3008, 3008)


def test_native_transfer_format_sends_raw_pixels(ares) -> None:
    _, client = ares
    client.set_switch(ARES, "CCD_TRANSFER_FORMAT", ["FORMAT_NATIVE"])
    client.wait_state(ARES, "CCD_TRANSFER_FORMAT", {"Ok"}, timeout=5)
    blob = client.expose(ARES, 0.1, timeout=20)
    assert blob.format == ".bin" and len(blob.data) == 3008 * 3008 * 2
    pixels = np.frombuffer(blob.data, dtype="<u2")
    assert pixels.max() > 0 and not np.any(pixels % 4)  # 14-bit data, left-justified


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
def test_frame_types_scope_info_and_custom_keywords(ares) -> None:
    _, client = ares
    client.set_text(ARES, "FITS_HEADER", {"KEYWORD_NAME": "object", "KEYWORD_VALUE": "M 31",
                                          "KEYWORD_COMMENT": "target"})
    client.wait_state(ARES, "FITS_HEADER", {"Ok"}, timeout=5)
    client.set_number(ARES, "SCOPE_INFO", {"FOCAL_LENGTH": 400, "APERTURE": 80})
    client.wait_state(ARES, "SCOPE_INFO", {"Ok"}, timeout=5)
    client.set_switch(ARES, "CCD_FRAME_TYPE", ["FRAME_DARK"])
    client.wait_state(ARES, "CCD_FRAME_TYPE", {"Ok"}, timeout=5)
    h = header_of(client.expose(ARES, 0.1, timeout=20))
    assert h["OBJECT"] == "M 31"
    assert h["FRAME"] == "Dark" and h["IMAGETYP"] == "Dark Frame"
    assert h["FOCALLEN"] == pytest.approx(400) and h["APTDIA"] == pytest.approx(80)

    # A bad keyword is refused and changes nothing; INDI_CLEAR removes the custom ones.
    client.set_text(ARES, "FITS_HEADER", {"KEYWORD_NAME": "BITPIX", "KEYWORD_VALUE": "8",
                                          "KEYWORD_COMMENT": ""})
    client.wait_state(ARES, "FITS_HEADER", {"Alert"}, timeout=5)
    client.set_text(ARES, "FITS_HEADER", {"KEYWORD_NAME": "INDI_CLEAR", "KEYWORD_VALUE": "",
                                          "KEYWORD_COMMENT": ""})
    client.wait_state(ARES, "FITS_HEADER", {"Ok"}, timeout=5)
    client.set_switch(ARES, "CCD_FRAME_TYPE", ["FRAME_BIAS"])
    client.wait_state(ARES, "CCD_FRAME_TYPE", {"Ok"}, timeout=5)
    h = header_of(client.expose(ARES, 1.0, timeout=20))
    assert "OBJECT" not in h
    assert h["FRAME"] == "Bias"
    assert h["EXPTIME"] == pytest.approx(32e-6)  # bias frames use the shortest exposure


def test_fast_exposure_sends_every_frame_from_one_request(ares) -> None:
    _, client = ares
    client.set_switch(ARES, "CCD_FAST_TOGGLE", ["INDI_ENABLED"])
    client.wait_state(ARES, "CCD_FAST_TOGGLE", {"Ok"}, timeout=5)
    client.set_number(ARES, "CCD_FAST_COUNT", {"FRAMES": 3})
    client.wait_state(ARES, "CCD_FAST_COUNT", {"Ok"}, timeout=5)
    client.clear_blobs(ARES)
    client.set_number(ARES, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1})
    blobs = [client.wait_blob(ARES, timeout=20) for _ in range(3)]
    client.wait_state(ARES, "CCD_EXPOSURE", {"Ok"}, timeout=10)
    assert len({bytes(b.data) for b in blobs}) == 3  # three different frames
    assert client.number(ARES, "CCD_FAST_COUNT")["FRAMES"] == 1


def test_temperature_is_reported_and_setpoint_accepted(ares) -> None:
    _, client = ares
    assert client.perm(ARES, "CCD_TEMPERATURE") == "rw"
    current = client.number(ARES, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"]
    assert 15 < current < 25  # the simulator's ambient is 20 C
    client.set_number(ARES, "CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": -10})
    client.wait_state(ARES, "CCD_TEMPERATURE", {"Busy"}, timeout=5)
    # Cooling moves the reading down within a few one-second polls.
    client.wait_until(ARES, "CCD_TEMPERATURE",
                      lambda s: s.values()["CCD_TEMPERATURE_VALUE"] < current - 0.3, timeout=10)
    client.set_number(ARES, "CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": 80})
    client.wait_state(ARES, "CCD_TEMPERATURE", {"Alert"}, timeout=5)


def test_cooler_switch_power_and_ramp(ares) -> None:
    _, client = ares
    start = client.number(ARES, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"]
    # A slope of 1 C/min: the camera is told start-1 C first, so in 5 s the sensor moves
    # far less than the ~2.4 C a free step to -10 C gives with the simulator's 60 s lag.
    client.set_number(ARES, "CCD_TEMP_RAMP", {"RAMP_SLOPE": 1, "RAMP_THRESHOLD": 0.2})
    client.wait_state(ARES, "CCD_TEMP_RAMP", {"Ok"}, timeout=5)
    client.set_number(ARES, "CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": -10})
    client.wait_state(ARES, "CCD_TEMPERATURE", {"Busy"}, timeout=5)
    assert client.switch(ARES, "CCD_COOLER")["COOLER_ON"] is True
    client.wait_until(ARES, "CCD_COOLER_POWER",
                      lambda s: s.state == "Busy" and s.values()["CCD_COOLER_VALUE"] > 0, timeout=5)
    time.sleep(5)
    ramped = start - client.number(ARES, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"]
    assert 0 <= ramped < 1.0

    client.set_switch(ARES, "CCD_COOLER", ["COOLER_OFF"])
    client.wait_state(ARES, "CCD_TEMPERATURE", {"Idle"}, timeout=5)
    client.wait_until(ARES, "CCD_COOLER_POWER", lambda s: s.state == "Idle", timeout=5)

    client.set_number(ARES, "CCD_TEMP_RAMP", {"RAMP_SLOPE": 0, "RAMP_THRESHOLD": 0.2})
    client.wait_until(ARES, "CCD_TEMP_RAMP", lambda s: s.values()["RAMP_SLOPE"] == 0, timeout=5)
    now = client.number(ARES, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"]
    client.set_number(ARES, "CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": -10})
    client.wait_until(ARES, "CCD_TEMPERATURE",
                      lambda s: now - s.values()["CCD_TEMPERATURE_VALUE"] > 1.5, timeout=10)


def test_zeus_61_megapixel_frame_arrives_intact(tmp_path: Path) -> None:
    """The issue's acceptance check: a 9576x6388 frame reaches pyindi-client byte-exact."""
    with start_server(tmp_path, "Zeus 455M PRO") as server, IndiClient(server.port) as client:
        client.connect_device(ZEUS, timeout=15)
        client.enable_blobs(ZEUS)
        client.set_text(ZEUS, "UPLOAD_SETTINGS", {"UPLOAD_DIR": str(tmp_path / "z"),
                                                  "UPLOAD_PREFIX": "ZEUS_XXX"})
        client.wait_state(ZEUS, "UPLOAD_SETTINGS", {"Ok"}, timeout=5)
        client.set_switch(ZEUS, "UPLOAD_MODE", ["UPLOAD_BOTH"])
        client.wait_property(ZEUS, "CCD_FILE_PATH", timeout=5)
        blob = client.expose(ZEUS, 0.2, timeout=60)
        saved = tmp_path / "z" / "ZEUS_001.fits"
        assert blob.data == saved.read_bytes()
        with fits.open(io.BytesIO(blob.data)) as hdul:
            assert hdul[0].data.shape == (6388, 9576)
            assert "BAYERPAT" not in hdul[0].header


def test_compression_sends_rice_fits_fz_astropy_opens(ares, tmp_path: Path) -> None:
    _, client = ares
    client.set_switch(ARES, "CCD_COMPRESSION", ["INDI_ENABLED"])
    client.wait_state(ARES, "CCD_COMPRESSION", {"Ok"}, timeout=5)
    client.set_text(ARES, "UPLOAD_SETTINGS", {"UPLOAD_DIR": str(tmp_path), "UPLOAD_PREFIX": "Z_XXX"})
    client.wait_state(ARES, "UPLOAD_SETTINGS", {"Ok"}, timeout=5)
    client.set_switch(ARES, "UPLOAD_MODE", ["UPLOAD_BOTH"])
    client.wait_property(ARES, "CCD_FILE_PATH", timeout=5)
    blob = client.expose(ARES, 0.1, timeout=30)
    assert blob.format == ".fits.fz"
    saved = tmp_path / "Z_001.fits.fz"
    assert bytes(blob.data) == saved.read_bytes()
    assert len(blob.data) < 3008 * 3008 * 2  # compressed
    with fits.open(saved) as hdul:
        assert isinstance(hdul[1], fits.CompImageHDU) and hdul[1].compression_type == "RICE_1"
        assert hdul[1].data.shape == (3008, 3008) and hdul[1].data.dtype.kind in "ui"
        assert hdul[1].header["INSTRUME"] == ARES and hdul[1].header["BAYERPAT"] == "RGGB"
        assert not np.any(hdul[1].data.astype(np.int64) % 4)  # lossless: 14-bit steps intact
