"""Simulated cameras whose SDK backend records each guide output switch it passed to the library."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import pytest

from helpers import simsdk
from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.camera.sdk_camera import SdkCamera


class GuideLog(SdkCamera):
    """The SDK backend, recording (direction, on, ``clock()``) for each guide output switch, after
    the library took it."""

    def __init__(self, sdk: Any, props: Any, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(sdk, props)
        self.clock = clock
        self.log: list[tuple[str, bool, float]] = []

    def guide(self, direction: str, on: bool) -> None:
        super().guide(direction, on)
        self.log.append((direction, on, self.clock()))

    def guide_log(self) -> list[tuple[str, bool, float]]:
        return list(self.log)


def guide_log_cameras(mp: pytest.MonkeyPatch, models: str, options: str | None = None,
                      fault_file: Path | None = None,
                      clock: Callable[[], float] = time.monotonic) -> list[GuideLog]:
    """Unopened simulated cameras ``models`` of this process's library (the library reset)."""
    simsdk.use(mp, models, options=options, fault_file=fault_file)
    return [GuideLog(c.sdk, c.props, clock) for c in simulated_cameras()]
