"""The filter wheel's property set against libindi's, under both INDI generations.

The reference (``data/libindi_wheel_properties.py``) is first checked against each generation's
own ``indi_simulator_wheel``; then ``indi_playerone_wheel`` is compared with it: the libindi
filter-wheel vectors and the Player One C++ driver's extras, with their names, kinds, groups,
perms, rules, timeouts, labels and element shapes, plus the driver's own vectors (listed below).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from data.libindi_wheel_properties import PLAYERONE_FLAGS, SIMULATOR_FLAGS, expected, spec_for
from harness import IndiClient, PropertySnapshot
from harness.generations import Generation
from helpers.property_diff import element_differences
from helpers.waiting import wait_until
from helpers.wheel import W7, WHEEL_DRIVER, wheel_env

pytestmark = [pytest.mark.indiserver, pytest.mark.generations]

SIM, SIM_DEVICE = "indi_simulator_wheel", "Filter Simulator"

#: The driver's own vectors, beyond libindi's and the C++ driver's (issue 18).
OURS = {"FILTER_FOCUS_OFFSETS", "Serial Number", "SDK", "WHEEL_CUSTOM_NAME"}
#: libindi's that the driver does not define, and why (none).
NOT_DEFINED: dict[str, str] = {}


def differences(spec, snap: PropertySnapshot, *, slot_format: str | None = None) -> set[str]:
    """What in ``snap`` differs from ``spec`` (names, shape, labels, number limits)."""
    name = spec.name
    out: set[str] = set()
    for field in ("kind", "group", "perm", "timeout"):
        if getattr(snap, field) != getattr(spec, field):
            out.add(f"{name}: {field} {getattr(snap, field)!r} != {getattr(spec, field)!r}")
    if spec.kind == "Switch" and snap.rule != spec.rule:
        out.add(f"{name}: rule {snap.rule} != {spec.rule}")
    if spec.label is not None and snap.label != spec.label:
        out.add(f"{name}: label {snap.label!r} != {spec.label!r}")
    got = [e.name for e in snap.elements]
    if spec.elements_mode == "dynamic":  # FILTER_NAME: one element per slot
        want = [f"FILTER_SLOT_NAME_{i}" for i in range(1, len(got) + 1)]
        if got != want or not got:
            out.add(f"{name}: elements {got}")
        labels = {f"FILTER_SLOT_NAME_{i}": f"Filter#{i}" for i in range(1, len(got) + 1)}
        out |= {f"{name}.{e.name}: label {e.label!r}" for e in snap.elements if e.label != labels[e.name]}
        return out
    if got != spec.element_names:
        out.add(f"{name}: elements {got} != {spec.element_names}")
    slot = slot_format if name == "FILTER_SLOT" else None
    return out | element_differences(name, spec.elements, snap.elements, format_=slot)


def test_the_reference_agrees_with_indi_simulator_wheel(indiserver_factory, indi_generation: Generation) -> None:
    server = indiserver_factory([SIM])
    with IndiClient(server.port) as client:
        client.wait_device(SIM_DEVICE)
        client.wait_property(SIM_DEVICE, "CONFIG_PROCESS")
        before = set(client.property_names(SIM_DEVICE))
        assert before == {p.name for p in expected(indi_generation.name, SIMULATOR_FLAGS)}
        client.connect_device(SIM_DEVICE)
        flags = SIMULATOR_FLAGS | {"connected"}
        want = {p.name for p in expected(indi_generation.name, flags)}
        for name in want:
            client.wait_property(SIM_DEVICE, name, timeout=10)
        assert set(client.property_names(SIM_DEVICE)) == want
        found: set[str] = set()
        for name in want:
            found |= differences(spec_for(indi_generation.name, name), client.describe(SIM_DEVICE, name))
        assert found == set()
        client.set_switch(SIM_DEVICE, "USEJOYSTICK", ["ENABLE"])
        client.wait_property(SIM_DEVICE, "JOYSTICKSETTINGS", timeout=5)
        settings = client.describe(SIM_DEVICE, "JOYSTICKSETTINGS")
        assert differences(spec_for(indi_generation.name, "JOYSTICKSETTINGS"), settings) == set()
        assert settings.values() == {"Change Filter": "JOYSTICK_1", "Reset": "BUTTON_1"}


def test_the_driver_serves_the_filter_wheel_set(indiserver_factory, tmp_path: Path,
                                                indi_generation: Generation) -> None:
    server = indiserver_factory([WHEEL_DRIVER], env=wheel_env(tmp_path / "state"))
    gen = indi_generation.name
    with IndiClient(server.port) as client:
        client.wait_device(W7)
        client.wait_property(W7, "POLLING_PERIOD")
        assert set(client.property_names(W7)) == {p.name for p in expected(gen, PLAYERONE_FLAGS)}
        assert client.number(W7, "POLLING_PERIOD")["PERIOD_MS"] == 250  # the C++ driver's default
        info = client.text(W7, "DRIVER_INFO")
        assert (info["DRIVER_NAME"], info["DRIVER_EXEC"], info["DRIVER_INTERFACE"]) == (
            "PlayerOne EFW", "indi_playerone_wheel", "16")
        client.connect_device(W7)
        flags = PLAYERONE_FLAGS | {"connected"}
        want = ({p.name for p in expected(gen, flags)} - set(NOT_DEFINED)) | OURS
        for name in want:
            client.wait_property(W7, name, timeout=10)
        assert set(client.property_names(W7)) == want
        found: set[str] = set()
        for name in want - OURS:
            # FILTER_SLOT_VALUE's format is 2.2's under both generations (docs/indi-generations.md)
            found |= differences(spec_for(gen, name), client.describe(W7, name), slot_format="%.f")
        assert found == set()
        slot = client.describe(W7, "FILTER_SLOT").elements[0]
        assert (slot.min, slot.max, slot.value) == (1, 7, 1)
        assert client.text(W7, "FILTER_NAME") == {
            f"FILTER_SLOT_NAME_{i}": n
            for i, n in enumerate(("Red", "Green", "Blue", "H_Alpha", "SII", "OIII", "LPR"), 1)}
        offsets = client.describe(W7, "FILTER_FOCUS_OFFSETS")
        assert [e.name for e in offsets.elements] == [f"FILTER_FOCUS_OFFSET_{i}" for i in range(1, 8)]
        assert (offsets.group, offsets.perm) == ("Filter Wheel", "rw")
        assert client.text(W7, "Serial Number") == {"SN#": "SIM-PHOENIX-7X36MM-0001"}
        assert client.text(W7, "SDK") == {"VERSION": "1.2.3"}
        client.set_switch(W7, "USEJOYSTICK", ["ENABLE"])
        client.wait_property(W7, "JOYSTICKSETTINGS", timeout=5)
        settings = client.describe(W7, "JOYSTICKSETTINGS")
        assert differences(spec_for(gen, "JOYSTICKSETTINGS"), settings) == set()
        assert settings.values() == {"Change Filter": "JOYSTICK_1", "Reset": "BUTTON_1"}
        client.set_switch(W7, "USEJOYSTICK", ["DISABLE"])
        assert wait_until(lambda: "JOYSTICKSETTINGS" not in client.property_names(W7), 5)
        client.disconnect_device(W7)
        assert wait_until(lambda: "FILTER_SLOT" not in client.property_names(W7), 5)
