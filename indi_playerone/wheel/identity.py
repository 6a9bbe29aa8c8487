"""`WheelIdentity`: Serial Number, SDK and WHEEL_CUSTOM_NAME: which wheel this is.

The custom name is stored in the wheel (``POASetPWCustomName``). The SDK then reports the wheel's
name as "<model> [<custom name>]", and the device is named after the SDK's name, as the C++
driver names it ("PlayerOne <name>"): a wheel given a custom name is "PlayerOne Phoenix 7x36mm
[Triplet]" from the next start of the driver (or the next replug), on any computer. A device
name never changes while the driver runs: Ekos profiles and saved configurations key on it.
"""
from __future__ import annotations

from typing import Any

from ..camera.wheel_backend import PhoenixWheel, check_name
from ..camera.wheel_binding import WheelError
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from . import names as N

__all__ = ["WheelIdentity"]


class WheelIdentity(Component):
    device: DefaultDevice
    vector_table = {"serial": N.SERIAL_NUMBER, "sdk": N.SDK, "custom": N.WHEEL_CUSTOM_NAME}

    def __init__(self, device: DefaultDevice, wheel: PhoenixWheel) -> None:
        super().__init__(device, wheel=wheel)
        self.serial["SN#"].value = self.wheel.info.serial
        self.sdk["VERSION"].value = self.wheel.sdk.version
        self.custom["CUSTOM_NAME"].value = self.wheel.info.custom_name

    def on_connect(self) -> None:
        self.custom["CUSTOM_NAME"].value = self.wheel.custom_name()
        self.serial.state = self.sdk.state = self.custom.state = State.OK

    @handles(N.WHEEL_CUSTOM_NAME)
    def on_custom_name(self, vector: Any, values: dict) -> None:
        text = values.get("CUSTOM_NAME", "").strip()
        why = check_name(text, "The custom name")
        if why is not None:
            self.device.alert(vector, f"{why}.")
            return
        try:
            self.wheel.set_custom_name(text)
            stored = self.wheel.custom_name()
        except WheelError as exc:
            self.device.alert(vector, f"Custom name not stored in the wheel: {exc}")
            return
        vector["CUSTOM_NAME"].value = stored
        vector.state = State.OK
        model = self.wheel.info.model
        future = f"{N.DEVICE_PREFIX}{model} [{stored}]" if stored else f"{N.DEVICE_PREFIX}{model}"
        self.device.update(vector, f"Custom name stored in the wheel: the device is named "
                                   f"\"{future}\" from the next start of the driver or replug.")
