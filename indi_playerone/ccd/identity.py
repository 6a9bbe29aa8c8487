"""What the camera is: ADC_DEPTH, SDK, Serial Number, NICKNAME and USB_LINK (mixed into
PlayerOneCCD; uses its `camera`, `props`, `name`, `update`, `_alert`, `log`).

Names and elements are the C++ driver's (facts §3.4): `Serial Number` with its space, `SN#`,
`NICKNAME.nickname`. Serial Number and NICKNAME exist only when the camera reported a serial,
as there. USB_LINK is ours: the vendor manual's first check when downloads are slow is whether
the camera is on a USB 3 link, so the driver shows the link and warns on USB 2.
"""
from __future__ import annotations

from typing import Any

from ..indi.properties import State
from . import names as P
from .build import build_vector
from .nicknames import NicknameError, device_base_name, read_nicknames, set_nickname


USB2_WARNING = (
    "The camera is on a USB 2 link: images download several times slower than over USB 3 "
    "(the manual's first check when downloads are slow). Use a USB 3 port and cable, without "
    "a USB 2 hub in between.")


class IdentityMixin:
    def identity_connect(self) -> None:
        """Build the identity vectors from the opened camera; called once per connect before
        the connected properties are defined."""
        info = self.camera.info
        adc = build_vector(P.ADC_DEPTH, self.name)
        adc["BITS"].value = info.adc_bits
        sdk = build_vector(P.SDK, self.name)
        sdk["VERSION"].value = self.camera.sdk_version()
        for vector in (adc, sdk):
            vector.state = State.OK
            self.props[vector.name] = vector
        if info.serial:
            serial = build_vector(P.SERIAL_NUMBER, self.name)
            serial["SN#"].value = info.serial
            nickname = build_vector(P.NICKNAME, self.name, self.on_nickname)
            nickname["nickname"].value = read_nicknames().get(info.serial, "")
            for vector in (serial, nickname):
                vector.state = State.OK
                self.props[vector.name] = vector
        else:
            for spec in (P.SERIAL_NUMBER, P.NICKNAME):
                self.props.pop(spec.name, None)
        link = self.camera.usb_link()
        if link:
            usb = build_vector(P.USB_LINK, self.name)
            usb["USB_LINK_SPEED"].value = link
            usb.state = State.OK if link == "USB3" else State.ALERT
            self.props[usb.name] = usb
            if link == "USB2":
                self.log(USB2_WARNING, "WARNING")
        else:
            self.props.pop(P.USB_LINK.name, None)
        if P.SENSOR_MODE.name in self.props:  # last, as the C++ driver defines it
            self.props[P.SENSOR_MODE.name] = self.props.pop(P.SENSOR_MODE.name)

    def on_nickname(self, vector: Any, values: dict) -> None:
        nickname = values.get("nickname", "").strip()
        try:
            path = set_nickname(self.camera.info.serial, nickname)
        except NicknameError as exc:
            self._alert(vector, str(exc))
            return
        vector["nickname"].value = nickname
        vector.state = State.OK
        info = self.camera.info
        name = device_base_name(info.serial, info.model, {info.serial: nickname})
        what = "saved in" if nickname else "removed from"
        self.update(vector, f"Nickname {what} {path}. Restart the driver for the device to be "
                            f"named '{name}' (its saved configuration follows the device name).")
