"""The properties a libindi filter-wheel driver exposes, as data, for both INDI generations.

libindi's ``INDI::FilterWheel`` (``libs/indibase/indifilterwheel.cpp``, ``indifilterinterface.cpp``,
the joystick ``indicontroller.cpp``) on DefaultDevice, and the Player One C++ wheel driver's own
(indi-3rdparty ``indi-playerone/playerone_wheel.cpp``: ``addAuxControls()``, 250 ms polling,
FILTER_UNIDIRECTIONAL_MOTION, FILTER_CALIBRATION). Each generation's list was taken from its
``indi_simulator_wheel`` (Debian's 1.9.9; 2.2.4.2 from ``.ci/libindi2``) before and after connect
and checked against it by ``tests/wheel/test_wheel_properties.py``; the form (``PropertySpec``,
``ElementSpec``, conditions) is the CCD references' (``ccd_property_form.py``). Nothing here is
imported from ``indi_playerone``.

Conditions (flags):

====================  ============================================================================
``connected``         CONNECTION.CONNECT is On
``aux_controls``      the driver calls ``addAuxControls()`` (DEBUG, SIMULATION, POLLING_PERIOD):
                      the Player One driver does, the simulator does not
``playerone``         the Player One C++ driver's own vectors
``joystick_enabled``  USEJOYSTICK.ENABLE is On (JOYSTICKSETTINGS appears)
``filter_simulator``  ``indi_simulator_wheel``'s own (2.2's DELAY)
====================  ============================================================================

The generations differ in FILTER_SLOT_VALUE's format ("%3.0f" in 1.9.9, "%.f" in 2.2.4.2) and in
2.2's simulator adding DELAY; ``docs/indi-generations.md``.
"""

from __future__ import annotations

from .ccd_property_form import ALWAYS, OFF, ON, E, PropertySpec, holds, num

__all__ = ["FLAGS", "WHEEL_PROPERTIES", "expected", "spec_for", "SIMULATOR_FLAGS", "PLAYERONE_FLAGS"]

FLAGS = frozenset({"connected", "aux_controls", "playerone", "joystick_enabled", "filter_simulator"})
SIMULATOR_FLAGS = frozenset({"filter_simulator"})
PLAYERONE_FLAGS = frozenset({"aux_controls", "playerone"})

_CONN = (("connected",),)


def _when(*flags: str) -> tuple[tuple[str, ...], ...]:
    for f in flags:
        assert f.lstrip("!") in FLAGS, f
    return (tuple(flags),)


def _slot_number(fmt: str) -> E:
    return num("FILTER_SLOT_VALUE", "Filter", fmt, 1, None, 1)


def _common(slot_format: str) -> tuple[PropertySpec, ...]:
    return (
        # ------------------------------------------------------------ DefaultDevice
        PropertySpec("CONNECTION", "Switch", "Main Control", "rw", "OneOfMany", 60,
                     (E("CONNECT", "Connect", OFF), E("DISCONNECT", "Disconnect", ON)),
                     ALWAYS, "DefaultDevice", "Connection"),
        PropertySpec("DRIVER_INFO", "Text", "General Info", "ro", None, 60,
                     (E("DRIVER_NAME", "Name"), E("DRIVER_EXEC", "Exec"), E("DRIVER_VERSION", "Version"),
                      E("DRIVER_INTERFACE", "Interface", "16")),
                     ALWAYS, "DefaultDevice", "Driver Info", note="FILTER_INTERFACE = 16"),
        PropertySpec("DEBUG", "Switch", "Options", "rw", "OneOfMany", 0,
                     (E("ENABLE", "Enable", OFF), E("DISABLE", "Disable", ON)),
                     _when("aux_controls"), "DefaultDevice", "Debug"),
        PropertySpec("SIMULATION", "Switch", "Options", "rw", "OneOfMany", 0,
                     (E("ENABLE", None, OFF), E("DISABLE", None, ON)),
                     _when("aux_controls"), "DefaultDevice"),
        PropertySpec("CONFIG_PROCESS", "Switch", "Options", "rw", "AtMostOne", 0,
                     (E("CONFIG_LOAD", "Load", OFF), E("CONFIG_SAVE", "Save", OFF),
                      E("CONFIG_DEFAULT", "Default", OFF), E("CONFIG_PURGE", "Purge", OFF)),
                     ALWAYS, "DefaultDevice", "Configuration"),
        PropertySpec("POLLING_PERIOD", "Number", "Options", "rw", None, 0,
                     (num("PERIOD_MS", "Period (ms)", "%.f", 10, 600000, 1000, None),),
                     _when("aux_controls"), "DefaultDevice", "Polling",
                     note="the Player One wheel driver's default is 250 ms (setDefaultPollingPeriod)"),
        # ------------------------------------------------------------ INDI::FilterInterface
        PropertySpec("FILTER_SLOT", "Number", "Filter Wheel", "rw", None, 60, (_slot_number(slot_format),),
                     _CONN, "INDI::FilterWheel", "Filter Slot", note="max = the number of slots"),
        PropertySpec("FILTER_NAME", "Text", "Filter Wheel", "rw", None, 0, (), _CONN, "INDI::FilterWheel",
                     "Filter", "dynamic", note="FILTER_SLOT_NAME_<n> labelled 'Filter#<n>', one per slot"),
        # ------------------------------------------------------------ INDI::Controller (joystick)
        PropertySpec("USEJOYSTICK", "Switch", "Options", "rw", "OneOfMany", 0,
                     (E("ENABLE", "Enable", OFF), E("DISABLE", "Disable", ON)),
                     _CONN, "INDI::FilterWheel", "Joystick"),
        PropertySpec("SNOOP_JOYSTICK", "Text", "Options", "rw", None, 60,
                     (E("SNOOP_JOYSTICK_DEVICE", "Device", "Joystick"),),
                     _CONN, "INDI::FilterWheel", "Snoop Joystick"),
        PropertySpec("JOYSTICKSETTINGS", "Text", "Joystick", "rw", None, 0,
                     (E("Change Filter", "Change Filter", "JOYSTICK_1"), E("Reset", "Reset", "BUTTON_1")),
                     _when("connected", "joystick_enabled"), "INDI::FilterWheel", "Settings"),
        # ------------------------------------------------------------ the Player One C++ driver
        PropertySpec("FILTER_UNIDIRECTIONAL_MOTION", "Switch", "Main Control", "rw", "OneOfMany", 60,
                     (E("INDI_ENABLED", "Enable", OFF), E("INDI_DISABLED", "Disable", ON)),
                     _when("connected", "playerone"), "PlayerOne", "Uni Direction",
                     note="shows POAGetOneWay at connect; saved"),
        PropertySpec("FILTER_CALIBRATION", "Switch", "Main Control", "rw", "AtMostOne", 0,
                     (E("CALIBRATE", "Calibrate", OFF),),
                     _when("connected", "playerone"), "PlayerOne", "Calibrate", note="POAResetPW"),
    )


#: By generation: "indi1" (libindi 1.9.9), "indi2" (2.2.4.2).
WHEEL_PROPERTIES: dict[str, tuple[PropertySpec, ...]] = {
    "indi1": _common("%3.0f"),
    "indi2": _common("%.f") + (
        PropertySpec("DELAY", "Number", "Filter Wheel", "rw", None, 60,
                     (num("VALUE", "Seconds", "%.f", -1, 30, 1, 1),),
                     _when("connected", "filter_simulator"), "FilterSim", "Filter Delay"),
    ),
}


def expected(generation: str, flags: frozenset[str]) -> list[PropertySpec]:
    """The vectors defined under ``flags``, in libindi's order."""
    unknown = set(flags) - FLAGS
    assert not unknown, unknown
    return [p for p in WHEEL_PROPERTIES[generation] if holds(p.when, flags)]


def spec_for(generation: str, name: str) -> PropertySpec | None:
    return next((p for p in WHEEL_PROPERTIES[generation] if p.name == name), None)
