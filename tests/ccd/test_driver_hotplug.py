"""Several cameras in one driver process, and cameras plugged in or out while it runs.

Two cameras of one model are served as `PlayerOne CCD <model>` and `PlayerOne CCD <model> 1`
(the C++ driver's naming), each taking its own frames. Hot-plug runs on the simulated SDK,
whose runtime fault file unplugs and replugs a camera by ID inside the running driver
(``unplug@<id>``, ``replug@<id>``; IDs are 100, 107, ...): the unplugged camera's device is
deleted (disconnected first), the other camera keeps working, and the replugged camera comes
back as a device under its old name and connects again. With ``INDI_PLAYERONE_HOTPLUG_S=0``
nothing is watched. A vendor SDK (a copy of the simulated library under the vendor's file name)
and the simulated SDK are served side by side by one driver process, with colliding camera IDs.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from helpers import simsdk
from indi_playerone.ccd.hotplug import unique_name
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer
from helpers.driver_server import DRIVER

ROOT = Path(__file__).resolve().parents[2]
#: The scan period these tests give the driver: a camera gone for three scans (0.6 s) is removed.
SCAN_S = "0.2"
FIRST = "PlayerOne CCD Ares-C PRO"
SECOND = "PlayerOne CCD Ares-C PRO 1"


def test_unique_name_takes_the_first_free_index() -> None:
    assert unique_name("PlayerOne CCD Ares-C PRO", set()) == "PlayerOne CCD Ares-C PRO"
    used = {"PlayerOne CCD Ares-C PRO", "PlayerOne CCD Ares-C PRO 2"}
    assert unique_name("PlayerOne CCD Ares-C PRO", used) == "PlayerOne CCD Ares-C PRO 1"
    used.add("PlayerOne CCD Ares-C PRO 1")
    assert unique_name("PlayerOne CCD Ares-C PRO", used) == "PlayerOne CCD Ares-C PRO 3"


def env_for(models: str, fault_file: Path | None = None) -> dict[str, str]:
    env = simsdk.env(models)
    if fault_file is not None:
        env["INDI_PLAYERONE_SIM_FAULT_FILE"] = str(fault_file)
        env["INDI_PLAYERONE_HOTPLUG_S"] = SCAN_S  # scan every 0.2 s (default 2) to be quick
    return env


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
def test_two_cameras_of_one_model_are_served_with_the_1_suffix(tmp_path: Path) -> None:
    with serve(tmp_path, env_for("Ares-C PRO,Ares-C PRO")) as server, \
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
    faults = tmp_path / "faults"
    faults.write_text("")
    with serve(tmp_path, env_for("Ares-C PRO,Ares-C PRO", faults)) as server, \
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
    faults = tmp_path / "faults"
    faults.write_text("")
    with serve(tmp_path, env_for("Ares-C PRO,Ares-C PRO", faults)) as server, \
            IndiClient(server.port) as client:
        client.wait_property(SECOND, "CONNECTION", timeout=15)
        append(faults, "unplug@100")
        append(faults, "unplug@107")
        wait_devices(client, lambda ds: not ds, 12)
        append(faults, "replug@107")
        client.wait_property(FIRST, "CONNECTION", timeout=12)  # 107 is served under the bare name
        append(faults, "replug@100")
        client.wait_property(SECOND, "CONNECTION", timeout=12)
        client.connect_device(FIRST, timeout=15)
        client.connect_device(SECOND, timeout=15)
        assert online_serial(client, FIRST) != online_serial(client, SECOND)


@pytest.mark.indiserver
def test_hotplug_off_keeps_the_devices_of_the_start(tmp_path: Path) -> None:
    faults = tmp_path / "faults"
    faults.write_text("")
    env = {**env_for("Ares-C PRO", faults), "INDI_PLAYERONE_HOTPLUG_S": "0"}
    with serve(tmp_path, env) as server, IndiClient(server.port) as client:
        client.wait_property(FIRST, "CONNECTION", timeout=15)
        append(faults, "unplug@100")
        # Five times what three scans at the other tests' period take: a watcher would have
        # removed it by now. (Nothing happens to wait for: the point is that nothing happens.)
        time.sleep(5 * 3 * float(SCAN_S))
        assert FIRST in client.devices()


def mapped_files(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as f:
        return {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}


@pytest.mark.indiserver
def test_vendor_and_simulated_cameras_side_by_side_in_one_driver(tmp_path: Path) -> None:
    """Both libraries mapped in the one driver process; the vendor's camera keeps the bare name,
    the simulated one of the same model gets ` 1`; both take frames; camera IDs collide (both
    libraries number from the same base) and are told apart by library."""
    vendor = tmp_path / "vendor" / "libPlayerOneCamera.so.3"
    vendor.parent.mkdir()
    vendor.write_bytes(simsdk.library().read_bytes())
    env = {**env_for("Ares-C PRO"), "INDI_PLAYERONE_SDK": str(vendor)}
    with serve(tmp_path, env) as server, IndiClient(server.port) as client:
        client.wait_property(SECOND, "CONNECTION", timeout=15)
        assert sorted(d for d in client.devices() if d.startswith("PlayerOne")) == [FIRST, SECOND]
        pids = [r.pid for r in server.processes() if r.name.startswith("indi_playerone")]
        assert len(pids) == 1
        maps = mapped_files(pids[0])
        assert str(vendor) in maps and str(simsdk.library()) in maps
        client.connect_device(FIRST, timeout=15)
        client.connect_device(SECOND, timeout=15)
        expose_small(client, FIRST)
        expose_small(client, SECOND)


class _Answers:
    """A camera that answers (or, once ``gone``, raises as an unplugged one does)."""

    def __init__(self) -> None:
        self.gone = False

    def temperature(self) -> float:
        from indi_playerone.camera.interface import CameraError

        if self.gone:
            raise CameraError("unplugged")
        return 20.0


class _Device:
    def __init__(self, name: str, connected: bool) -> None:
        self.name, self.connected, self.camera = name, connected, _Answers()
        self.deleted = False

    def disconnect(self) -> None:
        self.connected = False

    def delete(self, name: object = None, message: object = None) -> None:
        self.deleted = True


class _Loop:
    def __init__(self, *devices: _Device) -> None:
        self.devices = {d.name: d for d in devices}

    def remove_device(self, name: str) -> None:
        del self.devices[name]


def test_a_connected_camera_missing_from_the_list_stays_while_it_answers() -> None:
    """Missing from three scans: an idle device goes; a connected one only once its camera
    stops answering (a USB reset must not end a session)."""
    from indi_playerone.ccd.hotplug import MISSING_SCANS, HotPlugWatcher

    idle, busy = _Device("idle", False), _Device("busy", True)
    loop = _Loop(idle, busy)
    watcher = HotPlugWatcher(lambda: {}, lambda key, details: None, loop, None,
                             lambda camera, used: None, {"a": idle, "b": busy})
    for _ in range(MISSING_SCANS):
        watcher.poll_once()
    assert idle.deleted and "idle" not in loop.devices
    assert not busy.deleted and watcher.devices == {"b": busy}
    busy.camera.gone = True
    watcher.poll_once()
    assert busy.deleted and watcher.devices == {}
