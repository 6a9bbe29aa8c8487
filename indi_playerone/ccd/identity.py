"""What the camera is: ADC_DEPTH, SDK, Serial Number, NICKNAME, USER_CUSTOM_ID and USB_LINK.

Names and elements are the C++ driver's (playerone_base.cpp, playerone_ccd.cpp): `Serial
Number` with its space, `SN#`,
`NICKNAME.nickname`. Serial Number and NICKNAME exist only when the camera reported a serial,
as there. USB_LINK is ours: the vendor manual's first check when downloads are slow is whether
the camera is on a USB 3 link, so the driver shows the link and warns on USB 2.

USER_CUSTOM_ID is ours too: a name kept in the camera itself (the SDK's user custom ID, 16
bytes), an alternative to the nickname file for a camera that moves between computers. The SDK
shows it in the model name ("Ares-C PRO [Juno]"), which both drivers make the device name at
their next start, so the saved configuration follows the camera; a nickname for the serial
still wins (ccd/nicknames.py).
"""
from __future__ import annotations

from typing import Any

from ..camera.interface import CameraBackend, CameraError
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from . import names as P
from .nicknames import NicknameError, device_base_name, read_nicknames, set_nickname


USB2_WARNING = (
    "The camera is on a USB 2 link: images download several times slower than over USB 3 "
    "(the manual's first check when downloads are slow). Use a USB 3 port and cable, without "
    "a USB 2 hub in between.")


class Identity(Component):
    def __init__(self, device: DefaultDevice, camera: CameraBackend) -> None:
        super().__init__(device, camera=camera)

    def connect(self) -> None:
        """Build the identity vectors from the opened camera; called once per connect before
        the connected properties are defined."""
        info = self.camera.info
        adc = self.build(P.ADC_DEPTH)
        adc["BITS"].value = info.adc_bits
        sdk = self.build(P.SDK)
        sdk["VERSION"].value = self.camera.sdk_version()
        for vector in (adc, sdk):
            vector.state = State.OK
        if info.serial:
            serial = self.build(P.SERIAL_NUMBER)
            serial["SN#"].value = info.serial
            nickname = self.build(P.NICKNAME)
            nickname["nickname"].value = read_nicknames().get(info.serial, "")
            for vector in (serial, nickname):
                vector.state = State.OK
        else:
            for spec in (P.SERIAL_NUMBER, P.NICKNAME):
                self.drop(spec)
        stored = self.camera.custom_id()
        if stored is not None:
            custom = self.build(P.USER_CUSTOM_ID)
            custom["ID"].value = stored
            custom.state = State.OK
        else:
            self.drop(P.USER_CUSTOM_ID)
        link = self.camera.usb_link()
        if link:
            usb = self.build(P.USB_LINK)
            usb["USB_LINK_SPEED"].value = link
            usb.state = State.OK if link == "USB3" else State.ALERT
            if link == "USB2":
                self.device.log(USB2_WARNING, "WARNING")
        else:
            self.drop(P.USB_LINK)

    @handles(P.NICKNAME)
    def on_nickname(self, vector: Any, values: dict) -> None:
        nickname = values.get("nickname", "").strip()
        try:
            path = set_nickname(self.camera.info.serial, nickname)
        except NicknameError as exc:
            self.device.alert(vector, str(exc))
            return
        vector["nickname"].value = nickname
        vector.state = State.OK
        info = self.camera.info
        name = device_base_name(info.serial, info.model, {info.serial: nickname})
        what = "saved in" if nickname else "removed from"
        self.device.update(vector, f"Nickname {what} {path}. Restart the driver for the device "
                                   f"to be named '{name}' (its saved configuration follows the "
                                   "device name).")

    @handles(P.USER_CUSTOM_ID)
    def on_custom_id(self, vector: Any, values: dict) -> None:
        name = values.get("ID", "").strip()
        try:
            self.camera.set_custom_id(name)
        except CameraError as exc:
            self.device.alert(vector, f"The camera did not take the name: {exc}")
            return
        stored = self.camera.custom_id() or ""
        vector["ID"].value = stored
        vector.state = State.OK
        info = self.camera.info
        model = info.model.split(" [", 1)[0]
        shown = f"{model} [{stored}]" if stored else model
        name_then = device_base_name(info.serial, shown, read_nicknames())
        what = f"'{stored}' is stored in the camera" if stored else "The camera holds no name now"
        self.device.update(vector, f"{what}. At the next start of the driver, on any computer, "
                                   f"the device is named '{name_then}' (a nickname for its "
                                   "serial number takes precedence; the saved configuration "
                                   "follows the device name).")
