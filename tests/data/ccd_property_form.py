"""The form of a libindi CCD driver's property reference, shared by both generations' data.

``libindi_ccd_properties.py`` (libindi 1.9.9) and ``libindi2_ccd_properties.py`` (libindi
2.2.4.2) each list, in this form, the properties a libindi CCD driver exposes: DefaultDevice,
INDI::CCD, GuiderInterface, StreamManager, plus the Player One C++ driver's own.  They are the
oracles the driver's property set is compared with, under the generation a test runs; each is
checked against that generation's real ``indi_simulator_ccd`` (``test_harness_reference.py``).
Independent of the driver code: nothing here is imported from ``indi_playerone``.

Conventions:

* ``kind``: "Number" | "Switch" | "Text" | "Light" | "BLOB"; ``perm``: "ro" | "wo" | "rw";
  ``rule`` (switches only): "OneOfMany" | "AtMostOne" | "AnyOfMany"; ``timeout`` in seconds.
* ``label`` (of a vector or element): as the generation's ``indi_simulator_ccd`` shows it (what
  KStars shows) and its source defines it; None = not stated (the Player One C++ driver's own
  vectors: checked by their own tests).
* Element ``default``: float (Number), True/False = On/Off (Switch), str (Text); None = not stated or
  set by the driver at run time (camera size, driver name...).  ``min``/``max``/``step``/``format``
  likewise (None = camera dependent or not stated).
* ``elements_mode``: "exact" — these elements in this order; "subset" — a camera-dependent subset of
  these (Player One: from the SDK's format list); "superset" — these first, the driver may add
  more (e.g. DBG_EXTRA_n; CCD_CONTROLS always has Gain and Offset, plus other SDK configs);
  "dynamic" — names are generated at run time (see ``note``).
* ``when``: the condition under which the vector is defined, as a disjunction of conjunctions of
  flags; a flag written "!x" means x is absent.  ``ALWAYS`` = defined on getProperties, before
  connection.  Flags:

  ========================  ===================================================================
  ``connected``             CONNECTION.CONNECT is On
  ``can_abort``             CCD_CAN_ABORT (Player One: always)
  ``can_bin``               CCD_CAN_BIN (Player One: max bin > 1)
  ``can_subframe``          CCD_CAN_SUBFRAME (Player One: always)
  ``cooler``                CCD_HAS_COOLER
  ``bayer``                 CCD_HAS_BAYER (colour camera)
  ``st4``                   CCD_HAS_ST4_PORT
  ``streaming``             CCD_HAS_STREAMING (Player One: always)
  ``guide_head``            CCD_HAS_GUIDE_HEAD (never for Player One)
  ``debug_enabled``         DEBUG.ENABLE is On
  ``upload_local``          UPLOAD_MODE is UPLOAD_LOCAL or UPLOAD_BOTH
  ``wcs_enabled``           WCS_CONTROL.WCS_ENABLE is On
  ``simulation_control``    the driver defines SIMULATION (addAuxControls; Player One does)
  ``nickname_control``      the driver calls DefaultDevice::addNicknameControl
  ``playerone``             the device is the Player One driver (the C++ driver's extras)
  ``sn_known``              the camera reported a non-empty serial number
  ``controls``              at least one writable SDK config for CCD_CONTROLS
  ``controls_auto``         at least one config supports auto mode
  ``flip``                  the camera lists POA_FLIP_BOTH among its configs
  ``sensor_modes``          POAGetSensorModeCount() > 0
  ``single_driver``         ``indi_playerone_single_ccd`` (not the multi-camera driver)
  ========================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ElementSpec", "PropertySpec", "Reference", "When", "ALWAYS", "when", "any_of", "holds", "FLAGS",
    "E", "ON", "OFF", "CONNECTED", "STREAMING", "PLAYERONE", "num",
    "NOT_DEFINED_BY_PLAYERONE", "playerone_flags",
]

When = tuple[tuple[str, ...], ...]
ALWAYS: When = ((),)

FLAGS = frozenset({
    "connected", "can_abort", "can_bin", "can_subframe", "cooler", "bayer", "st4", "streaming",
    "guide_head", "debug_enabled", "upload_local", "wcs_enabled", "simulation_control",
    "nickname_control", "playerone", "sn_known", "controls", "controls_auto", "flip", "sensor_modes",
    "single_driver",
})


def when(*flags: str) -> When:
    """All of ``flags`` ("!x" = not x)."""
    for f in flags:
        if f.lstrip("!") not in FLAGS:
            raise ValueError(f"unknown flag {f!r}")
    return (tuple(flags),)


def any_of(*conditions: When) -> When:
    return tuple(term for c in conditions for term in c)


def holds(condition: When, flags: Iterable[str]) -> bool:
    have = set(flags)
    return any(all((f[1:] not in have) if f.startswith("!") else (f in have) for f in term) for term in condition)


@dataclass(frozen=True)
class ElementSpec:
    name: str
    label: str | None
    default: float | bool | str | None = None
    format: str | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    optional: str | None = None  # build feature the element depends on ("xisf", "theora")


@dataclass(frozen=True)
class PropertySpec:
    name: str
    kind: str
    group: str
    perm: str
    rule: str | None
    timeout: float
    elements: tuple[ElementSpec, ...]
    when: When
    origin: str  # DefaultDevice | INDI::CCD | GuiderInterface | StreamManager | PlayerOne
    label: str | None = None
    elements_mode: str = "exact"
    note: str = ""

    @property
    def element_names(self) -> list[str]:
        return [e.name for e in self.elements]

    @property
    def playerone_extra(self) -> bool:
        """True for the Player One C++ driver's own properties, not libindi's."""
        return self.origin == "PlayerOne"


E = ElementSpec
ON, OFF = True, False
CONNECTED = when("connected")
STREAMING = when("connected", "streaming")
PLAYERONE = ("connected", "playerone")


def num(name: str, label: str | None, fmt: str | None, lo: float | None, hi: float | None,
         step: float | None = None, default: float | None = None) -> ElementSpec:
    return E(name, label, default, fmt, lo, hi, step)



# Names a Player One camera device must not define: the guide-head family (CCD_HAS_GUIDE_HEAD),
# the CCD_GAIN/CCD_OFFSET convention of simulator/QHY-style drivers (Player One uses CCD_CONTROLS
# elements Gain/Offset), and DSLR-only vectors.
NOT_DEFINED_BY_PLAYERONE: tuple[str, ...] = (
    "GUIDER_EXPOSURE", "GUIDER_ABORT_EXPOSURE", "GUIDER_FRAME", "GUIDER_BINNING", "GUIDER_INFO",
    "GUIDER_FRAME_TYPE", "GUIDER_COMPRESSION", "CCD2",
    "CCD_GAIN", "CCD_OFFSET", "CCD_EXPOSURE_PRESETS", "CCD_ISO",
)


@dataclass(frozen=True)
class Reference:
    """One generation's property set: ``generation`` "indi1"/"indi2", ``libindi`` its version."""

    generation: str
    libindi: str
    properties: tuple[PropertySpec, ...]

    def specs_named(self, name: str) -> list[PropertySpec]:
        """Every variant of ``name`` (CCD_FRAME, CCD_TEMPERATURE and NICKNAME have two)."""
        return [p for p in self.properties if p.name == name]

    def expected_properties(self, flags: Iterable[str]) -> list[PropertySpec]:
        """The vectors defined under ``flags``, in libindi's order of definition (one per name)."""
        have = set(flags)
        unknown = {f for f in have if f not in FLAGS}
        if unknown:
            raise ValueError(f"unknown flags {sorted(unknown)}")
        out: list[PropertySpec] = []
        seen: set[str] = set()
        for spec in self.properties:
            if spec.name not in seen and holds(spec.when, have):
                out.append(spec)
                seen.add(spec.name)
        return out

    def spec_for(self, name: str, flags: Iterable[str]) -> PropertySpec | None:
        """The variant of ``name`` defined under ``flags``, or None if it is not defined then."""
        return next((p for p in self.expected_properties(flags) if p.name == name), None)

    @property
    def names(self) -> set[str]:
        return {p.name for p in self.properties}


def playerone_flags(*, connected: bool = True, cooler: bool = True, color: bool = False, st4: bool = False,
                    can_bin: bool = True, sn_known: bool = True, flip: bool = True, sensor_modes: bool = False,
                    controls_auto: bool = True, single_driver: bool = False) -> frozenset[str]:
    """Flags for a Player One camera device as the C++ driver sets them (its capabilities)."""
    flags = {"playerone", "simulation_control", "can_abort", "can_subframe", "streaming", "controls"}
    for flag, on in (("connected", connected), ("cooler", cooler), ("bayer", color), ("st4", st4),
                     ("can_bin", can_bin), ("sn_known", sn_known), ("flip", flip),
                     ("sensor_modes", sensor_modes), ("controls_auto", controls_auto),
                     ("single_driver", single_driver)):
        if on:
            flags.add(flag)
    return frozenset(flags)
