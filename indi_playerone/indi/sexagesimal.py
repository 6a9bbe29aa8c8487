"""INDI number parsing: plain C floats and sexagesimal ("12:30:00") input.

INDI clients may send any number element in sexagesimal notation (libindi's
``f_scansexa`` accepts it for every ``newNumberVector``), so a driver must accept
``"12:30:00"``, ``"12 30 00"``, ``"12;30;00"``, ``"12:30.5"`` and ``"-0:30:00"``
as well as plain C floats such as ``"1e-05"``.

This is a re-derivation from the documented behaviour, deliberately stricter than
``sscanf``: trailing garbage, Python-only spellings (``"1_000"``, ``"infinity"``)
and non-finite values are refused instead of being half-read.
"""
from __future__ import annotations

import math
import re

__all__ = ["parse_number", "format_number"]

# A C-locale decimal float: what strtod accepts minus hex floats, inf and nan.
# float() alone is too lenient: it takes "1_000", "inf", "nan" and " infinity ".
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")

# Sexagesimal: an optional sign that applies to the whole value, then up to three
# unsigned components separated by ':', ';' or blanks. Components may carry a
# fraction ("12:30.5" is 12 h 30.5 min). The sign is captured separately because
# "-0:30:00" must be -0.5: a per-component sign would lose it when degrees are 0.
_COMPONENT = r"(?:\d+\.?\d*|\.\d+)"
_SEXA_RE = re.compile(
    rf"([+-]?)\s*({_COMPONENT})(?:\s*[:;\s]\s*({_COMPONENT}))?(?:\s*[:;\s]\s*({_COMPONENT}))?\Z"
)


def parse_number(text: str) -> float:
    """Parse one INDI number; raises ``ValueError`` for anything that is not one.

    Returns a finite float. Surrounding whitespace is ignored (lilxml-based
    clients indent element text).
    """
    s = text.strip()
    if _FLOAT_RE.match(s):
        value = float(s)
    else:
        m = _SEXA_RE.match(s)
        if m is None:
            raise ValueError(f"{text.strip()!r} is not a number")
        sign, deg, minutes, seconds = m.groups()
        value = float(deg)
        if minutes is not None:
            value += float(minutes) / 60.0
        if seconds is not None:
            value += float(seconds) / 3600.0
        if sign == "-":
            value = -value
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()!r} is not a finite number")
    return value


def format_number(value: float) -> str:
    """The shortest text that reads back as the same float.

    ``repr`` gives the shortest round-trip form; integral values drop the ``.0``
    so that the wire shows ``'60'`` like libindi rather than ``'60.0'``.
    """
    v = float(value)
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)
