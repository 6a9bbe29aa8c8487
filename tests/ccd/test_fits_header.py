"""FITS_HEADER in both generations' dialects (indi_playerone/ccd/fits_header.py), without a server.

What KStars 3.6 (libindi 1.9.9) and KStars 3.7 (libindi 2.x) send is reproduced element for
element: both send the whole vector, 3.6 with FITS_OBSERVER/FITS_OBJECT set, 3.7 with elements
0..2 set to one record; the other elements carry whatever the driver last showed.  The same
writes go through the real servers in test_driver_fits_header.py.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indi_playerone.ccd import fits_header as fh
from indi_playerone.ccd.fits import FitsContext, fits_cards

EMPTY = {fh.NAME: "", fh.VALUE: "", fh.COMMENT: "", fh.OBSERVER: "", fh.OBJECT: ""}


def write(records: dict, **elements: str) -> fh.HeaderWrite:
    """One whole-vector write: the driver's shown values, with ``elements`` changed."""
    values = {**EMPTY, **fh.shown_values(records), **elements}
    w = fh.parse(values)
    fh.apply(records, w)
    return w


def record(records: dict, name: str, value: str = "", comment: str = "") -> fh.HeaderWrite:
    """What Ekos 3.7 sends for one record: elements 0..2 set, 3..4 as last shown."""
    return write(records, KEYWORD_NAME=name, KEYWORD_VALUE=value, KEYWORD_COMMENT=comment)


def test_the_elements_put_the_2x_record_first() -> None:
    # Ekos 3.7 writes elements 0, 1 and 2 by index.
    assert fh.ELEMENTS[:3] == ("KEYWORD_NAME", "KEYWORD_VALUE", "KEYWORD_COMMENT")
    assert fh.ELEMENTS[3:] == ("FITS_OBSERVER", "FITS_OBJECT")


def test_a_1_9_9_client_sets_observer_and_object_as_strings() -> None:
    records: dict = {}
    w = write(records, FITS_OBSERVER="Ann Observer", FITS_OBJECT="4")
    assert w.dialect == "1.9.9" and w.note is None
    assert records == {"OBSERVER": ("OBSERVER", "Ann Observer", "Observer name"),
                       "OBJECT": ("OBJECT", "4", "Object name")}  # libindi 1.9.9 writes strings
    assert fh.shown_values(records) == {**EMPTY, "FITS_OBSERVER": "Ann Observer", "FITS_OBJECT": "4"}
    # KStars 3.6 sends the whole vector again with the object changed: the observer stays.
    write(records, FITS_OBJECT="M 42")
    assert records["OBSERVER"][1] == "Ann Observer" and records["OBJECT"][1] == "M 42"
    # An element sent empty removes its card.
    write(records, FITS_OBSERVER="  ")
    assert "OBSERVER" not in records and records["OBJECT"][1] == "M 42"


def test_a_partial_1_9_9_write_touches_only_what_it_names() -> None:
    records: dict = {"OBSERVER": ("OBSERVER", "Ann", "Observer name")}
    fh.apply(records, fh.parse({"FITS_OBJECT": "NGC 7000"}))  # a script setting one element
    assert records["OBSERVER"][1] == "Ann" and records["OBJECT"][1] == "NGC 7000"


def test_ekos_3_7_records_in_a_row_with_stale_copies_of_the_1_9_9_elements() -> None:
    records: dict = {}
    stale = {**EMPTY}
    for name, value, comment in (("OBSERVER", "Ann", "Observer name"), ("OBJECT", "M 31", "Object name"),
                                 ("FOCUSER", "1234", "focuser position")):
        # Sent before the driver's answer to the previous record arrived: FITS_OBSERVER still "".
        w = fh.parse({**stale, "KEYWORD_NAME": name, "KEYWORD_VALUE": value, "KEYWORD_COMMENT": comment})
        assert w.dialect == "2.x"
        fh.apply(records, w)
    assert records == {"OBSERVER": ("OBSERVER", "Ann", "Observer name"),
                       "OBJECT": ("OBJECT", "M 31", "Object name"),
                       "FOCUSER": ("FOCUSER", 1234, "focuser position")}
    # Whichever dialect set them, the 1.9.9 elements show the cards.
    assert fh.shown_values(records)["FITS_OBSERVER"] == "Ann"
    assert fh.shown_values(records)["FITS_OBJECT"] == "M 31"


def test_keyword_names_are_upper_cased_and_values_typed_as_libindi_2x_does() -> None:
    records: dict = {}
    record(records, "airmass", "1.25", "")
    record(records, "site", "Backyard / North", "where")
    assert records["AIRMASS"] == ("AIRMASS", 1.25, "")
    assert records["SITE"] == ("SITE", "Backyard / North", "where")


def test_indi_clear_drops_every_custom_record_including_observer() -> None:
    records: dict = {}
    write(records, FITS_OBSERVER="Ann")
    record(records, "FOCUSER", "10")
    w = record(records, "indi_clear")
    assert w.clear and w.note == "Custom FITS keywords cleared."
    assert records == {}
    assert fh.shown_values(records) == EMPTY


def test_a_comment_alone_is_a_comment_card_and_comments_coexist() -> None:
    records: dict = {}
    record(records, "", "", "first note")
    record(records, "", "", "second note")
    record(records, "", "", "first note")  # the same text again: not a second card
    assert sorted(c for c in records.values()) == [("COMMENT", "first note", ""), ("COMMENT", "second note", "")]
    record(records, "COMMENT", "third note")
    assert ("COMMENT", "third note", "") in records.values()


@pytest.mark.parametrize("name,value", [("FOCUSER", ""), ("", "42")])
def test_a_half_record_adds_nothing_and_says_so(name: str, value: str) -> None:
    records: dict = {"OBJECT": ("OBJECT", "M 31", "Object name")}
    w = record(records, name, value)
    assert w.put == () and not w.clear and "nothing added" in (w.note or "")
    assert records == {"OBJECT": ("OBJECT", "M 31", "Object name")}


def test_an_empty_record_with_no_1_9_9_element_is_refused() -> None:
    with pytest.raises(ValueError, match="empty FITS record"):
        fh.parse({"KEYWORD_NAME": "", "KEYWORD_VALUE": " ", "KEYWORD_COMMENT": ""})


@pytest.mark.parametrize("values,match", [
    ({"KEYWORD_NAME": "BITPIX", "KEYWORD_VALUE": "8"}, "file layout"),
    ({"KEYWORD_NAME": "TOOLONGKEY", "KEYWORD_VALUE": "1"}, "invalid"),
    ({"FITS_OBSERVER": "Ann\u00e9"}, "printable ASCII"),
    ({"FITS_OBJECT": "x" * 69}, "at most 68"),
])
def test_bad_input_is_refused_with_a_message(values: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fh.parse(values)


def test_the_records_reach_the_fits_header() -> None:
    records: dict = {}
    write(records, FITS_OBSERVER="Ann Observer", FITS_OBJECT="M 42")
    record(records, "", "", "taken through both dialects")
    ctx = FitsContext(instrument="PlayerOne CCD Ares-C PRO", exposure_s=1.0,
                      date_obs=datetime(2025, 1, 1, tzinfo=timezone.utc), frame_type="Light",
                      pixel_size_um=(3.76, 3.76), binning=(1, 1), custom=list(records.values()))
    cards = fits_cards(ctx)
    assert ("OBSERVER", "Ann Observer", "Observer name") in cards
    assert ("OBJECT", "M 42", "Object name") in cards
    assert ("COMMENT", "taken through both dialects", "") in cards


texts = st.text(st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=90)


@given(st.dictionaries(st.sampled_from(fh.ELEMENTS), texts))
def test_any_write_is_parsed_or_refused_with_a_value_error(values: dict) -> None:
    records: dict = {"OBSERVER": ("OBSERVER", "Ann", "Observer name")}
    try:
        w = fh.parse(values)
    except ValueError as exc:
        assert str(exc)
        return
    fh.apply(records, w)
    shown = fh.shown_values(records)
    assert shown[fh.NAME] == shown[fh.VALUE] == shown[fh.COMMENT] == ""
    for key, value, _ in records.values():
        assert key == key.upper() and len(key) <= 8
        if isinstance(value, str):
            assert all(" " <= c <= "~" for c in value)
