"""Both generations' property references by generation name ("indi1", "indi2")."""

from __future__ import annotations

from . import libindi2_ccd_properties, libindi_ccd_properties
from .ccd_property_form import Reference

__all__ = ["REFERENCES", "reference"]

REFERENCES: dict[str, Reference] = {
    "indi1": libindi_ccd_properties.REFERENCE,
    "indi2": libindi2_ccd_properties.REFERENCE,
}


def reference(generation: str) -> Reference:
    return REFERENCES[generation]
