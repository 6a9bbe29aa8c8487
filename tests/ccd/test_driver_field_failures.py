"""Every field failure of issue 15 end to end: what the user sees through a real indiserver.

Each failure is a fault of the simulated SDK library (``native/simsdk/README.md``, "Faults";
the reports behind them: ``docs/upstream-facts.md`` section 7), armed by a line of the fault
file while the driver runs (or an option at start). Each test shows what a client sees: a
clear message, CCD_EXPOSURE Alert where something failed, the exposure taken again only where
that is right (a frame that never came, a camera that stopped answering), and the next
exposure working. The library's fault log proves each fault was hit.

The camera is the smallest model (Apollo-M MAX PRO, 1608 x 1104, 12-bit): quick frames.
"""
from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from helpers import simsdk
from helpers.fault_rig import FaultRig
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Apollo-M MAX PRO"
DEVICE = f"PlayerOne CCD {MODEL}"
ADC_BITS = 12


class Rig(FaultRig):
    def fault(self, line: str) -> None:
        super().fault(line)
        time.sleep(0.1)  # the library looks at the file at most every 50 ms

    def fired(self, word: str) -> int:
        return sum(1 for line in self.log_lines() if line.startswith(word))

    def mark(self) -> int:
        return len(self.client.messages())

    def said(self, since: int) -> list[str]:
        """Every message since the mark: the device's and the driver's own (no device)."""
        return self.client.messages()[since:]

    def expose(self, seconds: float = 0.05, timeout: float = 60) -> np.ndarray:
        blob = self.client.expose(DEVICE, seconds, timeout=timeout)
        return check_clean(blob.data)

    def failed_exposure(self, seconds: float = 0.05) -> None:
        c = self.client
        c.clear_blobs(DEVICE)
        c.set_number(DEVICE, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds})
        c.wait_state(DEVICE, "CCD_EXPOSURE", {"Alert"}, timeout=60)
        time.sleep(0.3)
        assert c.clear_blobs(DEVICE) == 0, "an image was delivered for the failed exposure"


def check_clean(data: bytes | bytearray) -> np.ndarray:
    """A real frame: 16-bit, the ADC's values left-justified, the median near the bias (random
    bytes, the corrupt-frame failure, have their median near half scale)."""
    with fits.open(io.BytesIO(bytes(data))) as hdul:
        img = np.asarray(hdul[0].data)
        header = hdul[0].header
    assert img.dtype == np.uint16 and img.size > 0
    assert np.all(img.astype(np.int64) % (1 << (16 - ADC_BITS)) == 0), "not a camera frame"
    assert float(np.median(img)) < 4096, f"median {np.median(img)}: garbage"
    assert -80 < float(header["CCD-TEMP"]) < 90, header["CCD-TEMP"]
    return img


def start(tmp: Path, options: str = "", model: str = MODEL, connect: bool = True) -> tuple[IndiServer, IndiClient, Path, Path]:
    faults, log = tmp / "faults", tmp / "faults.log"
    faults.write_text("")
    env = simsdk.env(model, INDI_PLAYERONE_SIM_FAULT_FILE=str(faults),
                     INDI_PLAYERONE_SIM_FAULT_LOG=str(log), INDI_PLAYERONE_SIM_OPTIONS=options,
                     INDI_PLAYERONE_HOTPLUG_S="0")
    server = IndiServer([DRIVER], env=env, home=tmp / "home", workdir=tmp / "server")
    server.start()
    client = IndiClient(server.port)
    client.connect()
    device = f"PlayerOne CCD {model}"
    client.wait_device(device, timeout=20)
    if connect:
        client.connect_device(device, timeout=20)
        client.enable_blobs(device)
    return server, client, faults, log


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    server, client, faults, log = start(tmp_path)
    try:
        yield Rig(server, client, faults, log)
    finally:
        client.disconnect()
        server.stop()


# ---- a camera that stops answering: reset, reopened, settings back, exposure taken -----------

def test_hung_camera_is_reset_reopened_and_the_exposure_taken(rig: Rig) -> None:
    c = rig.client
    c.set_number(DEVICE, "CCD_CONTROLS", {"Gain": 123}, partial=True)
    c.wait_until(DEVICE, "CCD_CONTROLS", lambda s: s.values()["Gain"] == 123, timeout=10)
    c.set_number(DEVICE, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2})
    c.wait_until(DEVICE, "CCD_BINNING", lambda s: s.values()["HOR_BIN"] == 2, timeout=10)
    rig.expose()
    mark = rig.mark()
    # the camera hangs while exposing: its frame never comes, then every call times out
    c.set_number(DEVICE, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.5})
    c.wait_state(DEVICE, "CCD_EXPOSURE", {"Busy"}, timeout=10)
    rig.fault("hang")
    blob = c.wait_blob(DEVICE, timeout=60)
    c.wait_state(DEVICE, "CCD_EXPOSURE", {"Ok"}, timeout=10)
    img = check_clean(blob.data)
    assert img.shape == (1104 // 2, 1608 // 2)  # the bin came back with the reset
    with fits.open(io.BytesIO(bytes(blob.data))) as hdul:
        assert hdul[0].header["GAIN"] == 123  # and the gain
    said = rig.said(mark)
    assert any("stopped answering" in m and "Resetting its USB device" in m for m in said), said
    assert any("answers again after a USB reset" in m for m in said), said
    assert rig.fired("usb_reset") == 1
    assert c.state(DEVICE, "CONNECTION") == "Ok"
    rig.expose()  # and the next one


def test_hung_camera_with_usb_reset_off_fails_plainly_and_the_switch_is_saved(rig: Rig) -> None:
    c = rig.client
    c.set_switch(DEVICE, "CCD_USB_RESET", ["INDI_DISABLED"])
    c.wait_until(DEVICE, "CCD_USB_RESET", lambda s: s.values()["INDI_DISABLED"], timeout=10)
    c.set_switch(DEVICE, "CONFIG_PROCESS", ["CONFIG_SAVE"])
    c.wait_state(DEVICE, "CONFIG_PROCESS", {"Ok"}, timeout=10)
    saved = (rig.server.home / ".indi" / f"{DEVICE}_config.xml").read_text()
    assert "CCD_USB_RESET" in saved
    mark = rig.mark()
    rig.fault("hang")
    rig.failed_exposure()
    said = rig.said(mark)
    assert any("stopped answering" in m and "USB reset is off" in m for m in said), said
    assert rig.fired("usb_reset") == 0
    # the user unplugs and replugs the camera, and connects again
    rig.fault("unplug")
    rig.fault("replug")
    c.set_switch(DEVICE, "CONNECTION", ["DISCONNECT"])
    c.wait_until(DEVICE, "CONNECTION", lambda s: s.values().get("DISCONNECT") is True, timeout=20)
    c.connect_device(DEVICE, timeout=20)
    assert c.switch(DEVICE, "CCD_USB_RESET")["INDI_DISABLED"]  # loaded from the saved file
    rig.expose()


def test_transfer_lost_every_time_ends_in_one_alert_after_the_reset(rig: Rig) -> None:
    """The "Exposure timeout" loop (Ares-M PRO #822, Uranus-C PRO #1328): every frame is lost
    on the way. Two attempts, a USB reset, one more attempt, then one Alert that says so."""
    mark = rig.mark()
    rig.fault("timeout=0")
    rig.failed_exposure()
    said = rig.said(mark)
    alert = [m for m in said if "delivered no image" in m]
    assert alert and "again after a USB reset" in alert[-1] and "USB cable" in alert[-1], said
    assert rig.fired("usb_reset") == 1
    rig.fault("none")
    rig.expose()


# ---- snap mode that loses every second frame: continuous-mode single frames ------------------

def test_snap_never_ready_switches_to_continuous_mode_single_frames(rig: Rig) -> None:
    """The Saturn-C report (#824): every second snap exposure never becomes ready. The second
    frame still arrives (taken again in continuous mode, with one warning); every frame after
    it is taken that way and arrives at once."""
    rig.fault("snap_stall")
    mark = rig.mark()
    times = []
    for _ in range(4):
        t0 = time.monotonic()
        rig.expose(0.05)
        times.append(time.monotonic() - t0)
    said = rig.said(mark)
    switched = [m for m in said if "continuous mode" in m]
    assert len(switched) == 1 and "WARNING" in switched[0], said
    assert not [m for m in said if "ERROR" in m], said
    # The lost frame's allowance passed once: the SDK's exposure + 500 ms, counted from the
    # exposure's start, so at least 0.55 s whatever the machine's load (a relative bound,
    # times[0] + 0.5, failed at a load average of 9, where frame 0 alone took 0.52 s).
    assert times[1] > 0.05 + 0.5 and times[1] > times[0], times
    assert max(times[2:]) < times[1]  # then no frame is lost any more


# ---- POAStartExposure busy just after a frame: asked again ----------------------------------

def test_start_busy_after_a_frame_is_asked_again(rig: Rig) -> None:
    """Sub-second loops (Ceres-M on a Pi 5): POA_ERROR_EXPOSING for 0.8 s after each frame."""
    rig.fault("busy_after_frame=800")
    mark = rig.mark()
    for _ in range(3):
        rig.expose(0.05)
    assert rig.fired("busy_after_frame") >= 2  # the camera did refuse starts
    said = rig.said(mark)
    assert not [m for m in said if "ERROR" in m or "WARNING" in m], said


# ---- SDK 3.10.1: POA_ERROR_OPERATION_FAILED for "not yet" -----------------------------------

def test_operation_failed_while_exposing_counts_as_not_yet(rig: Rig) -> None:
    """A frame late once, and the SDK answering the wait with POA_ERROR_OPERATION_FAILED (not
    POA_ERROR_TIMEOUT) because the camera still exposes: taken again, no Alert."""
    rig.fault("opfail_wait")
    rig.fault("never_ready=1")
    mark = rig.mark()
    rig.expose(0.05)
    assert rig.fired("opfail_wait") >= 1
    said = rig.said(mark)
    assert any("taking it again" in m for m in said), said
    assert not [m for m in said if "ERROR" in m], said
    rig.expose(0.05)


# ---- -300 °C readings -----------------------------------------------------------------------

def test_minus_300_readings_never_reach_the_client_or_a_frame(rig: Rig) -> None:
    c = rig.client
    c.set_switch(DEVICE, "DEBUG", ["ENABLE"])
    mark = rig.mark()
    rig.fault("temp_glitch=2")
    seen: list[float] = []
    end = time.monotonic() + 4
    while time.monotonic() < end:
        seen.append(c.number(DEVICE, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"])
        rig.expose(0.05)  # each exposure reads the temperature for its header (checked)
    assert min(seen) > -80, seen
    assert any("-300" in m for m in rig.said(mark)), "no -300 reading was dropped"
    assert c.state(DEVICE, "CCD_TEMPERATURE") != "Alert"


# ---- the first frame after a bin change -------------------------------------------------------

def test_corrupt_frame_after_a_bin_change_never_reaches_the_user(rig: Rig) -> None:
    """#774: the first frame after a bin change is garbage; the driver reads it out and drops
    it (a flush exposure), so the user's frame is clean."""
    rig.fault("corrupt_after_bin=0")
    c = rig.client
    for b in (2, 1, 3):
        c.set_number(DEVICE, "CCD_BINNING", {"HOR_BIN": b, "VER_BIN": b})
        c.wait_until(DEVICE, "CCD_BINNING", lambda s, b=b: s.values()["HOR_BIN"] == b, timeout=10)
        img = rig.expose(0.05)
        assert img.shape == (1104 // b, 1608 // b)


# ---- SDK versions: POA_EXP, the white-balance range -----------------------------------------

@pytest.mark.parametrize("version, wb", [
    ("3.7.0", (-1200, 1200)),   # before POA_EXP (3.8.0): exposure in microseconds only
    ("3.9.0", (0, 100)),        # 3.8.1 to 3.9.0: white balance in percent
    ("3.10.1", (-1200, 1200)),
])
def test_sdk_versions(tmp_path: Path, version: str, wb: tuple[int, int]) -> None:
    """An SDK without POA_EXP (driver 1.18 against SDK 3.7.1 failed with
    POA_ERROR_INVALID_CONFIG, astroarch #149) still exposes, through POA_EXPOSURE; the
    white-balance range is the SDK's own, which changed between 3.8.1 and 3.9.1."""
    model = "Ares-C PRO"
    device = f"PlayerOne CCD {model}"
    server, client, _, _ = start(tmp_path, options=f"sdk_version={version}", model=model)
    try:
        assert client.text(device, "SDK")["VERSION"] == version
        elements = {e.name: e for e in client.describe(device, "CCD_CONTROLS").elements}
        for name in ("WB_R", "WB_G", "WB_B"):  # read from the SDK, whatever the version
            assert (elements[name].min, elements[name].max) == wb, (name, elements[name])
        lo, hi = (lambda e: (e.min, e.max))(client.describe(device, "CCD_EXPOSURE").elements[0])
        assert (lo, hi) == pytest.approx((32e-6, 2000.0))
        blob = client.expose(device, 0.25, timeout=30)
        with fits.open(io.BytesIO(bytes(blob.data))) as hdul:
            assert hdul[0].header["EXPTIME"] == pytest.approx(0.25, abs=1e-6)
        client.set_number(device, "CCD_CONTROLS", {"WB_R": wb[1]}, partial=True)
        client.wait_until(device, "CCD_CONTROLS", lambda s: s.state == "Ok"
                          and s.values()["WB_R"] == wb[1], timeout=10)
    finally:
        client.disconnect()
        server.stop()
