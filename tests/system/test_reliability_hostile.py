"""Hostile INDI input, in process: hypothesis state machines feed random valid and invalid
messages as bytes through the real reader, DriverLoop and devices (issue 8, part 1).

Two machines:

* ``ProtocolMachine``: a device with one vector of every kind, permission and switch rule, and a
  shadow model of its values kept by the test. Every request has an expected outcome computed here,
  independently of the code under test (accept -> the vector Ok with the new values; refuse -> the
  vector re-sent with state Alert and a message, values unchanged; unknown property, missing
  attributes, malformed XML -> a ``message``; another driver's device -> silence).
* ``CcdMachine``: the real camera device (``PlayerOneCCD`` on a simulated Apollo-M MAX PRO,
  connected, exposures and local uploads running on their own threads) fed random requests to any
  of its properties. Outcomes are not predicted; the invariants are: a reply for every request
  to a defined property (the vector, or a message), values unchanged whenever the reply is Alert,
  no handler exception (Device/DriverLoop catch them, so the log is watched), only well-formed
  output.

Both feed every message split at random points (the reader is a streaming one) and after each
burst of garbage check that the stream resynchronises: ``RESYNC`` plus a ``pingRequest`` must be
answered. Every input message is counted; the totals are printed (run with ``-s``) and recorded in
docs/reliability.md. ``INDI_PLAYERONE_LONG=1`` runs 20 times as many examples.
"""
from __future__ import annotations

import base64
import math
import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from fuzz.indi_target import (
    CCD_NAME, PROTO_NAME, RESYNC, CheckingTransport, FailureLog, ccd_device, make_loop,
    protocol_device, snapshot,
)

LONG = os.environ.get("INDI_PLAYERONE_LONG") == "1"
pytestmark = pytest.mark.timeout(3600 if LONG else 300)
COUNTS = {"protocol": 0, "ccd": 0, "ccd Ok/Busy": 0, "ccd Alert": 0, "ccd message only": 0, "ccd frames": 0}


@pytest.fixture(scope="module", autouse=True)
def _report_input_counts():
    """After the module's tests: how many messages the machines fed (shown with ``-s``)."""
    yield
    print(f"\nhostile input messages: protocol machine {COUNTS['protocol']}, camera device {COUNTS['ccd']}")


# ------------------------------------------------------------------ message text

KIND_TAG = {"Number": "oneNumber", "Switch": "oneSwitch", "Text": "oneText", "BLOB": "oneBLOB",
            "Light": "oneLight"}


def new_vector(kind: str, device: str | None, name: str | None,
               items: list[tuple[str | None, str]], child_kind: str | None = None) -> str:
    attrs = ""
    if device is not None:
        attrs += f" device={quoteattr(device)}"
    if name is not None:
        attrs += f" name={quoteattr(name)}"
    tag = KIND_TAG[child_kind or kind]
    body = ""
    for el, text in items:
        el_attr = "" if el is None else f" name={quoteattr(el)}"
        fmt = " format='.bin'" if tag == "oneBLOB" else ""
        body += f"<{tag}{el_attr}{fmt}>{escape(text)}</{tag}>"
    return f"<new{kind}Vector{attrs}>{body}</new{kind}Vector>"


def split_feed(loop: Any, data: bytes, cuts: list[int]) -> None:
    """Feed ``data`` in pieces cut at ``cuts`` (positions modulo the length)."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for a, b in zip(points, points[1:]):
        loop.feed(data[a:b])


def xml_text(text: str) -> str:
    """What an XML parser returns for ``text`` as element content, after the driver's strip()."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


# Characters XML 1.0 can carry (no control characters, surrogates or U+FFFE/U+FFFF).
xml_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"),
                          exclude_characters="\ufffe\uffff") | st.sampled_from("\t\n\r ")
xml_strings = st.text(xml_chars, max_size=40)

NON_FINITE = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999", "-1e400", "1e309"]
NOT_NUMBERS = ["", " ", "abc", "0x10", "1_000", "1,5", "--1", "1e", "e5", "1.2.3", "12:ab",
               "½", "١٢", "1e5x", "0b1", "+-1"]
SWITCH_GARBAGE = ["on", "ON", "off", "1", "0", "true", "", "Onn", "On Off"]
HOSTILE_SNIPPETS = [
    # "Billion laughs": refused as a DTD, never expanded.
    b"<!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;'>"
    b"<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]><lolz>&lol3;</lolz>",
    b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><getProperties>&e;</getProperties>",
    b"<newTextVector device='Fuzz Cam' name='TEXT'><oneText name='T1'>&e;</oneText></newTextVector>",
    b"<newNumberVector device='Fuzz Cam' name='LIMITED'>" + b"<a>" * 5000,
    b"<newNumberVector device='Fuzz Cam' name='LIMITED'><oneNumber name='A'>1",
    b"<newSwitchVector device='Fuzz Cam' name='SW_ONE_OF_MANY'><oneSwitch name='S2' ",
    b"<newTextVector device='Fuzz Cam' name='TEXT'><oneText name='T1'>\xff\xfe\xc0\x80</oneText>"
    b"</newTextVector>",
    b"<newTextVector device='Fuzz Cam' name='TEXT'><oneText name='T1'>&#1;</oneText></newTextVector>",
    b"<!-- never closed <newTextVector device='Fuzz Cam' name='TEXT'>",
    b"<![CDATA[ never closed",
    b"<?xml version='1.0' encoding='utf-16'?>",
    b"<?pi never closed",
    b"\x00\x01\x02<>></></>",
    b"<newNumberVector device='Fuzz Cam' name='LIMITED' device='twice'></newNumberVector>",
    b"<newNumberVector device='Fuzz Cam' name='LIMITED'><oneNumber name='A'>1</oneNumber>",
    b"<newNumberVector a='" + b"x" * 70_000 + b"'/>",
    "<newTextVector device='Fuzz Cam' name='TEXT'><oneText name='T1'>\u00e9\U0001f600</oneText>"
    "</newTextVector>".encode("utf-16"),
]


# ------------------------------------------------------------------ the protocol machine

def expected_switches(rule: str, current: dict[str, bool], sent: dict[str, bool]) -> dict[str, bool] | None:
    """libindi's IUUpdateSwitch semantics, written out independently; None if refused."""
    result = dict(current) if rule == "ANY_OF_MANY" else dict.fromkeys(current, False)
    result.update(sent)
    n_on = sum(result.values())
    if rule == "ONE_OF_MANY" and n_on != 1:
        return None
    if rule == "AT_MOST_ONE" and n_on > 1:
        return None
    return result


class ProtocolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tr = CheckingTransport()
        self.device = protocol_device(self.tr)
        self.loop = make_loop(self.tr, self.device)
        self.log = FailureLog().__enter__()
        self.model = {v.name: snapshot(v) for v in self.device.vectors}
        self.tr.take()
        self.sync = 0

    def teardown(self) -> None:
        self.log.__exit__()

    # -- sending and checking
    def send(self, xml: str | bytes, cuts: list[int]) -> list[ET.Element]:
        data = xml.encode("utf-8") if isinstance(xml, str) else xml
        COUNTS["protocol"] += 1
        split_feed(self.loop, data, cuts)
        return self.tr.take()

    def expect_vector(self, out: list[ET.Element], name: str, state: str,
                      new_values: dict[str, Any] | None = None) -> None:
        replies = [e for e in out if e.get("name") == name and e.tag.startswith("set")]
        assert len(replies) == 1 and replies[0].get("state") == state, [ET.tostring(e) for e in out]
        if state == "Alert":
            assert replies[0].get("message"), "a refusal must say why"
        if new_values is not None:
            self.model[name].update(new_values)
        assert snapshot(self.device.get(name)) == self.model[name]

    def expect_message(self, out: list[ET.Element]) -> None:
        assert any(e.tag == "message" and e.get("message") for e in out), [ET.tostring(e) for e in out]
        assert not any(e.tag.startswith("set") for e in out)
        assert {v.name: snapshot(v) for v in self.device.vectors} == self.model

    # -- numbers
    @rule(name=st.sampled_from(["LIMITED", "UNLIMITED", "NUM_WO"]), data=st.data(),
          cuts=st.lists(st.integers(0, 400), max_size=3))
    def valid_number(self, name: str, data: st.DataObject, cuts: list[int]) -> None:
        vector = self.device.get(name)
        chosen = data.draw(st.lists(st.sampled_from(list(vector.elements)), min_size=1, unique=True))
        sent: dict[str, float] = {}
        items = []
        for el in chosen:
            e = vector[el]
            lo, hi = (e.min, e.max) if e.min < e.max else (-1e300, 1e300)
            value = data.draw(st.floats(lo, hi, allow_nan=False))
            sent[el] = value
            items.append((el, data.draw(st.sampled_from([repr(value), f" {value!r}\n", f"{value:.17g}"]))))
        out = self.send(new_vector("Number", PROTO_NAME, name, items), cuts)
        self.expect_vector(out, name, "Ok", sent)

    @rule(name=st.sampled_from(["LIMITED", "UNLIMITED"]),
          text=st.sampled_from(NON_FINITE + NOT_NUMBERS) | st.sampled_from(["1e6", "-11", "10.000001", "1e7"]),
          cuts=st.lists(st.integers(0, 400), max_size=3))
    def invalid_number(self, name: str, text: str, cuts: list[int]) -> None:
        vector = self.device.get(name)
        el = next(iter(vector.elements))
        value = None
        try:
            value = float(text)
        except ValueError:
            pass
        if value is not None and math.isfinite(value) and (vector[el].min >= vector[el].max
                                                          or vector[el].min <= value <= vector[el].max):
            return  # a valid number after all (e.g. 1e7 without limits): not this rule's business
        out = self.send(new_vector("Number", PROTO_NAME, name, [(el, text)]), cuts)
        self.expect_vector(out, name, "Alert")

    @rule(text=xml_strings, cuts=st.lists(st.integers(0, 400), max_size=3))
    def any_number_text(self, text: str, cuts: list[int]) -> None:
        """Arbitrary text: accepted only as a finite number, else refused."""
        out = self.send(new_vector("Number", PROTO_NAME, "UNLIMITED", [("U", text)]), cuts)
        reply = [e for e in out if e.get("name") == "UNLIMITED"]
        assert len(reply) == 1
        if reply[0].get("state") == "Ok":
            value = self.device.get("UNLIMITED")["U"].value
            assert math.isfinite(value)
            if re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", text):
                assert value == float(text)
            self.model["UNLIMITED"]["U"] = value
        else:
            self.expect_vector(out, "UNLIMITED", "Alert")

    # -- switches
    @rule(rule_name=st.sampled_from(["ONE_OF_MANY", "AT_MOST_ONE", "ANY_OF_MANY"]),
          sent=st.dictionaries(st.sampled_from(["S1", "S2", "S3"]), st.booleans(), min_size=1),
          pad=st.sampled_from(["", " ", "\n  "]), cuts=st.lists(st.integers(0, 400), max_size=3))
    def switch(self, rule_name: str, sent: dict[str, bool], pad: str, cuts: list[int]) -> None:
        name = f"SW_{rule_name}"
        items = [(el, pad + ("On" if on else "Off") + pad) for el, on in sent.items()]
        out = self.send(new_vector("Switch", PROTO_NAME, name, items), cuts)
        expected = expected_switches(rule_name, self.model[name], sent)
        if expected is None:
            self.expect_vector(out, name, "Alert")
        else:
            self.expect_vector(out, name, "Ok", expected)

    @rule(rule_name=st.sampled_from(["ONE_OF_MANY", "AT_MOST_ONE", "ANY_OF_MANY"]),
          text=st.sampled_from(SWITCH_GARBAGE), cuts=st.lists(st.integers(0, 400), max_size=3))
    def switch_garbage(self, rule_name: str, text: str, cuts: list[int]) -> None:
        name = f"SW_{rule_name}"
        out = self.send(new_vector("Switch", PROTO_NAME, name, [("S2", text)]), cuts)
        self.expect_vector(out, name, "Alert")

    # -- texts and BLOBs
    @rule(values=st.dictionaries(st.sampled_from(["T1", "T2"]), xml_strings, min_size=1),
          cuts=st.lists(st.integers(0, 400), max_size=3))
    def text(self, values: dict[str, str], cuts: list[int]) -> None:
        out = self.send(new_vector("Text", PROTO_NAME, "TEXT", list(values.items())), cuts)
        self.expect_vector(out, "TEXT", "Ok", {k: xml_text(v) for k, v in values.items()})

    @rule(payload=st.binary(max_size=300), valid=st.booleans(), cuts=st.lists(st.integers(0, 400), max_size=3))
    def blob(self, payload: bytes, valid: bool, cuts: list[int]) -> None:
        text = base64.b64encode(payload).decode() if valid else "!!" + payload.hex() + "*"
        out = self.send(new_vector("BLOB", PROTO_NAME, "BLOB_IN", [("F", text)]), cuts)
        self.expect_vector(out, "BLOB_IN", "Ok" if valid else "Alert")

    # -- refusals that name a vector
    @rule(target_name=st.sampled_from(["NUM_RO", "TEXT_RO", "LIGHTS", "BLOB_RO"]),
          cuts=st.lists(st.integers(0, 400), max_size=3))
    def read_only(self, target_name: str, cuts: list[int]) -> None:
        vector = self.device.get(target_name)
        el = next(iter(vector.elements))
        value = {"Number": "0.25", "Text": "changed", "Light": "Alert", "BLOB": "AAAA"}[vector.kind]
        out = self.send(new_vector(vector.kind, PROTO_NAME, target_name, [(el, value)]), cuts)
        self.expect_vector(out, target_name, "Alert")

    @rule(target_name=st.sampled_from(["LIMITED", "SW_ANY_OF_MANY", "TEXT", "BLOB_IN"]),
          kind=st.sampled_from(["Number", "Switch", "Text", "BLOB", "Light"]),
          cuts=st.lists(st.integers(0, 400), max_size=3))
    def wrong_kind(self, target_name: str, kind: str, cuts: list[int]) -> None:
        vector = self.device.get(target_name)
        if vector.kind == kind:
            return
        el = next(iter(vector.elements))
        out = self.send(new_vector(kind, PROTO_NAME, target_name, [(el, "1")]), cuts)
        self.expect_vector(out, target_name, "Alert")

    @rule(target_name=st.sampled_from(["LIMITED", "SW_ANY_OF_MANY", "TEXT"]), mistake=st.sampled_from(
        ["unknown element", "duplicate", "no element", "other tag only"]),
        cuts=st.lists(st.integers(0, 400), max_size=3))
    def bad_elements(self, target_name: str, mistake: str, cuts: list[int]) -> None:
        vector = self.device.get(target_name)
        kind, el = vector.kind, next(iter(vector.elements))
        good = {"Number": "1", "Switch": "On", "Text": "t"}[kind]
        items: list[tuple[str | None, str]] = {
            "unknown element": [(el, good), ("NO_SUCH_ELEMENT", good)],
            "duplicate": [(el, good), (el, good)],
            "no element": [],
            "other tag only": [(el, good)],
        }[mistake]
        child = ("Text" if kind != "Text" else "Number") if mistake == "other tag only" else None
        out = self.send(new_vector(kind, PROTO_NAME, target_name, items, child), cuts)
        self.expect_vector(out, target_name, "Alert")

    # -- refusals that name no vector
    @rule(mistake=st.sampled_from(["unknown property", "no device", "no name", "element without name"]),
          kind=st.sampled_from(["Number", "Switch", "Text", "BLOB"]), cuts=st.lists(st.integers(0, 400), max_size=3))
    def unaddressed(self, mistake: str, kind: str, cuts: list[int]) -> None:
        name = {"Number": "LIMITED", "Switch": "SW_ANY_OF_MANY", "Text": "TEXT", "BLOB": "BLOB_IN"}[kind]
        if mistake == "unknown property":
            xml = new_vector(kind, PROTO_NAME, "NO_SUCH_PROPERTY", [("A", "1")])
        elif mistake == "no device":
            xml = new_vector(kind, None, name, [("A", "1")])
        elif mistake == "no name":
            xml = new_vector(kind, PROTO_NAME, None, [("A", "1")])
        else:
            xml = new_vector(kind, PROTO_NAME, name, [(None, "1")])
        self.expect_message(self.send(xml, cuts))

    @rule(device=st.sampled_from(["Other Device", "", "fuzz cam", "Fuzz Cam "]),
          cuts=st.lists(st.integers(0, 400), max_size=3))
    def other_device(self, device: str, cuts: list[int]) -> None:
        """Addressed to another driver's device (indiserver sends drivers everything): silence."""
        out = self.send(new_vector("Number", device, "LIMITED", [("A", "99")]), cuts)
        assert out == []

    @rule(device=st.sampled_from([None, PROTO_NAME, "Other Device"]),
          name=st.sampled_from([None, "LIMITED", "TEXT", "NO_SUCH"]), cuts=st.lists(st.integers(0, 400), max_size=3))
    def get_properties(self, device: str | None, name: str | None, cuts: list[int]) -> None:
        attrs = " version='1.7'"
        attrs += f" device={quoteattr(device)}" if device is not None else ""
        attrs += f" name={quoteattr(name)}" if name is not None else ""
        out = self.send(f"<getProperties{attrs}/>", cuts)
        if device == "Other Device" or name == "NO_SUCH":
            assert out == []
        else:
            expected = [v.name for v in self.device.vectors] if name is None else [name]
            assert [e.get("name") for e in out] == expected and all(e.tag.startswith("def") for e in out)

    # -- garbage
    @rule(garbage=st.sampled_from(HOSTILE_SNIPPETS), cuts=st.lists(st.integers(0, 80_000), max_size=4))
    def hostile_snippet(self, garbage: bytes, cuts: list[int]) -> None:
        self.send(garbage, cuts)
        self.resync()
        assert {v.name: snapshot(v) for v in self.device.vectors} == self.model

    @rule(garbage=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=3))
    def random_bytes(self, garbage: bytes, cuts: list[int]) -> None:
        self.send(garbage, cuts)
        self.resync()
        self.model = {v.name: snapshot(v) for v in self.device.vectors}  # it might have held a request

    def resync(self) -> None:
        self.sync += 1
        uid = f"sync-{self.sync}"
        out = self.send(RESYNC + f"<pingRequest uid='{uid}'/>".encode(), [])
        assert any(e.tag == "pingReply" and e.get("uid") == uid for e in out), \
            [ET.tostring(e)[:200] for e in out]

    @invariant()
    def nothing_crashed(self) -> None:
        assert not self.tr.bad, self.tr.bad
        assert not self.log.failures, self.log.failures[-1]


TestProtocolMachine = ProtocolMachine.TestCase
TestProtocolMachine.settings = settings(
    max_examples=2000 if LONG else 100, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------ the camera device machine

# Updated by the device's own threads (exposure countdown, temperature poll, saved path).
VOLATILE = {"CCD_EXPOSURE", "CCD_TEMPERATURE", "CCD_FAST_COUNT", "CCD_FILE_PATH", "CCD_TEMP_RAMP"}
CCD_PROPERTIES = [
    "CONNECTION", "DRIVER_INFO", "DEBUG", "SIMULATION", "CONFIG_PROCESS", "POLLING_PERIOD",
    "ACTIVE_DEVICES", "CCD_EXPOSURE", "CCD_ABORT_EXPOSURE", "CCD_FRAME", "CCD_FRAME_RESET",
    "CCD_BINNING", "FITS_HEADER", "CCD_TEMPERATURE", "CCD_TEMP_RAMP", "CCD_CAPTURE_FORMAT",
    "CCD_TRANSFER_FORMAT", "CCD_INFO", "CCD_COMPRESSION", "CCD1", "CCD_FRAME_TYPE", "CCD_CFA",
    "SCOPE_INFO", "UPLOAD_MODE", "UPLOAD_SETTINGS", "CCD_FILE_PATH", "CCD_FAST_TOGGLE",
    "CCD_FAST_COUNT", "NO_SUCH_PROPERTY",
]
ccd_numbers = st.one_of(
    st.integers(-5, 5).map(str), st.integers(-100_000, 100_000).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(["0.001", "0.00005", "0.5", "2", "16", "1608", "1104", "3000", "1e300"]),
    st.sampled_from(NON_FINITE + NOT_NUMBERS))
ccd_switches = st.sampled_from(["On", "Off", "On", "Off"] + SWITCH_GARBAGE)
ccd_texts = st.one_of(
    xml_strings,
    st.sampled_from(["IMAGE_XXX", "ISO8601_XXX", "../escape", "a/b", "..", "x" * 300, "SIMPLE",
                     "OBSERVER", "COMMENT", "INDI_CLEAR", "$(reboot)", "`id`", "'; rm -rf /",
                     "__import__('os').system('id')", "RGGB", "Object name with spaces"]))


class CcdMachine(RuleBasedStateMachine):
    upload_root: Path  # set by the test function

    def __init__(self) -> None:
        super().__init__()
        self.tr = CheckingTransport()
        self.log = FailureLog().__enter__()
        self.device = ccd_device(self.tr, self.upload_root)
        self.loop = make_loop(self.tr, self.device)
        # Small frames keep exposures cheap; CCD_FRAME_RESET in a rule restores the full frame.
        self.loop.feed(new_vector("Number", CCD_NAME, "CCD_FRAME", [("WIDTH", "64"), ("HEIGHT", "64")]).encode())
        self.tr.take()

    def teardown(self) -> None:
        try:
            self.device.disconnect()
            COUNTS["ccd frames"] += self.tr.blobs
        finally:
            self.log.__exit__()
            for p in self.upload_root.iterdir():
                if p.is_file():
                    p.unlink(missing_ok=True)

    @rule(kind=st.sampled_from(["Number", "Switch", "Text", "BLOB", None]), data=st.data(),
          cuts=st.lists(st.integers(0, 400), max_size=2))
    def any_request(self, kind: str | None, data: st.DataObject, cuts: list[int]) -> None:
        """Any property the device has ever had (defined now or not) or has never had."""
        known = sorted(set(CCD_PROPERTIES) | {v.name for v in self.device.vectors})
        self.request(data.draw(st.sampled_from(known)), kind, data, cuts)

    def request(self, name: str, kind: str | None, data: st.DataObject, cuts: list[int],
                items: list[tuple[str | None, str]] | None = None) -> None:
        vector = self.device.get(name)
        real_kind = vector.kind if vector is not None else "Number"
        kind = kind or real_kind  # None: the right kind (most requests), else possibly wrong
        if items is None:
            names = list(vector.elements) if vector is not None else ["A"]
            chosen = data.draw(st.lists(st.sampled_from(names + ["NO_SUCH_ELEMENT"]), max_size=4))
            values = {"Number": ccd_numbers, "Switch": ccd_switches, "Text": ccd_texts,
                      "BLOB": st.sampled_from(["AAAA", "not base64"]), "Light": st.just("Ok")}[kind]
            items = [(el, data.draw(values)) for el in chosen]
        with self.device.lock:
            before = snapshot(vector) if vector is not None else None
        COUNTS["ccd"] += 1
        split_feed(self.loop, new_vector(kind, CCD_NAME, name, items).encode(), cuts)
        out = self.tr.take()
        replies = [e for e in out if e.get("name") == name and e.tag.startswith("set")]
        messages = [e for e in out if e.tag == "message" and e.get("message")]
        assert replies or messages, f"no reply to {name}: {[ET.tostring(e)[:120] for e in out]}"
        state = replies[-1].get("state") if replies else None
        key = {"Alert": "ccd Alert", None: "ccd message only"}.get(state, "ccd Ok/Busy")
        COUNTS[key] += 1
        if vector is not None and replies and replies[-1].get("state") == "Alert" and name not in VOLATILE:
            assert replies[-1].get("message"), "a refusal must say why"
            with self.device.lock:
                assert snapshot(vector) == before, (name, items, replies[-1].get("message"))

    @rule(data=st.data(), cuts=st.lists(st.integers(0, 400), max_size=2))
    def plausible_request(self, data: st.DataObject, cuts: list[int]) -> None:
        """Values a real client sends: numbers in range, one switch On, ordinary texts."""
        with self.device.lock:
            writable = [v for v in self.device.vectors if v.perm.value != "ro" and v.kind != "BLOB"]
        vector = data.draw(st.sampled_from(writable))
        if vector.kind == "Number":
            items = []
            for el in data.draw(st.lists(st.sampled_from(list(vector.elements)), min_size=1, unique=True)):
                e = vector[el]
                if vector.name == "CCD_EXPOSURE":
                    value = data.draw(st.sampled_from([0.0001, 0.001, 0.01, 0.05, 3]))
                else:
                    value = data.draw(st.floats(e.min, e.max) if e.min < e.max else st.floats(-1e6, 1e6))
                items.append((el, repr(value)))
        elif vector.kind == "Switch":
            on = data.draw(st.sampled_from(list(vector.elements)))
            items = [(el, "On" if el == on else "Off") for el in vector.elements]
        else:
            items = [(el, data.draw(st.sampled_from(["IMAGE_XXX", "Light_ISO8601_XXX", "OBJECT", "M31",
                                                     "Andromeda", "", "RGGB"])))
                     for el in vector.elements]
        self.request(vector.name, vector.kind, data, cuts, items)

    @rule(seconds=st.sampled_from([0.0001, 0.001, 0.02]), wait=st.booleans(), data=st.data())
    def expose(self, seconds: float, wait: bool, data: st.DataObject) -> None:
        """Start an exposure (when connected) and maybe wait (up to 5 s) until it is over, so frames
        are read out, encoded and sent or saved while later requests arrive."""
        if self.device.get("CCD_EXPOSURE") is not None:
            self.request("CCD_EXPOSURE", "Number", data, [], [("CCD_EXPOSURE_VALUE", repr(seconds))])
        if not wait:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            worker = self.device.exposure.worker
            if worker is None or not worker.busy:
                return
            time.sleep(0.01)

    @rule(garbage=st.sampled_from(HOSTILE_SNIPPETS) | st.binary(max_size=100),
          cuts=st.lists(st.integers(0, 80_000), max_size=3))
    def garbage(self, garbage: bytes, cuts: list[int]) -> None:
        COUNTS["ccd"] += 2
        split_feed(self.loop, garbage, cuts)
        self.loop.feed(RESYNC + b"<pingRequest uid='ccd-sync'/>")
        assert any(e.tag == "pingReply" for e in self.tr.take())

    @invariant()
    def nothing_crashed(self) -> None:
        assert not self.tr.bad, self.tr.bad
        assert not self.log.failures, self.log.failures[-1]


def test_ccd_device_under_hostile_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # UPLOAD_DIR "" means $HOME
    # A relative RECORD_FILE_DIR or UPLOAD_DIR the machine draws (e.g. "Light_ISO8601_XXX") is
    # relative to the driver's working directory: make that the test's own folder, not the
    # checkout the suite runs from.
    monkeypatch.chdir(tmp_path)
    CcdMachine.upload_root = tmp_path / "uploads"
    CcdMachine.upload_root.mkdir()
    run_state_machine_as_test(CcdMachine, settings=settings(
        max_examples=600 if LONG else 30, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]))
    print(f"\nCcdMachine: {COUNTS}")
