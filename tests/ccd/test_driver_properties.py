"""Our property set against libindi's camera class, kept as data in tests/data, per generation.

Each generation's oracle (`libindi_ccd_properties.py` for libindi 1.9.9,
`libindi2_ccd_properties.py` for 2.2.4.2) was written independently of the driver and checked
against that generation's `indi_simulator_ccd`. Under the generation a test runs, every vector
the driver defines must match that oracle in type, group, perm, rule, timeout and element names;
every vector libindi defines for the same capabilities must exist, except the ones listed in
NOT_YET with the issue that adds them (an entry that is no longer missing fails too, so the list
only ever shrinks). Where the generations differ the driver serves one shape to both
(SERVED_FOR_BOTH, docs/indi-generations.md); those vectors are checked against what they serve.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.ccd_property_form import Reference, playerone_flags
from tests.data.references import REFERENCES, reference
from tests.harness.client import IndiClient
from tests.harness.generations import Generation
from helpers.driver_server import start_server

pytestmark = [pytest.mark.indiserver, pytest.mark.generations]

#: Where libindi 1.9.9 and 2.2.4.2 define a vector differently, the driver serves one shape to
#: clients of both (docs/indi-generations.md): the generation whose shape it serves, or "both"
#: for FITS_HEADER (both generations' elements; test_fits_header_serves_both_generations).
SERVED_FOR_BOTH: dict[str, str] = {
    "FITS_HEADER": "both",
    "CCD_ROTATION": "indi2",       # labels and format only
    "SCOPE_INFO": "indi2",         # 1.9.9's minimum of 10 mm would refuse "unknown" (0)
    "RECORD_FILE": "indi2",        # default folder only
    "STREAM_FULL_DEPTH": "indi2",  # new in 2.2.1; a 1.9.9 client ignores it
}

NOT_YET: dict[str, str] = {}

#: Ours, beyond libindi and the C++ driver (so not in the oracle): checked in their own tests.
OURS = {
    "CCD_GAIN_PRESET": "gain/offset presets (issue 5; tests/ccd/test_driver_controls.py)",
    "USB_LINK": "USB link speed (issue 5; tests/ccd/test_driver_controls.py)",
    "CCD_WARMUP_ON_DISCONNECT": "warm-up on disconnect (issue 5; tests/ccd/test_driver_cooling.py)",
    "CCD_WARMUP_SETTINGS": "warm-up rate and limit (issue 5; tests/ccd/test_driver_cooling.py)",
    "USER_CUSTOM_ID": "the name stored in the camera (issue 15; tests/ccd/test_driver_custom_id.py)",
    "CCD_USB_RESET": "a hung camera reset and reopened (issue 15; tests/ccd/test_driver_field_failures.py)",
    "DEAD_PIXEL_SUPPRESSION": "the SDK's DPS (issue 20; tests/ccd/test_driver_dead_pixels.py)",
}

CAMERAS = [
    # (model, device, colour); both have a cooler and two sensor modes, no ST4 port.
    ("Ares-C PRO", "PlayerOne CCD Ares-C PRO", True),
    ("Zeus 455M PRO", "PlayerOne CCD Zeus 455M PRO", False),
]


def check_vector(client: IndiClient, device: str, name: str, flags: frozenset[str], ref: Reference) -> None:
    served = SERVED_FOR_BOTH.get(name)
    if served == "both":
        return  # its own test
    if served is not None:
        ref = REFERENCES[served]
    spec = ref.spec_for(name, flags)
    assert spec is not None, f"{name} is not a libindi/Player One property for these capabilities"
    snap = client.describe(device, name)
    assert snap.kind == spec.kind, name
    if spec.label is not None:
        assert snap.label == spec.label, name
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


def _expected(ref: Reference, flags: frozenset[str]) -> set[str]:
    """The generation's vectors for these flags, plus the newer ones the driver serves to both."""
    names = {p.name for p in ref.expected_properties(flags)}
    for name, served in SERVED_FOR_BOTH.items():
        if served != "both" and REFERENCES[served].spec_for(name, flags) is not None:
            names.add(name)
    return names


@pytest.mark.parametrize("model,device,color", CAMERAS)
def test_property_set_matches_libindi(tmp_path: Path, model: str, device: str, color: bool,
                                      indi_generation: Generation) -> None:
    ref = reference(indi_generation.name)
    with start_server(tmp_path, model) as server, IndiClient(server.port) as client:
        client.wait_property(device, "ACTIVE_DEVICES", timeout=15)
        before = playerone_flags(connected=False, color=color)
        defined = set(client.property_names(device))
        expected = _expected(ref, before)
        assert defined == expected - set(NOT_YET), "before connect"
        for name in defined:
            check_vector(client, device, name, before, ref)

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
            expected = _expected(ref, flags)
            missing = expected - defined
            assert missing == set(NOT_YET) & expected, "connected: missing beyond NOT_YET"
            assert defined <= expected, f"defined but not in libindi's set: {defined - expected}"
            for name in defined:
                check_vector(client, device, name, flags, ref)
            if change is None:
                check_fits_header(client.describe(device, "FITS_HEADER"))

        client.disconnect_device(device)
        client.wait_quiet(device, quiet=0.3, timeout=10)
        assert set(client.property_names(device)) == _expected(ref, before) - set(NOT_YET)


def check_fits_header(snap) -> None:
    """FITS_HEADER carries both generations' elements: 2.x's record first (Ekos 3.7 writes elements
    0..2 by index), then 1.9.9's FITS_OBSERVER/FITS_OBJECT (KStars 3.6 finds them by name); rw as
    1.9.9 (2.x's write-only vector never shows values; a 1.9.9 client reads them back)."""
    flags = playerone_flags()
    new, old = REFERENCES["indi2"].spec_for("FITS_HEADER", flags), REFERENCES["indi1"].spec_for("FITS_HEADER", flags)
    assert new is not None and old is not None
    assert (snap.kind, snap.group, snap.timeout, snap.label) == (new.kind, new.group, new.timeout, new.label)
    assert (snap.kind, snap.group, snap.timeout, snap.label) == (old.kind, old.group, old.timeout, old.label)
    assert snap.perm == old.perm == "rw"
    got = [(e.name, e.label) for e in snap.elements]
    assert got == [(e.name, e.label) for e in (*new.elements, *old.elements)]
