"""The USB bandwidth limit a camera gets when it connects (the driver's choice, not the camera's).

The C++ driver (indi-3rdparty ``indi-playerone/playerone_base.cpp``, ``Connect`` and
``createControls``) sets ``POA_USB_BANDWIDTH_LIMIT`` when a camera connects: to the lowest value the camera accepts on a USB 3 link, to 80 % of the highest on a USB 2 link (there
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

__all__ = ["default_bandwidth_pct", "is_arm"]

#: Machines whose USB controllers the C++ driver's LOW_USB_BANDWIDTH build is meant for.
ARM_MACHINES = ("aarch64", "arm64", "armv6l", "armv7l", "armv8l")


def is_arm(machine: str | None = None) -> bool:
    """This machine (or ``machine``, as ``platform.machine()`` names one) is an ARM board."""
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
