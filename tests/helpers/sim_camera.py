"""Simulated cameras in this process: the simulated SDK library behind the SDK backend
(``SdkCamera``), the one path a real camera takes too."""
from __future__ import annotations

import pytest

from helpers import simsdk
from indi_playerone.camera.interface import CameraBackend, Frame
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.camera.sdk_camera import SdkCamera

MIN_EXP = 32e-6  # the manual's shortest exposure: no star or sky signal to speak of
SMALL = "Apollo-M MAX PRO"  # 1608x1104, 12-bit ADC: the cheapest frames


def simulated(mp: pytest.MonkeyPatch, models: str, options: str | None = None) -> list[SdkCamera]:
    """Unopened simulated cameras ``models`` of this process's simulated SDK library."""
    simsdk.use(mp, models, options=options)
    cams = simulated_cameras()
    assert all(isinstance(c, SdkCamera) for c in cams)
    return cams  # type: ignore[return-value]


def SimulatedCamera(mp: pytest.MonkeyPatch, model: str, options: str | None = None) -> SdkCamera:  # noqa: N802
    """The first of :func:`simulated`, unopened."""
    return simulated(mp, model, options)[0]


def shoot(camera: CameraBackend, seconds: float = MIN_EXP) -> Frame:
    """One exposure of ``seconds``, waited for (the caller releases the frame)."""
    camera.start_exposure(seconds)
    return camera.wait_frame(timeout=seconds + 10)
