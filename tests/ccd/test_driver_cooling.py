"""Cooling beyond the C++ driver (issue 5, "Cooling"): fan/heater defaults, a cooler that cannot
reach its target, warm-up on disconnect, impossible readings.

The behaviour tests run the real driver under indiserver with a real client, on simulated
cameras (the simulated SDK library's options ``cooler_tau`` short so the thermal model settles
in about a second, ``ambient``, ``no12v``; the fault file's ``12v`` line).
``INDI_PLAYERONE_TEST_TIME_SCALE=0.05`` runs the driver's temperature clock 20 times faster: a
reading every 50 ms, and the "how long before it says so" windows (10 s / 30 s) become 0.5 s /
1.5 s. The defaults and the reading filter are checked in process, on a real simulated camera
whose fan was left elsewhere.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers import simsdk
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.camera.sdk_camera import SdkCamera
from indi_playerone.ccd.temperature import (
    DELTA_T, NO_12V, CoolerWatch, TemperatureMonitor,
)
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer
from helpers.driver_server import DRIVER

ARES = "PlayerOne CCD Ares-C PRO"
ROOT = Path(__file__).resolve().parents[2]
TIME_SCALE = "0.05"


def server_env(models: str, sim_options: str = "", fault_file: Path | None = None) -> dict[str, str]:
    options = ",".join(filter(None, ["cooler_tau=0.3", "ambient=20", sim_options]))
    env = simsdk.env(models, INDI_PLAYERONE_TEST_TIME_SCALE=TIME_SCALE, INDI_PLAYERONE_SIM_OPTIONS=options)
    if fault_file is not None:
        env["INDI_PLAYERONE_SIM_FAULT_FILE"] = str(fault_file)
    return env


def sim_camera(monkeypatch: pytest.MonkeyPatch, model: str, cls: type[SdkCamera] = SdkCamera,
               options: str | None = None) -> SdkCamera:
    """An unopened simulated camera of this process, as ``cls``."""
    simsdk.use(monkeypatch, model, options=options)
    camera = simulated_cameras()[0]
    assert isinstance(camera, SdkCamera)
    return cls(camera.sdk, camera.props)


def serve(tmp_path: Path, env: dict[str, str]) -> IndiServer:
    server = IndiServer([DRIVER], env=env, home=tmp_path / "home")
    server.start()
    return server


def set_temperature(client: IndiClient, device: str, value: float) -> None:
    client.wait_property(device, "CCD_TEMPERATURE", timeout=10)
    client.set_number(device, "CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": value})


# --- the verdict itself (pure) ---------------------------------------------------------------

def feed(watch: CoolerWatch, readings: list[tuple[float, float]], setpoint: float,
         t0: float = 0.0) -> list[str | None]:
    return [watch.feed(t, p, setpoint, now=t0 + i) for i, (t, p) in enumerate(readings)]


def test_watch_no_power_is_12v_and_power_back_recovers() -> None:
    watch = CoolerWatch((3.0, 5.0))
    verdicts = feed(watch, [(20.0, 0.0)] * 5, setpoint=0.0)
    assert verdicts[:3] == [None, None, None] and verdicts[-1] == NO_12V
    assert watch.feed(19.5, 100.0, 0.0, now=5.0) is None  # the supply is back: power at once


def test_watch_full_power_flat_is_delta_t_and_a_falling_sensor_is_not() -> None:
    watch = CoolerWatch((3.0, 5.0))
    assert feed(watch, [(-15.0, 100.0)] * 7, setpoint=-40.0)[-1] == DELTA_T
    # Pulling down at full power, 0.2 °C a second (a reachable target on the way): never.
    falling = CoolerWatch((3.0, 5.0))
    assert set(feed(falling, [(10.0 - 0.2 * i, 100.0) for i in range(30)], setpoint=-10.0)) == {None}
    # At the setpoint (within 1 °C) nothing is judged, whatever the power.
    there = CoolerWatch((3.0, 5.0))
    assert set(feed(there, [(-9.5, 0.0)] * 10, setpoint=-10.0)) == {None}


def test_watch_new_setpoint_starts_afresh() -> None:
    watch = CoolerWatch((3.0, 5.0))
    assert feed(watch, [(20.0, 0.0)] * 5, setpoint=0.0)[-1] == NO_12V
    assert watch.feed(20.0, 0.0, -5.0, now=5.0) is None


# --- in process: defaults and impossible readings ------------------------------------------------

@pytest.mark.parametrize("model,fan", [("Zeus 455M PRO", 70.0), ("Ares-M PRO", 50.0)])
def test_fan_and_heater_defaults_applied_at_connect(tmp_path: Path, model: str, fan: float,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The manual's defaults by body (aluminium 70 %, carbon fibre 50 %; heater 10 %), even when
    the camera was left at other values (a camera keeps settings while powered)."""
    from tests.fuzz.indi_target import CheckingTransport
    from indi_playerone.ccd.device import PlayerOneCCD

    camera = sim_camera(monkeypatch, model)
    camera.open()
    names = {c.name for c in camera.controls()}
    assert {"FanPower", "LensHeaterPower"} <= names, sorted(names)
    camera.set_control("FanPower", 90)
    camera.set_control("LensHeaterPower", 40)
    device = PlayerOneCCD(f"PlayerOne CCD {model}", camera, CheckingTransport(), "0.1")
    device.handle_get_properties()
    device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    try:
        assert device.connected
        assert camera.get_control("FanPower")[0] == pytest.approx(fan)
        assert camera.get_control("LensHeaterPower")[0] == pytest.approx(10.0)
        controls = device.find("CCD_CONTROLS")
        if controls is not None:  # what the client sees: the defaults, not the old values
            assert controls["FanPower"].value == pytest.approx(fan)
            assert controls["LensHeaterPower"].value == pytest.approx(10.0)
    finally:
        device.disconnect()
        camera.close()


class _BadSensor(SdkCamera):
    """A simulated camera whose sensor reads what field reports show (-300 °C, NaN)."""

    readings = [-300.0, math.nan, 12.5]

    def temperature(self) -> float:
        return self.readings.pop(0)


class _Sink:
    def __init__(self) -> None:
        self.readings: list[float] = []

    def temperature_reading(self, reading) -> None:
        self.readings.append(reading.temperature_c)

    def temperature_error(self, message: str) -> None:
        raise AssertionError(message)


def test_impossible_readings_are_dropped_with_a_debug_message(caplog: pytest.LogCaptureFixture,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    camera = sim_camera(monkeypatch, "Ares-C PRO", _BadSensor)
    camera.open()
    monitor = TemperatureMonitor(camera, _Sink(), period=lambda: 3600.0)
    try:
        with caplog.at_level(logging.DEBUG, logger="indi_playerone.ccd.temperature"):
            assert monitor.read_once() is None
            assert monitor.read_once() is None
            reading = monitor.read_once()
        assert reading is not None and reading.temperature_c == 12.5
        texts = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
        assert any("-300" in t for t in texts) and any("nan" in t for t in texts)
    finally:
        monitor.close()
        camera.close()


class _NoHeating(SdkCamera):
    """A simulated camera whose cooler cannot warm the sensor above ambient (20 °C)."""

    def temperature(self) -> float:
        return min(super().temperature(), 20.0)


def test_target_above_ambient_is_taken_as_reached_once_stable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from indi_playerone.ccd.device import PlayerOneCCD
    from tests.fuzz.indi_target import CheckingTransport

    monkeypatch.setenv("INDI_PLAYERONE_COOLER_STALL_S", "1.5")
    camera = sim_camera(monkeypatch, "Ares-C PRO", _NoHeating, options="ambient=20,cooler_tau=0.3")
    transport = CheckingTransport()
    device = PlayerOneCCD(ARES, camera, transport, "0.1")
    device.handle_get_properties()
    device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    try:
        device.handle_new("Number", "CCD_TEMPERATURE", [("CCD_TEMPERATURE_VALUE", "25")])
        assert device.get("CCD_TEMPERATURE").state.value == "Busy"
        deadline = time.monotonic() + 10
        while device.get("CCD_TEMPERATURE").state.value != "Ok":
            assert time.monotonic() < deadline, "still Busy below an unreachable warm target"
            time.sleep(0.1)
        texts = [e.get("message", "") for e in list(transport.elements)]
        assert any("cannot warm it above ambient" in t for t in texts)
    finally:
        device.disconnect()
        camera.close()


# --- through indiserver ------------------------------------------------------------------------

@pytest.mark.indiserver
def test_cooler_trouble_is_named_and_its_end_reported(tmp_path: Path) -> None:
    """No 12 V (the camera images but cannot cool), the supply back, then a target beyond the
    model's ΔT, then a reachable one: each said in CCD_TEMPERATURE's state and message."""
    fault_file = tmp_path / "faults"
    fault_file.write_text("")
    env = server_env("Ares-C PRO", sim_options="no12v", fault_file=fault_file)
    with serve(tmp_path, env) as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        set_temperature(client, ARES, 0)
        client.wait_state(ARES, "CCD_TEMPERATURE", {"Alert"}, timeout=15)
        text = client.wait_message(ARES, "12 V", timeout=5)
        assert "cannot cool" in text
        assert client.number(ARES, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"] > 15
        assert client.number(ARES, "CCD_COOLER_POWER")["CCD_COOLER_VALUE"] == 0

        with fault_file.open("a") as f:  # the supply comes back
            f.write("12v\n")
        client.wait_message(ARES, "cooling again", timeout=10)
        client.wait_until(ARES, "CCD_TEMPERATURE",
                          lambda s: s.state in ("Busy", "Ok")
                          and s.values()["CCD_TEMPERATURE_VALUE"] < 15, timeout=10)

        set_temperature(client, ARES, -40)  # ambient 20: ΔT 60 °C, the Ares reaches 35-40
        client.wait_state(ARES, "CCD_TEMPERATURE", {"Alert"}, timeout=15)
        text = client.wait_message(ARES, "ΔT beyond the model's limit of 35-40 °C below ambient",
                                   timeout=5)
        assert "Cannot reach -40.0 C" in text
        assert client.number(ARES, "CCD_COOLER_POWER")["CCD_COOLER_VALUE"] >= 95
        recoveries = sum("cooling again" in m for m in client.messages(ARES))
        set_temperature(client, ARES, 5)
        client.wait_state(ARES, "CCD_TEMPERATURE", {"Ok"}, timeout=15)
        assert abs(client.number(ARES, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"] - 5) <= 1.0
        # A new target is a new start, not a recovery.
        assert sum("cooling again" in m for m in client.messages(ARES)) == recoveries


@contextmanager
def warm_up_armed(tmp_path: Path, start_c: float, rate: float, max_min: float) -> Iterator[IndiClient]:
    """A served Ares-C PRO, connected, cooled to ``start_c`` and set to warm up on disconnect at
    ``rate`` °C/min for at most ``max_min`` minutes."""
    with serve(tmp_path, server_env("Ares-C PRO")) as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.wait_property(ARES, "CCD_WARMUP_SETTINGS", timeout=10)
        client.set_number(ARES, "CCD_WARMUP_SETTINGS", {"WARMUP_RATE": rate, "WARMUP_MAX_MIN": max_min})
        client.wait_state(ARES, "CCD_WARMUP_SETTINGS", {"Ok"}, timeout=5)
        client.set_switch(ARES, "CCD_WARMUP_ON_DISCONNECT", ["INDI_ENABLED"])
        client.wait_state(ARES, "CCD_WARMUP_ON_DISCONNECT", {"Ok"}, timeout=5)
        set_temperature(client, ARES, start_c)
        client.wait_state(ARES, "CCD_TEMPERATURE", {"Ok"}, timeout=15)
        yield client


def start_disconnect(client: IndiClient) -> float:
    """Ask for DISCONNECT and wait for Busy (the warm-up runs); the monotonic time then."""
    client.set_switch(ARES, "CONNECTION", ["DISCONNECT"])
    client.wait_state(ARES, "CONNECTION", {"Busy"}, timeout=5)
    return time.monotonic()


def wait_disconnected(client: IndiClient, timeout: float) -> None:
    client.wait_until(ARES, "CONNECTION", lambda s: s.state == "Idle" and s.values()["DISCONNECT"],
                      timeout=timeout)


@pytest.mark.indiserver
def test_warm_up_ramps_to_ambient_before_the_cooler_goes_off(tmp_path: Path) -> None:
    """A CONNECT during the warm-up cancels it; the next DISCONNECT ramps 17 -> 20 °C."""
    with warm_up_armed(tmp_path, 17, rate=30, max_min=1) as client:
        start_disconnect(client)
        client.set_switch(ARES, "CONNECTION", ["CONNECT"])
        client.wait_message(ARES, "Warm-up cancelled", timeout=5)
        client.wait_until(ARES, "CONNECTION", lambda s: s.state == "Ok" and s.values()["CONNECT"],
                          timeout=5)
        time.sleep(1.0)  # a warm-up thread left running would disconnect meanwhile
        assert client.state(ARES, "CONNECTION") == "Ok"
        assert "CCD_EXPOSURE" in client.property_names(ARES)
        set_temperature(client, ARES, 17)  # the cancelled ramp had started to climb
        client.wait_until(ARES, "CCD_TEMPERATURE", lambda s: s.state == "Ok"
                          and s.values()["CCD_TEMPERATURE_VALUE"] < 17.5, timeout=10)

        temps: list[float] = []
        started = start_disconnect(client)
        while client.state(ARES, "CONNECTION") == "Busy" and time.monotonic() - started < 30:
            try:
                temps.append(client.number(ARES, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"])
            except KeyError:  # deleted at the very end
                break
            time.sleep(0.25)
        wait_disconnected(client, timeout=10)
        took = time.monotonic() - started
        # 30 °C/min from 17 °C to 20 °C: about 6 s of ramp, not a jump (a jump would end in ~1 s
        # with tau 0.3 s) and not a cut (the ramp ends near ambient). The SDK's target is whole
        # degrees (POA_TARGET_TEMP is an INT config): the setpoint climbs in 1 °C steps and the
        # ramp ends as it reaches ambient, the sensor then within that last step of it.
        assert took > 4, (took, temps)
        assert temps[-1] > 18.5 and min(temps) < 18, temps
        steps = [b - a for a, b in zip(temps, temps[1:]) if b > a + 0.05]
        # One reading a second at 0.5 °C/s, the setpoint in whole degrees: a rise per degree,
        # each at most one step (a jump is one rise of the whole 3 °C).
        assert len(steps) >= 2 and max(steps) < 1.5, [round(t, 2) for t in temps]
        assert any("Warm-up ended (" in m and "cooler off" in m for m in client.messages(ARES))


@pytest.mark.indiserver
def test_warm_up_is_capped(tmp_path: Path) -> None:
    """WARMUP_MAX_MIN bounds the disconnect: 0.1 min at 3 °C/min ends far from ambient."""
    with warm_up_armed(tmp_path, 10, rate=3, max_min=0.1) as client:
        started = start_disconnect(client)
        wait_disconnected(client, timeout=15)
        assert 5 < time.monotonic() - started < 12
        assert any("time limit" in m for m in client.messages(ARES))


@pytest.mark.indiserver
def test_a_saved_fan_power_wins_over_the_default(tmp_path: Path) -> None:
    """The defaults go to the camera before the saved config loads."""
    with serve(tmp_path, server_env("Ares-C PRO")) as server, \
            IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.wait_property(ARES, "CCD_CONTROLS", timeout=10)
        assert client.number(ARES, "CCD_CONTROLS")["FanPower"] == 50
        client.set_number(ARES, "CCD_CONTROLS", {"FanPower": 85})
        client.wait_until(ARES, "CCD_CONTROLS", lambda s: s.state == "Ok"
                          and s.values()["FanPower"] == 85, timeout=5)
        client.set_switch(ARES, "CONFIG_PROCESS", ["CONFIG_SAVE"])
        client.wait_state(ARES, "CONFIG_PROCESS", {"Ok"}, timeout=5)
        client.disconnect_device(ARES)
        client.connect_device(ARES, timeout=15)
        client.wait_until(ARES, "CCD_CONTROLS", lambda s: s.values()["FanPower"] == 85, timeout=5)
