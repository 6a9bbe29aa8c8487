"""`indi-playerone tilt`: a known tilt injected in the simulated camera is recovered, none is reported as none.

The simulated SDK's options (``INDI_PLAYERONE_SIM_OPTIONS``, native/simsdk/README.md) put the
sensor ``focus`` µm off focus at its centre and tilt it by ``tilt=<dx>:<dy>`` µm (right minus
left, bottom minus top); its stars have
FWHM = √(seeing² + (|z| / N / pixel)²), the model the tool fits. Tolerance stated for a simulated
Ares-M PRO frame (≈20 measurable stars, f/5, 3.76 µm pixels, centre 80 µm behind focus): each
component within 15 µm + 15 % of the injected one, the direction within 20°. No tilt must give
"no significant tilt". With the centre in focus only the axis is knowable, and the tool must say so.

The end-to-end test runs the driver under indiserver with the options, takes the frame with
``indi-playerone capture`` and analyses it with ``indi-playerone tilt``; the others make frames in
this process from the same simulated SDK library, through the SDK backend, to stay fast.
"""
from __future__ import annotations

import io
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import given, settings, strategies as st

from helpers import simsdk
from indi_playerone.camera.models import MODELS
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone import cli
from indi_playerone.tools import exits, tilt
from tests.harness.server import IndiServer

CLI = str(Path(sys.executable).parent / "indi-playerone")
DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Ares-M PRO"
K = 1 / (5 * 3.76)  # px of blur per µm of defocus at f/5 with 3.76 µm pixels


def close(measured: float, injected: float) -> bool:
    return abs(measured - injected) <= 15 + 0.15 * abs(injected)


def sim_fits(path: Path, options: str, exposure: float = 2.0) -> Path:
    spec = MODELS[MODEL]
    with pytest.MonkeyPatch.context() as mp:
        simsdk.use(mp, MODEL, options=options)
        with simulated_cameras()[0] as cam:
            cam.start_exposure(exposure)
            frame = cam.wait_frame(30)
            data = frame.data.astype(np.int32)
            frame.release()
    header = fits.Header()
    header["PIXSIZE1"], header["XBINNING"] = spec.pixel_size_um, 1
    fits.PrimaryHDU((data - 32768).astype(np.int16), header).writeto(path)
    return path


def tilt_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "tilt", *args], capture_output=True, text=True, timeout=120)


def tilt_here(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command in this process (photutils/scipy imported once for the file)."""
    out, err = io.StringIO(), io.StringIO()
    code = tilt.run(cli.build_parser().parse_args(["tilt", *args]), out, err)
    return subprocess.CompletedProcess(["tilt", *args], code, out.getvalue(), err.getvalue())


def parse_tilt(stdout: str) -> tuple[float, float]:
    line = next(li for li in stdout.splitlines() if li.startswith("tilt: right minus left"))
    words = line.split()
    return float(words[4]), float(words[11])


# --- the fit on its own (star lists from the model) --------------------------------------------

@settings(max_examples=5, deadline=None)
@given(st.floats(-150, 150), st.floats(-150, 150))
def test_fit_recovers_the_plane_of_a_model_star_list(tx: float, ty: float) -> None:
    rng = np.random.default_rng(1)
    u, v = rng.uniform(-0.5, 0.5, 40), rng.uniform(-0.5, 0.5, 40)
    z0 = 200.0  # far enough behind focus that the whole sensor is on one side
    fwhm = tilt.model_fwhm(np.array([3.0, z0, tx, ty]), u, v, K) + rng.normal(0, 0.03, 40)
    fit = tilt.fit_tilt(u, v, fwhm, K)
    assert fit.z0_um > 0  # the two-fold answer is returned with z0 >= 0
    assert close(fit.tx_um, tx) and close(fit.ty_um, ty), (fit, tx, ty)


def test_screw_moves_lay_the_plane_flat() -> None:
    """The advised moves are the fitted plane at each screw, minus their mean (focus unchanged)."""
    fit = tilt.TiltFit(3.0, 80.0, 60.0, -30.0, (0.1, 1, 1, 1), 0.05, 20, sign_known=True)
    for plate, n in (("front3", 3), ("rear4", 4)):
        moves = tilt.screw_moves(fit, 11.3, 11.3, plate, 30.0)
        assert len(moves) == n and abs(sum(m for _, m in moves)) < 1e-9
    front = dict(tilt.screw_moves(fit, 11.3, 11.3, "front3", 30.0))
    # Right side too far back (tx > 0): the right-hand screw (4 o'clock) moves forward the most.
    assert max(front, key=front.get) == "4 o'clock"  # type: ignore[arg-type]
    assert "tighten the pull screw" in tilt.screw_advice(front["4 o'clock"], "front3", 0.5)
    assert "tighten the push screw" in tilt.screw_advice(front["4 o'clock"], "rear4", 0.5)
    assert tilt.side_words(60, -30) == "top right" and tilt.side_words(-1, 0) == "left"


# --- simulated frames --------------------------------------------------------------------------

def test_no_tilt_is_reported_as_none(tmp_path: Path) -> None:
    path = sim_fits(tmp_path / "flat.fits", "focus=80,fratio=5")
    result = tilt_here(str(path), "--fratio", "5", "--racked", "out")
    assert result.returncode == exits.OK, result.stderr
    assert "result: no significant tilt" in result.stdout
    tx, ty = parse_tilt(result.stdout)
    assert close(tx, 0) and close(ty, 0)


def test_centre_in_focus_gives_the_axis_and_says_the_side_is_unknown(tmp_path: Path) -> None:
    path = sim_fits(tmp_path / "infocus.fits", "tilt=0:120,fratio=5")
    result = tilt_here(str(path), "--fratio", "5", "--plate", "rear4")
    assert result.returncode == exits.OK, result.stderr
    assert "tilt along the bottom–top direction" in result.stdout
    assert "which side is further back is unknown" in result.stdout and "o'clock" not in result.stdout
    tx, ty = parse_tilt(result.stdout)
    assert close(abs(ty), 120) and close(tx, 0)


@pytest.mark.indiserver
def test_injected_tilt_through_the_driver_is_recovered(tmp_path: Path) -> None:
    dx, dy = -90.0, 60.0  # left and bottom further back: the bottom-left corner
    env = {"INDI_PLAYERONE_SIMULATE": MODEL,
           "INDI_PLAYERONE_SIM_OPTIONS": f"tilt={dx:g}:{dy:g},focus=80,fratio=5"}
    with IndiServer([DRIVER], env=env, workdir=tmp_path / "server") as server:
        shot = subprocess.run([CLI, "capture", "--host", "127.0.0.1", "--port", str(server.port),
                               "-e", "2", "-o", str(tmp_path), "--prefix", "field"],
                              capture_output=True, text=True, timeout=120)
    assert shot.returncode == exits.OK, shot.stderr
    png = tmp_path / "map.png"
    result = tilt_cli(shot.stdout.strip(), "--fratio", "5", "--racked", "out", "--png", str(png))
    assert result.returncode == exits.OK, result.stderr
    tx, ty = parse_tilt(result.stdout)
    assert close(tx, dx) and close(ty, dy), result.stdout
    angle = math.degrees(math.atan2(ty, tx) - math.atan2(dy, dx))
    assert abs((angle + 180) % 360 - 180) <= 20
    assert "result: the bottom left side is" in result.stdout and "further back" in result.stdout
    assert "front 3-point tilt plate" in result.stdout and "12 o'clock:" in result.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unreadable_input_fails_with_exit_1(tmp_path: Path) -> None:
    empty = tmp_path / "blank.fits"
    fits.PrimaryHDU(np.full((200, 200), 100, dtype=np.int16),
                    fits.Header({"PIXSIZE1": 3.76})).writeto(empty)
    result = tilt_here(str(empty), "--fratio", "5")
    assert result.returncode == exits.FAILURE and "stars found, 8 needed" in result.stderr
    assert tilt_cli(str(tmp_path / "missing.fits")).returncode == exits.FAILURE
