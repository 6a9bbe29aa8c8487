"""`indi-playerone offset` against the driver under Debian's indiserver, checked against the simulated camera.

The oracle is what the simulated SDK library does (native/simsdk/README.md, "bias"): bias =
offset × ``BIAS_ADU16_PER_OFFSET`` (4 ADU16, exactly one step of the Ares's 14-bit ADC), read-noise
tails below it. One frame taken in this process, from the same library's camera with the driver's
camera's serial (so the same noise), at a high offset ``H`` gives the lowest pixel ``min_H``;
lowering the offset by one lowers every pixel by 4 ADU16 until it clips, so the smallest clear
offset is ``H − floor((min_H − margin) / 4)``. Tolerance: none. The lowest pixel is a floor (the
lowest value of the library's noise pool; a frame that misses it is only higher), so a clear frame
stays clear, and the tool's confirmation frame moves its answer up only past a lucky frame below
it. A search that stops a bisection step early (checked: ``good - bad > 4`` answers 25 for 24) or
a fixed low offset fails; the frame two units below the answer is also checked to be clipped or
under the margin.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from helpers import simsdk
from indi_playerone.camera.interface import CameraBackend
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.tools import exits
from indi_playerone.tools.offset import find_offset, stats
from indi_playerone.tools.session import ToolFailed
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

CLI = str(Path(sys.executable).parent / "indi-playerone")
DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Ares-M PRO"
DEVICE = f"PlayerOne CCD {MODEL}"
GAIN, MARGIN, HIGH = 300, 64, 200
EXPOSURE = 0.01
#: The library's bias step per offset unit, in 16-bit ADU (its README; the manual's two measured
#: points give 4.01).
BIAS_ADU16_PER_OFFSET = 4.0


@pytest.fixture(scope="module")
def camera() -> Iterator[CameraBackend]:
    with pytest.MonkeyPatch.context() as mp:
        simsdk.use(mp, MODEL)
        (cam,) = simulated_cameras()
        assert cam.info.serial == "SIM-ARES-M-PRO-0001"  # the driver's camera's serial
        with cam:
            yield cam


def dark(cam: CameraBackend, offset: int, gain: int = GAIN) -> np.ndarray:
    cam.set_format(16)
    cam.set_gain(gain)
    cam.set_offset(offset)
    cam.start_exposure(EXPOSURE)
    frame = cam.wait_frame(30)
    try:
        return frame.data.copy()
    finally:
        frame.release()


@pytest.fixture(scope="module")
def expected(camera: CameraBackend) -> int:
    # The floor of the noise: a frame copies most of the library's noise pool, rarely all of it.
    min_high = min(int(dark(camera, HIGH).min()) for _ in range(3))
    # The oracle's premise, measured: one offset unit is 4 ADU16 on every pixel.
    step = (dark(camera, HIGH + 10).astype(np.int64) - dark(camera, HIGH).astype(np.int64))
    assert float(np.median(step)) == 10 * BIAS_ADU16_PER_OFFSET
    value = HIGH - int((min_high - MARGIN) // BIAS_ADU16_PER_OFFSET)
    # The oracle itself: clear two above, not clear two below.
    assert stats(value + 2, dark(camera, value + 2)).clear(MARGIN)
    assert not stats(value - 2, dark(camera, value - 2)).clear(MARGIN)
    return value


def test_bisection_on_the_simulated_camera_finds_the_expected_offset(camera: CameraBackend,
                                                              expected: int) -> None:
    taken: list[int] = []

    def take(offset: int) -> np.ndarray:
        taken.append(offset)
        return dark(camera, offset)

    found, history, frame = find_offset(take, 0, 1500, MARGIN)
    assert found == expected
    assert len(taken) <= 14  # bisection of 0..1500 (11) + the ends + confirmation, not a sweep
    assert stats(found, frame).clear(MARGIN) and history[-1].offset == found
    assert not stats(found - 2, dark(camera, found - 2)).clear(MARGIN)


def test_search_refuses_a_range_that_cannot_be_clear(camera: CameraBackend, expected: int) -> None:
    with pytest.raises(ToolFailed, match="even offset 5 leaves pixels"):
        find_offset(lambda o: dark(camera, o), 0, 5, MARGIN)


# --- the command against the driver -----------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndiServer]:
    work = tmp_path_factory.mktemp("offset-server")
    with IndiServer([DRIVER], env=simsdk.env(MODEL), workdir=work) as srv:
        yield srv


def offset_cli(server: IndiServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "offset", "--host", "127.0.0.1", "--port", str(server.port),
                           "--yes-covered", "--exposure", str(EXPOSURE), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.indiserver
def test_offset_command_finds_stores_and_draws(server: IndiServer, expected: int, tmp_path: Path) -> None:
    png = tmp_path / "hist.png"
    result = offset_cli(server, "--gain", str(GAIN), "--margin", str(MARGIN), "--png", str(png),
                        "--store")
    assert result.returncode == exits.OK, result.stderr
    words = result.stdout.split()
    assert words[0] == "offset" and words[2:4] == ["for", "gain"]
    found = int(words[1])
    assert found == expected, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    # Stored: the driver holds the pair now, and its saved configuration has it.
    with IndiClient(server.port) as client:
        client.connect_device(DEVICE, timeout=15)
        try:
            client.wait_property(DEVICE, "CCD_CONTROLS", 15)  # defined after CONNECTION is Ok
            values = client.number(DEVICE, "CCD_CONTROLS")
            assert values["Offset"] == found and values["Gain"] == GAIN
        finally:
            client.set_switch(DEVICE, "CONNECTION", ["DISCONNECT"])
    saved = (server.home / ".indi" / f"{DEVICE}_config.xml").read_text()
    assert f"<oneNumber name='Offset'>{found}</oneNumber>" in saved


@pytest.mark.indiserver
def test_offset_command_refuses_a_too_low_range(server: IndiServer) -> None:
    result = offset_cli(server, "--gain", str(GAIN), "--max-offset", "5")
    assert result.returncode == exits.FAILURE
    assert "even offset 5 leaves pixels at 0 or below the 64 ADU margin" in result.stderr
    assert result.stdout == ""


def test_offset_command_without_confirmation_stops() -> None:
    result = subprocess.run([CLI, "offset", "--gain", "0", "--port", "1"], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == exits.USAGE and "pass --yes-covered" in result.stderr
