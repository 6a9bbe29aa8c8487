"""Which cameras exist: the simulated ones named in ``INDI_PLAYERONE_SIMULATE``, later the SDK's."""
from __future__ import annotations

import os

from .interface import CameraBackend
from .models import MODELS, find_model
from .simulator import SimulatedCamera

__all__ = ["SIMULATE_ENV", "simulated_cameras", "discover_cameras"]

#: Comma-separated model names, e.g. ``"Ares-C PRO,Zeus 455M PRO"``.
SIMULATE_ENV = "INDI_PLAYERONE_SIMULATE"


def simulated_cameras(spec: str | None = None) -> list[SimulatedCamera]:
    """Simulated cameras for a comma-separated list of model names (``None``: read the env var).

    Names are matched by :func:`~indi_playerone.camera.models.find_model` (exact, then
    case-insensitive); whitespace around names and empty items (a trailing comma) are ignored.
    The same model twice gives two cameras with serials ``...-0001`` and ``...-0002``.
    An unknown name raises ``ValueError`` listing the valid names. Empty or unset gives ``[]``.
    """
    if spec is None:
        spec = os.environ.get(SIMULATE_ENV, "")
    cameras: list[SimulatedCamera] = []
    seen: dict[str, int] = {}
    for item in spec.split(","):
        name = item.strip()
        if not name:
            continue
        try:
            model = find_model(name)
        except KeyError:
            raise ValueError(
                f"{SIMULATE_ENV}: unknown camera model {name!r}; valid models: {', '.join(MODELS)}"
            ) from None
        seen[model.model] = seen.get(model.model, 0) + 1
        cameras.append(SimulatedCamera(model, index=seen[model.model]))
    return cameras


def discover_cameras() -> list[CameraBackend]:
    """All cameras the driver can offer, unopened.

    For now only the simulated cameras from ``INDI_PLAYERONE_SIMULATE``: the vendor-SDK backend
    (real cameras on USB) is not written yet and will be appended here when it is.
    """
    return list(simulated_cameras())
