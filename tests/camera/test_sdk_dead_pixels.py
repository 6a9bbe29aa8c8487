"""Dead pixel suppression through the SDK backend: ``POASetEnableDPS`` (``PlayerOneCamera.h`` of
SDK 3.7.0), resolved as an optional function: present in the vendor's library and in the
simulated SDK, absent from an older library (the simulated SDK built without it), where the
backend reports it cannot and calls nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import simsdk, vendor_sdk
from helpers.pixels import hot_pixels as pixels_above
from indi_playerone.camera.interface import CameraError
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.camera.sdk_binding import SdkLibrary
from indi_playerone.camera.sdk_camera import SdkCamera


def hot_pixels(cam: SdkCamera) -> int:
    """Pixels 20 robust sigmas above the median of a dark 0.5 s frame at gain 400."""
    cam.set_gain(400)
    cam.start_exposure(0.5)
    frame = cam.wait_frame(timeout=15)
    try:
        return len(pixels_above(frame.data, sigmas=20))
    finally:
        frame.release()


def test_switched_off_it_stays_off_across_a_usb_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off, the hot pixels of the camera's table come back; the reopen after a USB reset turns
    DPS on again (the SDK's POAInitCamera does), so the backend sets it off again."""
    simsdk.use(monkeypatch, "Apollo-M MAX PRO", options="stars=0,ambient=30")
    cam = simulated_cameras()[0]
    assert isinstance(cam, SdkCamera)
    with cam:
        assert cam.can_suppress_dead_pixels()
        suppressed = hot_pixels(cam)
        cam.set_dead_pixel_suppression(False)
        kept = hot_pixels(cam)
        assert kept >= suppressed + 5, (suppressed, kept)
        assert cam.recover() == []
        assert hot_pixels(cam) >= suppressed + 5
        cam.set_dead_pixel_suppression(True)
        assert abs(hot_pixels(cam) - suppressed) <= 3


def test_a_library_without_it_is_a_camera_without_it(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    library = simsdk.build(tmp_path, extra_cflags=["-DSIM_WITHOUT_DPS"])
    sdk = SdkLibrary(str(library))
    assert not sdk.has("POASetEnableDPS") and "POASetEnableDPS" in sdk.missing_optional
    simsdk.use(monkeypatch, "Ares-M PRO", reset=False)
    assert sdk.camera_count() == 1
    cam = SdkCamera(sdk, sdk.camera_props(0))
    with cam:
        assert not cam.can_suppress_dead_pixels()
        with pytest.raises(CameraError, match="cannot switch dead pixel suppression"):
            cam.set_dead_pixel_suppression(False)


def test_the_vendors_library_exports_it() -> None:
    sdk = SdkLibrary(vendor_sdk.library())
    assert sdk.has("POASetEnableDPS") and sdk.camera_count() == 0
