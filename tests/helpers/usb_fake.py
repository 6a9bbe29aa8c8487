"""A USB bus made up for pyusb (a backend holding chosen devices) and a stand-in for
/dev/bus/usb with device nodes of chosen owners and modes."""
from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import usb.backend

NOBODY, NOGROUP = 65534, 65534


#: The standard device descriptor's fields no test varies (USB 2.0 specification, 9.6.1): a USB 3.2
#: device of no class with one configuration and its three strings.
STANDARD_FIELDS: dict[str, int] = {
    "bLength": 18, "bDescriptorType": 1, "bcdUSB": 0x0320, "bDeviceClass": 0, "bDeviceSubClass": 0,
    "bDeviceProtocol": 0, "bMaxPacketSize0": 9, "bcdDevice": 0x0100, "iManufacturer": 1,
    "iProduct": 2, "iSerialNumber": 3, "bNumConfigurations": 1,
}


@dataclass
class FakeDescriptor:
    """What a pyusb backend's get_device_descriptor returns: the USB fields plus bus data (the
    fields of :data:`STANDARD_FIELDS` read from there)."""

    idVendor: int
    idProduct: int
    bus: int
    address: int
    speed: int | None
    port_numbers: tuple[int, ...] | None = None
    port_number: int | None = None

    def __getattr__(self, name: str) -> int:
        try:
            return STANDARD_FIELDS[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class FakeBackend(usb.backend.IBackend):
    """A bus holding exactly `devices`; pyusb asks it as it asks libusb."""

    devices: list[FakeDescriptor] = field(default_factory=list)

    def enumerate_devices(self) -> Iterator[FakeDescriptor]:
        return iter(self.devices)

    def get_device_descriptor(self, dev: FakeDescriptor) -> FakeDescriptor:
        return dev


ARES_USB3 = FakeDescriptor(0xA0A0, 0x1234, bus=2, address=5, speed=4, port_numbers=(1, 3))
ZEUS_USB2 = FakeDescriptor(0xA0A0, 0x2345, bus=1, address=7, speed=3)
WHEEL = FakeDescriptor(0xA0A0, 0xF001, bus=1, address=9, speed=2)
OTHER_VENDOR = FakeDescriptor(0x03C3, 0x120A, bus=1, address=2, speed=4)  # a ZWO camera


@pytest.fixture
def usbfs() -> Iterator[Path]:
    """A world-traversable stand-in for /dev/bus/usb (a forked `nobody` must reach it)."""
    root = Path(tempfile.mkdtemp(prefix="fake-usbfs-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=True)


def make_node(dev_root: Path, desc: FakeDescriptor, mode: int, gid: int = 0) -> Path:
    node = dev_root / f"{desc.bus:03d}" / f"{desc.address:03d}"
    node.parent.mkdir(exist_ok=True, mode=0o755)
    node.parent.chmod(0o755)
    node.write_bytes(b"")
    os.chown(node, 0, gid)
    node.chmod(mode)
    return node
