"""Several cameras in one driver process, and cameras plugged in or out while it runs.

Two cameras of one model are served as `PlayerOne CCD <model>` and `PlayerOne CCD <model> 1`
(the C++ driver's naming, §3.2), on both backends, each taking its own frames. Hot-plug runs on
the fake SDK, whose runtime fault file unplugs and replugs a camera by ID inside the running
driver (``unplug@<id>``, ``replug@<id>``; IDs are 100, 107, ...): the unplugged camera's device
is deleted (disconnected first), the other camera keeps working, and the replugged camera comes
back as a device under its old name and connects again. With ``INDI_PLAYERONE_HOTPLUG_S=0``
nothing is watched.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from indi_playerone.ccd.hotplug import unique_name
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer
from tests.test_driver_indiserver import DRIVER

ROOT = Path(__file__).resolve().parents[1]
FIRST = "PlayerOne CCD Ares-C PRO"
SECOND = "PlayerOne CCD Ares-C PRO 1"


def test_unique_name_takes_the_first_free_index() -> None:
    assert unique_name("PlayerOne CCD Ares-C PRO", set()) == "PlayerOne CCD Ares-C PRO"
    used = {"PlayerOne CCD Ares-C PRO", "PlayerOne CCD Ares-C PRO 2"}
    assert unique_name("PlayerOne CCD Ares-C PRO", used) == "PlayerOne CCD Ares-C PRO 1"
    used.add("PlayerOne CCD Ares-C PRO 1")
    assert unique_name("PlayerOne CCD Ares-C PRO", used) == "PlayerOne CCD Ares-C PRO 3"


def env_for(backend: str, models: str, fault_file: Path | None = None) -> dict[str, str]:
    if backend == "sdk":
        from indi_playerone.camera.fake_sdk_build import build_fake_sdk
        env = {"INDI_PLAYERONE_SDK": str(build_fake_sdk(ROOT / "build" / "fake-sdk")),
               "FAKE_POA_CAMERAS": models}
        if fault_file is not None:
            env["FAKE_POA_FAULT_FILE"] = str(fault_file)
            env["INDI_PLAYERONE_HOTPLUG_S"] = "1"  # scan every second (default 2) to be quick
        return env
    return {"INDI_PLAYERONE_SIMULATE": models}


def serve(tmp_path: Path, env: dict[str, str]) -> IndiServer:
    server = IndiServer([DRIVER], env=env, home=tmp_path / "home")
    server.start()
    return server


def online_serial(client: IndiClient, device: str) -> str:
    text = client.wait_message(device, "is online", timeout=5)
    match = re.search(r"serial ([^)]*)\)", text)
    assert match, text
    return match.group(1)


def expose_small(client: IndiClient, device: str) -> None:
    client.enable_blobs(device)
    client.set_number(device, "CCD_BINNING", {"HOR_BIN": 4, "VER_BIN": 4})
    client.wait_state(device, "CCD_BINNING", {"Ok"}, timeout=5)
    blob = client.expose(device, 0.05, timeout=20)
    assert blob.format == ".fits" and len(blob.data) > 2880


@pytest.mark.indiserver
@pytest.mark.parametrize("backend", ["simulator", "sdk"])
def test_two_cameras_of_one_model_are_served_with_the_1_suffix(tmp_path: Path, backend: str) -> None:
    with serve(tmp_path, env_for(backend, "Ares-C PRO,Ares-C PRO")) as server, \
            IndiClient(server.port) as client:
        client.wait_property(FIRST, "CONNECTION", timeout=15)
        client.wait_property(SECOND, "CONNECTION", timeout=15)
        assert sorted(d for d in client.devices() if d.startswith("PlayerOne")) == [FIRST, SECOND]
        client.connect_device(FIRST, timeout=15)
        client.connect_device(SECOND, timeout=15)
        assert online_serial(client, FIRST) != online_serial(client, SECOND)
        expose_small(client, FIRST)
        expose_small(client, SECOND)


def wait_devices(client: IndiClient, check, timeout: float) -> list[str]:
    """Poll the client's device list until ``check(devices)`` holds (a wait with a timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        devices = [d for d in client.devices() if d.startswith("PlayerOne")]
        if check(devices):
            return devices
        if time.monotonic() > deadline:
            raise TimeoutError(f"devices now: {devices}; messages: {client.messages()[-5:]}")
        time.sleep(0.1)


def append(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line + "\n")


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
@pytest.mark.indiserver
def test_unplugged_camera_is_deleted_and_comes_back_when_replugged(tmp_path: Path) -> None:
    faults = tmp_path / "fake-faults"
    faults.write_text("")
    with serve(tmp_path, env_for("sdk", "Ares-C PRO,Ares-C PRO", faults)) as server, \
            IndiClient(server.port) as client:
        client.wait_property(SECOND, "CONNECTION", timeout=15)
        client.connect_device(FIRST, timeout=15)
        client.connect_device(SECOND, timeout=15)

        append(faults, "unplug@107")  # the second camera (slot 1: ID 107) leaves
        wait_devices(client, lambda ds: SECOND not in ds, 12)
        assert FIRST in client.devices()
        assert client.switch(FIRST, "CONNECTION")["CONNECT"]
        expose_small(client, FIRST)  # the other camera was not disturbed

        append(faults, "replug@107")
        client.wait_property(SECOND, "CONNECTION", timeout=12)
        client.wait_message(None, "plugged in: serving it as " + SECOND, timeout=5)
        assert not client.switch(SECOND, "CONNECTION")["CONNECT"]
        client.connect_device(SECOND, timeout=15)
        expose_small(client, SECOND)


@pytest.mark.indiserver
def test_cameras_present_only_later_appear_and_names_stay_unique(tmp_path: Path) -> None:
    """Both cameras unplugged, then replugged in the other order: the bare name goes to the
    first one back, as the C++ driver's first-free-name rule does."""
    faults = tmp_path / "fake-faults"
    faults.write_text("")
    with serve(tmp_path, env_for("sdk", "Ares-C PRO,Ares-C PRO", faults)) as server, \
            IndiClient(server.port) as client:
        client.wait_property(SECOND, "CONNECTION", timeout=15)
        append(faults, "unplug@100")
        append(faults, "unplug@107")
        wait_devices(client, lambda ds: not ds, 12)
        append(faults, "replug@107")
        client.wait_property(FIRST, "CONNECTION", timeout=12)
        time.sleep(0.5)
        append(faults, "replug@100")
        client.wait_property(SECOND, "CONNECTION", timeout=12)
        client.connect_device(FIRST, timeout=15)
        client.connect_device(SECOND, timeout=15)
        assert online_serial(client, FIRST) != online_serial(client, SECOND)


@pytest.mark.indiserver
def test_hotplug_off_keeps_the_devices_of_the_start(tmp_path: Path) -> None:
    faults = tmp_path / "fake-faults"
    faults.write_text("")
    env = {**env_for("sdk", "Ares-C PRO", faults), "INDI_PLAYERONE_HOTPLUG_S": "0"}
    with serve(tmp_path, env) as server, IndiClient(server.port) as client:
        client.wait_property(FIRST, "CONNECTION", timeout=15)
        append(faults, "unplug@100")
        time.sleep(4)  # three scans at the test's 1 s period would have removed it
        assert FIRST in client.devices()
