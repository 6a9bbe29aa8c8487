"""Fixtures of the camera-layer tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.sim_camera import SMALL, SimulatedCamera
from indi_playerone.camera.sdk_camera import SdkCamera


@pytest.fixture
def cam(monkeypatch: pytest.MonkeyPatch) -> Iterator[SdkCamera]:
    """An open simulated Apollo-M MAX PRO (small frames), closed after the test."""
    with SimulatedCamera(monkeypatch, SMALL) as camera:
        yield camera
