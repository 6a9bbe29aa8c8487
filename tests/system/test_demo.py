"""The README's demo command, run as a user runs it (through the console script)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from astropy.io import fits

pytestmark = pytest.mark.indiserver

CLI = str(Path(sys.executable).parent / "indi-playerone")


def test_demo_writes_fits_files_astropy_reads(tmp_path: Path) -> None:
    out = tmp_path / "frames"
    result = subprocess.run([CLI, "demo", "--count", "2", "--exposure", "0.2", "--model", "Uranus-C PRO",
                             "--output", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted(out.glob("demo_*.fits"))
    assert [f.name for f in files] == ["demo_001.fits", "demo_002.fits"]
    for f in files:
        with fits.open(f) as hdul:
            assert hdul[0].data.shape == (2180, 3856)
            assert hdul[0].header["INSTRUME"] == "PlayerOne CCD Uranus-C PRO"
            assert hdul[0].header["EXPTIME"] == pytest.approx(0.2)
    assert "2 FITS files written" in result.stdout
    # stdout is a pipe, as in a log: one line per frame and no progress bar's carriage returns.
    assert "\r" not in result.stdout and "s left" not in result.stdout, result.stdout
    assert [line.split(":")[0].strip() for line in result.stdout.splitlines() if "frame " in line] \
        == ["frame 1/2", "frame 2/2"]


def test_demo_reports_an_unknown_model(tmp_path: Path) -> None:
    result = subprocess.run([CLI, "demo", "--count", "1", "--model", "Neptune-X", "--output",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Neptune-X" in result.stdout + result.stderr
