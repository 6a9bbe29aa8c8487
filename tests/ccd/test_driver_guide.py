"""ST4 guiding: TELESCOPE_TIMED_GUIDE_NS / TELESCOPE_TIMED_GUIDE_WE (libindi's GuiderInterface).

Through indiserver with a real client, on simulated cameras given an ST4 port (the simulated
SDK's option ``st4``; the PRO cooled line has none): the properties exist only
with a port, a pulse is Busy then Ok with the values back at 0 once its time is up, a new pulse
on a busy axis replaces the old one (Ok after the new one's time, not the old one's), the axes
are independent, and a disconnect ends running pulses.

In process, on the same simulated camera (a subclass of the SDK backend records every output
switch it passes to the library), the fix of the C++ driver's quirk: the running direction is
switched off before the new one goes on, and every output is off after a disconnect.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers import simsdk
from helpers.guide_log import GuideLog, guide_log_cameras
from helpers.waiting import wait_for
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.ccd.guide import GuideAxis
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer
from helpers.driver_server import DRIVER

ARES = "PlayerOne CCD Ares-M PRO"
NS, WE = "TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE"


# --- the axis timer alone -------------------------------------------------------------------------

class Outputs:
    """Records what GuideAxis switches, with times."""

    def __init__(self) -> None:
        self.log: list[tuple[str, bool, float]] = []
        self.done: list[tuple[int, float]] = []

    def switch(self, direction: str, on: bool) -> None:
        self.log.append((direction, on, time.monotonic()))

    def finished(self, generation: int) -> None:
        self.done.append((generation, time.monotonic()))


def test_axis_pulse_ends_after_its_time_and_reports_once() -> None:
    out = Outputs()
    axis = GuideAxis("NS", out.switch, out.finished)
    try:
        started = time.monotonic()
        gen = axis.pulse("N", 200)
        wait_for(lambda: out.done, 5)
        assert [(d, on) for d, on, _ in out.log] == [("N", True), ("N", False)]
        assert out.log[1][2] - started >= 0.2
        assert out.done[0][0] == gen and not axis.active
    finally:
        axis.close()


def test_axis_new_pulse_switches_the_old_direction_off_first() -> None:
    out = Outputs()
    axis = GuideAxis("NS", out.switch, out.finished)
    try:
        axis.pulse("N", 5000)
        gen = axis.pulse("S", 150)
        wait_for(lambda: out.done, 3)
        assert [(d, on) for d, on, _ in out.log] == [("N", True), ("N", False), ("S", True),
                                                       ("S", False)]
        assert [g for g, _ in out.done] == [gen]  # the replaced pulse is not reported
        axis.pulse("N", 5000)
        axis.stop()
        assert out.log[-1][:2] == ("N", False) and not axis.active
        time.sleep(0.1)
        assert len(out.done) == 1
    finally:
        axis.close()


# --- in process: the camera's outputs ------------------------------------------------------------

def st4_camera(monkeypatch: pytest.MonkeyPatch) -> GuideLog:
    camera = guide_log_cameras(monkeypatch, "Ares-M PRO", options="st4")[0]
    assert camera.info.has_st4
    return camera


def pulse(device, prop: str, element: str, ms: float) -> None:
    device.handle_new("Number", prop, [(element, str(ms))])


def test_driver_switches_the_running_direction_off_before_the_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fuzz.indi_target import CheckingTransport
    from indi_playerone.ccd.device import PlayerOneCCD

    camera = st4_camera(monkeypatch)
    device = PlayerOneCCD(ARES, camera, CheckingTransport(), "0.1")
    device.handle_get_properties()
    device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    try:
        assert device.find("DRIVER_INFO")["DRIVER_INTERFACE"].value == "6"
        pulse(device, NS, "TIMED_GUIDE_N", 3000)
        pulse(device, WE, "TIMED_GUIDE_W", 3000)
        time.sleep(0.05)
        pulse(device, NS, "TIMED_GUIDE_S", 100)
        wait_for(lambda: device.get(NS).state.value == "Ok", 3)
        log = [(d, on) for d, on, _ in camera.guide_log()]
        assert log.index(("N", False)) < log.index(("S", True)) < log.index(("S", False))
        assert device.get(WE).state.value == "Busy"
        device.disconnect()  # ends the W pulse: every output that went on went off
        on = {}
        for d, state, _ in camera.guide_log():
            on[d] = state
        assert not any(on.values()), camera.guide_log()
    finally:
        device.disconnect()
        camera.close()


def test_sdk_backend_guide_goes_to_poasetconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK backend's guide(): refused without a port; a POASetConfig of a guide config,
    which the library refuses on a camera without a port (as the PRO line would) and takes on
    one with a port (the simulated SDK's ``st4`` option)."""
    import dataclasses

    from indi_playerone.camera.interface import CameraError

    simsdk.use(monkeypatch, "Ares-M PRO")
    with simulated_cameras()[0] as camera:
        with pytest.raises(CameraError, match="no ST4 port"):
            camera.guide("N", True)
        camera.info = dataclasses.replace(camera.info, has_st4=True)
        with pytest.raises(CameraError, match="POASetConfig"):
            camera.guide("N", True)
        with pytest.raises(CameraError, match="direction"):
            camera.guide("X", True)
    with st4_camera(monkeypatch) as camera:
        camera.guide("N", True)
        camera.guide("N", False)
        assert [(d, on) for d, on, _ in camera.guide_log()] == [("N", True), ("N", False)]


# --- through indiserver --------------------------------------------------------------------------

def serve(tmp_path: Path, models: str = "Ares-M PRO", options: str = "st4") -> IndiServer:
    env = simsdk.env(models, INDI_PLAYERONE_SIM_OPTIONS=options)
    server = IndiServer([DRIVER], env=env, home=tmp_path / "home")
    server.start()
    return server


@pytest.fixture
def guider(tmp_path: Path):
    with serve(tmp_path) as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.wait_property(ARES, NS, timeout=5)
        yield client


def wait_done(client: IndiClient, prop: str, timeout: float) -> float:
    snap = client.wait_until(ARES, prop, lambda s: s.state in ("Ok", "Alert"), timeout=timeout)
    assert snap.state == "Ok", client.messages(ARES)[-3:]
    assert set(snap.values().values()) == {0.0}
    return time.monotonic()


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
@pytest.mark.indiserver
def test_pulse_is_busy_then_ok_after_its_duration(guider: IndiClient) -> None:
    from tests.data.libindi_ccd_properties import playerone_flags, spec_for

    client = guider
    assert client.text(ARES, "DRIVER_INFO")["DRIVER_INTERFACE"] == "6"
    for name in (NS, WE):  # as libindi's GuiderInterface defines them (the oracle)
        spec, snap = spec_for(name, playerone_flags(st4=True)), client.describe(ARES, name)
        assert spec is not None
        assert (snap.kind, snap.group, snap.perm, snap.timeout) == \
            (spec.kind, spec.group, spec.perm, spec.timeout)
        assert [(e.name, e.label, e.min, e.max, e.step) for e in snap.elements] == \
            [(e.name, e.label, e.min, e.max, e.step) for e in spec.elements]
    started = time.monotonic()
    client.set_number(ARES, NS, {"TIMED_GUIDE_N": 700, "TIMED_GUIDE_S": 0})
    snap = client.wait_state(ARES, NS, {"Busy"}, timeout=2)
    assert snap == "Busy"
    assert wait_done(client, NS, timeout=5) - started >= 0.7


@pytest.mark.indiserver
def test_new_pulse_on_a_busy_axis_replaces_it_and_axes_are_independent(guider: IndiClient) -> None:
    client = guider
    client.set_number(ARES, WE, {"TIMED_GUIDE_W": 0, "TIMED_GUIDE_E": 3000})
    client.set_number(ARES, NS, {"TIMED_GUIDE_N": 20000, "TIMED_GUIDE_S": 0})
    client.wait_until(ARES, NS, lambda s: s.state == "Busy" and s.values()["TIMED_GUIDE_N"] == 20000,
                      timeout=2)
    started = time.monotonic()
    client.set_number(ARES, NS, {"TIMED_GUIDE_N": 0, "TIMED_GUIDE_S": 300})
    client.wait_until(ARES, NS, lambda s: s.values()["TIMED_GUIDE_S"] == 300, timeout=2)
    ended = wait_done(client, NS, timeout=5)  # 20 s pulse replaced: done after ~0.3 s
    assert ended - started >= 0.3
    assert client.state(ARES, WE) == "Busy"  # the E/W pulse runs on
    wait_done(client, WE, timeout=6)


@pytest.mark.indiserver
def test_disconnect_ends_running_pulses_and_guiding_works_after_reconnect(guider: IndiClient) -> None:
    client = guider
    client.set_number(ARES, NS, {"TIMED_GUIDE_N": 30000, "TIMED_GUIDE_S": 0})
    client.wait_state(ARES, NS, {"Busy"}, timeout=2)
    started = time.monotonic()
    client.disconnect_device(ARES, timeout=5)
    assert time.monotonic() - started < 5
    client.connect_device(ARES, timeout=15)
    client.wait_property(ARES, NS, timeout=5)
    client.set_number(ARES, NS, {"TIMED_GUIDE_N": 0, "TIMED_GUIDE_S": 200})
    wait_done(client, NS, timeout=5)


@pytest.mark.indiserver
def test_no_guide_properties_without_an_st4_port(tmp_path: Path) -> None:
    with serve(tmp_path, options="") as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.wait_quiet(ARES, quiet=0.3, timeout=10)
        names = client.property_names(ARES)
        assert NS not in names and WE not in names
        assert client.text(ARES, "DRIVER_INFO")["DRIVER_INTERFACE"] == "2"
