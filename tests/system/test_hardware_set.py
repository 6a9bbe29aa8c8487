"""The hardware test set (``tests/hardware``, ``pytest -m hardware``) runs: against a camera
of the simulated SDK library (``INDI_PLAYERONE_HARDWARE_SIM``), in a pytest of its own, every
test passing and none skipped, and the report a user would attach is written with every
section. Without this the set would only ever run where a real camera is, and rot."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.indiserver
def test_the_hardware_set_runs_against_a_simulated_camera(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    env = dict(os.environ, INDI_PLAYERONE_HARDWARE="1", INDI_PLAYERONE_HARDWARE_SIM="Ares-C PRO",
               INDI_PLAYERONE_HARDWARE_REPORT=str(report), INDI_PLAYERONE_HARDWARE_COOLER_S="3",
               HOME=str(tmp_path / "home"))
    for name in ("INDI_PLAYERONE_SIMULATE", "INDI_PLAYERONE_SIM_OPTIONS", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "hardware", "-q", "-rA", "-o", "addopts=",
         "-p", "no:cacheprovider", "tests/hardware"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert " passed" in out and "skipped" not in out and "failed" not in out, out[-3000:]
    text = report.read_text()
    assert "SIMULATED SDK" in text and "SDK: 3.10.1" in text
    for title in ("Connect", "Every config the SDK lists", "Every control", "A dark at each gain preset",
                  "A bin change", "A 16-bit full frame", "A short video stream",
                  "The cooler on for a while", "Through the driver"):
        assert f"## {title}" in text, title
    assert text.count(": passed") == 10 and "FAILED" not in text
    assert "`USBBandWidthLimit`" in text and "`Mono Bin`" in text  # the config dump
