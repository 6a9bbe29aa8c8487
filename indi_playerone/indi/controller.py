"""`JoystickControl`: libindi's INDI::Controller, a joystick driving a device through snooping.

libindi's filter wheels (and mounts, focusers) let a game controller served by another driver
(``indi_joystick``, device "Joystick") drive them (``libs/indibase/indicontroller.cpp``): USEJOYSTICK
turns it on, SNOOP_JOYSTICK names the joystick's device, JOYSTICKSETTINGS (defined while it is on)
maps each of the device's actions to a joystick element (``JOYSTICK_<n>``, ``AXIS_<n>`` or
``BUTTON_<n>``; an action's kind cannot change). While it is on, the device snoops the joystick's
``JOYSTICK_<n>`` vectors (magnitude and angle), JOYSTICK_AXES and JOYSTICK_BUTTONS, and an update
of a mapped element calls the device back: ``on_joystick(action, magnitude, angle)`` or
``on_button(action, pressed)``. The three vectors are saved, as libindi saves them.

Which actions exist is the device's (``Mapping``s given at construction); names, labels, groups,
perms and timeouts are libindi's.
"""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Callable

from . import xmlout
from .component import Component, Host, handles
from .names import OPTIONS
from .properties import State
from .sexagesimal import parse_number
from .spec import PropertySpec, SwitchSpec, TextSpec

log = logging.getLogger(__name__)

__all__ = ["Mapping", "JoystickControl", "USEJOYSTICK", "SNOOP_JOYSTICK", "JOYSTICKSETTINGS", "SPECS"]

USEJOYSTICK = PropertySpec(
    "Switch", "USEJOYSTICK", "Joystick", OPTIONS, "rw", 0,
    (SwitchSpec("ENABLE", "Enable"), SwitchSpec("DISABLE", "Disable", True)), rule="OneOfMany", saved=True,
)
SNOOP_JOYSTICK = PropertySpec(
    "Text", "SNOOP_JOYSTICK", "Snoop Joystick", OPTIONS, "rw", 60,
    (TextSpec("SNOOP_JOYSTICK_DEVICE", "Device", "Joystick"),), saved=True,
)
JOYSTICKSETTINGS = PropertySpec(
    "Text", "JOYSTICKSETTINGS", "Settings", "Joystick", "rw", 0, (), saved=True,
    notes="one element per action of the device: name = label = the action, value = the joystick "
          "element driving it",
)
#: In libindi's order of definition: USEJOYSTICK and SNOOP_JOYSTICK once connected,
#: JOYSTICKSETTINGS on demand (while USEJOYSTICK is on).
SPECS = (USEJOYSTICK, SNOOP_JOYSTICK)
_KINDS = ("JOYSTICK_", "AXIS_", "BUTTON_")


@dataclass(frozen=True)
class Mapping:
    """One action of the device: its name (also the label) and the joystick element driving it."""

    action: str
    default: str  # "JOYSTICK_1", "BUTTON_1", ...

    @property
    def kind(self) -> str:
        return _kind(self.default)


def _kind(element: str) -> str:
    return next((k for k in _KINDS if k in element), "")


class JoystickControl(Component):
    """The joystick vectors of one device and what their snooped updates mean."""

    vector_table = {"use": USEJOYSTICK, "source": SNOOP_JOYSTICK}

    def __init__(self, device: Host, mappings: tuple[Mapping, ...],
                 on_joystick: Callable[[str, float, float], None],
                 on_button: Callable[[str, bool], None]) -> None:
        super().__init__(device)
        self._mappings = {m.action: m for m in mappings}
        self._on_joystick, self._on_button = on_joystick, on_button
        self.settings = self.build(JOYSTICKSETTINGS, [TextSpec(m.action, m.action, m.default) for m in mappings])

    @property
    def enabled(self) -> bool:
        return bool(self.use["ENABLE"].on)

    @property
    def joystick(self) -> str:
        return self.source["SNOOP_JOYSTICK_DEVICE"].value

    def on_connect(self) -> None:
        """Defined after the device's connected vectors: the settings too while it is on."""
        if self.enabled:
            self.device.show(self.settings, True)
            self._snoop()

    def _snoop(self) -> None:
        """Ask indiserver for the joystick's vectors the settings use (libindi's IDSnoopDevice)."""
        wanted = [v for v in self.settings.values().values() if v.startswith("JOYSTICK_")]
        for name in (*wanted, "JOYSTICK_AXES", "JOYSTICK_BUTTONS"):
            self.device.transport.send(xmlout.get_properties(self.joystick, name))

    @handles(USEJOYSTICK)
    def on_use(self, vector: Any, values: dict) -> None:
        self.device.accept(vector, values)
        self.device.show(self.settings, self.enabled)
        if self.enabled:
            self._snoop()

    @handles(SNOOP_JOYSTICK)
    def on_source(self, vector: Any, values: dict) -> None:
        vector.apply({k: v.strip() for k, v in values.items()})
        vector.state = State.IDLE  # as libindi
        self.device.update(vector)
        if self.enabled:
            self._snoop()

    @handles(JOYSTICKSETTINGS)
    def on_settings(self, vector: Any, values: dict) -> None:
        for action, element in values.items():
            if _kind(element.strip()) != self._mappings[action].kind:
                self.device.alert(vector, f"Cannot change controller type to {element.strip()}.")
                return
        self.device.accept(vector, {k: v.strip() for k, v in values.items()})
        if self.enabled:
            self._snoop()

    def absorb(self, element: ET.Element) -> None:
        """A snooped set/def of another device (the driver loop's on_snoop)."""
        if (not self.enabled or element.get("device") != self.joystick
                or not element.tag.startswith(("set", "def"))):
            return
        name = element.get("name", "")
        by_element = {v: k for k, v in self.settings.values().items()}
        if name == "JOYSTICK_BUTTONS":
            for one in element:
                action = by_element.get(one.get("name", ""))
                if action is not None:
                    self._on_button(action, (one.text or "").strip() != "Off")
        elif name.startswith("JOYSTICK_") and name in by_element:
            values = {one.get("name"): (one.text or "").strip() for one in element}
            try:
                magnitude = parse_number(values.get("JOYSTICK_MAGNITUDE", "0"))
                angle = parse_number(values.get("JOYSTICK_ANGLE", "0"))
            except ValueError:
                log.debug("%s: unreadable joystick update %s", self.device.name, values)
                return
            self._on_joystick(by_element[name], magnitude, angle)
