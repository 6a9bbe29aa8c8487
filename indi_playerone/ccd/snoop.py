"""Snooping the mount, focuser, filter wheel, rotator and sky-quality meter for FITS keywords.

ACTIVE_DEVICES names the devices; the driver asks indiserver for their properties
(`getProperties device=… name=…`, as libindi's camera class does) and keeps the latest
values of the ones below. At the end of an exposure `fits_cards` turns them into the
keywords libindi writes (``INDI::CCD::addFITSKeywords`` in libindi's indiccd.cpp): OBJCTRA/OBJCTDEC (J2000, precessed from
the mount's JNow with astropy), RA/DEC (degrees), OBJCTAZ/OBJCTALT/AIRMASS (when the site
is known), SITELAT/SITELONG, PIERSIDE, EQUINOX, FOCALLEN/APTDIA (from the mount when
SCOPE_INFO is not set), FILTER, FOCUSPOS, FOCUSTEM, ROTATANG, MPSAS.
Mount coordinates go only on Light frames, like libindi. `Snooping` is the device's part
that owns ACTIVE_DEVICES and the snooped values.
"""
from __future__ import annotations

import logging
import math
import threading
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..indi import xmlout
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.sexagesimal import parse_number
from . import names as P

log = logging.getLogger(__name__)

# (ACTIVE_DEVICES element, property) pairs snooped, in libindi's list.
SNOOPED = (
    ("ACTIVE_TELESCOPE", "EQUATORIAL_EOD_COORD"),
    ("ACTIVE_TELESCOPE", "EQUATORIAL_COORD"),
    ("ACTIVE_TELESCOPE", "TELESCOPE_INFO"),
    ("ACTIVE_TELESCOPE", "GEOGRAPHIC_COORD"),
    ("ACTIVE_TELESCOPE", "TELESCOPE_PIER_SIDE"),
    ("ACTIVE_ROTATOR", "ABS_ROTATOR_ANGLE"),
    ("ACTIVE_FOCUSER", "ABS_FOCUS_POSITION"),
    ("ACTIVE_FOCUSER", "FOCUS_TEMPERATURE"),
    ("ACTIVE_FILTER", "FILTER_SLOT"),
    ("ACTIVE_FILTER", "FILTER_NAME"),
    ("ACTIVE_SKYQUALITY", "SKY_QUALITY"),
)


@dataclass
class SnoopedState:
    """Latest snooped values: (device, property) -> {element: text}."""
    values: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def get(self, device: str, prop: str, element: str) -> float | None:
        text = self.values.get((device, prop), {}).get(element)
        if text is None:
            return None
        try:
            # libindi prints numbers with the element's format: "%010.6m" is sexagesimal.
            value = parse_number(text)
        except ValueError:
            return None
        return value if math.isfinite(value) else None

    def text(self, device: str, prop: str, element: str) -> str | None:
        return self.values.get((device, prop), {}).get(element)


def snoop_requests(active: dict[str, str]) -> list[tuple[str, str]]:
    """(device, property) pairs to ask indiserver for, given ACTIVE_DEVICES' values."""
    return [(active[role], prop) for role, prop in SNOOPED if active.get(role)]


_warm = threading.Event()


def warm_up_astropy() -> None:
    """Import astropy's coordinates and do one transform, on a background thread.

    The first transform costs ~1.7 s (imports, IERS and ERFA set-up, measured here); done
    when a mount is first snooped, it is not paid at the end of someone's exposure."""
    if _warm.is_set():
        return
    _warm.set()

    def run() -> None:
        try:
            state = SnoopedState({("m", "EQUATORIAL_EOD_COORD"): {"RA": "1", "DEC": "1"},
                                  ("m", "GEOGRAPHIC_COORD"): {"LAT": "1", "LONG": "1"}})
            _mount_cards(state, {"ACTIVE_TELESCOPE": "m"}, datetime.now(timezone.utc))
        except Exception:
            log.debug("astropy warm-up failed", exc_info=True)

    threading.Thread(target=run, name="astropy-warm-up", daemon=True).start()


def absorb(state: SnoopedState, element: Any, active: dict[str, str]) -> bool:
    """Take a snooped set/def vector (an ElementTree element); True if it was one we watch."""
    device, prop = element.get("device"), element.get("name")
    if (device, prop) not in {(active.get(role), p) for role, p in SNOOPED}:
        return False
    if element.tag == "delProperty":
        state.values.pop((device, prop), None)
        return True
    if element.get("state") == "Alert":
        return True  # keep the last good values
    if device == active.get("ACTIVE_TELESCOPE"):
        warm_up_astropy()
    current = state.values.setdefault((device, prop), {})
    for child in element:
        name = child.get("name")
        if name:
            current[name] = (child.text or "").strip()
    return True


def _sexagesimal(value: float, hours: bool) -> str:
    sign = "-" if value < 0 else "+"
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = ((value - d) * 60 - m) * 60
    if round(s, 2 if hours else 1) >= 60:
        s, m = 0.0, m + 1
    if m >= 60:
        m, d = m - 60, d + 1
    if hours:
        return f"{d:02d} {m:02d} {s:05.2f}"
    return f"{sign}{d:02d} {m:02d} {s:04.1f}"


def _mount_cards(state: SnoopedState, active: dict[str, str], when: datetime) -> list[tuple]:
    scope = active.get("ACTIVE_TELESCOPE", "")
    ra = state.get(scope, "EQUATORIAL_EOD_COORD", "RA")
    dec = state.get(scope, "EQUATORIAL_EOD_COORD", "DEC")
    jnow = ra is not None and dec is not None
    if not jnow:
        ra = state.get(scope, "EQUATORIAL_COORD", "RA")
        dec = state.get(scope, "EQUATORIAL_COORD", "DEC")
    if ra is None or dec is None:
        return []
    from astropy import units as u
    from astropy.coordinates import FK5, AltAz, EarthLocation, SkyCoord
    from astropy.time import Time
    from astropy.utils import iers

    # Never reach for the network at the telescope: predicted IERS values are fine for FITS.
    iers.conf.auto_download = False
    iers.conf.iers_degraded_accuracy = "ignore"
    iers.conf.auto_max_age = None
    t = Time(when)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coord = SkyCoord(ra * 15 * u.deg, dec * u.deg,
                         frame=FK5(equinox=t if jnow else Time("J2000")))
        j2000 = coord.transform_to(FK5(equinox=Time("J2000")))
        cards: list[tuple] = []
        lat = state.get(scope, "GEOGRAPHIC_COORD", "LAT")
        lon = state.get(scope, "GEOGRAPHIC_COORD", "LONG")
        if lat is not None and lon is not None:
            elev = state.get(scope, "GEOGRAPHIC_COORD", "ELEV") or 0.0
            lon_e = lon - 360 if lon > 180 else lon  # INDI longitudes are 0..360 east
            site = EarthLocation(lat=lat * u.deg, lon=lon_e * u.deg, height=elev * u.m)
            altaz = coord.transform_to(AltAz(obstime=t, location=site))
            cards += [("SITELAT", _sexagesimal(lat, False), "Location Latitude"),
                      ("SITELONG", _sexagesimal(lon_e, False), "Location Longitude")]
            if altaz.alt.deg > 0:
                cards.append(("AIRMASS", round(float(altaz.secz), 6), "Airmass"))
            cards += [("OBJCTAZ", _sexagesimal(altaz.az.deg, False), "Azimuth of center of image"),
                      ("OBJCTALT", _sexagesimal(altaz.alt.deg, False),
                       "Altitude of center of image")]
    cards += [
        ("OBJCTRA", _sexagesimal(j2000.ra.hour, True), "Object J2000 RA in Hours"),
        ("OBJCTDEC", _sexagesimal(j2000.dec.deg, False), "Object J2000 DEC in Degrees"),
        ("RA", round(float(j2000.ra.deg), 6), "Object J2000 RA in Degrees"),
        ("DEC", round(float(j2000.dec.deg), 6), "Object J2000 DEC in Degrees"),
    ]
    pier = state.values.get((scope, "TELESCOPE_PIER_SIDE"), {})
    if pier.get("PIER_WEST") == "On":
        cards.append(("PIERSIDE", "WEST", "West, looking East"))
    elif pier.get("PIER_EAST") == "On":
        cards.append(("PIERSIDE", "EAST", "East, looking West"))
    cards.append(("EQUINOX", 2000, "Equinox"))
    return cards


def fits_cards(state: SnoopedState, active: dict[str, str], when: datetime,
               light_frame: bool) -> list[tuple]:
    """The snooped keywords for a frame that started at `when` (UTC)."""
    cards: list[tuple] = []
    wheel = active.get("ACTIVE_FILTER", "")
    slot = state.get(wheel, "FILTER_SLOT", "FILTER_SLOT_VALUE")
    if slot is not None:
        name = state.text(wheel, "FILTER_NAME", f"FILTER_SLOT_NAME_{int(slot)}")
        if name:
            cards.append(("FILTER", name, "Filter"))
    rotator = active.get("ACTIVE_ROTATOR", "")
    angle = state.get(rotator, "ABS_ROTATOR_ANGLE", "ANGLE")
    if angle is not None:
        cards.append(("ROTATANG", round(angle, 3), "[deg] Rotator angle"))
    focuser = active.get("ACTIVE_FOCUSER", "")
    position = state.get(focuser, "ABS_FOCUS_POSITION", "FOCUS_ABSOLUTE_POSITION")
    if position is not None:
        cards.append(("FOCUSPOS", int(position), "Focus position in steps"))
    temperature = state.get(focuser, "FOCUS_TEMPERATURE", "TEMPERATURE")
    if temperature is not None:
        cards.append(("FOCUSTEM", round(temperature, 3), "[degC] Focuser Temperature"))
    sqm = state.get(active.get("ACTIVE_SKYQUALITY", ""), "SKY_QUALITY", "SKY_BRIGHTNESS")
    if sqm is not None:
        cards.append(("MPSAS", round(sqm, 3), "Sky Quality (mag per arcsec^2)"))
    if light_frame:
        try:
            cards += _mount_cards(state, active, when)
        except Exception:  # a bad coordinate must never cost the frame
            log.exception("mount keywords skipped")
    return cards


def telescope_optics(state: SnoopedState, active: dict[str, str]) -> tuple[float | None, float | None]:
    """(focal length, aperture) in mm from the mount's TELESCOPE_INFO, if it has them."""
    scope = active.get("ACTIVE_TELESCOPE", "")
    fl = state.get(scope, "TELESCOPE_INFO", "TELESCOPE_FOCAL_LENGTH")
    ap = state.get(scope, "TELESCOPE_INFO", "TELESCOPE_APERTURE")
    return (fl or None), (ap or None)


class Snooping(Component):
    """ACTIVE_DEVICES (always present) and what the devices it names report."""

    vector_table = {"vector": P.ACTIVE_DEVICES}

    def __init__(self, device: DefaultDevice) -> None:
        super().__init__(device)
        self.state = SnoopedState()

    def active_devices(self) -> dict[str, str]:
        return dict(self.vector.values())

    def request(self) -> None:
        """Ask indiserver for the snooped properties of the active devices."""
        for device, prop in snoop_requests(self.active_devices()):
            self.device.transport.send(xmlout.get_properties(device, prop))

    def absorb(self, element: Any) -> None:
        """A set/def/delProperty of another device (the driver loop's snoop)."""
        with self.device.lock:
            absorb(self.state, element, self.active_devices())

    def fits_cards(self, when: datetime, light_frame: bool) -> list[tuple]:
        return fits_cards(self.state, self.active_devices(), when, light_frame)

    def telescope_optics(self) -> tuple[float | None, float | None]:
        return telescope_optics(self.state, self.active_devices())

    @handles(P.ACTIVE_DEVICES)
    def on_active_devices(self, vector: Any, values: dict) -> None:
        self.device.accept(vector, values)
        self.state = SnoopedState()
        self.request()
