"""`PlayerOneWheel`: one Phoenix filter wheel as an INDI device, composed of components.

The same generic machinery as the camera (``indi/defaultdevice.py``, ``indi/component.py``):
libindi's DefaultDevice properties always, the wheel's once connected; each component owns its
vectors and handlers, and the device only orders their connect and disconnect steps:

=================  ==============================================================================
component          owns
=================  ==============================================================================
`FilterSlots`      FILTER_SLOT, FILTER_UNIDIRECTIONAL_MOTION, FILTER_CALIBRATION; the move watcher
                   thread (slots.py, motion.py)
`FilterNames`      FILTER_NAME, FILTER_FOCUS_OFFSETS: what the wheel stores (filters.py)
`WheelIdentity`    Serial Number, SDK, WHEEL_CUSTOM_NAME (identity.py)
`JoystickControl`  USEJOYSTICK, SNOOP_JOYSTICK, JOYSTICKSETTINGS: libindi's joystick control of
                   a filter wheel, stick for the previous/next slot, a button for slot 1
                   (indi/controller.py)
`Configuration`    CONFIG_PROCESS and the saved settings (indi/configuration.py)
=================  ==============================================================================

Connecting opens the wheel and never moves it (since SDK 1.1.0 opening leaves it where it is); a
wheel still doing its first self-check shows FILTER_SLOT Busy until it ends.
"""
from __future__ import annotations

import logging
from typing import Any

from ..camera.interface import CameraError
from ..camera.wheel_backend import PhoenixWheel
from ..indi.controller import JoystickControl, Mapping
from ..indi.defaultdevice import DefaultDevice, DriverIdentity
from . import names as N
from .filters import FilterNames
from .identity import WheelIdentity
from .slots import FilterSlots

log = logging.getLogger(__name__)

__all__ = ["PlayerOneWheel"]


class PlayerOneWheel(DefaultDevice):
    connect_errors = (CameraError,)
    noun = "filter wheel"
    simulation_hint = ("Simulation is chosen when the driver starts: set INDI_PLAYERONE_SIMULATE_WHEEL "
                       "(for example \"Phoenix 7x36mm\").")

    def __init__(self, name: str, wheel: PhoenixWheel, transport: Any, version: str,
                 log_handler: Any = None) -> None:
        super().__init__(name, transport,
                         DriverIdentity(N.DRIVER_NAME, N.DRIVER_EXEC, version, N.INTERFACE_FILTER),
                         always=N.ALWAYS, connected=N.CONNECTED, on_demand=N.ON_DEMAND,
                         log_handler=log_handler)
        self.vector(N.POLLING_PERIOD)["PERIOD_MS"].value = N.DEFAULT_POLLING_MS
        self.wheel = wheel
        self.filters = FilterNames(self, wheel)
        self.slots = FilterSlots(self, wheel, self.filters.name_of)
        self.identity = WheelIdentity(self, wheel)
        self.joystick = JoystickControl(
            self, (Mapping(N.CHANGE_FILTER, "JOYSTICK_1"), Mapping(N.RESET, "BUTTON_1")),
            self._on_joystick, self._on_button)

    def connect(self) -> None:
        self.wheel.open()
        try:
            self.identity.on_connect()
            self.filters.on_connect()
            self.slots.on_connect()
            self.joystick.on_connect()
        except CameraError:
            self.slots.on_disconnect()
            self._close_quietly()
            raise
        self.connected = True

    def disconnect(self) -> None:
        self.slots.on_disconnect()  # the watcher first: it calls the wheel
        if self.connected:
            self._close_quietly()
        with self.lock:
            self.connected = False
            self.delete_connected()

    def on_snoop(self, element: Any) -> None:
        with self.lock:
            if self.connected:
                self.joystick.absorb(element)

    def _on_joystick(self, action: str, magnitude: float, angle: float) -> None:
        """libindi's FilterWheel::processJoystick: a stick pushed past 0.9 up (0-180 degrees)
        for the previous slot, down (180-360) for the next, wrapping at the ends."""
        if action == N.CHANGE_FILTER and magnitude > 0.9:
            if 0 < angle < 180:
                self.slots.step(-1)
            elif 180 < angle < 360:
                self.slots.step(+1)

    def _on_button(self, action: str, pressed: bool) -> None:
        if action == N.RESET and pressed:
            self.slots.request(1)

    def _close_quietly(self) -> None:
        try:
            self.wheel.close()
        except CameraError as exc:  # unplugged: there is nothing left to close
            log.debug("%s: closing: %s", self.name, exc)

    def online_message(self) -> str:
        info = self.wheel.info
        return f"{self.name} is online: {info.slots}-slot {info.model}, serial {info.serial}."

