"""CONFIG_PROCESS through a real indiserver: save, load, default, purge, in libindi's
format and place; a config written by the C++ driver for the same device loads."""
from __future__ import annotations

from pathlib import Path

import pytest

from data import cpp_configs
from helpers.driver_server import ARES, start_server
from tests.harness.client import IndiClient

pytestmark = pytest.mark.indiserver


def config_file(server) -> Path:
    return server.home / ".indi" / f"{ARES}_config.xml"


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
def test_save_then_load_restores_settings(tmp_path: Path) -> None:
    with start_server(tmp_path, "Ares-C PRO") as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.set_number(ARES, "SCOPE_INFO", {"FOCAL_LENGTH": 800, "APERTURE": 200})
        client.wait_state(ARES, "SCOPE_INFO", {"Ok"}, timeout=5)
        client.set_switch(ARES, "UPLOAD_MODE", ["UPLOAD_BOTH"])
        client.wait_state(ARES, "UPLOAD_MODE", {"Ok"}, timeout=5)
        client.set_switch(ARES, "CONFIG_PROCESS", ["CONFIG_SAVE"])
        client.wait_state(ARES, "CONFIG_PROCESS", {"Ok"}, timeout=5)
        path = config_file(server)
        assert path.exists() and Path(str(path) + ".default").exists()
        assert "newNumberVector" in path.read_text() and "SCOPE_INFO" in path.read_text()

        client.set_number(ARES, "SCOPE_INFO", {"FOCAL_LENGTH": 1, "APERTURE": 1})
        client.wait_until(ARES, "SCOPE_INFO", lambda s: s.values()["FOCAL_LENGTH"] == 1, timeout=5)
        client.set_switch(ARES, "CONFIG_PROCESS", ["CONFIG_LOAD"])
        client.wait_until(ARES, "SCOPE_INFO", lambda s: s.values()["FOCAL_LENGTH"] == 800, timeout=5)
        assert client.state(ARES, "CONFIG_PROCESS") == "Ok"
        assert client.switch(ARES, "CONFIG_PROCESS")["CONFIG_LOAD"] is False  # reset after the action

        client.set_switch(ARES, "CONFIG_PROCESS", ["CONFIG_PURGE"])
        client.wait_until(ARES, "CONFIG_PROCESS", lambda s: not path.exists(), timeout=5)
        client.set_switch(ARES, "CONFIG_PROCESS", ["CONFIG_LOAD"])
        client.wait_state(ARES, "CONFIG_PROCESS", {"Alert"}, timeout=5)
        client.set_switch(ARES, "CONFIG_PROCESS", ["CONFIG_DEFAULT"])
        client.wait_state(ARES, "CONFIG_PROCESS", {"Ok"}, timeout=5)


def test_cpp_driver_config_loads_at_connect(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".indi").mkdir(parents=True)
    (home / ".indi" / f"{ARES}_config.xml").write_text(cpp_configs.SAVED_SETTINGS.format(device=ARES))
    with start_server(tmp_path, "Ares-C PRO") as server, IndiClient(server.port) as client:
        # POLLING_PERIOD is loaded on the first getProperties, the rest at connect.
        client.wait_until(ARES, "POLLING_PERIOD", lambda s: s.values()["PERIOD_MS"] == 500, timeout=10)
        client.connect_device(ARES, timeout=15)
        client.wait_quiet(ARES, quiet=0.3, timeout=10)
        assert client.text(ARES, "UPLOAD_SETTINGS") == {"UPLOAD_DIR": "/data/astro",
                                                         "UPLOAD_PREFIX": "M31_XXX"}
        assert client.switch(ARES, "CCD_CAPTURE_FORMAT")["POA_RAW8"] is True
        assert client.number(ARES, "CCD_INFO")["CCD_BITSPERPIXEL"] == 8
        assert client.number(ARES, "SCOPE_INFO")["FOCAL_LENGTH"] == 530
        assert client.number(ARES, "CCD_CONTROLS")["Gain"] == 120  # the camera's, loaded too


def test_hostile_config_file_is_refused_with_a_message(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".indi").mkdir(parents=True)
    (home / ".indi" / f"{ARES}_config.xml").write_text(
        "<!DOCTYPE x [<!ENTITY a 'b'>]><INDIDriver>&a;</INDIDriver>")
    with start_server(tmp_path, "Ares-C PRO") as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.set_switch(ARES, "CONFIG_PROCESS", ["CONFIG_LOAD"])
        client.wait_state(ARES, "CONFIG_PROCESS", {"Alert"}, timeout=5)
        assert any("not an INDI configuration" in m for m in client.messages(ARES))
        client.enable_blobs(ARES)
        assert len(client.expose(ARES, 0.1, timeout=20).data) > 0  # the driver is unharmed
