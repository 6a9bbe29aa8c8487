"""The camera's USB link: how long a frame may take to arrive, and the bandwidth limit a camera
gets when it connects.

**Readout allowance.** After an exposure ends the sensor is read into the camera's DDR buffer
(at the manual's full-frame rate, ``1 / max_fps``) while the frame crosses the USB link to the
host; the SDK recommends waiting "exposure + 500 ms" (``PlayerOneCamera.h``, ``POAGetImageData``),
which only holds for small frames on a fast link. The link moves about 40 MB/s on USB 2 and
several hundred on USB 3, times ``POA_USB_BANDWIDTH_LIMIT`` percent (the manual's advice when
downloads fail is 40 %, where a 122 MB 16-bit Zeus frame needs about 7.6 s). The allowance
assumes a slower link than that (:data:`LINK_BYTES_PER_S`: a hub, a Raspberry Pi's controller)
and doubles the transfer time again (:data:`LINK_MARGIN`), so a slow link is never taken for a
camera that stopped answering: a frame late by that much is the field failure of a frame that
never comes (``docs/upstream-facts.md`` section 7), not a slow cable. The cost of a generous
allowance is only how long a really hung camera takes to be noticed.

**Bandwidth at connect.** The C++ driver (indi-3rdparty ``indi-playerone/playerone_base.cpp``,
``Connect`` and ``createControls``) sets ``POA_USB_BANDWIDTH_LIMIT`` when a camera connects: to the
lowest value the camera accepts on a USB 3 link, to 80 % of the highest on a USB 2 link (there
the limit throttles the slow link itself), and to the lowest on any link when built with
``LOW_USB_BANDWIDTH`` (meant for ARM boards, whose USB controllers drop data at full rate, the
field reports of indi-3rdparty #1090 on a Pi 5; its README advises 40 on ARM). We do the same
on USB 2 and on ARM, the ARM choice made at run time from the machine. On USB 3 elsewhere we
set the highest instead: the limit scales the link (the vendor's advice is to lower it to 40 %
only when downloads fail), and the lowest, 35 %, capped the simulated Apollo-M MAX PRO's stream
at 39 fps of its 126. A value saved in the device's configuration (``CCD_CONTROLS``) is loaded
after this and wins: a USB 3 camera that times out (indi-3rdparty #1328) is set lower once.
"""
from __future__ import annotations

import platform

__all__ = ["LINK_BYTES_PER_S", "LINK_MARGIN", "READOUT_SLACK_S", "readout_allowance_s",
           "default_bandwidth_pct", "is_arm"]

#: Link rates assumed at a 100 % bandwidth limit: below what the links carry (USB 2 high speed
#: about 40 MB/s of bulk data, USB 3 some 300-400 MB/s), so the allowance errs long.
LINK_BYTES_PER_S = {False: 30e6, True: 200e6}  # by "is USB 3"
#: The transfer time at the assumed rate is doubled.
LINK_MARGIN = 2.0
#: The SDK's recommended margin after the exposure ("exposure + 500 ms").
READOUT_SLACK_S = 0.5
#: Sensor readout when the model's frame rate is unknown (the slowest PRO model needs 0.15 s).
SENSOR_READOUT_FALLBACK_S = 1.0
#: Machines whose USB controllers the C++ driver's LOW_USB_BANDWIDTH build is meant for.
ARM_MACHINES = ("aarch64", "arm64", "armv6l", "armv7l", "armv8l")


def readout_allowance_s(nbytes: int, *, usb3: bool, bandwidth_pct: float,
                        sensor_readout_s: float | None = None) -> float:
    """Seconds a frame of ``nbytes`` may take after its exposure ended before it counts as never
    coming: the SDK's 500 ms, the sensor readout, and twice the transfer at the assumed rate of
    this link and bandwidth limit (a limit outside 1..100 counts as 100)."""
    pct = bandwidth_pct if 0 < bandwidth_pct <= 100 else 100.0
    rate = LINK_BYTES_PER_S[bool(usb3)] * pct / 100.0
    readout = SENSOR_READOUT_FALLBACK_S if sensor_readout_s is None else sensor_readout_s
    return READOUT_SLACK_S + readout + LINK_MARGIN * nbytes / rate


def is_arm(machine: str | None = None) -> bool:
    return (machine or platform.machine()).lower() in ARM_MACHINES


def default_bandwidth_pct(*, usb3: bool, lowest: int, highest: int,
                          machine: str | None = None) -> int:
    """The bandwidth limit at connect: the lowest the camera accepts on ARM boards and 80 % of the
    highest on USB 2 (the C++ driver's values), the highest on USB 3 elsewhere (the C++ driver's
    lowest would cap the frame rate; see the module's docstring)."""
    if is_arm(machine):
        return int(lowest)
    if usb3:
        return int(highest)
    return max(int(lowest), min(int(highest), int(0.8 * highest)))
