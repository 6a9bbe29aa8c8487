"""What KStars/Ekos, PHD2, indi-allsky and the INDI Alpaca bridge look for on a camera, checked
on our driver as a real client sees it (docs/client-expectations.md has each rule and its source).

Each client finds properties and elements its own way: by name, by index, by label, by the first
number element anywhere whose name or label is "gain".  These tests apply those same rules to the
vectors our driver defines, under both indiserver generations, so a renamed element, a reordered
vector or an earlier "Gain" label that would break one of them fails here.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from astropy.io import fits

from tests.harness.client import IndiClient
from tests.harness.server import IndiServer
from tests.harness.snapshots import PropertySnapshot

pytestmark = [pytest.mark.indiserver, pytest.mark.generations]

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Uranus-C PRO"
CAMERA = f"PlayerOne CCD {MODEL}"


@pytest.fixture
def seen(tmp_path: Path):
    """A connected colour camera with an ST4 port, local upload on: every vector a client meets."""
    env = {"INDI_PLAYERONE_SIMULATE": MODEL, "INDI_PLAYERONE_SIM_OPTIONS": "st4"}
    with IndiServer([DRIVER], env=env, home=tmp_path / "home") as server, IndiClient(server.port) as client:
        client.connect_device(CAMERA, timeout=15)
        client.enable_blobs(CAMERA)
        client.set_switch(CAMERA, "UPLOAD_MODE", ["UPLOAD_BOTH"])
        client.wait_property(CAMERA, "CCD_FILE_PATH", timeout=5)
        client.wait_property(CAMERA, "TELESCOPE_TIMED_GUIDE_NS", timeout=5)
        names = client.wait_quiet(CAMERA, quiet=0.3, timeout=10)
        yield client, {n: client.describe(CAMERA, n) for n in names}


def names_of(snap: PropertySnapshot) -> list[str]:
    return [e.name for e in snap.elements]


def labels_of(snap: PropertySnapshot) -> list[str]:
    return [e.label for e in snap.elements]


def test_kstars_ekos(seen) -> None:
    """kstars/indi/indicamera.cpp and indicamerachip.cpp (ISD::Camera, ISD::CameraChip), through
    which Capture, Focus, Guide, Align and the flat-field auto-exposure reach a camera."""
    _, v = seen
    # Capabilities from perms.
    assert v["CCD_FRAME"].perm != "ro" and v["CCD_BINNING"].perm != "ro" and v["CCD_ABORT_EXPOSURE"].perm != "ro"
    assert v["CCD_TEMPERATURE"].perm != "ro"  # CanCool; min/max feed the set-point box
    t = v["CCD_TEMPERATURE"].elements[0]
    assert t.name == "CCD_TEMPERATURE_VALUE" and t.min < t.max
    assert names_of(v["CCD_TEMP_RAMP"])[:2] == ["RAMP_SLOPE", "RAMP_THRESHOLD"]  # by index
    # Cooler: elements[0] is the on state; set by name.
    assert names_of(v["CCD_COOLER"])[:2] == ["COOLER_ON", "COOLER_OFF"]
    # Formats are listed and chosen by label.
    assert {"Raw 8 bit", "Raw 16 bit"} <= set(labels_of(v["CCD_CAPTURE_FORMAT"]))
    assert {"FITS", "Native"} <= set(labels_of(v["CCD_TRANSFER_FORMAT"]))
    # Frame types by name (setFrameType), labels listed in the capture dialog.
    assert names_of(v["CCD_FRAME_TYPE"]) == ["FRAME_LIGHT", "FRAME_BIAS", "FRAME_DARK", "FRAME_FLAT"]
    assert labels_of(v["CCD_FRAME_TYPE"]) == ["Light", "Bias", "Dark", "Flat"]
    # Elements read by index.
    assert names_of(v["CCD_INFO"]) == ["CCD_MAX_X", "CCD_MAX_Y", "CCD_PIXEL_SIZE", "CCD_PIXEL_SIZE_X",
                                       "CCD_PIXEL_SIZE_Y", "CCD_BITSPERPIXEL"]
    assert names_of(v["CCD_CFA"]) == ["CFA_OFFSET_X", "CFA_OFFSET_Y", "CFA_TYPE"]
    assert names_of(v["SCOPE_INFO"])[:2] == ["FOCAL_LENGTH", "APERTURE"]
    assert names_of(v["CCD_FAST_TOGGLE"])[0] == "INDI_ENABLED"  # index 0 = fast exposure on
    assert names_of(v["CCD_FAST_COUNT"])[0] == "FRAMES"
    assert names_of(v["STREAMING_EXPOSURE"])[0] == "STREAMING_EXPOSURE_VALUE"
    assert names_of(v["FPS"])[:2] == ["EST_FPS", "AVG_FPS"]
    assert names_of(v["CCD_VIDEO_STREAM"])[:2] == ["STREAM_ON", "STREAM_OFF"]
    # Elements found by name.
    for vector, elements in {"CCD_FRAME": ["X", "Y", "WIDTH", "HEIGHT"], "CCD_BINNING": ["HOR_BIN", "VER_BIN"],
                             "CCD_EXPOSURE": ["CCD_EXPOSURE_VALUE"], "CCD_ABORT_EXPOSURE": ["ABORT"],
                             "CCD_STREAM_FRAME": ["X", "Y", "WIDTH", "HEIGHT"],
                             "UPLOAD_MODE": ["UPLOAD_CLIENT", "UPLOAD_LOCAL", "UPLOAD_BOTH"],
                             "UPLOAD_SETTINGS": ["UPLOAD_DIR", "UPLOAD_PREFIX"], "CCD_FILE_PATH": ["FILE_PATH"],
                             "RECORD_FILE": ["RECORD_FILE_DIR", "RECORD_FILE_NAME"],
                             "RECORD_OPTIONS": ["RECORD_DURATION", "RECORD_FRAME_TOTAL"],
                             "RECORD_STREAM": ["RECORD_ON", "RECORD_DURATION_ON", "RECORD_FRAME_ON", "RECORD_OFF"],
                             "LIMITS": ["LIMITS_BUFFER_MAX", "LIMITS_PREVIEW_FPS"]}.items():
        assert set(elements) <= set(names_of(v[vector])), vector
    # Frame reset takes min/max from CCD_FRAME: the full sensor.
    frame = {e.name: e for e in v["CCD_FRAME"].elements}
    info = {e.name: e.value for e in v["CCD_INFO"].elements}
    assert (frame["X"].min, frame["WIDTH"].max, frame["HEIGHT"].max) == (0, info["CCD_MAX_X"], info["CCD_MAX_Y"])
    # Binning choices come from the maximum of HOR_BIN/VER_BIN.
    assert {e.name: e.max for e in v["CCD_BINNING"].elements}["HOR_BIN"] >= 2
    # FITS_HEADER: used only with >= 3 elements, written at indices 0..2.
    assert names_of(v["FITS_HEADER"])[:3] == ["KEYWORD_NAME", "KEYWORD_VALUE", "KEYWORD_COMMENT"]
    # The primary BLOB; no guide head.
    assert v["CCD1"].kind == "BLOB" and "GUIDER_EXPOSURE" not in v


def test_ekos_finds_gain_and_offset_in_ccd_controls(seen) -> None:
    """ISD::Camera::registerProperty: the first number element, in definition order, whose name
    or label lower-cased is "gain" (and likewise "offset") is the one Ekos reads and writes,
    sending that element's whole vector."""
    client, v = seen
    gain = offset = None
    for name in client.property_names(CAMERA):  # definition order
        snap = v[name]
        if snap.kind != "Number":
            continue
        for e in snap.elements:
            if gain is None and "gain" in (e.name.lower(), e.label.lower()):
                gain = (name, e.name, snap.perm)
            elif offset is None and "offset" in (e.name.lower(), e.label.lower()):
                offset = (name, e.name, snap.perm)
    assert gain == ("CCD_CONTROLS", "Gain", "rw")
    assert offset == ("CCD_CONTROLS", "Offset", "rw")


def test_phd2(seen) -> None:
    """src/cam_indi.cpp (PHD2's INDI camera): names, guide output, and the FITS it can read."""
    client, v = seen
    assert {"CCD_MAX_X", "CCD_MAX_Y", "CCD_PIXEL_SIZE", "CCD_PIXEL_SIZE_X", "CCD_PIXEL_SIZE_Y",
            "CCD_BITSPERPIXEL"} <= set(names_of(v["CCD_INFO"]))
    assert names_of(v["CCD_BINNING"]) == ["HOR_BIN", "VER_BIN"]
    assert v["CCD_CFA"].values()["CFA_TYPE"]  # non-empty: PHD2 treats the camera as colour
    # ST4 on the camera: the GUIDER bit, and pulses whose vectors go Busy then not Busy.
    assert int(v["DRIVER_INFO"].values()["DRIVER_INTERFACE"]) & 4
    assert names_of(v["TELESCOPE_TIMED_GUIDE_NS"]) == ["TIMED_GUIDE_N", "TIMED_GUIDE_S"]
    assert names_of(v["TELESCOPE_TIMED_GUIDE_WE"]) == ["TIMED_GUIDE_W", "TIMED_GUIDE_E"]
    client.set_number(CAMERA, "TELESCOPE_TIMED_GUIDE_NS", {"TIMED_GUIDE_N": 50, "TIMED_GUIDE_S": 0})
    client.wait_state(CAMERA, "TELESCOPE_TIMED_GUIDE_NS", {"Busy"}, timeout=5)
    client.wait_state(CAMERA, "TELESCOPE_TIMED_GUIDE_NS", {"Ok", "Idle"}, timeout=5)
    # The frame: format ".fits", one HDU, two axes (ReadFITS refuses anything else).
    blob = client.expose(CAMERA, 0.01, timeout=30)
    assert blob.format == ".fits"
    with fits.open(io.BytesIO(blob.data)) as hdul:
        assert len(hdul) == 1 and hdul[0].header["NAXIS"] == 2


def test_indi_allsky(seen) -> None:
    """indi_allsky/camera/indi.py: keyed on DRIVER_EXEC, gain in CCD_CONTROLS.Gain, cooler by index."""
    client, v = seen
    assert v["DRIVER_INFO"].values()["DRIVER_EXEC"] == "indi_playerone_ccd"
    gain = {e.name: e for e in v["CCD_CONTROLS"].elements}["Gain"]
    assert gain.min is not None and gain.max > gain.min and gain.step and gain.format
    assert v["CCD_COOLER"].perm != "ro" and names_of(v["CCD_COOLER"])[:2] == ["COOLER_ON", "COOLER_OFF"]
    assert v["CCD_TEMPERATURE"].elements[0].name == "CCD_TEMPERATURE_VALUE"
    assert "HOR_BIN" in names_of(v["CCD_BINNING"])
    assert "CONFIG_SAVE" in names_of(v["CONFIG_PROCESS"]) and names_of(v["CCD_FRAME_RESET"]) == ["RESET"]
    assert {"FRAME_LIGHT", "FRAME_DARK"} <= set(names_of(v["CCD_FRAME_TYPE"]))
    # processBlob: astropy opens the BLOB and reads the image from HDU 0.
    blob = client.expose(CAMERA, 0.01, timeout=30)
    with fits.open(io.BytesIO(blob.data)) as hdul:
        assert hdul[0].data is not None and hdul[0].data.ndim == 2


def test_indi_alpaca_bridge(seen) -> None:
    """libindi 2.2's drivers/alpaca/bridges/camera_bridge*.cpp (tests/system/test_alpaca.py drives it)."""
    _, v = seen
    assert int(v["DRIVER_INFO"].values()["DRIVER_INTERFACE"]) & 2  # a camera bridge is made for it
    assert {"CCD_MAX_X", "CCD_MAX_Y", "CCD_PIXEL_SIZE_X", "CCD_PIXEL_SIZE_Y", "CCD_BITSPERPIXEL"} <= set(
        names_of(v["CCD_INFO"]))
    assert {"Gain", "Offset"} <= set(names_of(v["CCD_CONTROLS"]))
    assert names_of(v["CCD_COOLER"])[0] == "COOLER_ON" and names_of(v["CCD_COOLER_POWER"]) == ["CCD_COOLER_VALUE"]
    assert v["CCD_TEMPERATURE"].perm == "rw"  # CanSetCCDTemperature
    assert v["CCD_CFA"].values()["CFA_TYPE"] in ("RGGB", "BGGR", "GRBG", "GBRG")  # SensorType 2
    assert "ABORT" in names_of(v["CCD_ABORT_EXPOSURE"])
