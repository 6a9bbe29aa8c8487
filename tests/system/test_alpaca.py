"""ASCOM Alpaca clients through libindi 2.2's ``indi_alpaca_server``: our camera, end to end.

libindi 2.2.4.2's Alpaca bridge (``drivers/alpaca``) is an INDI client that exposes every
device with the CCD interface bit as an Alpaca camera over HTTP: Windows programs (NINA,
SharpCap, ...) reach a camera on a Pi through it.  Here the real bridge runs as a second driver
in the same 2.2.4.2 indiserver as ours and is driven by ``alpyca``, the ASCOM Initiative's Python
client, on 127.0.0.1 only: its HTTP server is told to bind 127.0.0.1 and a free port, its UDP
discovery responder a free port, before it connects.

What the bridge does (read from its source, measured here) and the test therefore expects:
it never connects the INDI device (a client or the user does, as below); it reports MaxBinX/Y
as 1 whatever CCD_BINNING allows (a bridge limitation: binning still works when set); it writes
Alpaca's binned StartX/NumX into CCD_FRAME's unbinned X/WIDTH unchanged (so subframes are right
at bin 1); it turns the FITS rows upside down (it assumes bottom-up FITS; libindi's and our
FITS are ROWORDER TOP-DOWN).  docs/client-expectations.md has the whole list.
"""
from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from tests.harness import generations
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer
from tests.helpers.waiting import wait_until

alpaca_camera = pytest.importorskip("alpaca.camera", reason="alpyca not installed (pip install -e '.[test]')")
alpaca_management = pytest.importorskip("alpaca.management")

pytestmark = pytest.mark.indiserver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Apollo-M MAX PRO"  # 1608 x 1104, 9 um pixels, cooled: small frames over JSON
CAMERA = f"PlayerOne CCD {MODEL}"
BRIDGE = "INDI Alpaca Server"


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    """IPv4 addresses with a TCP socket listening on ``port`` (from /proc/net/tcp, tcp6)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            address, port_hex = f[1].rsplit(":", 1)
            if f[3] == "0A" and int(port_hex, 16) == port:
                found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]) if len(address) == 8 else address)
    return found


@pytest.fixture
def setup(tmp_path: Path):
    """indiserver 2.2.4.2 with our driver and the bridge; our camera connected, frames also saved."""
    why = generations.get("indi2").unavailable()
    if why is not None:
        pytest.skip(why)
    with IndiServer([DRIVER, "indi_alpaca_server"], env={"INDI_PLAYERONE_SIMULATE": MODEL},
                    home=tmp_path / "home", generation="indi2") as server, IndiClient(server.port) as client:
        client.connect_device(CAMERA, timeout=15)
        client.enable_blobs(CAMERA)
        saved = tmp_path / "saved"
        client.set_text(CAMERA, "UPLOAD_SETTINGS", {"UPLOAD_DIR": str(saved), "UPLOAD_PREFIX": "ALPACA_XXX"})
        client.wait_state(CAMERA, "UPLOAD_SETTINGS", {"Ok"}, timeout=5)
        client.set_switch(CAMERA, "UPLOAD_MODE", ["UPLOAD_BOTH"])
        client.wait_property(CAMERA, "CCD_FILE_PATH", timeout=5)

        http_port = _free_port(socket.SOCK_STREAM)
        client.wait_property(BRIDGE, "SERVER_SETTINGS", timeout=10)
        client.set_text(BRIDGE, "SERVER_SETTINGS", {"HOST": "127.0.0.1", "PORT": str(http_port)})
        client.set_text(BRIDGE, "INDI_SERVER_SETTINGS", {"HOST": "127.0.0.1", "PORT": str(server.port)})
        client.set_number(BRIDGE, "DISCOVERY_SETTINGS", {"PORT": _free_port(socket.SOCK_DGRAM)})
        client.set_number(BRIDGE, "STARTUP_DELAY", {"DELAY": 1})
        client.wait_until(BRIDGE, "STARTUP_DELAY", lambda s: s.values()["DELAY"] == 1, timeout=5)
        client.connect_device(BRIDGE, timeout=15)
        address = f"127.0.0.1:{http_port}"

        def camera_listed() -> bool:
            try:
                return any(d["DeviceName"] == CAMERA for d in alpaca_management.configureddevices(address))
            except Exception:  # not listening yet
                return False

        assert wait_until(camera_listed, timeout=20), server.log_text()[-3000:]
        # The HTTP server listens on loopback only.
        assert _listening_addresses(http_port) == {"127.0.0.1"}
        number = next(d["DeviceNumber"] for d in alpaca_management.configureddevices(address)
                      if d["DeviceName"] == CAMERA)
        cam = alpaca_camera.Camera(address, number)
        assert wait_until(lambda: cam.CameraXSize > 0, timeout=10)
        yield server, client, cam


def _put(cam, method: str, **form: str) -> None:
    """A raw Alpaca PUT, with the form text exactly as given."""
    import requests

    reply = requests.put(f"{cam.base_url}/{method}", data={"ClientID": "1", "ClientTransactionID": "1", **form},
                         timeout=5)
    reply.raise_for_status()
    assert reply.json()["ErrorNumber"] == 0, reply.text


def _saved_fits(client: IndiClient, previous: str) -> Path:
    snap = client.wait_until(CAMERA, "CCD_FILE_PATH",
                             lambda s: s.values()["FILE_PATH"] not in ("", previous), timeout=20)
    return Path(snap.values()["FILE_PATH"])


def _expose(cam, client: IndiClient, seconds: float, light: bool, previous: str) -> tuple[np.ndarray, Path]:
    """StartExposure, wait for ImageReady to go False (the new exposure began) and True again."""
    cam.StartExposure(seconds, light)
    assert wait_until(lambda: not cam.ImageReady, timeout=10)
    assert wait_until(lambda: cam.ImageReady, timeout=30)
    image = np.array(cam.ImageArray)
    return image, _saved_fits(client, previous)


def _same_as_fits(image: np.ndarray, path: Path) -> fits.Header:
    with fits.open(path) as hdul:
        data = hdul[0].data.astype(np.int64)
        header = hdul[0].header.copy()
    # Alpaca arrays are [x][y]; the bridge flips rows (it assumes bottom-up FITS).
    assert image.shape == (data.shape[1], data.shape[0])
    assert np.array_equal(image.T[::-1], data)
    return header


def test_an_alpaca_client_takes_verified_images(setup) -> None:
    """indi_alpaca_server is part of libindi 2.2 only: this runs under 2.2.4.2's indiserver."""
    server, client, cam = setup
    # Identity, size and pixel size.
    assert cam.Connected and cam.Name == CAMERA
    assert (cam.CameraXSize, cam.CameraYSize) == (1608, 1104)
    assert (cam.PixelSizeX, cam.PixelSizeY) == (9.0, 9.0)
    assert cam.CanAbortExposure and cam.CanSetCCDTemperature and cam.CanGetCoolerPower

    # Gain and offset: read, range, set; both sides agree.
    controls = client.number(CAMERA, "CCD_CONTROLS")
    assert cam.Gain == int(controls["Gain"]) and cam.Offset == int(controls["Offset"])
    assert cam.GainMin < cam.GainMax and cam.OffsetMin < cam.OffsetMax
    cam.Gain = 120
    cam.Offset = 30
    client.wait_until(CAMERA, "CCD_CONTROLS",
                      lambda s: s.values()["Gain"] == 120 and s.values()["Offset"] == 30, timeout=5)
    assert wait_until(lambda: cam.Gain == 120 and cam.Offset == 30, timeout=5)

    # A set-point turns the cooler on (libindi's convention, which the driver follows).
    cam.SetCCDTemperature = -5.0
    client.wait_until(CAMERA, "CCD_COOLER", lambda s: s.values()["COOLER_ON"], timeout=5)
    assert wait_until(lambda: cam.CoolerOn, timeout=5)
    assert cam.SetCCDTemperature == -5.0
    assert client.number(CAMERA, "CCD_TEMPERATURE") is not None
    assert -60 < cam.CCDTemperature < 60 and 0 <= cam.CoolerPower <= 100
    # CoolerOn: the bridge takes only the exact text "true" for on.  alpyca, like .NET clients,
    # sends "True", which the bridge turns into COOLER_OFF (a bridge bug, docs/client-expectations.md);
    # "true" as the Alpaca API's examples write it turns the cooler on.
    cam.CoolerOn = True
    client.wait_until(CAMERA, "CCD_COOLER", lambda s: s.values()["COOLER_OFF"], timeout=5)
    _put(cam, "cooleron", CoolerOn="true")
    client.wait_until(CAMERA, "CCD_COOLER", lambda s: s.values()["COOLER_ON"], timeout=5)
    assert wait_until(lambda: cam.CoolerOn, timeout=5)

    # Binning: the bridge always says MaxBin 1 (it never reads CCD_BINNING's maximum), but
    # setting it works.
    assert (cam.MaxBinX, cam.MaxBinY) == (1, 1)
    cam.BinX = 2
    cam.BinY = 2
    client.wait_until(CAMERA, "CCD_BINNING", lambda s: s.values()["HOR_BIN"] == 2 and s.values()["VER_BIN"] == 2,
                      timeout=5)
    assert wait_until(lambda: (cam.BinX, cam.BinY) == (2, 2), timeout=5)
    image, path = _expose(cam, client, 0.05, True, "")
    h = _same_as_fits(image, path)
    assert (h["XBINNING"], h["NAXIS1"], h["NAXIS2"]) == (2, 804, 552)
    cam.BinX = 1
    cam.BinY = 1
    client.wait_until(CAMERA, "CCD_BINNING", lambda s: s.values()["HOR_BIN"] == 1 and s.values()["VER_BIN"] == 1,
                      timeout=5)

    # A subframe.  Each PUT makes the bridge send the whole CCD_FRAME with one element changed,
    # from its copy of the vector; sent back to back, a later PUT carries values the driver's
    # answer to the earlier one has not updated yet (a bridge race, docs/client-expectations.md).
    # So, as a careful client: one value at a time, size first so every frame fits the sensor.
    for attribute, element, value in (("NumX", "WIDTH", 400), ("NumY", "HEIGHT", 300),
                                      ("StartX", "X", 100), ("StartY", "Y", 52)):
        setattr(cam, attribute, value)
        client.wait_until(CAMERA, "CCD_FRAME", lambda s, e=element, v=value: s.values()[e] == v and s.state == "Ok",
                          timeout=5)
        assert wait_until(lambda a=attribute, v=value: getattr(cam, a) == v, timeout=5)
    assert client.number(CAMERA, "CCD_FRAME") == {"X": 100, "Y": 52, "WIDTH": 400, "HEIGHT": 300}

    # A light and a dark exposure: each image array equals the FITS the driver sent (and saved).
    image, light_path = _expose(cam, client, 0.1, True, str(path))
    h = _same_as_fits(image, light_path)
    assert (h["FRAME"], h["NAXIS1"], h["NAXIS2"], h["GAIN"], h["OFFSET"]) == ("Light", 400, 300, 120, 30)
    assert h["EXPTIME"] == pytest.approx(0.1)
    # The bridge keeps the CCD_EXPOSURE value of the last Busy update, i.e. the time left at the
    # last countdown step libindi drivers send, not the duration (a bridge quirk).
    assert 0 < cam.LastExposureDuration <= 0.1
    assert int(image.max()) > 0

    image, dark_path = _expose(cam, client, 0.1, False, str(light_path))
    h = _same_as_fits(image, dark_path)
    assert (h["FRAME"], h["IMAGETYP"]) == ("Dark", "Dark Frame")
    assert client.switch(CAMERA, "CCD_FRAME_TYPE")["FRAME_DARK"]

    cam.CoolerOn = False
    client.wait_until(CAMERA, "CCD_COOLER", lambda s: s.values()["COOLER_OFF"], timeout=5)
    log = server.log_text()
    assert "Failed to extract image" not in log
