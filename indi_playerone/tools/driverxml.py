"""The driver-list XML KStars and INDI Web Manager read, generated from the package version.

KStars and indiweb read every ``*.xml`` in the INDI data directory (``/usr/share/indi``),
skipping ``*_sk.xml`` skeletons; each ``<device>`` becomes an entry in their driver lists and
``<driver>`` names the executable indiserver starts. ``mdpd="true"`` (multiple devices per
driver) tells them that one ``indi_playerone_ccd`` serves every camera, so they start it once
without ``-n`` (indiweb 1.2.0 omits ``-n "<label>"`` exactly when mdpd is true).

The committed ``xml/indi_playerone.xml`` must equal :func:`driver_xml` of the package version
(a test checks it); the version is major.minor, the form DRIVER_INFO's DRIVER_VERSION takes,
so the list and the running driver agree. The C++ package also lists
``indi_playerone_single_ccd`` and ``indi_playerone_wheel``; we ship neither, so neither is listed.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from ..ccd.main import driver_version
from ..ccd.names import DRIVER_EXEC, DRIVER_NAME

#: The label KStars shows in its CCD list (the C++ driver's label).
LABEL = "PlayerOne CCD"
MANUFACTURER = "PlayerOne"
GROUP = "CCDs"


def driver_xml(version: str | None = None) -> str:
    """The whole file, newline-terminated. ``version`` defaults to DRIVER_VERSION's value."""
    version = driver_version() if version is None else version
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<driversList>\n"
        f"<devGroup group={quoteattr(GROUP)}>\n"
        f"\t<device label={quoteattr(LABEL)} mdpd=\"true\" manufacturer={quoteattr(MANUFACTURER)}>\n"
        f"\t\t<driver name={quoteattr(DRIVER_NAME)}>{escape(DRIVER_EXEC)}</driver>\n"
        f"\t\t<version>{escape(version)}</version>\n"
        "\t</device>\n"
        "</devGroup>\n"
        "</driversList>\n"
    )
