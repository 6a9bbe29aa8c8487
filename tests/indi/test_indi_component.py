"""The generic device machinery of ``indi_playerone.indi`` on a device that is not a camera.

A toy filter-wheel device (two components, one property each) is composed the way the camera
is: the tests check the one way a handler is bound (and that a second binding is refused,
never a silent override), the two-phase lifecycle, the default apply-Ok-update step and the
saved configuration, through the bytes a client would receive.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from indi_playerone.indi import names as N
from indi_playerone.indi.component import Component, handles
from indi_playerone.indi.defaultdevice import DefaultDevice, DriverIdentity
from indi_playerone.indi.spec import PropertySpec, SwitchSpec, TextSpec, num

SLOT = PropertySpec("Number", "FILTER_SLOT", "Filter Slot", N.MAIN_CONTROL, "rw", 60,
                    (num("FILTER_SLOT_VALUE", "Filter", "%3.0f", 1, 7, 1, 1),), saved=True)
NAMES = PropertySpec("Text", "FILTER_NAME", "Filter", "Filter", "rw", 0,
                     (TextSpec("FILTER_SLOT_NAME_1", "Filter#1", "L"),))
ONE_WAY = PropertySpec("Switch", "FILTER_UNIDIRECTIONAL_MOTION", "Unidirectional", N.OPTIONS,
                       "rw", 0, (SwitchSpec("INDI_ENABLED", "Enabled"),
                                 SwitchSpec("INDI_DISABLED", "Disabled", True)),
                       rule="OneOfMany", saved=True)
ABSENT = PropertySpec("Text", "NOT_DECLARED", "x", N.OPTIONS, "ro", 0, (TextSpec("X", "x"),))


class Sent:
    """The transport's send: keeps every message, parsed."""

    def __init__(self) -> None:
        self.elements: list[ET.Element] = []

    def send(self, xml: bytes) -> None:
        self.elements.extend(ET.fromstring(b"<r>" + xml + b"</r>"))

    def names(self, tag: str) -> list[str]:
        return [e.get("name", "") for e in self.elements if e.tag == tag]

    def last(self, name: str) -> ET.Element:
        return [e for e in self.elements if e.get("name") == name][-1]


class Slot(Component):
    def __init__(self, device: DefaultDevice) -> None:
        super().__init__(device)
        self.moves: list[float] = []
        self.slot = self.build(SLOT)
        self.names = self.build(NAMES)

    @handles(SLOT)
    def on_slot(self, vector: Any, values: dict) -> None:
        self.moves.append(values["FILTER_SLOT_VALUE"])
        self.device.accept(vector, values, "moved")


class Options(Component):
    def __init__(self, device: DefaultDevice) -> None:
        super().__init__(device)
        self.one_way = self.build(ONE_WAY)  # no handler: the default apply-Ok-update


class Wheel(DefaultDevice):
    connect_errors = (OSError,)
    noun = "wheel"

    def __init__(self, transport: Sent) -> None:
        super().__init__("Wheel", transport, DriverIdentity("W", "w_exec", "1.0", N.INTERFACE_FILTER),
                         always=N.DEFAULT_DEVICE, connected=(SLOT, NAMES, ONE_WAY))
        self.slot = Slot(self)
        self.options = Options(self)
        self.fail = False

    def connect(self) -> None:
        if self.fail:
            raise OSError("no wheel there")
        self.connected = True

    def disconnect(self) -> None:
        with self.lock:
            self.connected = False
            self.delete_connected()


@pytest.fixture
def wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Wheel, Sent]:
    monkeypatch.setenv("INDICONFIG", str(tmp_path / "wheel.xml"))
    sent = Sent()
    device = Wheel(sent)
    device.handle_get_properties()
    return device, sent


def test_two_handlers_for_one_spec_are_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match="FILTER_SLOT"):
        class Twice(Component):  # noqa: F841
            @handles(SLOT)
            def a(self, vector: Any, values: dict) -> None: ...

            @handles(SLOT)
            def b(self, vector: Any, values: dict) -> None: ...


def test_a_second_owner_of_a_vector_is_refused(wheel: tuple[Wheel, Sent]) -> None:
    device, _ = wheel

    class Thief(Component):
        def __init__(self, device: DefaultDevice) -> None:
            super().__init__(device)
            self.build(SLOT)

    with pytest.raises(ValueError, match="built by both Slot and Thief"):
        Thief(device)
    assert device.find(SLOT.name) is device.slot.slot


def test_a_vector_the_device_does_not_declare_is_refused(wheel: tuple[Wheel, Sent]) -> None:
    device, _ = wheel
    with pytest.raises(ValueError, match="NOT_DECLARED"):
        device.slot.build(ABSENT)
    assert device.slot.build_present(ABSENT) is None


def test_two_phases_and_the_bound_handlers(wheel: tuple[Wheel, Sent]) -> None:
    device, sent = wheel
    defined = [n for n in sent.names("defTextVector") + sent.names("defSwitchVector")
               + sent.names("defNumberVector")]
    assert set(defined) == {s.name for s in N.DEFAULT_DEVICE}
    info = sent.last("DRIVER_INFO")
    assert {e.get("name"): (e.text or "").strip() for e in info} == {
        "DRIVER_NAME": "W", "DRIVER_EXEC": "w_exec", "DRIVER_VERSION": "1.0",
        "DRIVER_INTERFACE": str(N.INTERFACE_FILTER)}

    device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    assert [v.name for v in device.vectors][-3:] == [SLOT.name, NAMES.name, ONE_WAY.name]
    assert sent.last("CONNECTION").get("state") == "Ok"

    device.handle_new("Number", SLOT.name, [("FILTER_SLOT_VALUE", "3")])
    assert device.slot.moves == [3.0]
    assert sent.last(SLOT.name).get("message") == "moved"
    device.handle_new("Switch", ONE_WAY.name, [("INDI_ENABLED", "On")])
    answer = sent.last(ONE_WAY.name)
    assert answer.tag == "setSwitchVector" and answer.get("state") == "Ok"
    assert device.options.one_way["INDI_ENABLED"].on

    device.handle_new("Switch", "CONNECTION", [("DISCONNECT", "On")])
    assert set(sent.names("delProperty")) == {SLOT.name, NAMES.name, ONE_WAY.name}
    assert not device.is_defined(SLOT.name)


def test_a_failed_connect_is_an_alert_with_the_reason(wheel: tuple[Wheel, Sent]) -> None:
    device, sent = wheel
    device.fail = True
    device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    answer = sent.last("CONNECTION")
    assert answer.get("state") == "Alert"
    assert answer.get("message") == "Error connecting to the wheel: no wheel there"
    assert not device.connected and not device.is_defined(SLOT.name)


def test_saved_vectors_come_back_at_the_next_connect(wheel: tuple[Wheel, Sent], tmp_path: Path) -> None:
    device, sent = wheel
    device.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    device.handle_new("Number", SLOT.name, [("FILTER_SLOT_VALUE", "5")])
    device.handle_new("Switch", ONE_WAY.name, [("INDI_ENABLED", "On")])
    device.handle_new("Switch", "CONFIG_PROCESS", [("CONFIG_SAVE", "On")])
    assert sent.last("CONFIG_PROCESS").get("state") == "Ok"
    text = (tmp_path / "wheel.xml").read_text()
    assert "FILTER_SLOT" in text and "FILTER_UNIDIRECTIONAL_MOTION" in text
    assert "FILTER_NAME" not in text  # not saved: its spec says so
    device.handle_new("Switch", "CONNECTION", [("DISCONNECT", "On")])

    again = Wheel(Sent())
    again.handle_get_properties()
    again.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
    assert again.slot.moves == [5.0]  # applied through the handler, as a client's would be
    assert again.options.one_way["INDI_ENABLED"].on
