"""A name that travels with the camera (issue 15): the SDK's user custom ID, stored in the
camera (``POASetUserCustomID``, 16 bytes), as an alternative to the nickname file.

Set through USER_CUSTOM_ID, it is in the camera at once; at the next start of the driver, on
any computer (a new HOME: no nickname file, no saved configuration), the device is named after
it, "PlayerOne CCD <model> [<name>]" as the C++ driver names such a camera too. The simulated
SDK forgets a custom ID with its process, so "the same camera on another computer" is the
simulated camera whose flash already holds the name (its ``custom_id`` option). A nickname
for the serial still wins.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from helpers import simsdk
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Ares-C PRO"
SERIAL = "SIM-ARES-C-PRO-0001"
PLAIN = f"PlayerOne CCD {MODEL}"


def serve(tmp: Path, home: Path, options: str = ""):
    env = simsdk.env(MODEL, INDI_PLAYERONE_SIM_OPTIONS=options, INDI_PLAYERONE_HOTPLUG_S="0")
    return IndiServer([DRIVER], env=env, home=home, workdir=tmp)


def test_a_name_stored_in_the_camera_names_the_device_on_any_computer(tmp_path: Path) -> None:
    with serve(tmp_path / "a", tmp_path / "home-a") as server, IndiClient(server.port) as client:
        client.wait_device(PLAIN, timeout=20)
        client.connect_device(PLAIN, timeout=20)
        assert client.text(PLAIN, "USER_CUSTOM_ID") == {"ID": ""}
        n = len(client.messages(PLAIN))
        client.set_text(PLAIN, "USER_CUSTOM_ID", {"ID": "Juno"})
        client.wait_until(PLAIN, "USER_CUSTOM_ID", lambda s: s.state == "Ok"
                          and s.values()["ID"] == "Juno", timeout=10)  # read back from the camera
        told = client.messages(PLAIN)[n:]
        assert any(f"'PlayerOne CCD {MODEL} [Juno]'" in m for m in told), told
        for bad in ("a name of 17 bytes", "left/right", "x[1]"):
            client.set_text(PLAIN, "USER_CUSTOM_ID", {"ID": bad})
            client.wait_state(PLAIN, "USER_CUSTOM_ID", {"Alert"}, timeout=10)
            assert client.text(PLAIN, "USER_CUSTOM_ID")["ID"] == "Juno"
            client.set_text(PLAIN, "USER_CUSTOM_ID", {"ID": "Juno"})
            client.wait_state(PLAIN, "USER_CUSTOM_ID", {"Ok"}, timeout=10)
        client.enable_blobs(PLAIN)
        client.expose(PLAIN, 0.05, timeout=30)

    # Another computer: a new HOME, the camera's flash holding the name.
    named = f"PlayerOne CCD {MODEL} [Juno]"
    options = f"custom_id=Juno@{SERIAL}"
    with serve(tmp_path / "b", tmp_path / "home-b", options) as server, \
            IndiClient(server.port) as client:
        client.wait_device(named, timeout=20)
        assert PLAIN not in client.devices()
        client.connect_device(named, timeout=20)
        assert client.text(named, "USER_CUSTOM_ID") == {"ID": "Juno"}
        client.set_switch(named, "CONFIG_PROCESS", ["CONFIG_SAVE"])
        client.wait_state(named, "CONFIG_PROCESS", {"Ok"}, timeout=10)
    assert (tmp_path / "home-b" / ".indi" / f"{named}_config.xml").exists()

    # A nickname for the serial still wins over the name in the camera.
    nicknames = tmp_path / "home-b" / ".indi" / "PlayerOneNicknames.xml"
    nicknames.write_text(f'<Nicknames>\n <Nickname SerialNumber="{SERIAL}">Guider</Nickname>\n'
                         "</Nicknames>\n")
    with serve(tmp_path / "c", tmp_path / "home-b", options) as server, \
            IndiClient(server.port) as client:
        client.wait_device("PlayerOne CCD Guider", timeout=20)
        assert named not in client.devices()
