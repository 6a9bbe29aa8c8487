"""The vendor's own SDK (``libPlayerOneCamera.so.3``) under the driver, no camera attached: what
can be verified of a real SDK without a camera. ``INDI_PLAYERONE_VENDOR_SDK`` names the file (the
vendor's Linux SDK for this machine's architecture; verified with SDK 3.7.0, x86_64); unset, the
path ``.ci/setup`` found and wrote to ``build/vendor-sdk`` is used.

Checked: it loads through the driver's loader and C layer (every required function resolved,
the optional ones the driver looks up present, ``POASetUserCustomID`` among them), says its
version, lists no camera, and the driver started on it says so plainly and serves nothing."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import vendor_sdk as vendor
from indi_playerone.camera.sdk_binding import SdkLibrary

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")


@pytest.fixture(scope="module")
def vendor_sdk() -> str:
    return vendor.library()


def test_the_vendor_sdk_loads_and_finds_no_camera(vendor_sdk: str) -> None:
    sdk = SdkLibrary(vendor_sdk)
    major, minor, patch = (int(x) for x in sdk.version.split("."))
    assert major == 3 and sdk.api_version > 20200000, (sdk.version, sdk.api_version)
    assert sdk.missing_optional == [], sdk.missing_optional  # 3.7.0 has all the optional ones
    assert sdk.has("POASetUserCustomID") and sdk.has("POAGetGainsAndOffsets")
    assert sdk.sim_config_error() is None  # not the simulated library
    assert sdk.camera_count() == 0
    assert sdk.error_text(9)  # POAGetErrorString answers for POA_ERROR_TIMEOUT


def test_the_driver_on_the_vendor_sdk_says_no_camera(vendor_sdk: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDI_PLAYERONE_SIM")}
    env.update(INDI_PLAYERONE_SDK=vendor_sdk, HOME=str(tmp_path), INDI_PLAYERONE_HOTPLUG_S="0")
    proc = subprocess.run([DRIVER], input=b'<getProperties version="1.7"/>', env=env,
                          capture_output=True, timeout=30)
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, out
    assert "No Player One cameras detected" in out, out
    assert "defDevice" not in out and "defSwitchVector" not in out  # no device served
    assert "ERROR" not in out, out
