"""Our property set against libindi's camera class, kept as data in tests/data.

The oracle (`libindi_ccd_properties.py`) was transcribed independently of the driver
and checked against Debian's libindi `indi_simulator_ccd`. Every vector the driver
defines must match it in type, group, perm, rule, timeout and element names; every
vector libindi defines for the same capabilities must exist, except the ones listed in
NOT_YET with the issue that adds them (an entry that is no longer missing fails too,
so the list only ever shrinks).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.libindi_ccd_properties import expected_properties, playerone_flags, spec_for
from tests.harness.client import IndiClient
from tests.test_driver_indiserver import start_server

pytestmark = pytest.mark.indiserver

NOT_YET: dict[str, str] = {}

#: Ours, beyond libindi and the C++ driver (so not in the oracle): checked in their own tests.
OURS = {
    "CCD_GAIN_PRESET": "gain/offset presets (issue 5; tests/test_driver_controls.py)",
    "USB_LINK": "USB link speed (issue 5; tests/test_driver_controls.py)",
    "CCD_WARMUP_ON_DISCONNECT": "warm-up on disconnect (issue 5; tests/test_driver_cooling.py)",
    "CCD_WARMUP_SETTINGS": "warm-up rate and limit (issue 5; tests/test_driver_cooling.py)",
}

CAMERAS = [
    # (model, device, colour); both have a cooler and two sensor modes, no ST4 port.
    ("Ares-C PRO", "PlayerOne CCD Ares-C PRO", True),
    ("Zeus 455M PRO", "PlayerOne CCD Zeus 455M PRO", False),
]


def check_vector(client: IndiClient, device: str, name: str, flags: frozenset[str]) -> None:
    spec = spec_for(name, flags)
    assert spec is not None, f"{name} is not a libindi/Player One property for these capabilities"
    snap = client.describe(device, name)
    assert snap.kind == spec.kind, name
    assert snap.group == spec.group, name
    assert snap.perm == spec.perm, name
    if spec.kind == "Switch":
        assert snap.rule == spec.rule, name
    assert snap.timeout == spec.timeout, name
    names = [e.name for e in snap.elements]
    if spec.elements_mode == "exact":
        # Elements that depend on a build feature (XISF, Theora) may be absent.
        optional = {e.name for e in spec.elements if e.optional}
        assert [n for n in spec.element_names if n in names or n not in optional] == names, name
    elif spec.elements_mode == "subset":
        assert set(names) <= set(spec.element_names), name
    labels = {e.name: e.label for e in spec.elements if e.label is not None}
    for element in snap.elements:
        if element.name in labels:
            assert element.label == labels[element.name], (name, element.name)


@pytest.mark.parametrize("model,device,color", CAMERAS)
def test_property_set_matches_libindi(tmp_path: Path, model: str, device: str, color: bool) -> None:
    with start_server(tmp_path, model) as server, IndiClient(server.port) as client:
        client.wait_property(device, "ACTIVE_DEVICES", timeout=15)
        before = playerone_flags(connected=False, color=color)
        defined = set(client.property_names(device))
        expected = {p.name for p in expected_properties(before)}
        assert defined == expected - set(NOT_YET), "before connect"
        for name in defined:
            check_vector(client, device, name, before)

        client.connect_device(device, timeout=15)
        base = playerone_flags(color=color, sensor_modes=True)
        for flags, change in ((base, None), (base | {"upload_local"}, "upload"),
                              (base | {"upload_local", "wcs_enabled"}, "wcs")):
            if change == "upload":
                client.set_switch(device, "UPLOAD_MODE", ["UPLOAD_LOCAL"])
                client.wait_property(device, "CCD_FILE_PATH", timeout=5)
            elif change == "wcs":
                client.set_switch(device, "WCS_CONTROL", ["WCS_ENABLE"])
                client.wait_property(device, "CCD_ROTATION", timeout=5)
            client.wait_quiet(device, quiet=0.3, timeout=10)
            defined = set(client.property_names(device)) - set(OURS)
            expected = {p.name for p in expected_properties(flags)}
            missing = expected - defined
            assert missing == set(NOT_YET) & expected, "connected: missing beyond NOT_YET"
            assert defined <= expected, f"defined but not in libindi's set: {defined - expected}"
            for name in defined:
                check_vector(client, device, name, flags)

        client.disconnect_device(device)
        client.wait_quiet(device, quiet=0.3, timeout=10)
        assert set(client.property_names(device)) == {p.name for p in expected_properties(before)} - set(NOT_YET)
