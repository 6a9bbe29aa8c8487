"""``indi_playerone_wheel`` under the real indiserver (both generations) with the real client library.

The simulated 7-slot Phoenix wheel (``native/simsdk/sim_wheel.c``) moves 50 times faster than the
real one is assumed to; its memory (aliases, offsets, custom name) is a state file per test. Each
test is the issue's "done when" list: every slot both ways with one-way rotation off and on,
calibration, what the wheel stores surviving a driver restart, and each fault (a firmware error,
a wheel stuck while it moves, a wheel unplugged while it moves) ending in Alert with a message and
a working next move. Waits are on the client's events, except the 60 ms a fault line takes
to reach the library (it reads the file at most every 50 ms).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import IndiClient
from helpers.waiting import wait_until
from helpers.wheel import SERIAL7, W7, WHEEL_DRIVER, wheel_env

pytestmark = [pytest.mark.indiserver, pytest.mark.generations]

NAMES7 = ("Red", "Green", "Blue", "H_Alpha", "SII", "OIII", "LPR")


def states_since(client: IndiClient, mark: int, name: str, device: str = W7) -> list[str]:
    """The states ``device.name`` was sent with since ``mark``."""
    with client._cond:
        return [ev.state for ev in client._history_since(mark) if ev.device == device and ev.name == name]


def connect_fast(client: IndiClient, device: str = W7) -> None:
    client.connect_device(device)
    client.wait_state(device, "FILTER_SLOT", {"Ok"}, timeout=10)  # the first self-check is over
    client.set_number(device, "POLLING_PERIOD", {"PERIOD_MS": 20})
    client.wait_until(device, "POLLING_PERIOD", lambda s: s.values()["PERIOD_MS"] == 20, timeout=5)


def move(client: IndiClient, slot: int, device: str = W7) -> list[str]:
    """Ask for ``slot`` and wait until FILTER_SLOT is Ok there; the states sent meanwhile."""
    mark = client._mark()
    client.set_number(device, "FILTER_SLOT", {"FILTER_SLOT_VALUE": slot})

    def arrived(s) -> bool:
        if s.state == "Alert" and s.seq > mark:
            raise AssertionError(f"move to {slot} failed: {client.messages(device)[-3:]}")
        return s.seq > mark and s.state == "Ok" and s.values()["FILTER_SLOT_VALUE"] == slot

    client.wait_until(device, "FILTER_SLOT", arrived, timeout=10)
    return states_since(client, mark, "FILTER_SLOT", device)


def answered(client: IndiClient, send, name: str, values, device: str = W7):
    """Send ``values`` with ``send`` (client.set_text, ...) and wait for the driver's answer (the
    next Ok or Alert of ``name``); the snapshot."""
    mark = client._mark()
    send(device, name, values)
    return client.wait_until(device, name, lambda s: s.seq > mark and s.state in ("Ok", "Alert"), 10)


def last_message(client: IndiClient, device: str = W7) -> str:
    return client.messages(device)[-1].strip()


def alert_after(client: IndiClient, mark: int, name: str = "FILTER_SLOT", timeout: float = 10) -> str:
    """Wait for ``name`` to turn Alert after ``mark``; the message that came with it."""
    client.wait_until(W7, name, lambda s: s.seq > mark and s.state == "Alert", timeout)
    return last_message(client)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "wheel-memory"


@pytest.fixture
def served(indiserver_factory, state: Path) -> Iterator[IndiClient]:
    server = indiserver_factory([WHEEL_DRIVER], env=wheel_env(state))
    with IndiClient(server.port) as client:
        client.wait_device(W7)
        connect_fast(client)
        yield client


def test_every_slot_both_ways_with_one_way_off_and_on(served: IndiClient, state: Path) -> None:
    client = served
    for one_way in ("INDI_DISABLED", "INDI_ENABLED"):
        snap = answered(client, client.set_switch, "FILTER_UNIDIRECTIONAL_MOTION", [one_way])
        assert snap.state == "Ok" and snap.values()[one_way]
        stored = (state / f"{SERIAL7}.conf").read_text()
        assert f"one_way={int(one_way == 'INDI_ENABLED')}" in stored  # the wheel's own setting
        for slot in [*range(2, 8), *range(6, 0, -1)]:
            seen = move(client, slot)
            # Busy from the request on, Ok once the SDK reports the slot; never an Alert
            assert seen[0] == "Busy" and seen[-1] == "Ok" and "Alert" not in seen, (slot, seen)
            assert last_message(client).endswith(f"At slot {slot} ({NAMES7[slot - 1]}).")
    # a move to where the wheel is: Ok at once
    assert move(client, 1) == ["Ok"]


def test_calibration_and_a_move_refused_while_one_runs(served: IndiClient) -> None:
    client = served
    move(client, 4)
    mark = client._mark()
    client.set_switch(W7, "FILTER_CALIBRATION", ["CALIBRATE"])
    client.wait_until(W7, "FILTER_CALIBRATION", lambda s: s.seq > mark and s.state == "Busy", 5)
    # the self-check takes 5.5 s x 0.02 = 110 ms: a move asked for meanwhile is refused, said so
    client.set_number(W7, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 2})
    text = alert_after(client, mark)
    assert "Slot 2 refused: the wheel is calibrating" in text
    client.wait_until(W7, "FILTER_CALIBRATION", lambda s: s.state == "Ok", 10)
    snap = client.wait_until(W7, "FILTER_SLOT", lambda s: s.state == "Ok", 10)
    assert snap.values()["FILTER_SLOT_VALUE"] == 1  # calibrating ends at slot 1
    assert client.switch(W7, "FILTER_CALIBRATION") == {"CALIBRATE": False}
    move(client, 2)


def test_what_the_wheel_stores_survives_a_driver_restart(indiserver_factory, served: IndiClient,
                                                         state: Path, tmp_path: Path) -> None:
    client = served
    names = dict(zip([f"FILTER_SLOT_NAME_{i}" for i in range(1, 8)],
                     ("L", "R", "G", "B", "Ha 7nm", "OIII 7nm", "SII 7nm")))
    snap = answered(client, client.set_text, "FILTER_NAME", names)
    assert (snap.state, snap.values()) == ("Ok", names)
    offsets = {f"FILTER_FOCUS_OFFSET_{i}": v for i, v in enumerate((0, 12, 8, -20, 140, 135, 150), 1)}
    snap = answered(client, client.set_number, "FILTER_FOCUS_OFFSETS", offsets)
    assert (snap.state, snap.values()) == ("Ok", offsets)
    snap = answered(client, client.set_text, "WHEEL_CUSTOM_NAME", {"CUSTOM_NAME": "Triplet"})
    assert snap.state == "Ok"
    assert 'named "PlayerOne Phoenix 7x36mm [Triplet]" from the next start' in last_message(client)
    # refused: too long for the wheel (it keeps 23 bytes), nothing stored
    snap = answered(client, client.set_text, "FILTER_NAME", {"FILTER_SLOT_NAME_3": "Baader CMOS-optimised Green"})
    assert snap.state == "Alert" and snap.values() == names
    assert "is 27 bytes; the wheel keeps at most 23" in last_message(client)
    move(client, 5)
    assert last_message(client).endswith("At slot 5 (Ha 7nm).")

    # A new driver process, another HOME (no saved configuration): the wheel still knows.
    server = indiserver_factory([WHEEL_DRIVER], env=wheel_env(state), home=tmp_path / "other-home")
    renamed = "PlayerOne Phoenix 7x36mm [Triplet]"
    with IndiClient(server.port) as again:
        again.wait_device(renamed)
        connect_fast(again, renamed)
        again.wait_property(renamed, "FILTER_FOCUS_OFFSETS")
        assert again.text(renamed, "FILTER_NAME") == names
        assert again.number(renamed, "FILTER_FOCUS_OFFSETS") == offsets
        assert again.text(renamed, "WHEEL_CUSTOM_NAME") == {"CUSTOM_NAME": "Triplet"}
        assert again.text(renamed, "Serial Number") == {"SN#": SERIAL7}


@contextmanager
def faulty_wheel(indiserver_factory, state: Path, tmp_path: Path, **kw) -> Iterator[tuple[IndiClient, Path]]:
    """W7 connected under indiserver, and the empty fault file its library reads."""
    faults = tmp_path / "faults"
    faults.write_text("")
    server = indiserver_factory([WHEEL_DRIVER], env=wheel_env(state, fault_file=faults, **kw))
    with IndiClient(server.port) as client:
        client.wait_device(W7)
        connect_fast(client)
        yield client, faults


def arm(faults: Path, word: str) -> None:
    """One fault line for W7, in force once this returns."""
    faults.write_text(f"{word}@{SERIAL7}\n")
    time.sleep(0.06)  # the library reads the fault file at most every 50 ms


def move_under_fault(client: IndiClient, faults: Path, word: str, slot: int) -> int:
    """Arm fault ``word`` and ask for ``slot``; the client's mark from just before the request."""
    arm(faults, word)
    mark = client._mark()
    client.set_number(W7, "FILTER_SLOT", {"FILTER_SLOT_VALUE": slot})
    return mark


def test_firmware_error_ends_in_alert_and_the_next_move_works(indiserver_factory, state: Path,
                                                              tmp_path: Path) -> None:
    with faulty_wheel(indiserver_factory, state, tmp_path) as (client, faults):
        move(client, 2)
        mark = move_under_fault(client, faults, "firmware_error", 3)
        text = alert_after(client, mark)
        assert "Firmware error moving to slot 3" in text and "PW_ERROR_FIRMWARE_ERROR" in text
        assert "The wheel was reset and is at slot 1 (Red); move again." in text
        assert states_since(client, mark, "FILTER_SLOT")[:1] == ["Busy"]  # the reset, followed
        assert client.number(W7, "FILTER_SLOT")["FILTER_SLOT_VALUE"] == 1
        move(client, 3)


def test_a_wheel_stuck_in_a_move_ends_in_alert_and_the_next_move_works(indiserver_factory, state: Path,
                                                                        tmp_path: Path) -> None:
    with faulty_wheel(indiserver_factory, state, tmp_path, timeout_s=1.0) as (client, faults):
        mark = move_under_fault(client, faults, "stuck", 4)
        client.wait_until(W7, "FILTER_SLOT", lambda s: s.seq > mark and s.state == "Busy", 5)
        client.set_number(W7, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 6})
        assert "Slot 6 refused: the wheel is moving to slot 4" in alert_after(client, mark)
        mark = client._mark()
        text = alert_after(client, mark, timeout=10)
        assert "did not finish moving to slot 4 within 1 s (stuck?)" in text
        assert "The wheel was reset and is at slot 1 (Red); move again." in text
        move(client, 4)


def test_a_wheel_unplugged_in_a_move_ends_in_alert_and_works_when_back(indiserver_factory, state: Path,
                                                                        tmp_path: Path) -> None:
    with faulty_wheel(indiserver_factory, state, tmp_path, hotplug_s=0.1) as (client, faults):
        mark = move_under_fault(client, faults, "unplug_in_move", 5)
        text = alert_after(client, mark)
        assert "Lost the wheel while moving to slot 5" in text and "unplugged" in text
        client.wait_message(None, f"{W7} was unplugged", timeout=10)
        assert wait_until(lambda: W7 not in client.devices() or not client.property_names(W7), 5)
        with faults.open("a") as f:
            f.write(f"replug@{SERIAL7}\n")
        client.wait_message(None, f"plugged in: serving it as {W7}", timeout=10)
        client.wait_property(W7, "CONNECTION")
        connect_fast(client)
        move(client, 5)


def test_two_wheels_in_one_process_and_an_unknown_name(indiserver_factory, state: Path) -> None:
    server = indiserver_factory([WHEEL_DRIVER], env=wheel_env(
        state, 'Phoenix 7x36mm, phoenix 5X2", Phoenix 7x36mm'))
    with IndiClient(server.port) as client:
        for device in (W7, 'PlayerOne Phoenix 5x2"', f"{W7} 1"):
            client.wait_device(device)
        client.wait_property(f"{W7} 1", "CONNECTION")
        connect_fast(client, f"{W7} 1")
        assert client.text(f"{W7} 1", "Serial Number") == {"SN#": "SIM-PHOENIX-7X36MM-0002"}
        move(client, 6, f"{W7} 1")
        assert client.number(W7, "POLLING_PERIOD")["PERIOD_MS"] == 250  # the other one untouched
    bad = indiserver_factory([WHEEL_DRIVER], env=wheel_env(state, "Phoenix 7x36mm,Phoenix 9x2in"))
    with IndiClient(bad.port) as client:
        text = client.wait_message(None, "unknown filter wheel", timeout=10)
        assert "'Phoenix 9x2in'; valid wheels: Phoenix 8x1.25\", Phoenix 7x36mm, Phoenix 7x2\", " \
               "Phoenix 7x50mm, Phoenix 5x2\"" in text
        assert client.devices() == []
