"""`indi-playerone list`: the cameras and filter wheels the drivers would serve, and Player One
devices on USB.

Two views, because they fail differently: the driver's own discovery (the cameras of the vendor
SDK and the simulated ones of ``INDI_PLAYERONE_SIMULATE``, both through the SDK backend), and the
raw USB bus (pyusb), which shows a camera even when the SDK cannot open it, with its link
speed and whether this user may open it. A device the user cannot open comes with the fix.

Exit codes (see :mod:`.exits`): 0 something was found and can be opened, 1 a device is on the
bus but this user cannot open it, 4 nothing found. ``--json`` prints one JSON object instead
of text (keys: ``cameras``, ``camera_sdks``, ``camera_error``, ``camera_notes``, ``wheels``,
``wheel_error``, ``usb``, ``usb_error``, ``udev_rule``), for scripts. ``camera_sdks`` are the
camera SDK libraries loaded (path, version, API version, simulated or not, cameras found): which
file was loaded is the first thing to know when a camera is not found. Wheels are those of the
vendor's wheel SDK and the simulated ones of ``INDI_PLAYERONE_SIMULATE_WHEEL``, named as
``indi_playerone_wheel`` names them.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from ..camera import usb
from . import exits, udev


@dataclass(frozen=True)
class DriverCamera:
    """A camera the driver would serve, under the INDI device name it would get."""

    device: str
    model: str
    serial: str
    simulated: bool
    usb3: bool


class _Notes(logging.Handler):
    """Collects what the camera layer logs while discovering (e.g. "SDK not installed")."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def driver_cameras() -> tuple[list[DriverCamera], list[str], list[dict[str, Any]]]:
    """What `indi_playerone_ccd` would find now (unopened), named as it names them, the
    warnings the camera layer logged meanwhile (why the SDK found nothing, for instance), and
    the camera SDK libraries loaded, the vendor's first (path, version, api_version, simulated,
    cameras: how many of its cameras were found).

    Raises ``ValueError`` for a bad ``INDI_PLAYERONE_SIMULATE`` (the driver reports the same).
    """
    from ..camera.registry import discover_cameras, is_simulated, loaded_sdks
    from ..ccd.main import device_names

    notes = _Notes()
    camera_log = logging.getLogger("indi_playerone.camera")
    camera_log.addHandler(notes)  # also keeps logging's last-resort handler off stderr
    try:
        cameras = discover_cameras()
    finally:
        camera_log.removeHandler(notes)
    return ([DriverCamera(name, cam.info.model, cam.info.serial, is_simulated(cam),
                          cam.info.usb3)
             for name, cam in zip(device_names(cameras), cameras)], notes.lines,
            [vars(sdk) for sdk in loaded_sdks(cameras)])


@dataclass(frozen=True)
class DriverWheel:
    """A filter wheel the wheel driver would serve, under the INDI device name it would get."""

    device: str
    model: str
    serial: str
    slots: int
    simulated: bool


def driver_wheels() -> list[DriverWheel]:
    """What `indi_playerone_wheel` would find now (unopened), named as it names them.
    ``ValueError`` for a bad ``INDI_PLAYERONE_SIMULATE_WHEEL`` (the driver reports the same)."""
    from ..camera.wheel_registry import discover_wheels, libraries
    from ..wheel.main import device_names

    wheel_log = logging.getLogger("indi_playerone.camera")
    quiet = _Notes()  # a missing wheel SDK is no news here: the USB view shows wheels anyway
    wheel_log.addHandler(quiet)
    try:
        wheels = discover_wheels(libraries(quiet=True))
    finally:
        wheel_log.removeHandler(quiet)
    return [DriverWheel(name, w.info.model, w.info.serial, w.info.slots, w.info.simulated)
            for name, w in zip(device_names(wheels), wheels)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")


def _section(out: TextIO, title: str, lines: list[str], error: str | None, any_found: bool,
             none: str) -> None:
    """One part of the text listing: the title, its lines, then the error, or ``none`` when
    nothing was found."""
    out.write(title + "\n")
    for line in lines:
        out.write(f"  {line}\n")
    if error:
        out.write(f"  {error}\n")
    elif not any_found:
        out.write(f"  {none}\n")


def _kind(found: Any) -> str:
    return "simulated" if found.simulated else f"serial {found.serial}"


def _usb_line(dev: usb.UsbDevice) -> str:
    name = f' "{dev.product}"' if dev.product else ""
    access = {True: "you can open it", False: "PERMISSION DENIED for you",
              None: "no device node"}[dev.accessible]
    return (f"bus {dev.bus:03d} address {dev.address:03d}  {dev.vendor_id:04x}:{dev.product_id:04x}"
            f"  {dev.kind}{name}  {usb.speed_name(dev.speed)}  {access} ({dev.node})")


def permission_fix() -> str:
    """The fix for a device this user cannot open, depending on whether our rule is installed."""
    installed = udev.installed_rule()
    if installed is None:
        return ("The udev rule for Player One devices is not installed. Install it with:\n"
                + "\n".join("  " + line for line in udev.install_hint().splitlines()))
    return (f"The udev rule is installed ({installed}) but you cannot open the device. It grants "
            "access to the user logged in at the machine's seat and to the plugdev group: "
            "add yourself with\n  sudo usermod -aG plugdev $USER\nthen log out and in, "
            "and unplug and replug the camera.")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None,
        backend: Any = None, **usb_paths: Any) -> int:
    """``backend`` and ``usb_paths`` (``dev_root``, ``sys_root``) are :func:`usb.scan`'s seams."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        cameras, notes, sdks = driver_cameras()
        camera_error = None
    except ValueError as exc:
        cameras, notes, sdks, camera_error = [], [], [], str(exc)
    try:
        wheels, wheel_error = driver_wheels(), None
    except ValueError as exc:
        wheels, wheel_error = [], str(exc)
    try:
        devices = usb.scan(backend, **usb_paths)
        usb_error = None
    except usb.UsbUnavailable as exc:
        devices, usb_error = [], str(exc)

    denied = [d for d in devices if d.accessible is False]
    if args.json:
        json.dump({
            "cameras": [vars(c) for c in cameras],
            "camera_sdks": sdks,
            "camera_error": camera_error,
            "camera_notes": notes,
            "wheels": [vars(w) for w in wheels],
            "wheel_error": wheel_error,
            "usb": [dict(bus=d.bus, address=d.address, vendor_id=f"{d.vendor_id:04x}",
                         product_id=f"{d.product_id:04x}", kind=d.kind, product=d.product,
                         speed=d.speed, usb_generation=d.usb_generation, node=str(d.node),
                         accessible=d.accessible) for d in devices],
            "usb_error": usb_error,
            "udev_rule": str(udev.installed_rule() or "") or None,
        }, out, indent=2)
        out.write("\n")
    else:
        for sdk in sdks:
            kind = "simulated camera SDK" if sdk["simulated"] else "Player One camera SDK"
            out.write(f"Camera SDK: {kind} {sdk['version']} (API {sdk['api_version']}), "
                      f"{sdk['path']}\n")
        _section(out, "Cameras the driver serves (INDI device names):",
                 [f"{c.device}  ({c.model}, {_kind(c)})" for c in cameras]
                 + [f"note: {note}" for note in notes],
                 camera_error and f"error: {camera_error}", bool(cameras),
                 "none (set INDI_PLAYERONE_SIMULATE=\"Ares-C PRO\" to try a simulated camera)")
        _section(out, "Filter wheels the wheel driver serves (INDI device names):",
                 [f"{w.device}  ({w.slots}-slot {w.model}, {_kind(w)})" for w in wheels],
                 wheel_error and f"error: {wheel_error}", bool(wheels),
                 "none (set INDI_PLAYERONE_SIMULATE_WHEEL=\"Phoenix 7x36mm\" to try a simulated wheel)")
        _section(out, "Player One devices on USB (vendor id a0a0):", [_usb_line(d) for d in devices],
                 usb_error and f"cannot list USB devices: {usb_error}", bool(devices), "none")
        for d in devices:
            if d.usb_generation is not None and d.usb_generation < 3 and not d.is_filter_wheel:
                out.write(f"  note: bus {d.bus:03d} address {d.address:03d} runs at "
                          f"{usb.speed_name(d.speed)}: frames download several times slower than "
                          "over USB 3; use a USB 3 port and cable.\n")
    if denied:
        err.write(permission_fix() + "\n")
        return exits.FAILURE
    return exits.OK if (cameras or wheels or devices) else exits.NO_DEVICE
