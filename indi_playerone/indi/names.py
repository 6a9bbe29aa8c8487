"""libindi's DefaultDevice properties, which every INDI driver defines before it connects.

Names, element names, labels, groups, perms, rules and timeouts are those of libindi's
``libs/indibase/defaultdevice.cpp`` (and ``indidriver.c`` for CONFIG_PROCESS), so clients
find them where they look. DRIVER_INFO's values are the driver's own: the device fills
them in (:class:`~indi_playerone.indi.defaultdevice.DriverIdentity`). A driver's own
``names.py`` re-exports these beside its own properties, so code refers to one module.
"""
from __future__ import annotations

from .spec import PropertySpec, SwitchSpec, TextSpec, num

# Groups (tabs in the clients), as libindi's defaultdevice.cpp names them.
MAIN_CONTROL = "Main Control"
OPTIONS = "Options"
GENERAL_INFO = "General Info"

# DRIVER_INFO.DRIVER_INTERFACE bits (libindi's DefaultDevice::DRIVER_INTERFACE).
INTERFACE_GENERAL = 0
INTERFACE_CCD = 2
INTERFACE_GUIDER = 4
INTERFACE_FILTER = 16

CONNECTION = PropertySpec(
    "Switch", "CONNECTION", "Connection", MAIN_CONTROL, "rw", 60,
    (SwitchSpec("CONNECT", "Connect"), SwitchSpec("DISCONNECT", "Disconnect", True)),
    rule="OneOfMany",
)
DRIVER_INFO = PropertySpec(
    "Text", "DRIVER_INFO", "Driver Info", GENERAL_INFO, "ro", 60,
    (TextSpec("DRIVER_NAME", "Name"), TextSpec("DRIVER_EXEC", "Exec"),
     TextSpec("DRIVER_VERSION", "Version"), TextSpec("DRIVER_INTERFACE", "Interface")),
)
DEBUG = PropertySpec(
    "Switch", "DEBUG", "Debug", OPTIONS, "rw", 0,
    (SwitchSpec("ENABLE", "Enable"), SwitchSpec("DISABLE", "Disable", True)), rule="OneOfMany",
)
SIMULATION = PropertySpec(
    "Switch", "SIMULATION", "Simulation", OPTIONS, "rw", 0,
    (SwitchSpec("ENABLE", "Enable"), SwitchSpec("DISABLE", "Disable", True)), rule="OneOfMany",
)
CONFIG_PROCESS = PropertySpec(
    "Switch", "CONFIG_PROCESS", "Configuration", OPTIONS, "rw", 0,
    (SwitchSpec("CONFIG_LOAD", "Load"), SwitchSpec("CONFIG_SAVE", "Save"),
     SwitchSpec("CONFIG_DEFAULT", "Default"), SwitchSpec("CONFIG_PURGE", "Purge")),
    rule="AtMostOne",
)
POLLING_PERIOD = PropertySpec(
    "Number", "POLLING_PERIOD", "Polling", OPTIONS, "rw", 0,
    (num("PERIOD_MS", "Period (ms)", "%.f", 10, 600000, 1000, 1000),), saved=True,
)

#: In libindi's order of definition.
DEFAULT_DEVICE = (CONNECTION, DRIVER_INFO, DEBUG, SIMULATION, CONFIG_PROCESS, POLLING_PERIOD)
