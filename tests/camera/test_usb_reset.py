"""The USB device reset of a hung camera (camera/usb.py ``reset_device``), on pyusb's own seam:
a backend holding the devices of a bus, which records the resets pyusb asks of it (libusb's
``libusb_reset_device``, the kernel's USBDEVFS_RESET)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from indi_playerone.camera import usb as pousb
from helpers.usb_fake import ARES_USB3, WHEEL, ZEUS_USB2, FakeBackend, FakeDescriptor


@dataclass
class ResettingBackend(FakeBackend):
    resets: list[FakeDescriptor] = field(default_factory=list)
    fail: bool = False

    def open_device(self, dev: FakeDescriptor) -> Any:
        return dev

    def close_device(self, handle: Any) -> None:
        pass

    def reset_device(self, handle: FakeDescriptor) -> None:
        if self.fail:
            import usb.core
            raise usb.core.USBError("Access denied (insufficient permissions)", errno=13)
        self.resets.append(handle)


def test_the_camera_with_its_product_id_is_reset() -> None:
    bus = ResettingBackend([ZEUS_USB2, ARES_USB3, WHEEL])
    where = pousb.reset_device(ARES_USB3.idProduct, backend=bus)
    assert bus.resets == [ARES_USB3] and where == "bus 002 address 005"


def test_two_cameras_of_one_product_id_are_told_apart_by_the_sdk_path() -> None:
    twin = FakeDescriptor(0xA0A0, ARES_USB3.idProduct, bus=3, address=2, speed=4, port_numbers=(2,))
    bus = ResettingBackend([ARES_USB3, twin])
    pousb.reset_device(ARES_USB3.idProduct, local_path="/dev/bus 3-2", backend=bus)
    assert bus.resets == [twin]
    with pytest.raises(pousb.UsbResetError, match="does not say which"):
        pousb.reset_device(ARES_USB3.idProduct, backend=bus)  # no path: nothing is reset
    assert bus.resets == [twin]


def test_a_reset_that_cannot_be_made_says_why() -> None:
    with pytest.raises(pousb.UsbResetError, match="no Player One device"):
        pousb.reset_device(0x7777, backend=ResettingBackend([ARES_USB3]))
    with pytest.raises(pousb.UsbResetError, match="udev rule"):
        pousb.reset_device(ARES_USB3.idProduct, backend=ResettingBackend([ARES_USB3], fail=True))
    with pytest.raises(pousb.UsbResetError, match="3.3.0"):
        pousb.reset_device(0, backend=ResettingBackend([ARES_USB3]))
