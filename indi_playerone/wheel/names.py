"""Every INDI property the filter-wheel driver defines, as data, in one place.

libindi's filter-wheel set (``libs/indibase/indifilterwheel.cpp``, ``indifilterinterface.cpp``:
FILTER_SLOT and FILTER_NAME in the "Filter Wheel" group) and the Player One C++ driver's own
(indi-3rdparty ``indi-playerone/playerone_wheel.cpp``: FILTER_UNIDIRECTIONAL_MOTION and
FILTER_CALIBRATION in "Main Control"), under their names, labels, groups, perms, rules and
timeouts, so Ekos' filter manager and scripts written for ``indi_playerone_wheel`` find them.
Beyond the C++ driver: the focus offsets, the serial number, the SDK version and the custom name
the wheel stores. libindi's DefaultDevice properties come from :mod:`indi_playerone.indi.names`.

What differs between libindi 1.9.9 and 2.2.4.2 here is the format of FILTER_SLOT_VALUE ("%3.0f"
then "%.f"): we send 2.2's; docs/indi-generations.md.
"""
from __future__ import annotations

from ..indi.names import (  # noqa: F401  (re-exported: the wheel's code reads one module)
    CONFIG_PROCESS, CONNECTION, DEBUG, DEFAULT_DEVICE, DRIVER_INFO, GENERAL_INFO, INTERFACE_FILTER,
    MAIN_CONTROL, OPTIONS, POLLING_PERIOD, SIMULATION,
)
from ..indi.controller import JOYSTICKSETTINGS, SNOOP_JOYSTICK, USEJOYSTICK  # noqa: F401
from ..indi.spec import NumberSpec, PropertySpec, SwitchSpec, TextSpec
from ..indi.spec import num as _num

#: libindi's FILTER_TAB.
FILTER_WHEEL = "Filter Wheel"

DRIVER_NAME = "PlayerOne EFW"
DRIVER_EXEC = "indi_playerone_wheel"
DEVICE_PREFIX = "PlayerOne "
#: The C++ driver's setDefaultPollingPeriod(250): the period the wheel is polled while it turns
#: (at most 100 ms: see motion.py).
DEFAULT_POLLING_MS = 250

#: libindi's generateSampleFilters(): the names a slot shows when the wheel stores none.
SAMPLE_FILTERS = ("Red", "Green", "Blue", "H_Alpha", "SII", "OIII", "LPR", "Luminance")

# --- libindi's filter interface ---------------------------------------------------------

FILTER_SLOT = PropertySpec(
    "Number", "FILTER_SLOT", "Filter Slot", FILTER_WHEEL, "rw", 60,
    (_num("FILTER_SLOT_VALUE", "Filter", "%.f", 1, 12, 1, 1),),
    notes="max = the wheel's slot count; not saved: the wheel's position is the wheel's, and "
          "connecting never moves it (libindi saves it and moves back to it at connect)",
)
FILTER_NAME = PropertySpec(
    "Text", "FILTER_NAME", "Filter", FILTER_WHEEL, "rw", 0, (),
    notes="elements FILTER_SLOT_NAME_<n> 'Filter#<n>', one per slot; the values are the aliases "
          "stored in the wheel (libindi keeps them in the config file; we do not save them)",
)


def slot_name_element(slot: int, value: str) -> TextSpec:
    """FILTER_NAME's element of a 1-based slot, as libindi names and labels it."""
    return TextSpec(f"FILTER_SLOT_NAME_{slot}", f"Filter#{slot}", value)


# --- the Player One C++ driver's ---------------------------------------------------------

FILTER_UNIDIRECTIONAL_MOTION = PropertySpec(
    "Switch", "FILTER_UNIDIRECTIONAL_MOTION", "Uni Direction", MAIN_CONTROL, "rw", 60,
    (SwitchSpec("INDI_ENABLED", "Enable"), SwitchSpec("INDI_DISABLED", "Disable", True)),
    rule="OneOfMany", saved=True,
)
FILTER_CALIBRATION = PropertySpec(
    "Switch", "FILTER_CALIBRATION", "Calibrate", MAIN_CONTROL, "rw", 0,
    (SwitchSpec("CALIBRATE", "Calibrate"),), rule="AtMostOne",
)

# --- beyond the C++ driver: what the wheel stores, and who it is -----------------------------

FILTER_FOCUS_OFFSETS = PropertySpec(
    "Number", "FILTER_FOCUS_OFFSETS", "Focus Offsets", FILTER_WHEEL, "rw", 0, (),
    notes="elements FILTER_FOCUS_OFFSET_<n> 'Filter#<n>' (focuser steps, stored in the wheel by "
          "POASetPWFocusOffset), one per slot",
)
OFFSET_LIMIT = 2**31 - 1  # the SDK stores a C int


def focus_offset_element(slot: int, value: int) -> NumberSpec:
    return _num(f"FILTER_FOCUS_OFFSET_{slot}", f"Filter#{slot}", "%.f", -OFFSET_LIMIT, OFFSET_LIMIT, 1,
                value)


SERIAL_NUMBER = PropertySpec(
    "Text", "Serial Number", "Serial Number", GENERAL_INFO, "ro", 60, (TextSpec("SN#", "SN#"),),
    notes="named as the Player One camera driver's",
)
SDK = PropertySpec(
    "Text", "SDK", "SDK", GENERAL_INFO, "ro", 60, (TextSpec("VERSION", "Version"),),
    notes="the filter wheel SDK's version (POAGetPWSDKVer); named as the camera driver's",
)
WHEEL_CUSTOM_NAME = PropertySpec(
    "Text", "WHEEL_CUSTOM_NAME", "Custom Name", GENERAL_INFO, "rw", 60,
    (TextSpec("CUSTOM_NAME", "Name"),),
    notes="stored in the wheel (POASetPWCustomName); the SDK then names the wheel "
          "'<model> [<custom name>]', and so does the device from the next start or replug",
)

ALWAYS = DEFAULT_DEVICE
#: In the order libindi's FilterWheel (filter interface, then its joystick controller) and the
#: C++ driver define them, ours last.
CONNECTED = (FILTER_SLOT, FILTER_NAME, USEJOYSTICK, SNOOP_JOYSTICK, FILTER_UNIDIRECTIONAL_MOTION,
             FILTER_CALIBRATION, FILTER_FOCUS_OFFSETS, SERIAL_NUMBER, SDK, WHEEL_CUSTOM_NAME)
#: Defined while USEJOYSTICK is on.
ON_DEMAND = (JOYSTICKSETTINGS,)
#: The joystick actions of libindi's FilterWheel: the stick up/down for the previous/next slot,
#: a button for slot 1 (indifilterwheel.cpp).
CHANGE_FILTER, RESET = "Change Filter", "Reset"
