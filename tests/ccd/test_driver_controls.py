"""Camera controls and identity properties through a real indiserver and the real client, on a
simulated camera (the simulated SDK library through the driver's SDK backend).

CCD_CONTROLS is written the way Ekos writes it (the whole vector, set_number's default), and what
the camera did is checked where the camera reports it: the auto flag the camera keeps, the GAIN
and OFFSET keywords of the next frame (the backend reads them from the camera at exposure start),
the pixels of a flipped frame. Expected preset values come from an in-process camera of the same
library, not from the driver.
"""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from astropy.io import fits

from data import cpp_configs
from helpers import simsdk
from indi_playerone.camera.interface import GainPreset
from indi_playerone.camera.sdk_loader import load_simulated_sdk
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

ROOT = Path(__file__).resolve().parents[2]
DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Ares-C PRO"
ARES = "PlayerOne CCD " + MODEL


@pytest.fixture
def backend() -> dict[str, str]:
    """The environment that makes the driver serve one simulated Ares-C PRO."""
    return simsdk.env(MODEL)


def server_for(tmp_path: Path, env: dict[str, str]) -> IndiServer:
    server = IndiServer([DRIVER], env=env, home=tmp_path / "home")
    server.start()
    return server


@pytest.fixture
def ares(tmp_path: Path, backend: dict[str, str]) -> Iterator[tuple[IndiClient, dict[str, str]]]:
    with server_for(tmp_path, backend) as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        client.wait_property(ARES, "SENSOR_MODE", timeout=10)  # the last of ours defined
        yield client, backend


def presets_of(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, GainPreset]:
    """The camera's own presets, asked in this process from a camera of the same library."""
    from indi_playerone.camera.registry import simulated_cameras

    simsdk.use(monkeypatch, env["INDI_PLAYERONE_SIMULATE"])
    camera = simulated_cameras()[0]
    with camera:
        return {p.key: p for p in camera.gain_presets()}


def image(client: IndiClient, seconds: float = 0.05) -> tuple[fits.Header, np.ndarray]:
    with fits.open(io.BytesIO(client.expose(ARES, seconds, timeout=30).data)) as hdul:
        return hdul[0].header.copy(), np.asarray(hdul[0].data, dtype=np.float32)


def header(client: IndiClient, seconds: float = 0.05) -> fits.Header:
    return image(client, seconds)[0]


def set_controls(client: IndiClient, values: dict[str, float], state: str = "Ok") -> None:
    """The whole vector with `values` over the current ones (as Ekos sends it), then wait for
    the driver's answer."""
    seq = client.describe(ARES, "CCD_CONTROLS").seq
    client.set_number(ARES, "CCD_CONTROLS", values)
    client.wait_until(ARES, "CCD_CONTROLS", lambda s: s.seq > seq and s.state in ("Ok", "Alert"),
                      timeout=10)
    assert client.state(ARES, "CCD_CONTROLS") == state, client.messages(ARES)[-3:]


def choose(client: IndiClient, name: str, *on: str, state: str = "Ok") -> None:
    """Exactly the `on` switches On, then wait for the driver's answer."""
    seq = client.describe(ARES, name).seq
    client.set_switch(ARES, name, on)
    client.wait_until(ARES, name, lambda s: s.seq > seq and s.state in (state, "Alert"), timeout=10)
    assert client.state(ARES, name) == state, client.messages(ARES)[-3:]


def preset_on(client: IndiClient) -> list[str]:
    return [k for k, on in client.switch(ARES, "CCD_GAIN_PRESET").items() if on]


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
def test_controls_presets_and_fits_keywords(ares, monkeypatch: pytest.MonkeyPatch) -> None:
    client, env = ares
    names = client.elements(ARES, "CCD_CONTROLS")
    assert names[:2] == ["Gain", "HardwareBin"] and "Offset" in names and "FanPower" in names
    for not_a_control in ("Exp", "Exposure", "TargetTemp", "CoolerOn", "Flip Both", "Temperature"):
        assert not_a_control not in names
    assert client.describe(ARES, "CCD_CONTROLS").group == "Controls"
    presets = presets_of(env, monkeypatch)
    assert list(presets) == ["highest_dr", "hcg", "unity", "lowest_rn"]
    hcg, unity = presets["hcg"], presets["unity"]
    # A fresh camera sits at the HCG pair: the switch shows it.
    assert preset_on(client) == ["PRESET_HCG"]

    # Choosing a preset sets gain and offset together; the frame's keywords follow.
    choose(client, "CCD_GAIN_PRESET", "PRESET_UNITY")
    controls = client.number(ARES, "CCD_CONTROLS")
    assert (controls["Gain"], controls["Offset"]) == (unity.gain, unity.offset)
    h = header(client)
    assert (h["GAIN"], h["OFFSET"]) == (unity.gain, unity.offset)

    # Whole-vector write changing only Offset, with Gain in auto: Gain must not be re-applied
    # (setting a value turns auto off in the camera, and the driver reads the flag back).
    choose(client, "CCD_CONTROLS_MODE", "AUTO_Gain")
    assert client.switch(ARES, "CCD_CONTROLS_MODE")["AUTO_Gain"]
    set_controls(client, {"Offset": unity.offset + 7})
    assert client.number(ARES, "CCD_CONTROLS")["Offset"] == unity.offset + 7
    assert client.switch(ARES, "CCD_CONTROLS_MODE")["AUTO_Gain"], "the unchanged Gain was re-applied"
    assert preset_on(client) == ["PRESET_MANUAL"]  # a hand edit leaves the presets
    # ...and one that happens to equal a preset selects it.
    set_controls(client, {"Offset": unity.offset})
    assert preset_on(client) == ["PRESET_UNITY"]
    # Changing Gain by hand turns its auto off (the C++ driver's rule, kept by the camera).
    set_controls(client, {"Gain": hcg.gain + 1})
    assert not client.switch(ARES, "CCD_CONTROLS_MODE")["AUTO_Gain"]
    assert preset_on(client) == ["PRESET_MANUAL"]
    set_controls(client, {"Gain": unity.gain})

    # A value the camera refuses (an on/off setting takes 0 or 1) after one it took (Gain comes
    # first in the vector): Alert with the reason, both values back, in the camera too.
    mark = len(client.messages(ARES))
    set_controls(client, {"Gain": 321, "HardwareBin": 0.5}, state="Alert")
    assert any("HardwareBin" in m for m in client.messages(ARES)[mark:]), client.messages(ARES)[mark:]
    controls = client.number(ARES, "CCD_CONTROLS")
    assert (controls["Gain"], controls["HardwareBin"]) == (unity.gain, 0)
    h = header(client)
    assert (h["GAIN"], h["OFFSET"]) == (unity.gain, unity.offset)

    # Presets are refused while an exposure runs.
    client.set_number(ARES, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 5})
    client.wait_state(ARES, "CCD_EXPOSURE", {"Busy"}, timeout=5)
    choose(client, "CCD_GAIN_PRESET", "PRESET_HIGHEST_DR", state="Alert")
    client.abort(ARES)
    client.wait_state(ARES, "CCD_EXPOSURE", {"Idle"}, timeout=5)
    assert client.number(ARES, "CCD_CONTROLS")["Gain"] == unity.gain


def test_flip_sensor_mode_formats_blink_and_identity(ares) -> None:
    client, env = ares
    assert client.text(ARES, "CCD_CFA")["CFA_TYPE"] == "RGGB"
    assert client.switch(ARES, "FLIP") == {"FLIP_HORIZONTAL": False, "FLIP_VERTICAL": False}
    reference = image(client, 1.0)[1]
    choose(client, "FLIP", "FLIP_HORIZONTAL")
    assert client.text(ARES, "CCD_CFA")["CFA_TYPE"] == "GRBG"
    h, flipped = image(client, 1.0)
    assert h["BAYERPAT"] == "GRBG"
    # The same stars, mirrored: the reference's brightest pixels are bright in the flipped frame
    # at the mirrored places, not at the same places.
    ys, xs = np.unravel_index(np.argsort(reference, axis=None)[-100:], reference.shape)
    background = float(np.median(flipped))
    noise = float(np.std(flipped[:64, :64]))
    mirrored = float(np.mean(flipped[ys, flipped.shape[1] - 1 - xs])) - background
    same = float(np.mean(flipped[ys, xs])) - background
    assert mirrored > 10 * noise and same < mirrored / 4, (mirrored, same, noise)
    choose(client, "FLIP", "FLIP_HORIZONTAL", "FLIP_VERTICAL")  # AnyOfMany
    assert client.text(ARES, "CCD_CFA")["CFA_TYPE"] == "BGGR"
    choose(client, "FLIP")
    assert client.text(ARES, "CCD_CFA")["CFA_TYPE"] == "RGGB"

    modes = client.describe(ARES, "SENSOR_MODE")
    assert [e.name for e in modes.elements] == ["MODE_0", "MODE_1"]
    assert [e.label for e in modes.elements] == ["Normal", "Low Noise"]
    assert client.switch(ARES, "SENSOR_MODE") == {"MODE_0": True, "MODE_1": False}
    choose(client, "SENSOR_MODE", "MODE_1")

    # CCD_VIDEO_FORMAT and CCD_CAPTURE_FORMAT move together, whichever the client sets.
    choose(client, "CCD_VIDEO_FORMAT", "POA_RAW8")
    client.wait_until(ARES, "CCD_CAPTURE_FORMAT", lambda s: s.values()["POA_RAW8"], timeout=5)
    assert header(client)["BITPIX"] == 8  # and frames still come in the other sensor mode
    choose(client, "CCD_CAPTURE_FORMAT", "POA_RAW16")
    client.wait_until(ARES, "CCD_VIDEO_FORMAT", lambda s: s.values()["POA_RAW16"], timeout=5)

    # Blink frames are taken (and read out) before the exposure: it cannot end sooner than them.
    client.set_number(ARES, "BLINK", {"BLINK_COUNT": 2, "BLINK_DURATION": 0.4})
    client.wait_state(ARES, "BLINK", {"Ok"}, timeout=5)
    mark = len(client.messages(ARES))
    assert header(client)["BITPIX"] == 16
    timeline = client.last_exposure
    assert timeline is not None and timeline.ok is not None
    assert timeline.ok - timeline.requested >= 2 * 0.4
    assert any("2 blink frame(s) of 0.4 s taken" in m for m in client.messages(ARES)[mark:])

    assert client.number(ARES, "ADC_DEPTH")["BITS"] == 14
    assert client.text(ARES, "SDK")["VERSION"] == load_simulated_sdk().version  # POAGetSDKVersion
    assert client.text(ARES, "Serial Number")["SN#"]
    assert client.text(ARES, "USB_LINK")["USB_LINK_SPEED"] == "USB3"




def test_config_round_trip_nickname_and_cpp_config(tmp_path: Path, backend: dict[str, str]) -> None:
    home = tmp_path / "home"
    with server_for(tmp_path, backend) as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.wait_property(ARES, "SENSOR_MODE", timeout=10)
        serial = client.text(ARES, "Serial Number")["SN#"]
        config = home / ".indi" / f"{ARES}_config.xml"
        assert not config.exists()
        # CCD_CONTROLS and SENSOR_MODE are saved at each change, as the C++ driver does.
        set_controls(client, {"Gain": 250, "Offset": 40})
        assert re.search(r"name='Gain'>\s*250\s*<", config.read_text())
        choose(client, "FLIP", "FLIP_VERTICAL")
        client.set_number(ARES, "BLINK", {"BLINK_COUNT": 3})
        client.wait_state(ARES, "BLINK", {"Ok"}, timeout=5)
        choose(client, "CONFIG_PROCESS", "CONFIG_SAVE")
        saved = config.read_text()
        for name in ("CCD_CONTROLS", "CCD_CONTROLS_MODE", "FLIP", "CCD_VIDEO_FORMAT", "SENSOR_MODE",
                     "BLINK", "CCD_GAIN_PRESET"):
            assert f"name='{name}'" in saved, name
        choose(client, "SENSOR_MODE", "MODE_1")
        assert re.search(r"name='MODE_1'>\s*On\s*<", config.read_text())
        # Change the others, then load: the saved values come back (and reach the camera).
        choose(client, "FLIP")
        choose(client, "CCD_VIDEO_FORMAT", "POA_RAW8")
        client.set_number(ARES, "BLINK", {"BLINK_COUNT": 0})
        client.wait_state(ARES, "BLINK", {"Ok"}, timeout=5)
        choose(client, "CONFIG_PROCESS", "CONFIG_LOAD")
        client.wait_until(ARES, "BLINK", lambda s: s.values()["BLINK_COUNT"] == 3, timeout=5)
        controls = client.number(ARES, "CCD_CONTROLS")
        assert (controls["Gain"], controls["Offset"]) == (250, 40)
        assert preset_on(client) == ["PRESET_MANUAL"]
        assert client.switch(ARES, "FLIP") == {"FLIP_HORIZONTAL": False, "FLIP_VERTICAL": True}
        assert client.text(ARES, "CCD_CFA")["CFA_TYPE"] == "GBRG"
        assert client.switch(ARES, "SENSOR_MODE")["MODE_1"]
        assert client.switch(ARES, "CCD_CAPTURE_FORMAT")["POA_RAW16"]
        client.enable_blobs(ARES)
        h = header(client)
        assert (h["GAIN"], h["OFFSET"], h["BAYERPAT"], h["BITPIX"]) == (250, 40, "GBRG", 16)

        # The nickname: stored by serial number in the C++ driver's file, used at the next start.
        mark = len(client.messages(ARES))
        client.set_text(ARES, "NICKNAME", {"nickname": "Guider <1>"})
        client.wait_message(ARES, "Restart the driver", timeout=5, since=mark)
        assert client.state(ARES, "NICKNAME") == "Ok"
    text = (home / ".indi" / "PlayerOneNicknames.xml").read_text()
    assert re.search(rf'<Nickname SerialNumber="{re.escape(serial)}">Guider &lt;1&gt;</Nickname>', text)

    nicked = "PlayerOne CCD Guider <1>"
    (home / ".indi" / f"{nicked}_config.xml").write_text(
        cpp_configs.CONTROLS.format(device=nicked.replace("<", "&lt;").replace(">", "&gt;")))
    with server_for(tmp_path, backend) as server, IndiClient(server.port) as client:
        client.wait_device(nicked, timeout=15)
        assert ARES not in client.devices()
        client.connect_device(nicked, timeout=15)
        client.enable_blobs(nicked)
        client.wait_until(nicked, "BLINK", lambda s: s.values()["BLINK_COUNT"] == 1, timeout=10)
        assert client.text(nicked, "NICKNAME")["nickname"] == "Guider <1>"
        controls = client.number(nicked, "CCD_CONTROLS")
        assert (controls["Gain"], controls["FanPower"]) == (222, 90)
        assert client.switch(nicked, "FLIP")["FLIP_HORIZONTAL"]
        assert client.text(nicked, "CCD_CFA")["CFA_TYPE"] == "GRBG"
        assert client.switch(nicked, "SENSOR_MODE")["MODE_1"]
        assert client.switch(nicked, "CCD_VIDEO_FORMAT")["POA_RAW8"]
        assert client.switch(nicked, "CCD_CAPTURE_FORMAT")["POA_RAW8"]
        with fits.open(io.BytesIO(client.expose(nicked, 0.05, timeout=30).data)) as hdul:
            h = hdul[0].header
            assert (h["BITPIX"], h["GAIN"], h["BAYERPAT"]) == (8, 222, "GRBG")
            assert h["INSTRUME"] == nicked


def test_nickname_file_round_trip_and_hostile_input(tmp_path: Path) -> None:
    """The nickname file alone (no server): format, removal, refused names, hostile files."""
    from indi_playerone.ccd.nicknames import (
        NicknameError, device_base_name, read_nicknames, set_nickname,
    )

    path = tmp_path / ".indi" / "PlayerOneNicknames.xml"
    assert read_nicknames(path) == {}
    set_nickname("SN1", " Main ", path)
    set_nickname('S"N2', "a & b", path)
    assert read_nicknames(path) == {"SN1": "Main", 'S"N2': "a & b"}
    assert device_base_name("SN1", "Ares-C PRO", read_nicknames(path)) == "PlayerOne CCD Main"
    set_nickname("SN1", "PlayerOne CCD Imaging", path)
    assert device_base_name("SN1", "Ares-C PRO", read_nicknames(path)) == "PlayerOne CCD Imaging"
    assert device_base_name("SN9", "Ares-C PRO", read_nicknames(path)) == "PlayerOne CCD Ares-C PRO"
    assert device_base_name("", "Ares-C PRO", {"": "x"}) == "PlayerOne CCD Ares-C PRO"
    set_nickname("SN1", "", path)
    assert read_nicknames(path) == {'S"N2': "a & b"}
    for bad in ("a/b", "tab\there", "x" * 65):
        with pytest.raises(NicknameError):
            set_nickname("SN1", bad, path)
    assert read_nicknames(path) == {'S"N2': "a & b"}
    # Entities are not expanded and a file that is not ours is ignored, not fatal.
    path.write_text("<!DOCTYPE x [<!ENTITY a 'boom'>]>"
                    "<Nicknames><Nickname SerialNumber='X'>&a;</Nickname></Nicknames>")
    assert "boom" not in read_nicknames(path).values()
    path.write_text("<Something><Nickname SerialNumber='X'>y</Nickname></Something>")
    assert read_nicknames(path) == {}
    path.write_text("not xml at all <<<")
    assert read_nicknames(path) == {}


def test_usb2_link_is_shown_and_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A camera on a USB 2 link (the simulated SDK's ``usb2`` option) gets USB_LINK=USB2 in
    Alert and a warning at connect. The device talks through the real transport into a pipe."""
    import os
    import threading

    from indi_playerone.camera.registry import simulated_cameras
    from indi_playerone.ccd.device import PlayerOneCCD
    from indi_playerone.indi.transport import Transport

    monkeypatch.setenv("HOME", str(tmp_path))
    simsdk.use(monkeypatch, MODEL, options="usb2")
    camera = simulated_cameras()[0]
    r, w = os.pipe()
    out = bytearray()
    reader = threading.Thread(target=lambda: [out.extend(b) for b in iter(lambda: os.read(r, 65536), b"")])
    reader.start()
    transport = Transport(out_fd=w, blob_mode="inline")
    transport.start()
    device = PlayerOneCCD(ARES, camera, transport, "1.0")
    try:
        device.handle_get_properties()
        device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
        assert device.get("USB_LINK")["USB_LINK_SPEED"].value == "USB2"
        assert device.get("USB_LINK").state.value == "Alert"
    finally:
        device.disconnect()
        transport.close()
        os.close(w)
        reader.join(10)
        os.close(r)
    text = out.decode()
    assert "name='USB_LINK'" in text and "USB 2 link" in text and "[WARNING]" in text
