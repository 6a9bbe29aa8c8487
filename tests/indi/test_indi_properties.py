"""The property model: number parsing, client-input validation, switch rules."""
from __future__ import annotations

import base64
import math

import pytest
from hypothesis import given, strategies as st

from indi_playerone.indi.properties import (
    Blob, BlobVector, Light, LightVector, Number, NumberVector, Perm, PropertyError, Rule, State,
    Switch, SwitchVector, Text, TextVector,
)
from indi_playerone.indi.sexagesimal import format_number, parse_number


# ------------------------------------------------------------------ numbers

@pytest.mark.parametrize("text, expected", [
    ("12:30:00", 12.5),
    ("12 30 00", 12.5),
    ("12;30;00", 12.5),
    ("-0:30:00", -0.5),          # the sign applies to the whole value
    ("-12:30", -12.5),
    ("12:30.5", 12 + 30.5 / 60),
    ("1:00:36", 1.01),
    ("  7.25 \n", 7.25),
    ("1e-05", 1e-05),
    ("-3.5E+2", -350.0),
    (".5", 0.5),
    ("5.", 5.0),
    ("+4", 4.0),
    ("0", 0.0),
])
def test_parse_number_accepts_indi_forms(text: str, expected: float) -> None:
    assert parse_number(text) == pytest.approx(expected, rel=1e-15, abs=1e-15)


@pytest.mark.parametrize("text", [
    "", "  ", "abc", "1_000", "inf", "-inf", "nan", "infinity", "1e999", "12:30:00:10",
    "12::30", "1.2.3", "0x10", "12:-30", "5 apples",
])
def test_parse_number_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_number_round_trips(x: float) -> None:
    text = format_number(x)
    assert parse_number(text) == x
    assert not text.endswith(".0")


@given(st.integers(0, 359), st.integers(0, 59), st.integers(0, 59), st.booleans(),
       st.sampled_from([":", " ", ";"]))
def test_sexagesimal_property(d: int, m: int, s: int, neg: bool, sep: str) -> None:
    text = f"{'-' if neg else ''}{d}{sep}{m:02d}{sep}{s:02d}"
    expected = (d + m / 60 + s / 3600) * (-1 if neg else 1)
    assert math.isclose(parse_number(text), expected, rel_tol=1e-12, abs_tol=1e-12)


# ------------------------------------------------------------------ number vectors

def gain_vector() -> NumberVector:
    return NumberVector("Cam", "CCD_CONTROLS", "Controls", "Main", Perm.RW, State.IDLE, 60, [
        Number("Gain", "Gain", "%.f", 0, 600, 1, 100),
        Number("Offset", "Offset", "%.f", 0, 255, 1, 10),
        Number("Free", "Unbounded", value=3),           # min == max: no limits
    ])


def test_number_parse_new_returns_only_sent_and_does_not_mutate() -> None:
    v = gain_vector()
    assert v.parse_new([("Gain", " 250 ")]) == {"Gain": 250.0}
    assert v["Gain"].value == 100
    v.apply({"Gain": 250.0})
    assert v.values() == {"Gain": 250.0, "Offset": 10.0, "Free": 3.0}


@pytest.mark.parametrize("items, message", [
    ([("Gain", "700")], "Gain value 700 is out of range [0, 600]."),
    ([("Gain", "-1")], "Gain value -1 is out of range [0, 600]."),
    ([("Gain", "lots")], "Gain value 'lots' is not a valid number."),
    ([("Gain", "nan")], "Gain value 'nan' is not a valid number."),
    ([("Gain", "1e400")], "Gain value '1e400' is not a valid number."),
    ([("Bogus", "1")], "CCD_CONTROLS has no element Bogus."),
    ([("Gain", "1"), ("Gain", "2")], "CCD_CONTROLS: element Gain was sent twice."),
])
def test_number_parse_new_errors(items, message) -> None:
    v = gain_vector()
    with pytest.raises(PropertyError) as info:
        v.parse_new(items)
    assert str(info.value) == message
    assert v["Gain"].value == 100


def test_number_without_limits_accepts_anything_finite() -> None:
    assert gain_vector().parse_new([("Free", "-1e300")]) == {"Free": -1e300}


def test_vector_construction_checks() -> None:
    with pytest.raises(ValueError):
        NumberVector("d", "n", elements=[Number("a", "A"), Number("a", "B")])
    with pytest.raises(TypeError):
        NumberVector("d", "n", elements=[Switch("a", "A")])
    v = NumberVector("d", "n", state="Ok", perm="ro", elements=[Number("a", "A")])
    assert v.state is State.OK and v.perm is Perm.RO
    assert list(v) == [v["a"]] and "a" in v and len(v) == 1


# ------------------------------------------------------------------ switches

def switches(rule: Rule, on: tuple[bool, ...] = (True, False, False)) -> SwitchVector:
    return SwitchVector("Cam", "S", "S", "G", rule=rule,
                        elements=[Switch(f"S{i}", f"s{i}", o) for i, o in enumerate(on)])


def test_one_of_many_client_sends_only_the_on_element() -> None:
    v = switches(Rule.ONE_OF_MANY)
    assert v.parse_new([("S2", "On")]) == {"S0": False, "S1": False, "S2": True}
    assert v.on_names() == ["S0"]           # parse does not mutate
    v.apply(v.parse_new([("S2", "On")]))
    assert v.on_names() == ["S2"]


@pytest.mark.parametrize("items", [[("S0", "Off")], [("S0", "On"), ("S1", "On")], []])
def test_one_of_many_needs_exactly_one(items) -> None:
    with pytest.raises(PropertyError, match="exactly one"):
        switches(Rule.ONE_OF_MANY).parse_new(items)


def test_at_most_one() -> None:
    v = switches(Rule.AT_MOST_ONE)
    assert v.parse_new([("S0", "Off")]) == {"S0": False, "S1": False, "S2": False}
    assert v.parse_new([("S1", "On")]) == {"S0": False, "S1": True, "S2": False}
    with pytest.raises(PropertyError, match="at most one"):
        v.parse_new([("S1", "On"), ("S2", "On")])


def test_any_of_many_merges_over_current() -> None:
    v = switches(Rule.ANY_OF_MANY, (True, False, True))
    assert v.parse_new([("S1", "On")]) == {"S0": True, "S1": True, "S2": True}
    assert v.parse_new([("S0", "Off")]) == {"S0": False, "S1": False, "S2": True}


@pytest.mark.parametrize("value", ["on", "ON", "1", "true", ""])
def test_switch_values_must_be_on_or_off(value: str) -> None:
    with pytest.raises(PropertyError, match="must be On or Off"):
        switches(Rule.ANY_OF_MANY).parse_new([("S0", value)])


@given(st.sampled_from(list(Rule)), st.lists(st.booleans(), min_size=1, max_size=5),
       st.data())
def test_switch_rules_property(rule: Rule, current: list[bool], data) -> None:
    """Whatever a client sends, an accepted result obeys the rule and is a full map."""
    if rule is Rule.ONE_OF_MANY:
        current = [i == 0 for i in range(len(current))]
    v = switches(rule, tuple(current))
    names = [f"S{i}" for i in range(len(current))]
    sent = data.draw(st.dictionaries(st.sampled_from(names), st.booleans()))
    try:
        result = v.parse_new([(k, "On" if b else "Off") for k, b in sent.items()])
    except PropertyError:
        base = dict(zip(names, current)) if rule is Rule.ANY_OF_MANY else dict.fromkeys(names, False)
        base.update(sent)
        n = sum(base.values())
        assert (rule is Rule.ONE_OF_MANY and n != 1) or (rule is Rule.AT_MOST_ONE and n > 1)
        return
    assert list(result) == names
    n_on = sum(result.values())
    if rule is Rule.ONE_OF_MANY:
        assert n_on == 1
    elif rule is Rule.AT_MOST_ONE:
        assert n_on <= 1
    for k, b in sent.items():
        assert result[k] is b
    if rule is Rule.ANY_OF_MANY:
        for k, b in zip(names, current):
            if k not in sent:
                assert result[k] is b
    assert [s.on for s in v] == current


def test_set_only() -> None:
    v = switches(Rule.ONE_OF_MANY)
    v.set_only("S1")
    assert v.on_names() == ["S1"]
    with pytest.raises(KeyError):
        v.set_only("nope")


# ------------------------------------------------------------------ text, lights, BLOBs

def test_text_parse_and_apply() -> None:
    v = TextVector("d", "T", elements=[Text("A", "a", "x"), Text("B", "b")])
    vals = v.parse_new([("B", "<&'\" ünï")])
    assert vals == {"B": "<&'\" ünï"} and v["B"].value == ""
    v.apply(vals)
    assert v.values() == {"A": "x", "B": "<&'\" ünï"}


def test_lights_are_not_client_writable() -> None:
    v = LightVector("d", "L", elements=[Light("a", "A", "Busy")])
    assert v.perm is Perm.RO and v["a"].state is State.BUSY
    with pytest.raises(PropertyError):
        v.parse_new([("a", "Ok")])


@given(st.binary(max_size=300))
def test_blob_base64_round_trip(data: bytes) -> None:
    v = BlobVector("d", "B", elements=[Blob("F", "file")])
    enc = base64.b64encode(data).decode()
    wrapped = "\n".join(enc[i:i + 72] for i in range(0, len(enc), 72))
    assert v.parse_new([("F", wrapped, ".fits")]) == {"F": (data, ".fits")}


@pytest.mark.parametrize("text", ["abc", "a$bc", "QUJD=x==", "===="])
def test_blob_bad_base64(text: str) -> None:
    v = BlobVector("d", "B", elements=[Blob("F", "file")])
    with pytest.raises(PropertyError, match="not valid base64"):
        v.parse_new([("F", text, ".bin")])
