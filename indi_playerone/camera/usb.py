"""Player One devices on the USB bus, seen through pyusb: bus, address, link speed, access.

This is what `indi-playerone list` shows beside the cameras the driver can open. It never
opens a device (a camera being read out by a running driver must not be disturbed): it reads
the device descriptor pyusb's backend already has, the link speed, and whether *this* user
may open the device node ``/dev/bus/usb/BBB/DDD`` libusb would open. A missing permission is
the most common first-run problem on Linux (the udev rule is not installed, or the user is not
in its group), so the scan reports it per device instead of failing later in the SDK.

The test seam is pyusb's own: :func:`scan` takes a ``backend`` (any ``usb.backend.IBackend``);
``None`` lets pyusb pick libusb-1.0/openusb/libusb-0.1. No backend at all (no libusb installed)
is reported as :class:`UsbUnavailable`, not as a crash. No INDI here: this is the camera layer.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PLAYERONE_VENDOR_ID",
    "FILTER_WHEEL_PRODUCT_ID",
    "UDEV_RULE_FILENAME",
    "UsbDevice",
    "UsbUnavailable",
    "scan",
    "speed_name",
    "can_open",
    "access_problem",
    "UsbResetError",
    "reset_device",
]

#: "the vID of PlayerOne is 0xA0A0" (SDK header); every camera uses it.
PLAYERONE_VENDOR_ID = 0xA0A0
#: The Phoenix filter wheel, ``a0a0:f001``.
FILTER_WHEEL_PRODUCT_ID = 0xF001
#: The project's udev rule (``packaging/udev/``; ``indi-playerone udev-rule`` prints it). The
#: same name as ``tools.udev.RULE_FILENAME`` (a test checks): the camera layer does not import
#: the tools.
UDEV_RULE_FILENAME = "70-indi-playerone.rules"

#: libusb's ``enum libusb_speed`` values as pyusb passes them through (``usb.util.SPEED_*``
#: names the first five; 5 is libusb's SUPER_PLUS, USB 3.1 Gen 2).
_SPEEDS = {
    1: ("low speed (USB 1.x, 1.5 Mbit/s)", 1),
    2: ("full speed (USB 1.x, 12 Mbit/s)", 1),
    3: ("high speed (USB 2, 480 Mbit/s)", 2),
    4: ("SuperSpeed (USB 3, 5 Gbit/s)", 3),
    5: ("SuperSpeed+ (USB 3, 10 Gbit/s)", 3),
}


class UsbUnavailable(Exception):
    """pyusb or a libusb backend is missing: the USB bus cannot be listed (the text says which)."""


class UsbResetError(Exception):
    """The camera's USB device could not be reset (the text says why and what to do)."""


@dataclass(frozen=True)
class UsbDevice:
    """One Player One device on the bus, as listed (never opened)."""

    bus: int
    address: int
    vendor_id: int
    product_id: int
    #: libusb speed code (0 unknown, 3 USB 2 high speed, 4/5 USB 3); see :func:`speed_name`.
    speed: int | None
    #: ``/dev/bus/usb/BBB/DDD``: the node libusb opens on Linux.
    node: Path
    #: True/False: may this process open the node read-write; None: no such node (not Linux,
    #: or a backend whose bus/address have no node, as in tests).
    accessible: bool | None
    #: The product string from sysfs (readable without permission), e.g. "Ares-C PRO"; None
    #: when sysfs does not have it.
    product: str | None = None

    @property
    def is_filter_wheel(self) -> bool:
        return self.product_id == FILTER_WHEEL_PRODUCT_ID

    @property
    def usb_generation(self) -> int | None:
        """3 for a USB 3 link, 2 for USB 2 high speed, 1 below that, None when unknown."""
        return _SPEEDS.get(self.speed or 0, (None, None))[1]

    @property
    def kind(self) -> str:
        return "filter wheel" if self.is_filter_wheel else "camera"


def speed_name(speed: int | None) -> str:
    """A person's name for a libusb speed code; ``unknown speed`` for 0/None/new codes."""
    return _SPEEDS.get(speed or 0, ("unknown speed", None))[0]


def can_open(node: Path) -> bool | None:
    """Whether this process may open ``node`` read-write (libusb opens usbfs nodes O_RDWR).

    ``os.access`` checks the real uid/gids against the mode *and* the ACL, so the ``uaccess``
    ACL systemd-logind grants the logged-in user counts, as it does for libusb. None when the
    node does not exist. Root passes every check, as it does when opening.
    """
    if not node.exists():
        return None
    return os.access(node, os.R_OK | os.W_OK)


def _product_from_sysfs(sys_root: Path, bus: int, ports: tuple[int, ...] | None) -> str | None:
    """``/sys/bus/usb/devices/<bus>-<p1>.<p2>.../product``: world-readable, unlike the device."""
    if not ports:
        return None
    path = sys_root / f"{bus}-{'.'.join(str(p) for p in ports)}" / "product"
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def scan(backend: Any = None, dev_root: Path = Path("/dev/bus/usb"),
         sys_root: Path = Path("/sys/bus/usb/devices")) -> list[UsbDevice]:
    """Every device with vendor id 0xa0a0, sorted by (bus, address).

    ``backend``: a ``usb.backend.IBackend`` (None: pyusb's default search). ``dev_root`` and
    ``sys_root`` exist so a test can point them at a directory it made. Raises
    :class:`UsbUnavailable` when pyusb is not installed or finds no libusb.
    """
    try:
        import usb.core
    except ImportError as exc:  # pyusb is a declared dependency; a broken install still gets a message
        raise UsbUnavailable(f"pyusb is not installed ({exc}); pip install pyusb") from None
    try:
        found = list(usb.core.find(find_all=True, backend=backend, idVendor=PLAYERONE_VENDOR_ID))
    except usb.core.NoBackendError:
        raise UsbUnavailable("pyusb found no USB backend: install libusb-1.0 "
                             "(Debian: sudo apt-get install libusb-1.0-0)") from None
    except usb.core.USBError as exc:
        raise UsbUnavailable(f"listing the USB bus failed: {exc}") from None
    devices = []
    for dev in found:
        bus = int(dev.bus) if dev.bus is not None else 0
        address = int(dev.address) if dev.address is not None else 0
        node = dev_root / f"{bus:03d}" / f"{address:03d}"
        ports = tuple(dev.port_numbers) if getattr(dev, "port_numbers", None) else None
        devices.append(UsbDevice(
            bus=bus, address=address, vendor_id=int(dev.idVendor), product_id=int(dev.idProduct),
            speed=dev.speed, node=node, accessible=can_open(node),
            product=_product_from_sysfs(sys_root, bus, ports)))
    return sorted(devices, key=lambda d: (d.bus, d.address))


def access_problem(devices: list[UsbDevice]) -> str | None:
    """The message for Player One devices on the bus that this user may not open, naming the
    udev rule to install; None when every device can be opened (or none is there).

    The driver logs it at start-up, so a user whose camera "is not detected" reads the cause in
    the client's log (the SDK itself only says it found no camera)."""
    denied = [d for d in devices if d.accessible is False]
    if not denied:
        return None
    which = "; ".join(
        f"{d.kind}{' ' + repr(d.product) if d.product else ''} {d.vendor_id:04x}:{d.product_id:04x}"
        f" on bus {d.bus:03d} address {d.address:03d} ({d.node})" for d in denied)
    return (f"Permission denied: this user cannot open the Player One USB device(s) {which}, so "
            "the camera cannot be used. Install the udev rule "
            f"{UDEV_RULE_FILENAME} (packaging/udev/{UDEV_RULE_FILENAME}): "
            f"`indi-playerone udev-rule | sudo tee /etc/udev/rules.d/{UDEV_RULE_FILENAME}`, "
            "then `sudo udevadm control --reload-rules && sudo udevadm trigger "
            "--subsystem-match=usb` and unplug and replug the camera. If the rule is installed, "
            "add the user to the plugdev group (`sudo usermod -aG plugdev $USER`, log in again).")


def reset_device(product_id: int, local_path: str = "", backend: Any = None) -> str:
    """Reset the USB device of a Player One camera: libusb's ``libusb_reset_device`` through
    pyusb, which is the kernel's ``USBDEVFS_RESET`` on ``/dev/bus/usb/BBB/DDD`` (what unplugging
    and replugging does to the device, without touching the cable). Returns which device was
    reset ("bus 002 address 005").

    The camera is the device with vendor 0xa0a0 and the SDK's ``pID`` (``POACameraProperties``,
    SDK 3.3.0 and later). Several devices with that product id are told apart by the SDK's
    ``localPath`` when it names the bus and ports (``<bus>-<port>.<port>``); otherwise nothing is
    reset: resetting the wrong camera would break another imaging session. Close the camera in
    the SDK first: the reset takes the device from under whoever holds it.
    """
    try:
        import usb.core
        import usb.util
    except ImportError as exc:
        raise UsbResetError(f"pyusb is not installed ({exc})") from None
    if not product_id:
        raise UsbResetError("the SDK did not say the camera's USB product id (SDK before 3.3.0)")
    try:
        found = [d for d in usb.core.find(find_all=True, backend=backend,
                                          idVendor=PLAYERONE_VENDOR_ID)
                 if int(d.idProduct) == product_id]
    except usb.core.NoBackendError:
        raise UsbResetError("pyusb found no USB backend: install libusb-1.0") from None
    except usb.core.USBError as exc:
        raise UsbResetError(f"listing the USB bus failed: {exc}") from None
    if len(found) > 1 and local_path:
        def path_of(dev: Any) -> str:
            ports = getattr(dev, "port_numbers", None) or ()
            return f"{dev.bus}-{'.'.join(str(p) for p in ports)}" if ports else ""
        found = [d for d in found if path_of(d) and path_of(d) in local_path]
    if not found:
        raise UsbResetError(f"no Player One device {PLAYERONE_VENDOR_ID:04x}:{product_id:04x} "
                            "is on the USB bus")
    if len(found) > 1:
        raise UsbResetError(f"{len(found)} Player One devices {PLAYERONE_VENDOR_ID:04x}:"
                            f"{product_id:04x} are on the bus and the SDK's path of the camera "
                            f"({local_path or 'none'}) does not say which is this one")
    dev = found[0]
    where = f"bus {int(dev.bus or 0):03d} address {int(dev.address or 0):03d}"
    try:
        dev.reset()
    except usb.core.USBError as exc:
        raise UsbResetError(f"resetting the USB device on {where} failed: {exc} (the udev "
                            f"rule {UDEV_RULE_FILENAME} gives this user access)") from None
    finally:
        try:
            usb.util.dispose_resources(dev)
        except Exception:  # the device may be gone and back under a new address
            pass
    return where
