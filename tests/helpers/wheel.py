"""Running ``indi_playerone_wheel`` with simulated Phoenix wheels under a test's indiserver.

The simulated wheels live in the simulated SDK library; tests build it from ``native/simsdk`` into
``build/simsdk`` (reused while its sources are unchanged) and point ``INDI_PLAYERONE_SIM_SDK`` at
it, so a test never runs against a stale copy in the package. Motion is 50 times faster than the
assumed real wheel's (a 7-slot move of one slot: 24 ms) and each test keeps the wheels' memory
(the state files) in its own directory.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHEEL_DRIVER = str(Path(sys.executable).parent / "indi_playerone_wheel")
CCD_DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
TIME_SCALE = 0.02
W7 = "PlayerOne Phoenix 7x36mm"
SERIAL7 = "SIM-PHOENIX-7X36MM-0001"


@functools.lru_cache(maxsize=None)
def simsdk_library() -> str:
    from tests.helpers import simsdk

    return str(simsdk.build(ROOT / "build" / "simsdk"))


def wheel_env(state: Path, wheels: str = "Phoenix 7x36mm", *, fault_file: Path | None = None,
              timeout_s: float | None = None, hotplug_s: float | None = None) -> dict[str, str]:
    """The environment for a driver serving ``wheels``, their memory kept under ``state``."""
    env = {
        "INDI_PLAYERONE_SIM_SDK": simsdk_library(),
        "INDI_PLAYERONE_SIMULATE_WHEEL": wheels,
        "INDI_PLAYERONE_SIM_WHEEL_OPTIONS": f"time_scale={TIME_SCALE},state={state}",
        # No vendor SDK must be picked up, wherever the test runs.
        "INDI_PLAYERONE_PW_SDK": str(state / "no-vendor-wheel-sdk.so"),
    }
    if fault_file is not None:
        env["INDI_PLAYERONE_SIM_FAULT_FILE"] = str(fault_file)
    if timeout_s is not None:
        env["INDI_PLAYERONE_WHEEL_TIMEOUT_S"] = str(timeout_s)
    if hotplug_s is not None:
        env["INDI_PLAYERONE_HOTPLUG_S"] = str(hotplug_s)
    return env
