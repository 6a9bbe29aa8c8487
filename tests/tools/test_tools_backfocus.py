"""`indi-playerone backfocus`: the manual's compatibility table and the spacer arithmetic.

Known answers: a bare camera needs 55 − 17.5 = 37.5 mm to a 55 mm corrector (the manual's camera
BFL); each refusal in the manual's table (a 1.25" wheel on a full-frame Zeus, the MN drawer on an
aluminium body, the FHD-OAG MN with a big wheel on a carbon body) is refused with its reason.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from indi_playerone.tools import backfocus, exits
from indi_playerone.tools.accessories import ACCESSORIES

CLI = str(Path(sys.executable).parent / "indi-playerone")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "backfocus", *args], capture_output=True, text=True, timeout=60)


def test_bare_camera_needs_37_5_mm_of_spacers() -> None:
    p = backfocus.plan("Ares-C PRO", [])
    assert p.before_spacers_mm == pytest.approx(17.5)
    assert sum(p.spacers_mm) == pytest.approx(37.5) and p.residual_mm == pytest.approx(0)
    assert p.spacers_mm == [30.0, 5.0, 2.0, 0.5]  # the fewest rings of the default kit


def test_wheel_and_oag_with_given_thicknesses() -> None:
    # 17.5 + 20 (wheel, given) + 12.5 (OAG, given) = 50: 5 mm missing, one ring.
    p = backfocus.plan("Poseidon-M PRO", ["Phoenix 7x36mm=20", "FHD-OAG MAX=12.5"])
    assert [part.source for part in p.parts[1:]] == ["given", "given"]
    assert p.spacers_mm == [5.0] and p.total_mm == pytest.approx(55.0)
    # Filter glass: 3 mm at n = 1.5 adds 1 mm of optical path, so 4 mm of spacers.
    p = backfocus.plan("Poseidon-M PRO", ["Phoenix 7x36mm=20", "FHD-OAG MAX=12.5"], filter_mm=3)
    assert sum(p.spacers_mm) == pytest.approx(4.0)


def test_unknown_accessory_with_thickness_is_accepted_and_without_is_refused() -> None:
    p = backfocus.plan("Uranus-C PRO", ["Tilt adapter=6.5"], target_mm=44)
    assert sum(p.spacers_mm) == pytest.approx(20.0)  # 44 - 17.5 - 6.5
    with pytest.raises(backfocus.Refused, match="unknown accessory 'Tilt adapter'"):
        backfocus.plan("Uranus-C PRO", ["Tilt adapter"])


@pytest.mark.parametrize("model, accessories, reason", [
    ("Zeus 455M PRO", ['Phoenix 8x1.25"'], 'Phoenix 8x1.25" is not listed for the Zeus 455M PRO'),
    ("Artemis-C PRO", ["Filter Drawer MN"], "Filter Drawer MN is not listed for the Artemis-C PRO"),
    ("Ares-M PRO", ["Filter Drawer MAX"], "the Ares takes: Filter Drawer MN"),
    ("Ares-M PRO", ['Phoenix 7x2"', "FHD-OAG MN"], "use the FHD-OAG MAX"),
    ("Apollo-M MAX PRO", ["FHD-OAG MAX", "FHD-OAG MN"], "more than one OAG"),
])
def test_incompatible_accessory_is_refused_with_the_reason(model: str, accessories: list[str],
                                                           reason: str) -> None:
    with pytest.raises(backfocus.Refused, match=reason.replace('"', '.')):
        backfocus.plan(model, accessories)
    result = run_cli("--model", model, *accessories)
    assert result.returncode == exits.FAILURE and reason in result.stderr and result.stdout == ""


def test_compatible_carbon_combination_passes_with_the_2024_note() -> None:
    p = backfocus.plan("Ares-M PRO", ['Phoenix 7x2"', "FHD-OAG MAX"])
    assert any("from 2024 on" in w for w in p.warnings)


def test_train_longer_than_the_target_is_refused() -> None:
    with pytest.raises(backfocus.Refused, match=r"2\.50 mm longer than the 55 mm target"):
        backfocus.plan("Zeus 455C PRO", ["Filter Drawer MAX=25", "FHD-OAG MAX=15"])


@given(st.floats(min_value=0.0, max_value=60.0))
def test_spacers_are_the_closest_subset(missing: float) -> None:
    kit = backfocus.DEFAULT_SPACERS_MM
    chosen = backfocus.choose_spacers(missing, kit)
    # Every 0.5 mm step up to the kit's sum (86.5 mm) is reachable: the error is at most 0.25 mm.
    assert abs(sum(chosen) - missing) <= 0.25 + 1e-9
    assert len(chosen) == len(set(chosen))  # each ring at most once


def test_cli_report_and_usage_errors() -> None:
    result = run_cli("--model", "Ares-C PRO", '"Phoenix 8x1.25"', "--target", "55")
    # A quoted name is not a table name: refused as unknown, with the list of names.
    assert result.returncode == exits.FAILURE and "unknown accessory" in result.stderr
    result = run_cli("--model", "ares-c pro", 'Phoenix 8x1.25"', "FHD-OAG MN", "--filter", "0")
    assert result.returncode == exits.OK, result.stderr
    assert "37.5" not in result.stdout and "spacers:" in result.stdout
    assert "table (nominal)" in result.stdout and "not printed in the manual's scan" in result.stdout
    assert run_cli("--model", "Neptune PRO").returncode == exits.USAGE
    assert run_cli("--model", "Ares-C PRO", "--spacers", "5,-1").returncode == exits.USAGE
    assert set(ACCESSORIES) >= {"FHD-OAG MAX", "Filter Drawer MN"}
