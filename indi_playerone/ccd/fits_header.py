"""FITS_HEADER as both INDI generations' clients write it, turned into the FITS writer's records.

libindi changed this vector in 2.0.1 (``libs/indibase/indiccd.cpp``), and clients of both
generations are in use (docs/indi-generations.md):

* **1.9.9 dialect** (KStars 3.6 / Ekos, Debian 12's libindi): a read-write vector with
  ``FITS_OBSERVER`` and ``FITS_OBJECT``, written into every frame as ``OBSERVER`` and
  ``OBJECT``.  Ekos 3.6 sends the whole vector with those two set, so the other elements arrive
  with whatever the driver last showed in them.
* **2.x dialect** (KStars 3.7+, libindi >= 2.0.1): one record per write in ``KEYWORD_NAME``,
  ``KEYWORD_VALUE`` and ``KEYWORD_COMMENT`` (Ekos fills elements 0, 1 and 2 and sends the whole
  vector); the name ``INDI_CLEAR`` drops every custom record; a comment without a name and value
  adds a ``COMMENT`` card.

The driver defines one vector with all five elements, the 2.x ones first (Ekos 3.7 writes by
index), and reads each write with one rule: a write that carries a 2.x record (any non-empty
KEYWORD_* element) is a 2.x write, and the FITS_OBSERVER/FITS_OBJECT values in it are only the
client's copy of what the driver showed, so they are ignored (a client that sends several
records in a row, as Ekos does, would otherwise undo its own OBSERVER record with a stale copy).
Any other write is a 1.9.9 write: FITS_OBSERVER/FITS_OBJECT set OBSERVER/OBJECT, or remove
them when empty.  After every write the driver shows the KEYWORD_* elements empty (so a 1.9.9
client re-sending the vector repeats no record) and FITS_OBSERVER/FITS_OBJECT as the current
OBSERVER/OBJECT cards, whichever dialect set them.

Records are kept in one dict (the device's ``fits_records``): keyword -> card, and for COMMENT
and HISTORY cards "<keyword> <text>" -> card, so several comments can coexist and repeating one
does not add it twice.  Unlike libindi 1.9.9 nothing is written while OBSERVER/OBJECT are unset
(1.9.9 writes the placeholder 'Unknown').
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

from .fits import MAX_STRING_VALUE, Card, parse_fits_header_record

__all__ = ["NAME", "VALUE", "COMMENT", "OBSERVER", "OBJECT", "CLEAR", "ELEMENTS", "HeaderWrite",
           "parse", "apply", "shown_values", "record_key"]

NAME, VALUE, COMMENT = "KEYWORD_NAME", "KEYWORD_VALUE", "KEYWORD_COMMENT"
OBSERVER, OBJECT = "FITS_OBSERVER", "FITS_OBJECT"
#: The vector's elements in the order the driver defines them (2.x first: Ekos 3.7 writes by index).
ELEMENTS = (NAME, VALUE, COMMENT, OBSERVER, OBJECT)
#: A record with this name drops every custom record (libindi 2.x).
CLEAR = "INDI_CLEAR"
#: 1.9.9 element -> (FITS keyword, comment), as libindi 1.9.9 writes them.
LEGACY_CARDS = {OBSERVER: ("OBSERVER", "Observer name"), OBJECT: ("OBJECT", "Object name")}
_COMMENTARY = ("COMMENT", "HISTORY")


@dataclass(frozen=True)
class HeaderWrite:
    """What one FITS_HEADER write asks for, in the order it is applied."""

    dialect: str  # "2.x" | "1.9.9"
    clear: bool = False
    put: tuple[Card, ...] = ()
    remove: tuple[str, ...] = ()
    note: str | None = None  # for the client: what was done, when it is not obvious


def record_key(card: Card) -> str:
    """The key a card is kept under in the records dict."""
    key, value, _ = card
    return f"{key} {value}" if key in _COMMENTARY else key


def parse(values: Mapping[str, str]) -> HeaderWrite:
    """Read one write (element name -> text); raises ValueError with a message for the client."""
    name = values.get(NAME, "").strip()
    value = values.get(VALUE, "")
    comment = values.get(COMMENT, "")
    if name or value.strip() or comment.strip():
        return _parse_record(name, value, comment)
    legacy = {elem: values[elem] for elem in (OBSERVER, OBJECT) if elem in values}
    if not legacy:
        # libindi 2.x answers this with the same words and an Alert.
        raise ValueError("cannot add an empty FITS record: KEYWORD_NAME, KEYWORD_VALUE and KEYWORD_COMMENT are empty")
    put: list[Card] = []
    remove: list[str] = []
    for elem, text in legacy.items():
        key, card_comment = LEGACY_CARDS[elem]
        text = text.strip()
        if text:
            put.append((key, _string_value(key, text), card_comment))
        else:
            remove.append(key)
    return HeaderWrite("1.9.9", put=tuple(put), remove=tuple(remove))


def _parse_record(name: str, value: str, comment: str) -> HeaderWrite:
    """libindi 2.x's order: INDI_CLEAR; name and value; else a comment alone is a COMMENT card."""
    if name.upper() == CLEAR:
        return HeaderWrite("2.x", clear=True, note="Custom FITS keywords cleared.")
    if name and value.strip():
        return HeaderWrite("2.x", put=(parse_fits_header_record(name, value, comment),))
    if comment.strip():
        return HeaderWrite("2.x", put=(parse_fits_header_record("COMMENT", comment.strip(), ""),))
    # A name without a value, or a value without a name: libindi 2.x adds nothing and says
    # nothing; we add nothing and say so.
    what = f"FITS keyword {name.upper()} has no value" if name else f"FITS value {value!r} has no keyword name"
    return HeaderWrite("2.x", note=f"{what}: nothing added.")


def _string_value(key: str, text: str) -> str:
    """1.9.9 writes OBSERVER/OBJECT as strings (fits_update_key_str), whatever they look like."""
    bad = [c for c in text if not (" " <= c <= "~")]
    if bad:
        raise ValueError(f"FITS {key} {text!r} contains {bad[0]!r}: only printable ASCII characters are allowed")
    if len(text) + text.count("'") > MAX_STRING_VALUE:
        raise ValueError(f"FITS {key} is {len(text)} characters; at most {MAX_STRING_VALUE} fit a card")
    return text


def apply(records: MutableMapping[str, Card], write: HeaderWrite) -> None:
    """Apply a parsed write to the records dict the FITS writer reads."""
    if write.clear:
        records.clear()
    for key in write.remove:
        records.pop(key, None)
    for card in write.put:
        records[record_key(card)] = card


def shown_values(records: Mapping[str, Card]) -> dict[str, str]:
    """What the vector shows after a write: KEYWORD_* empty, FITS_OBSERVER/OBJECT the current cards."""
    shown = {NAME: "", VALUE: "", COMMENT: ""}
    for elem, (key, _) in LEGACY_CARDS.items():
        card = records.get(key)
        shown[elem] = "" if card is None else str(card[1])
    return shown

