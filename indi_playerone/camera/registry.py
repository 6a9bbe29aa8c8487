"""Which cameras exist: enumeration over every loaded Player One SDK library, and their IDs.

Two libraries may be loaded side by side, both through the SDK backend (:mod:`.sdk_camera`):

* the vendor's ``libPlayerOneCamera.so.3`` (real cameras on USB), found as
  :func:`.sdk_loader.load_sdk` says;
* the simulated SDK ``libPlayerOneCameraSim.so`` (:func:`.sdk_loader.load_simulated_sdk`),
  loaded when ``INDI_PLAYERONE_SIMULATE`` names models: "simulated" means only which library
  a camera came from.

Camera IDs are the libraries' own and may collide between them, so a camera is known by a
:class:`CameraKey`, (library path, camera ID). The driver's hot-plug compares lists of keys
(:func:`scan`) and asks :func:`camera_for` for a new one; nothing outside this module walks a
library's camera list.

The simulated library reads its configuration from the environment itself (see its README,
``native/simsdk/README.md``): ``INDI_PLAYERONE_SIMULATE`` (models; ``"Ares-C PRO,Zeus 455M PRO"``,
the same model twice gives two cameras), ``INDI_PLAYERONE_SIM_OPTIONS`` (``ambient``,
``cooler_tau``, ``tilt``, ``focus``, ``fratio``, ``seeing``, ``sky``, ``stars``, ``no12v``,
``st4``, ``usb2``), ``INDI_PLAYERONE_SIM_FAULT_FILE`` and ``INDI_PLAYERONE_SIM_FAULT_LOG``.
Model names are checked here first, so a typo is a ``ValueError`` naming the valid models,
which the driver reports as an INDI message; so is what the library's scan finds wrong with the
options (``SimPOA_GetConfigError``).

When a Player One device is on USB but this user may not open it, :func:`discover_cameras` logs
a warning naming the udev rule to install (:func:`.usb.access_problem`): the driver's log bridge
turns it into an INDI message.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from . import enumeration
from .interface import CameraBackend, CameraError
from .library_search import is_file, load_or_log
from .models import MODELS, find_model
from .sdk_binding import SdkLibrary
from .sdk_camera import SdkCamera
from .sdk_loader import load_sdk, load_simulated_sdk, loaded_library, simulated_sdk_path
from .sdk_types import CameraProps, SdkError, SdkLoadError

__all__ = ["SIMULATE_ENV", "SIM_OPTIONS_ENV", "FAULT_FILE_ENV", "FAULT_LOG_ENV", "CameraKey",
           "simulated_models", "libraries", "scan", "camera_for", "camera_key", "is_simulated",
           "with_serial", "sdk_cameras", "simulated_cameras", "discover_cameras",
           "warn_unopenable_devices", "LoadedSdk", "loaded_sdks", "vendor_sdk_problem"]

log = logging.getLogger(__name__)

#: Comma-separated model names, e.g. ``"Ares-C PRO,Zeus 455M PRO"``.
SIMULATE_ENV = "INDI_PLAYERONE_SIMULATE"
SIM_OPTIONS_ENV = "INDI_PLAYERONE_SIM_OPTIONS"
FAULT_FILE_ENV = "INDI_PLAYERONE_SIM_FAULT_FILE"
FAULT_LOG_ENV = "INDI_PLAYERONE_SIM_FAULT_LOG"


@dataclass(frozen=True, order=True)
class CameraKey:
    """A camera as the driver tells cameras apart: which library, and that library's ID."""

    library: str  # SdkLibrary.path
    camera_id: int


def simulated_models(spec: str | None = None) -> list[str]:
    """The model names of ``INDI_PLAYERONE_SIMULATE`` (or ``spec``), as the manual writes them.

    Names match exactly or case-insensitively; blanks around names and empty items are ignored.
    An unknown name raises ``ValueError`` listing the valid names. Empty or unset gives ``[]``.
    """
    if spec is None:
        spec = os.environ.get(SIMULATE_ENV, "")
    models = []
    for item in spec.split(","):
        name = item.strip()
        if not name:
            continue
        try:
            models.append(find_model(name).model)
        except KeyError:
            raise ValueError(f"{SIMULATE_ENV}: unknown camera model {name!r}; "
                             f"valid models: {', '.join(MODELS)}") from None
    return models


def _simulated_library(quiet: bool = False) -> SdkLibrary | None:
    """The simulated SDK when ``INDI_PLAYERONE_SIMULATE`` names cameras (a ``ValueError`` for a
    bad name), else None."""
    if not simulated_models():
        return None
    return load_or_log(load_simulated_sdk, SdkLoadError, logging.DEBUG if quiet else logging.ERROR)


def _vendor_library(level: int | None) -> SdkLibrary | None:
    """The vendor's SDK, or None when it is not installed (logged at ``level``; None: not
    logged, the caller's discovery said it). Searched once per process: :func:`.load_sdk`
    keeps the outcome, a failure too."""
    sdk = load_or_log(load_sdk, SdkLoadError, level)
    if sdk is None or is_file(sdk.path, simulated_sdk_path()):
        return None  # INDI_PLAYERONE_SDK names the simulated library: served once, as simulated
    return sdk


def _missing_level(quiet: bool) -> int:
    """A missing vendor SDK is a WARNING, or DEBUG when ``quiet``: simulated cameras to serve."""
    return logging.DEBUG if quiet else logging.WARNING


def vendor_sdk_problem() -> str | None:
    """Why the vendor's SDK was not loaded, in the search's words (kept from the discovery:
    nothing is searched again); None when it was."""
    try:
        load_sdk()
    except SdkLoadError as exc:
        return str(exc)
    return None


def libraries(quiet: bool | None = None) -> list[SdkLibrary]:
    """The libraries whose cameras the driver serves, the vendor's first: real cameras keep
    the bare device name when a simulated camera has the same model. ``quiet`` (default: when
    cameras are simulated) logs a missing vendor SDK at DEBUG only."""
    simulated = _simulated_library()
    vendor = _vendor_library(_missing_level(bool(simulated) if quiet is None else quiet))
    return [lib for lib in (vendor, simulated) if lib is not None]


@dataclass(frozen=True)
class LoadedSdk:
    """One camera SDK library the driver loaded, as the driver and ``indi-playerone list`` name
    it to the user: its ``POAGetSDKVersion``/``POAGetAPIVersion``, the file, and how many of
    the cameras found came from it."""

    path: str
    version: str
    api_version: int
    simulated: bool
    cameras: int


def loaded_sdks(cameras: list[CameraBackend]) -> list[LoadedSdk]:
    """The libraries :func:`discover_cameras` loaded (the vendor's first), each with the number
    of ``cameras`` it gave. Quiet: a missing vendor SDK was reported by the discovery."""
    # Nothing loaded again; _vendor_library never answers with the simulated file.
    libs = [(_vendor_library(None), False), (loaded_library(simulated_sdk_path()), True)]
    found = [key.library for cam in cameras if (key := camera_key(cam)) is not None]
    return [LoadedSdk(sdk.path, sdk.version, sdk.api_version, simulated, found.count(sdk.path))
            for sdk, simulated in libs if sdk is not None]


def _list(sdk: SdkLibrary) -> list[CameraProps] | None:
    """One library's cameras now, in its order; None when listing failed."""
    return enumeration.list_devices(sdk.path, sdk.camera_count, sdk.camera_props, SdkError)


def scan(libs: list[SdkLibrary] | None = None) -> dict[CameraKey, CameraProps] | None:
    """Every camera present now, by key, in the libraries' order (only enumeration calls: no
    open camera is disturbed). None when a library's listing failed: a caller comparing
    lists must not take that for "every camera is gone"."""
    return enumeration.scan(libraries() if libs is None else libs, _list,
                            lambda sdk, props: CameraKey(sdk.path, int(props.camera_id)))


def camera_for(key: CameraKey, props: CameraProps) -> CameraBackend:
    """The (unopened) backend of a camera :func:`scan` listed, its serial number filled in."""
    sdk = loaded_library(key.library)
    if sdk is None:
        raise CameraError(f"no library {key.library} is loaded")
    return SdkCamera(sdk, with_serial(sdk, props))


def camera_key(camera: CameraBackend) -> CameraKey | None:
    """The key of a camera this module made; None for any other backend."""
    if isinstance(camera, SdkCamera):
        return CameraKey(camera.sdk.path, int(camera.props.camera_id))
    return None


def is_simulated(camera: CameraBackend) -> bool:
    """True for a camera of the simulated SDK library."""
    key = camera_key(camera)
    return key is not None and os.path.realpath(key.library) == os.path.realpath(simulated_sdk_path())


def with_serial(sdk: SdkLibrary, props: CameraProps) -> CameraProps:
    """``props`` with the serial number filled in.

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


def _cameras(libs: list[SdkLibrary]) -> list[CameraBackend]:
    """Each library's cameras, serials filled in. ``ValueError`` for what the simulated SDK's
    scan found wrong with its configuration (a bad option: its own parser's words)."""
    return enumeration.discover(libs, _list, lambda sdk: sdk.sim_config_error(),
                                lambda sdk, props: SdkCamera(sdk, with_serial(sdk, props)),
                                lambda sdk: f"Player One SDK {sdk.version} ({sdk.path})", "cameras")


def sdk_cameras(quiet: bool = False) -> list[CameraBackend]:
    """The vendor SDK's cameras (real ones), unopened; ``[]`` when it is not installed."""
    vendor = _vendor_library(_missing_level(quiet))
    return _cameras([vendor]) if vendor is not None else []


def simulated_cameras(spec: str | None = None) -> list[CameraBackend]:
    """The simulated cameras, unopened, in ``INDI_PLAYERONE_SIMULATE``'s order (``spec``
    replaces the variable for this process, and so for the library, which reads it).
    ``ValueError`` for an unknown model; ``[]`` for none."""
    if spec is not None:
        os.environ[SIMULATE_ENV] = spec
    sim = _simulated_library()
    return _cameras([sim]) if sim is not None else []


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
    """All cameras the driver can offer, unopened: the vendor SDK's first, then the simulated
    ones (:func:`libraries`). ``ValueError`` for an unknown model in ``INDI_PLAYERONE_SIMULATE``.
    Warns about Player One devices on USB this user may not open
    (:func:`warn_unopenable_devices`, whose seams ``usb_backend`` and ``usb_paths`` are)."""
    libs = libraries()
    warn_unopenable_devices(usb_backend, **usb_paths)
    return _cameras(libs)
