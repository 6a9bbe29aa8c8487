"""The model catalog against the manual's specification table, and the registry's parsing (its
simulated cameras are the simulated SDK library's, through the SDK backend)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers import simsdk
from indi_playerone.camera.interface import CameraBackend
from indi_playerone.camera.models import MODELS, find_model
from indi_playerone.camera.registry import (
    SIMULATE_ENV, discover_cameras, is_simulated, simulated_cameras, simulated_models,
)
from indi_playerone.camera.sdk_camera import SdkCamera

# model: (sensor, width, height, pixel µm, ADC bits, colour) as the table prints them
TABLE = {
    "Zeus 455M PRO": ("IMX455", 9576, 6388, 3.76, 16, False),
    "Zeus 455C PRO": ("IMX455", 9576, 6388, 3.76, 16, True),
    "Poseidon-M PRO": ("IMX571", 6252, 4176, 3.76, 16, False),
    "Poseidon-C PRO": ("IMX571", 6252, 4176, 3.76, 16, True),
    "Artemis-M PRO": ("IMX492", 8288, 5648, 2.3, 12, False),
    "Artemis-C PRO": ("IMX294", 4144, 2824, 4.63, 14, True),
    "Ares-M PRO": ("IMX533", 3008, 3008, 3.76, 14, False),
    "Ares-C PRO": ("IMX533", 3008, 3008, 3.76, 14, True),
    "Uranus-M PRO": ("IMX585", 3856, 2180, 2.9, 12, False),
    "Uranus-C PRO": ("IMX585", 3856, 2180, 2.9, 12, True),
    "Apollo-428M MAX PRO": ("IMX428", 3216, 2208, 4.5, 12, False),
    "Apollo-M MAX PRO": ("IMX432", 1608, 1104, 9.0, 12, False),
}


def test_all_twelve_models_by_exact_name() -> None:
    assert set(MODELS) == set(TABLE)
    assert all(key == spec.model for key, spec in MODELS.items())


@pytest.mark.parametrize("name", sorted(TABLE))
def test_row_matches_table(name: str) -> None:
    spec = MODELS[name]
    sensor, width, height, pixel, adc, colour = TABLE[name]
    assert (spec.sensor, spec.width, spec.height, spec.pixel_size_um, spec.adc_bits, spec.is_color) \
        == (sensor, width, height, pixel, adc, colour)
    # colour <=> RGGB (the scan's "RCCB" is a misprint); the name says it too
    assert spec.bayer == ("RGGB" if colour else None)
    assert ("-C " in name or "455C" in name) == colour


@pytest.mark.parametrize("spec", MODELS.values(), ids=lambda s: s.model)
def test_rows_are_self_consistent(spec) -> None:
    """Cross-checks between columns catch typos: MP and sensor size follow resolution × pixel."""
    # the table prints MP rounded to an integer for the big sensors, to 0.1 (or worse) for the rest
    rounding = 0.5 if float(spec.megapixels).is_integer() else 0.15
    assert spec.megapixels == pytest.approx(spec.width * spec.height / 1e6, abs=rounding)
    assert spec.format_mm[0] == pytest.approx(spec.width * spec.pixel_size_um / 1000, abs=0.2)
    assert spec.format_mm[1] == pytest.approx(spec.height * spec.pixel_size_um / 1000, abs=0.2)
    high, low = spec.read_noise_e
    assert high > low > 0
    assert 0.7 < spec.qe_peak < 0.95
    assert spec.delta_t_c[0] <= spec.delta_t_c[1] and spec.cooling_delta_c >= 35
    assert spec.shutter == ("global" if spec.model.startswith("Apollo") else "rolling")
    assert (spec.body, spec.weight_g) in {("aluminium", 650), ("carbon fibre", 420)}
    assert spec.bfl_mm == 17.5
    assert spec.source_note


def test_uncertain_cells_are_explained() -> None:
    assert MODELS["Ares-M PRO"].full_well_e == 73_000 and "(?)" in MODELS["Ares-M PRO"].source_note
    for name in ("Ares-C PRO", "Uranus-C PRO"):
        assert "RCCB" in MODELS[name].source_note
    assert MODELS["Zeus 455M PRO"].full_well_e == 71_600
    assert MODELS["Zeus 455M PRO"].delta_t_tolerance_c == 2


def test_specs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        MODELS["Ares-C PRO"].width = 1  # type: ignore[misc]


def test_find_model_exact_then_case_insensitive() -> None:
    assert find_model("Ares-C PRO") is MODELS["Ares-C PRO"]
    assert find_model("  ares-c pro ") is MODELS["Ares-C PRO"]
    with pytest.raises(KeyError) as err:
        find_model("Ares-X PRO")
    assert "Ares-X PRO" in str(err.value) and "Apollo-M MAX PRO" in str(err.value)


# -- registry ---------------------------------------------------------------------------------
def test_registry_parses_names_with_whitespace(monkeypatch: pytest.MonkeyPatch) -> None:
    assert simulated_models(" Ares-C PRO ,zeus 455m pro,") == ["Ares-C PRO", "Zeus 455M PRO"]
    simsdk.use(monkeypatch, " Ares-C PRO ,Zeus 455M PRO,")
    cams = simulated_cameras()
    assert [c.info.model for c in cams] == ["Ares-C PRO", "Zeus 455M PRO"]
    assert all(isinstance(c, SdkCamera) and is_simulated(c) for c in cams)
    assert cams[0].info.serial == "SIM-ARES-C-PRO-0001"


def brightest(camera: CameraBackend, n: int = 30) -> set[tuple[int, int]]:
    """Where the ``n`` brightest pixels of a binned frame are (the star field)."""
    with camera:
        camera.set_roi(0, 0, 10_000, 10_000, 4)
        camera.start_exposure(0.5)
        frame = camera.wait_frame(20)
        try:
            flat = np.argsort(frame.data, axis=None)[-n:]
            return {divmod(int(i), frame.data.shape[1]) for i in flat}
        finally:
            frame.release()


def test_registry_same_model_twice_gives_distinct_serials(monkeypatch: pytest.MonkeyPatch) -> None:
    simsdk.use(monkeypatch, "Uranus-M PRO,Ares-M PRO,Uranus-M PRO")
    a, b, c = simulated_cameras()
    assert a.info.model == c.info.model == "Uranus-M PRO"
    assert (a.info.serial, c.info.serial) == ("SIM-URANUS-M-PRO-0001", "SIM-URANUS-M-PRO-0002")
    assert b.info.serial == "SIM-ARES-M-PRO-0001"
    assert brightest(a) != brightest(c)  # a different sky per serial


def test_registry_unknown_name_lists_valid_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIMULATE_ENV, "Ares-C PRO,Saturn-C")
    for call in (simulated_cameras, discover_cameras):
        with pytest.raises(ValueError) as err:
            call()
        assert "'Saturn-C'" in str(err.value) and SIMULATE_ENV in str(err.value)
        assert all(name in str(err.value) for name in MODELS)


def test_registry_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SDK", "/nonexistent/libPlayerOneCamera.so.3")
    monkeypatch.delenv(SIMULATE_ENV, raising=False)
    assert simulated_cameras() == [] and discover_cameras() == []
    monkeypatch.setenv(SIMULATE_ENV, "   ")
    assert simulated_cameras() == []
    simsdk.use(monkeypatch, "Apollo-M MAX PRO")
    found = discover_cameras()
    assert len(found) == 1 and isinstance(found[0], CameraBackend)
    assert found[0].info.model == "Apollo-M MAX PRO"
    assert simulated_cameras("") == []  # an explicit spec wins over the environment
