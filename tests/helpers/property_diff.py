"""What a received vector's elements differ in from a reference's: the comparison the property
tests of the camera and the wheel make against their libindi oracles (``tests/data``)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness import ElementSnapshot


def element_differences(name: str, spec_elements: Iterable[Any], got: Iterable[ElementSnapshot], *,
                        format_: str | None = None) -> set[str]:
    """Labels and number limits (format, min, max, step) of the elements of vector ``name`` that
    differ from the reference's ``spec_elements``, where the reference gives them; elements the
    vector lacks are left to the caller's list check. ``format_`` replaces the reference's format."""
    mine = {e.name: e for e in got}
    out: set[str] = set()
    for e in spec_elements:
        el = mine.get(e.name)
        if el is None:
            continue
        if e.label is not None and el.label != e.label:
            out.add(f"{name}.{e.name}: label {el.label!r} != {e.label!r}")
        fmt = format_ or e.format
        for field, theirs in (("format", fmt), ("min", e.min), ("max", e.max), ("step", e.step)):
            if theirs is not None and getattr(el, field) != theirs:
                out.add(f"{name}.{e.name}: {field} {getattr(el, field)!r} != {theirs!r}")
    return out
