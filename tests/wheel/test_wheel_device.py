"""The wheel device in-process, over the simulated SDK library loaded here: what a client would
receive, for the paths quicker to drive without indiserver: the joystick (snooped updates are
fed to the device as the driver loop feeds them), refused input, a disconnect while moving.
"""
from __future__ import annotations

import ctypes
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.waiting import wait_until
from helpers.wheel import TIME_SCALE, simsdk_library
from indi_playerone.camera.wheel_registry import discover_wheels
from indi_playerone.camera.wheel_loader import load_simulated_pw
from indi_playerone.wheel.device import PlayerOneWheel


class Sent:
    """The transport's send: every message, parsed."""

    def __init__(self) -> None:
        self.elements: list[ET.Element] = []

    def send(self, xml: bytes) -> None:
        self.elements.extend(ET.fromstring(b"<r>" + xml + b"</r>"))

    def last(self, name: str) -> ET.Element:
        return [e for e in self.elements if e.get("name") == name][-1]

    def snoops(self) -> list[tuple[str | None, str | None]]:
        return [(e.get("device"), e.get("name")) for e in self.elements if e.tag == "getProperties"]


@pytest.fixture
def wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PlayerOneWheel, Sent]]:
    library = simsdk_library()
    monkeypatch.setenv("INDI_PLAYERONE_SIM_SDK", library)
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE_WHEEL", "Phoenix 7x36mm")
    monkeypatch.setenv("INDI_PLAYERONE_SIM_WHEEL_OPTIONS", f"time_scale={TIME_SCALE},state={tmp_path}")
    monkeypatch.setenv("INDICONFIG", str(tmp_path / "config.xml"))
    ctypes.CDLL(library).SimPOA_Reset()  # the same library object: start from a new "process"
    (found,) = discover_wheels([load_simulated_pw()])
    sent = Sent()
    device = PlayerOneWheel("Wheel", found, sent, "0.1")
    device.handle_get_properties()
    device.handle_new("Number", "POLLING_PERIOD", [("PERIOD_MS", "10")])
    device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    assert sent.last("CONNECTION").get("state") == "Ok"
    assert wait_until(lambda: sent.last("FILTER_SLOT").get("state") == "Ok", 5)  # the self-check
    yield device, sent
    device.disconnect()
    ctypes.CDLL(library).SimPOA_Reset()


def slot_of(sent: Sent) -> tuple[str | None, float]:
    last = sent.last("FILTER_SLOT")
    return last.get("state"), float((last[0].text or "").strip())


def settled(sent: Sent, slot: int) -> bool:
    return wait_until(lambda: slot_of(sent) == ("Ok", slot), 5)


def snooped(kind: str, name: str, *elements: tuple[str, str], device: str = "Joystick") -> ET.Element:
    tag = {"Number": "oneNumber", "Switch": "oneSwitch"}[kind]
    body = "".join(f"<{tag} name='{n}'>{v}</{tag}>" for n, v in elements)
    return ET.fromstring(f"<set{kind}Vector device='{device}' name='{name}'>{body}</set{kind}Vector>")


def test_the_joystick_steps_through_the_slots(wheel: tuple[PlayerOneWheel, Sent]) -> None:
    device, sent = wheel
    stick = lambda angle: snooped("Number", "JOYSTICK_1", ("JOYSTICK_MAGNITUDE", "1"),  # noqa: E731
                                  ("JOYSTICK_ANGLE", str(angle)))
    device.on_snoop(stick(270))
    time.sleep(0.05)
    assert slot_of(sent) == ("Ok", 1)  # off: nothing snooped, nothing moves
    device.handle_new("Switch", "USEJOYSTICK", [("ENABLE", "On")])
    assert device.is_defined("JOYSTICKSETTINGS")
    assert {("Joystick", "JOYSTICK_1"), ("Joystick", "JOYSTICK_AXES"),
            ("Joystick", "JOYSTICK_BUTTONS")} <= set(sent.snoops())
    device.on_snoop(stick(270))  # down: the next slot
    assert settled(sent, 2)
    device.on_snoop(stick(90))  # up: the previous
    assert settled(sent, 1)
    device.on_snoop(stick(90))  # ... wrapping to the last
    assert settled(sent, 7)
    device.on_snoop(snooped("Number", "JOYSTICK_1", ("JOYSTICK_MAGNITUDE", "0.5"), ("JOYSTICK_ANGLE", "270")))
    device.on_snoop(ET.Element("delProperty", device="Joystick", name="JOYSTICK_1"))  # ignored
    device.on_snoop(snooped("Switch", "JOYSTICK_BUTTONS", ("BUTTON_1", "On"), ("BUTTON_2", "Off")))
    assert settled(sent, 1)  # "Reset": slot 1
    device.on_snoop(snooped("Number", "JOYSTICK_1", ("JOYSTICK_MAGNITUDE", "1"), ("JOYSTICK_ANGLE", "270"),
                            device="Other Joystick"))
    time.sleep(0.05)
    assert slot_of(sent) == ("Ok", 1)  # not the joystick it snoops
    # an action's kind cannot change (libindi's Controller)
    device.handle_new("Text", "JOYSTICKSETTINGS", [("Reset", "JOYSTICK_2")])
    last = sent.last("JOYSTICKSETTINGS")
    assert last.get("state") == "Alert" and last.get("message") == "Cannot change controller type to JOYSTICK_2."
    device.handle_new("Switch", "USEJOYSTICK", [("DISABLE", "On")])
    assert not device.is_defined("JOYSTICKSETTINGS")


def test_refused_input_says_why_and_changes_nothing(wheel: tuple[PlayerOneWheel, Sent]) -> None:
    device, sent = wheel
    device.handle_new("Number", "FILTER_SLOT", [("FILTER_SLOT_VALUE", "2.5")])
    last = sent.last("FILTER_SLOT")
    assert last.get("state") == "Alert" and "slots are whole numbers, 1 to 7" in last.get("message", "")
    device.handle_new("Number", "FILTER_SLOT", [("FILTER_SLOT_VALUE", "8")])
    assert "out of range [1, 7]" in sent.last("FILTER_SLOT").get("message", "")
    device.handle_new("Text", "FILTER_NAME", [("FILTER_SLOT_NAME_2", "ééééééééééééé")])  # 26 bytes
    assert "is 26 bytes; the wheel keeps at most 23" in sent.last("FILTER_NAME").get("message", "")
    device.handle_new("Number", "FILTER_FOCUS_OFFSETS", [("FILTER_FOCUS_OFFSET_3", "10.5")])
    last = sent.last("FILTER_FOCUS_OFFSETS")
    assert last.get("state") == "Alert" and "whole focuser steps" in last.get("message", "")
    device.handle_new("Text", "WHEEL_CUSTOM_NAME", [("CUSTOM_NAME", "x" * 24)])
    assert sent.last("WHEEL_CUSTOM_NAME").get("state") == "Alert"
    assert device.wheel.aliases()[1] == "" and device.wheel.custom_name() == ""
    # a name the wheel keeps, with the defaults sent back as Ekos does: only slot 2 is written
    device.handle_new("Text", "FILTER_NAME", [("FILTER_SLOT_NAME_1", "Red"), ("FILTER_SLOT_NAME_2", "Ha")])
    assert device.wheel.aliases()[:2] == ["", "Ha"]
    assert sent.last("FILTER_NAME").get("state") == "Ok"


def test_disconnect_while_moving_and_connect_again(wheel: tuple[PlayerOneWheel, Sent]) -> None:
    device, sent = wheel
    device.handle_new("Number", "FILTER_SLOT", [("FILTER_SLOT_VALUE", "4")])
    assert slot_of(sent) == ("Busy", 1)  # the true position: the slot it left
    device.handle_new("Switch", "CONNECTION", [("DISCONNECT", "On")])
    assert not device.is_defined("FILTER_SLOT")
    device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    assert sent.last("CONNECTION").get("state") == "Ok"
    assert wait_until(lambda: slot_of(sent) == ("Ok", 4), 5)  # the wheel finished on its own
