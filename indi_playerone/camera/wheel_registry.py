"""Which Phoenix filter wheels exist: enumeration over every loaded wheel SDK library.

Two libraries may serve wheels side by side, both through :class:`.wheel_binding.PwLibrary`:

* the vendor's ``libPlayerOnePW.so.1`` (real wheels on USB, ``a0a0:f001``), found as
  :func:`.wheel_loader.load_pw_sdk` says;
* the simulated SDK library (:func:`.wheel_loader.load_simulated_pw`), loaded when
  ``INDI_PLAYERONE_SIMULATE_WHEEL`` names wheels (``Phoenix 7x36mm``, ``Phoenix 5x2"``,
  ``Phoenix 7x2"``, ``Phoenix 7x50mm``, ``Phoenix 8x1.25"``; case and blanks ignored). The library
  checks the names itself; an unknown one is a ``ValueError`` here with its words, which list the
  valid names. ``INDI_PLAYERONE_SIM_WHEEL_OPTIONS`` (``time_scale``, ``state``) and the fault file
  are read by the library (``native/simsdk/README.md``).

Handles of two libraries may collide, so a wheel is known by a :class:`.wheel_backend.WheelKey`
(library path, handle); the driver's hot-plug compares lists of keys (:func:`scan`).
"""
from __future__ import annotations

import logging
import os

from . import enumeration
from .library_search import is_file, load_or_log
from .wheel_backend import PhoenixWheel, WheelKey
from .wheel_binding import PwLibrary, WheelError, WheelLoadError, WheelProps
from .wheel_loader import load_pw_sdk, load_simulated_pw, simulated_pw_path

__all__ = ["SIMULATE_WHEEL_ENV", "SIM_WHEEL_OPTIONS_ENV", "simulated_wheel_names", "libraries", "scan",
           "discover_wheels", "wheel_for"]


SIMULATE_WHEEL_ENV = "INDI_PLAYERONE_SIMULATE_WHEEL"
SIM_WHEEL_OPTIONS_ENV = "INDI_PLAYERONE_SIM_WHEEL_OPTIONS"


def simulated_wheel_names(spec: str | None = None) -> list[str]:
    """The non-empty items of ``INDI_PLAYERONE_SIMULATE_WHEEL`` (or ``spec``), unchecked."""
    spec = os.environ.get(SIMULATE_WHEEL_ENV, "") if spec is None else spec
    return [item.strip() for item in spec.split(",") if item.strip()]


def _simulated(quiet: bool = False) -> PwLibrary | None:
    if not simulated_wheel_names():
        return None
    return load_or_log(load_simulated_pw, WheelLoadError, logging.DEBUG if quiet else logging.ERROR)


def _vendor(quiet: bool) -> PwLibrary | None:
    lib = load_or_log(load_pw_sdk, WheelLoadError, logging.DEBUG if quiet else logging.WARNING)
    if lib is not None and is_file(lib.path, simulated_pw_path()):
        return None  # INDI_PLAYERONE_PW_SDK names the simulated library: served once, as simulated
    return lib


def libraries(quiet: bool | None = None) -> list[PwLibrary]:
    """The libraries whose wheels the driver serves, the vendor's first. ``quiet`` (default: when
    wheels are simulated) logs a missing vendor SDK at DEBUG only."""
    simulated = _simulated()
    vendor = _vendor(bool(simulated) if quiet is None else quiet)
    return [lib for lib in (vendor, simulated) if lib is not None]


def _list(lib: PwLibrary) -> list[WheelProps] | None:
    """One library's wheels now, in its order; None when listing failed (POAGetPWCount < 0)."""
    with lib.enumeration_lock:
        return enumeration.list_devices(lib.path, lib.count, lib.props, WheelError)


def scan(libs: list[PwLibrary]) -> dict[WheelKey, WheelProps] | None:
    """Every wheel present now, by key (enumeration calls only: no open wheel is disturbed).
    None when a listing failed: a caller comparing lists must not take that for "all gone"."""
    return enumeration.scan(libs, _list, lambda lib, props: WheelKey(lib.path, props.handle))


def wheel_for(libs: list[PwLibrary], key: WheelKey, props: WheelProps) -> PhoenixWheel:
    lib = next(lib for lib in libs if lib.path == key.library)
    return PhoenixWheel(lib, props)


def discover_wheels(libs: list[PwLibrary] | None = None) -> list[PhoenixWheel]:
    """Every wheel the driver can serve now, unopened, the vendor's first. ``ValueError`` with
    the simulated library's words for a bad ``INDI_PLAYERONE_SIMULATE_WHEEL`` (an unknown name:
    the message lists the valid ones) or ``INDI_PLAYERONE_SIM_WHEEL_OPTIONS``."""
    return enumeration.discover(libraries() if libs is None else libs, _list,
                                lambda lib: lib.config_error(), PhoenixWheel,
                                lambda lib: f"Player One filter wheel SDK {lib.version} ({lib.path})",
                                "wheels")
