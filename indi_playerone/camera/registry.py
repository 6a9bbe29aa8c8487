"""Which cameras exist: the vendor SDK's (real cameras on USB) and the simulated ones named in
``INDI_PLAYERONE_SIMULATE``."""
from __future__ import annotations

import logging
import os

from .interface import CameraBackend, CameraError
from .models import MODELS, find_model
from .simulator import SimulatedCamera

__all__ = ["SIMULATE_ENV", "simulated_cameras", "sdk_cameras", "discover_cameras"]

log = logging.getLogger(__name__)

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


def sdk_cameras(quiet: bool = False) -> list[CameraBackend]:
    """The cameras the vendor SDK enumerates, unopened; ``[]`` when the SDK is not installed.

    A missing SDK is logged with what to install (at WARNING, or DEBUG when ``quiet``: the
    caller has simulated cameras to serve). A serial number is only filled while a camera is
    open, so a camera whose properties come without one is opened and closed again to read
    it, as the C++ driver does; a camera that cannot be opened keeps an empty serial.
    """
    # Imported here: the SDK backend needs the C core, the simulator alone does not.
    from .sdk_binding import SdkError, SdkLoadError
    from .sdk_camera import SdkCamera
    from .sdk_loader import load_sdk

    try:
        sdk = load_sdk()
    except SdkLoadError as exc:
        log.log(logging.DEBUG if quiet else logging.WARNING, "%s", exc)
        return []
    cameras: list[CameraBackend] = []
    try:
        count = sdk.camera_count()
    except SdkError as exc:
        log.error("Player One SDK %s: listing cameras failed: %s", sdk.version, exc)
        return []
    for index in range(count):
        try:
            props = sdk.camera_props(index)
        except SdkError as exc:  # unplugged between the count and this call
            log.warning("Player One camera #%d: %s", index, exc)
            continue
        if not props.serial:
            handle = sdk.camera(props.camera_id)
            try:
                handle.open()
                try:
                    props = handle.props()
                finally:
                    handle.close()
            except CameraError as exc:
                log.warning("%s: cannot read its serial number: %s", props.model, exc)
            finally:
                handle.destroy()
        cameras.append(SdkCamera(sdk, props))
    log.debug("Player One SDK %s (%s): %d camera(s)", sdk.version, sdk.path, len(cameras))
    return cameras


def discover_cameras() -> list[CameraBackend]:
    """All cameras the driver can offer, unopened: the SDK's first (real cameras keep the bare
    device name when a simulated camera has the same model), then the simulated ones."""
    simulated = simulated_cameras()
    return [*sdk_cameras(quiet=bool(simulated)), *simulated]
