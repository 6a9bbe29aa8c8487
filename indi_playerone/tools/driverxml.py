"""The driver-list XML KStars and INDI Web Manager read, generated from the package version.

KStars and indiweb read every ``*.xml`` in the INDI data directory (``/usr/share/indi``),
skipping ``*_sk.xml`` skeletons; each ``<device>`` becomes an entry in their driver lists and
``<driver>`` names the executable indiserver starts. ``mdpd="true"`` (multiple devices per
driver) tells them that one process serves every device, so they start it once without ``-n``
(indiweb 1.2.0 omits ``-n "<label>"`` exactly when mdpd is true).

Two entries, as the C++ package lists them (indi-3rdparty ``indi_playerone.xml.cmake``): the
camera driver under "CCDs" and the Phoenix filter wheel driver under "Filter Wheels", with the
C++ driver's labels and driver names. The committed ``xml/indi_playerone.xml`` must equal
:func:`driver_xml` of the package version (a test checks it); the version is major.minor, the form
DRIVER_INFO's DRIVER_VERSION takes, so the list and the running drivers agree. The C++ package
also lists ``indi_playerone_single_ccd``; we do not ship it, so it is not listed.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .. import driver_version
from ..ccd.names import DRIVER_EXEC, DRIVER_NAME
from ..wheel import names as wheel_names

MANUFACTURER = "PlayerOne"
#: (group, label, driver name, executable): the entries, in the C++ package's order.
ENTRIES = (
    ("CCDs", "PlayerOne CCD", DRIVER_NAME, DRIVER_EXEC),
    ("Filter Wheels", "PlayerOne EFW", wheel_names.DRIVER_NAME, wheel_names.DRIVER_EXEC),
)


def driver_xml(version: str | None = None) -> str:
    """The whole file, newline-terminated. ``version`` defaults to DRIVER_VERSION's value."""
    version = driver_version() if version is None else version
    groups = "".join(
        f"<devGroup group={quoteattr(group)}>\n"
        f"\t<device label={quoteattr(label)} mdpd=\"true\" manufacturer={quoteattr(MANUFACTURER)}>\n"
        f"\t\t<driver name={quoteattr(name)}>{escape(exe)}</driver>\n"
        f"\t\t<version>{escape(version)}</version>\n"
        "\t</device>\n"
        "</devGroup>\n"
        for group, label, name, exe in ENTRIES)
    return '<?xml version="1.0" encoding="UTF-8"?>\n<driversList>\n' + groups + "</driversList>\n"
