"""The udev rule for Player One devices, as text: `indi-playerone udev-rule` prints it.

The committed ``packaging/udev/70-indi-playerone.rules`` (what the .deb installs into
``/lib/udev/rules.d``) must equal :data:`RULE` (a test checks it), so a pip-installed user gets
the very same rule from the command line without the source tree.

Why the name starts with 70: ``TAG+="uaccess"`` only takes effect when it is set before
systemd's ``73-seat-late.rules`` applies the ACLs, so the file must sort before that one.
"""
from __future__ import annotations

from pathlib import Path

RULE_FILENAME = "70-indi-playerone.rules"

#: Where udev reads rules from (systemd 252), in its own order of precedence.
RULE_DIRS = (Path("/etc/udev/rules.d"), Path("/run/udev/rules.d"), Path("/lib/udev/rules.d"),
             Path("/usr/lib/udev/rules.d"))

RULE = """\
# udev rule for Player One Astronomy cameras (USB vendor a0a0) and the Phoenix
# filter wheel (a0a0:f001), installed by indi-playerone.
#
# Who may open the devices: the user logged in at the machine's seat (the
# "uaccess" tag: systemd-logind grants that user an ACL on the device node while
# the session lasts) and members of the "plugdev" group (headless machines and
# services, e.g. the indi-playerone systemd unit, which has no seat). The node
# stays mode 0660, not world-writable 0666 as the vendor's rule makes it, so other
# accounts on a shared machine cannot read out or reconfigure the camera. The
# file's number (70) puts the tag before 73-seat-late.rules, which applies it.
#
# usbfs_memory_mb: the Linux kernel caps the memory all usbfs (libusb) transfers
# may hold at once at 16 MB by default. A USB 3 camera's frame is read with many
# large bulk transfers in flight (a full-resolution 16-bit Zeus 455 frame is
# 122 MB), and at 16 MB they fail or stall; 256 MB is what the vendor's SDK rule
# sets. The limit is only ever raised: a value already above 256, or 0 (no
# limit), is left alone. It is set when a camera is plugged in (the filter wheel
# does not need it) and lasts until reboot; it applies to every usbfs user,
# not only these devices.

ACTION=="remove", GOTO="indi_playerone_end"
SUBSYSTEM!="usb", GOTO="indi_playerone_end"
ENV{DEVTYPE}!="usb_device", GOTO="indi_playerone_end"

# Cameras: every product id of vendor a0a0.
ATTR{idVendor}=="a0a0", GROUP="plugdev", MODE="0660", TAG+="uaccess"
# The filter wheel, a0a0:f001 (the line above covers it too; named for clarity).
ATTR{idVendor}=="a0a0", ATTR{idProduct}=="f001", GROUP="plugdev", MODE="0660", TAG+="uaccess"

# Raise the usbfs limit to 256 MB when a camera arrives, if it is 1..255 now.
# [module/usbcore] is udev's way to name /sys/module/usbcore (no shell needed).
ATTR{idProduct}=="f001", GOTO="indi_playerone_end"
ACTION=="add", ATTR{idVendor}=="a0a0", ATTR{[module/usbcore]parameters/usbfs_memory_mb}=="[1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]", ATTR{[module/usbcore]parameters/usbfs_memory_mb}="256"

LABEL="indi_playerone_end"
"""


def installed_rule() -> Path | None:
    """Our rule file where udev would read it, or None when it is not installed."""
    for directory in RULE_DIRS:
        path = directory / RULE_FILENAME
        if path.is_file():
            return path
    return None


def install_hint() -> str:
    """What to type to install the rule when it is missing (printed by `list`)."""
    return (f"indi-playerone udev-rule | sudo tee /etc/udev/rules.d/{RULE_FILENAME}\n"
            "sudo udevadm control --reload-rules && sudo udevadm trigger --subsystem-match=usb\n"
            "then unplug and replug the camera")
