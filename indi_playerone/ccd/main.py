"""`indi_playerone_ccd`: the driver process indiserver starts.

It speaks INDI on stdin/stdout and serves every camera it finds as one device
(mdpd: multiple devices per driver), named as the C++ driver names them:
`PlayerOne CCD <model>`, then `... 1`, `... 2` for more cameras of one model.
Cameras plugged in or out while it runs appear as devices or are deleted (ccd/hotplug.py:
one thread compares the registry's camera list with the devices every 2 s). It exits when stdin
closes (indiserver gone) or on SIGTERM, after stopping every camera (without a warm-up).

At start it says which camera SDK libraries it loaded (version, API version, file, cameras
found) and, when the vendor's SDK finds no camera, what to check. While no camera is served,
every client asking for all properties gets that again: under indiserver the driver starts
before any client connects, and a client would otherwise see nothing at all.
"""
from __future__ import annotations

import logging
import os
import sys

from .. import __version__, driver_version
from ..camera import registry
from ..camera.interface import CameraBackend
from ..indi import xmlout
from ..indi.driver import DriverLoop
from ..indi.process import numbered_names, open_process, serve
from ..indi.transport import Transport
from .device import PlayerOneCCD
from .hotplug import HotPlugWatcher, poll_period, unique_name
from .nicknames import device_base_name, read_nicknames

log = logging.getLogger("indi_playerone")


def device_names(cameras: list[CameraBackend]) -> list[str]:
    """`PlayerOne CCD <model>`, or the nickname stored for the camera's serial number
    (`~/.indi/PlayerOneNicknames.xml`, ccd/nicknames.py); the second camera of one name
    gets ` 1`, the third ` 2`."""
    nicknames = read_nicknames()
    return numbered_names(device_base_name(c.info.serial, c.info.model, nicknames) for c in cameras)


#: What to check when the vendor's SDK lists no camera (its own words are just a count of 0).
NO_CAMERA_CHECKS = (
    "Check that the camera is plugged in and powered, that its USB cable reaches the computer "
    "(a USB 3 port, no passive hub), and that the udev rule for Player One devices is installed "
    "so this user may open it: `indi-playerone list` shows the Player One devices on USB and "
    "whether you may open them, `indi-playerone udev-rule` prints the rule.")
TRY_SIMULATED = ("To try the driver without a camera, set INDI_PLAYERONE_SIMULATE (for example "
                 "\"Ares-C PRO\").")


def startup_report(cameras: list[CameraBackend],
                   sdks: list[registry.LoadedSdk]) -> list[tuple[int, str]]:
    """(log level, text) of what the driver says at start about its camera SDK libraries
    (``sdks``: :func:`.registry.loaded_sdks` of ``cameras``) and, when the vendor's SDK finds no
    camera or no camera is served at all, what to do."""
    lines: list[tuple[int, str]] = []
    empty_vendor = None
    for sdk in sdks:
        kind = "Simulated camera SDK" if sdk.simulated else "Player One camera SDK"
        count = f"{sdk.cameras} camera{'' if sdk.cameras == 1 else 's'}"
        lines.append((logging.INFO, f"{kind} {sdk.version} (API {sdk.api_version}) loaded from "
                                    f"{sdk.path}: {count}."))
        if not sdk.simulated and sdk.cameras == 0:
            empty_vendor = sdk
    if empty_vendor is not None:
        head = "No Player One cameras detected" if not cameras else "No real camera found"
        lines.append((logging.INFO if cameras else logging.WARNING,
                      f"{head}: the Player One camera SDK {empty_vendor.version} lists none. "
                      f"{NO_CAMERA_CHECKS}{'' if cameras else ' ' + TRY_SIMULATED}"))
    elif not cameras:
        lines.append((logging.WARNING, f"No Player One cameras detected. Power on? {TRY_SIMULATED}"))
    return lines


def tune_malloc() -> None:
    """Let glibc return frame-sized buffers to the system instead of keeping them.

    Measured in the long soak (10,000 exposures + 500 reconnects): with glibc's defaults the
    driver's RSS grew 5.3 % (freed frame-sized buffers kept in its arenas; tracemalloc saw
    < 50 kB of Python growth); with a 1 MiB mmap threshold and two arenas it went 78 -> 74 MB,
    and the starting footprint fell from 122 to 74 MB. No-op where glibc is absent (macOS)."""
    import ctypes
    import ctypes.util

    M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 1 << 20)
        libc.mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass


def start_hotplug(loop: DriverLoop, transport: Transport, devices: list[PlayerOneCCD],
                  log_handler: object) -> HotPlugWatcher | None:
    """Watch the registry's camera list (ccd/hotplug.py): the libraries loaded at start, real
    and simulated alike. None without any library or when INDI_PLAYERONE_HOTPLUG_S is 0."""
    period = poll_period()
    if period <= 0:
        return None
    try:
        libraries = registry.libraries(quiet=True)  # loaded at discovery: cached
    except ValueError:  # a bad INDI_PLAYERONE_SIMULATE: reported at discovery, nothing served
        return None
    if not libraries:
        return None

    def make_device(camera: CameraBackend, used: set[str]) -> PlayerOneCCD:
        base = device_base_name(camera.info.serial, camera.info.model, read_nicknames())
        return PlayerOneCCD(unique_name(base, used), camera, transport, driver_version(),
                            log_handler)

    served = {key: d for d in devices if (key := registry.camera_key(d.camera)) is not None}
    return HotPlugWatcher(lambda: registry.scan(libraries), registry.camera_for, loop, transport,
                          make_device, served, period).start()


def main(argv: list[str] | None = None) -> int:
    tune_malloc()
    process = open_process()
    transport, log_handler, loop = process.transport, process.log_handler, process.loop

    try:
        cameras = registry.discover_cameras()
    except ValueError as exc:
        log.error("%s", exc)  # the log bridge tells the client
        cameras = []
    devices = [PlayerOneCCD(name, camera, transport, driver_version(), log_handler)
               for name, camera in zip(device_names(cameras), cameras)]
    for device in devices:
        loop.add_device(device)
    report = startup_report(cameras, registry.loaded_sdks(cameras))
    for level, text in report:
        log.log(level, "%s", text)
    problem = registry.vendor_sdk_problem()  # the discovery's search, not another one
    if problem is not None:  # the discovery logged it at start; a later client is told it too
        report.insert(0, (logging.WARNING, problem))

    answered = [False]

    def repeat_report(device: str | None, name: str | None) -> None:
        """A client asking for every property while no camera is served gets the report. The
        first such request is answered by the start-up messages themselves: on pipes it comes
        from the one client, which read them; under indiserver it is indiserver's own request
        at the driver's start, and the messages went to the clients connected then."""
        if device is not None or loop.devices:
            return
        if not answered[0]:
            answered[0] = True
            return
        for level, text in report:
            transport.send(xmlout.message(None, f"[{logging.getLevelName(level)}] {text}"))

    loop.on_get_properties = repeat_report
    log.info("indi_playerone_ccd %s serving %s (pid %d); images are sent as %s BLOBs",
             __version__, ", ".join(d.name for d in devices) or "no camera", os.getpid(),
             "attached" if transport.attached else "inline")
    return serve(process, devices, start_hotplug(loop, transport, devices, log_handler))


if __name__ == "__main__":
    sys.exit(main())
