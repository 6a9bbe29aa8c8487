"""Which cameras exist: the vendor SDK's (real cameras on USB) and the simulated ones named in
``INDI_PLAYERONE_SIMULATE``.

Simulated cameras read two more variables (both apply to every simulated camera):

``INDI_PLAYERONE_SIM_OPTIONS``
    Comma-separated ``key=value`` (:mod:`.sim_options`): ``ambient=<°C>`` (default 20),
    ``cooler_tau=<s>`` (thermal time constant, default 120 s; tests shorten it),
    ``tilt=<dx_um>:<dy_um>`` (sensor surface height along the optical axis, right edge minus left
    edge and bottom edge minus top edge, µm), ``focus=<um>`` (defocus at the sensor centre),
    ``fratio=<N>`` (default 5: geometric blur diameter = |z| / N), ``seeing=<FWHM>px`` (in
    unbinned pixels, default 3), ``sky=<e-/s>`` (sky background per pixel, default 1),
    ``stars=<factor>`` (star brightness, default 1; 0 = covered), ``no12v`` (start without
    the 12 V supply: no cooling), ``st4`` (give the cameras an ST4 port).
    Example: ``INDI_PLAYERONE_SIM_OPTIONS="cooler_tau=0.5,tilt=30:-10,fratio=4"``.
``INDI_PLAYERONE_SIM_FAULT_FILE=/path``
    A file the cameras watch for faults to apply while running (:mod:`.sim_faults`): append
    lines ``name[=arg]`` (every camera) or ``name[=arg]@serial`` (one camera): ``never_ready``,
    ``timeout``, ``unplug_after=n``, ``unplug``, ``replug``, ``no_12v``, ``12v``,
    ``corrupt_next_frame``, ``short_next_frame``, ``none``.

A malformed option is a ``ValueError``, reported by the driver as an unknown model name is.

When a Player One device is on USB but this user may not open it, :func:`discover_cameras` logs
a warning naming the udev rule to install (:func:`.usb.access_problem`): the driver's log bridge
turns it into an INDI message.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from .interface import CameraBackend, CameraError
from .models import MODELS, find_model
from .sim_faults import FAULT_FILE_ENV
from .sim_options import SIM_OPTIONS_ENV, SimOptions
from .simulator import SimulatedCamera

__all__ = ["SIMULATE_ENV", "with_serial", "SIM_OPTIONS_ENV", "FAULT_FILE_ENV", "simulated_cameras",
           "sdk_cameras", "discover_cameras", "warn_unopenable_devices"]

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
    if not spec.strip(",; \t"):
        return []
    options = SimOptions.from_env()
    fault_file = os.environ.get(FAULT_FILE_ENV) or None
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
        cameras.append(SimulatedCamera(model, index=seen[model.model], options=options,
                                       fault_file=fault_file))
    return cameras


def with_serial(sdk: Any, props: Any) -> Any:
    """``props`` with the serial number filled in (``CameraProps`` of ``sdk``).

    The SDK fills the serial only while a camera is open, so a camera listed without one is
    opened and closed again to read it, as the C++ driver does; one that cannot be opened
    keeps an empty serial (logged)."""
    if props.serial:
        return props
    handle = sdk.camera(props.camera_id)
    try:
        handle.open()
        try:
            return handle.props()
        finally:
            handle.close()
    except CameraError as exc:
        log.warning("%s: cannot read its serial number: %s", props.model, exc)
        return props
    finally:
        handle.destroy()


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
        cameras.append(SdkCamera(sdk, with_serial(sdk, props)))
    log.debug("Player One SDK %s (%s): %d camera(s)", sdk.version, sdk.path, len(cameras))
    return cameras


def warn_unopenable_devices(backend: object = None, **usb_paths: object) -> str | None:
    """Log (WARNING) and return :func:`.usb.access_problem`'s message when a Player One device
    on USB cannot be opened by this user; None otherwise, and when the bus cannot be listed
    (no pyusb/libusb: said at DEBUG, ``indi-playerone list`` reports it). ``backend`` and
    ``usb_paths`` are :func:`.usb.scan`'s test seams."""
    from . import usb

    try:
        devices = usb.scan(backend, **usb_paths)  # type: ignore[arg-type]
    except usb.UsbUnavailable as exc:
        log.debug("USB devices not checked: %s", exc)
        return None
    except Exception as exc:  # a broken backend must not stop the driver from serving cameras
        log.debug("USB devices not checked: %s", exc)
        return None
    problem = usb.access_problem(devices)
    if problem is not None:
        log.warning("%s", problem)
    return problem


def discover_cameras(usb_backend: object = None, **usb_paths: object) -> list[CameraBackend]:
    """All cameras the driver can offer, unopened: the SDK's first (real cameras keep the bare
    device name when a simulated camera has the same model), then the simulated ones. Warns
    about Player One devices on USB this user may not open (:func:`warn_unopenable_devices`,
    whose seams ``usb_backend`` and ``usb_paths`` are)."""
    simulated = simulated_cameras()
    warn_unopenable_devices(usb_backend, **usb_paths)
    return [*sdk_cameras(quiet=bool(simulated)), *simulated]
