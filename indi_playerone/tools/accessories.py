"""Player One imaging-train accessories: the manual's compatibility table (chapter 5) as data.

Compatibility is a fact of the manual ("Accessory Compatible list", chapter 5; see also
``docs/upstream-facts.md`` section 4): which filter wheels, filter drawer and off-axis guider
each camera takes, and two notes: the carbon-fibre bodies (Ares, Uranus, Apollo) take the
7×36mm/7×2"/7×50mm/5×2" Phoenix wheels from 2024 on, and with those wheels need the FHD-OAG MAX,
not the MN.

Thicknesses are NOT in the scanned manual: its back-focus drawings ("Poseidon/Artemis PRO camera
adapter system", "Ares PRO/Uranus PRO/Apollo PRO camera adapter system") were images the scan lost.
The values below are nominal figures the project wrote down for planning and are marked
``nominal``; measure your part or take it from the vendor's drawing and give it on the command
line as ``"Phoenix 7x36mm=20.5"``, which overrides the table. The camera's own back focal length
(17.5 mm, sensor to front face) is the manual's, from :mod:`indi_playerone.camera.models`.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Accessory", "ACCESSORIES", "FAMILIES", "family_of", "find_accessory"]

#: Camera families as the manual's compatibility table groups its rows.
FAMILIES: dict[str, tuple[str, ...]] = {
    "Zeus": ("Zeus 455M PRO", "Zeus 455C PRO"),
    "Poseidon": ("Poseidon-M PRO", "Poseidon-C PRO"),
    "Artemis": ("Artemis-M PRO", "Artemis-C PRO"),
    "Ares": ("Ares-M PRO", "Ares-C PRO"),
    "Uranus": ("Uranus-M PRO", "Uranus-C PRO"),
    "Apollo": ("Apollo-428M MAX PRO", "Apollo-M MAX PRO"),
}
ALUMINIUM = ("Zeus", "Poseidon", "Artemis")
CARBON = ("Ares", "Uranus", "Apollo")
#: The manual's "Recommend filter size" column.
RECOMMENDED_FILTER = {"Zeus": '2"/50mm', "Poseidon": '36mm/2"', "Artemis": "36mm",
                      "Ares": '1.25"', "Uranus": '1.25"', "Apollo": '1.25"'}


@dataclass(frozen=True)
class Accessory:
    name: str  # as the manual writes it (ASCII "x" for ×)
    kind: str  # "filter wheel" | "filter drawer" | "OAG"
    thickness_mm: float  # optical-path length it takes, nominal (see the module docstring)
    families: tuple[str, ...]  # camera families the manual lists it for
    #: Filter size the accessory holds: 36 mm filters vignette a full-frame sensor.
    filter_size: str = ""
    note: str = ""

    @property
    def big_wheel(self) -> bool:
        """One of the 7×36mm/7×2"/7×50mm/5×2" wheels (the carbon-body/OAG rule is about them)."""
        return self.kind == "filter wheel" and "1.25" not in self.name


_ALL = ALUMINIUM + CARBON
_BIG_WHEEL_NOTE = "carbon-fibre bodies (Ares, Uranus, Apollo) take it from 2024 on"
ACCESSORIES: dict[str, Accessory] = {a.name: a for a in (
    Accessory('Phoenix 8x1.25"', "filter wheel", 18.0, CARBON, '1.25"'),
    Accessory("Phoenix 7x36mm", "filter wheel", 20.0, _ALL, "36mm", _BIG_WHEEL_NOTE),
    Accessory('Phoenix 7x2"', "filter wheel", 20.0, _ALL, '2"', _BIG_WHEEL_NOTE),
    Accessory("Phoenix 7x50mm", "filter wheel", 20.0, _ALL, "50mm", _BIG_WHEEL_NOTE),
    Accessory('Phoenix 5x2"', "filter wheel", 20.0, _ALL, '2"', _BIG_WHEEL_NOTE),
    Accessory("Filter Drawer MAX", "filter drawer", 21.0, ALUMINIUM, '2"'),
    Accessory("Filter Drawer MN", "filter drawer", 21.0, CARBON, '1.25"'),
    Accessory("FHD-OAG MAX", "OAG", 12.5, _ALL),
    Accessory("FHD-OAG MN", "OAG", 10.0, CARBON),
)}


def family_of(model: str) -> str:
    """The manual's row group of a model name (``KeyError`` for a model not in the table)."""
    for family, models in FAMILIES.items():
        if model in models:
            return family
    raise KeyError(model)


def _key(text: str) -> str:
    return "".join(text.replace("×", "x").replace("''", '"').split()).casefold()


def find_accessory(name: str) -> Accessory | None:
    """Look an accessory up by name, ignoring case, spaces and × vs x; None when unknown."""
    wanted = _key(name)
    for acc in ACCESSORIES.values():
        if _key(acc.name) == wanted:
            return acc
    return None
