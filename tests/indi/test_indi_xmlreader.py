"""xmlout + the streaming reader: round trips, chunking, hostile input, bounded memory."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from indi_playerone.indi import xmlout
from indi_playerone.indi.properties import (
    Blob, BlobVector, Light, LightVector, Number, NumberVector, Perm, Rule, State, Switch,
    SwitchVector, Text, TextVector, Vector,
)
from indi_playerone.indi.xmlreader import ParsedElement, ReaderError, XmlStreamReader

GOOD = b"<getProperties version='1.7' device='Good'/>"


def feed_all(reader: XmlStreamReader, data: bytes, cuts: list[int] | None = None):
    events = []
    points = sorted(set(c for c in (cuts or []) if 0 < c < len(data)))
    start = 0
    for p in points + [len(data)]:
        events += reader.feed(data[start:p])
        start = p
    return events


def elements(events) -> list[ET.Element]:
    return [e.element for e in events if isinstance(e, ParsedElement)]


def errors(events) -> list[str]:
    return [e.message for e in events if isinstance(e, ReaderError)]


def is_good(el: ET.Element) -> bool:
    return el.tag == "getProperties" and el.get("device") == "Good"


# ------------------------------------------------------------------ strategies

xml_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
# Element/vector text as XML 1.0 can carry it (invalid characters are tested separately).
valid_text = xml_text.map(xmlout.xml_safe)
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).map(xmlout.xml_safe)
finite = st.floats(allow_nan=False, allow_infinity=False)
states = st.sampled_from(list(State))
perms = st.sampled_from(list(Perm))


def element_list(make):
    return st.lists(make, min_size=1, max_size=5, unique_by=lambda e: e.name)


numbers = st.builds(Number, names, valid_text, st.sampled_from(["%g", "%.3f", "%010.6m"]), finite, finite,
                    finite, finite)
switch_els = st.builds(Switch, names, valid_text, st.booleans())
text_els = st.builds(Text, names, valid_text, valid_text)
light_els = st.builds(Light, names, valid_text, states)
blob_els = st.builds(Blob, names, valid_text)
common = dict(device=names, name=names, label=valid_text, group=valid_text, perm=perms, state=states,
              timeout=finite.filter(lambda x: x >= 0))
vectors = st.one_of(
    st.builds(NumberVector, **common, elements=element_list(numbers)),
    st.builds(SwitchVector, **common, elements=element_list(switch_els), rule=st.sampled_from(list(Rule))),
    st.builds(TextVector, **common, elements=element_list(text_els)),
    st.builds(LightVector, **{k: v for k, v in common.items() if k != "perm"}, elements=element_list(light_els)),
    st.builds(BlobVector, **common, elements=element_list(blob_els)),
)

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\Z")


def check_def(vector: Vector, el: ET.Element, message: str | None) -> None:
    assert el.tag == f"def{vector.kind}Vector"
    for attr in ("device", "name", "label", "group"):
        assert el.get(attr) == getattr(vector, attr)
    assert el.get("state") == vector.state.value
    assert TIMESTAMP.match(el.get("timestamp"))
    assert el.get("message") == message
    if isinstance(vector, LightVector):
        assert el.get("perm") is None and el.get("timeout") is None
    else:
        assert el.get("perm") == vector.perm.value
        assert float(el.get("timeout")) == vector.timeout
    if isinstance(vector, SwitchVector):
        assert el.get("rule") == vector.rule.value
    children = list(el)
    assert [c.get("name") for c in children] == list(vector.elements)
    for c, e in zip(children, vector):
        assert c.tag == f"def{vector.kind}"
        assert c.get("label") == e.label
        check_value(vector, c, e)
        if isinstance(vector, NumberVector):
            assert c.get("format") == e.format
            assert (float(c.get("min")), float(c.get("max")), float(c.get("step"))) == (e.min, e.max, e.step)


def check_value(vector: Vector, c: ET.Element, e) -> None:
    text = c.text or ""
    if isinstance(vector, NumberVector):
        assert float(text) == e.value
    elif isinstance(vector, SwitchVector):
        assert text == ("On" if e.on else "Off")
    elif isinstance(vector, TextVector):
        assert text == e.value
    elif isinstance(vector, LightVector):
        assert text == e.state.value
    else:
        assert text == ""


def check_set(vector: Vector, el: ET.Element, message: str | None, with_limits: bool) -> None:
    assert el.tag == f"set{vector.kind}Vector"
    assert (el.get("device"), el.get("name"), el.get("state")) == (vector.device, vector.name, vector.state.value)
    assert el.get("label") is None and el.get("perm") is None
    assert el.get("message") == message
    if isinstance(vector, BlobVector):
        assert list(el) == []
        return
    assert [c.get("name") for c in el] == list(vector.elements)
    for c, e in zip(el, vector):
        assert c.tag == f"one{vector.kind}"
        check_value(vector, c, e)
        if isinstance(vector, NumberVector):
            assert (c.get("min") is not None) == with_limits
            if with_limits:
                assert float(c.get("max")) == e.max


# ------------------------------------------------------------------ round trips

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(vectors, min_size=1, max_size=4), st.one_of(st.none(), valid_text), st.booleans(),
       st.lists(st.integers(0, 20000), max_size=12))
def test_round_trip_def_and_set_split_anywhere(vecs, message, with_limits, cuts) -> None:
    stream = b"".join(xmlout.def_vector(v, message) + b"  \n" + xmlout.set_vector(v, message, with_limits)
                      for v in vecs)
    events = feed_all(XmlStreamReader(), stream, cuts)
    assert errors(events) == []
    els = elements(events)
    assert len(els) == 2 * len(vecs)
    for v, d, s in zip(vecs, els[0::2], els[1::2]):
        check_def(v, d, message)
        check_set(v, s, message, with_limits)


@given(st.lists(st.tuples(st.one_of(st.none(), names), xml_text), min_size=1, max_size=5),
       st.lists(st.integers(0, 2000), max_size=8))
def test_messages_with_any_text_are_well_formed(msgs, cuts) -> None:
    """Device messages may hold control characters: they are replaced, never break the stream."""
    stream = b"".join(xmlout.message(d, t) for d, t in msgs)
    els = elements(feed_all(XmlStreamReader(), stream, cuts))
    assert [(e.get("device"), e.get("message")) for e in els] == [(d, xmlout.xml_safe(t)) for d, t in msgs]


def test_invalid_xml_characters_are_replaced() -> None:
    text = "a\x00b\x1bc\ud800d\ufffee\tf\ng\rh"
    assert xmlout.xml_safe(text) == "a\ufffdb\ufffdc\ufffdd\ufffde\tf\ng\rh"
    el = ET.fromstring(xmlout.message("D", text))
    assert el.get("message") == xmlout.xml_safe(text)   # \t \n \r survive as references


def test_other_messages() -> None:
    r = XmlStreamReader()
    stream = (xmlout.del_property("D", "P", "gone") + xmlout.del_property("D") + xmlout.get_properties()
              + xmlout.get_properties("D", "P") + xmlout.ping_reply("SetBLOB/3") + xmlout.ping_request("x'y"))
    els = elements(r.feed(stream))
    assert [(e.tag, dict(e.attrib)) for e in els if e.tag != "delProperty"] == [
        ("getProperties", {"version": "1.7"}),
        ("getProperties", {"version": "1.7", "device": "D", "name": "P"}),
        ("pingReply", {"uid": "SetBLOB/3"}),
        ("pingRequest", {"uid": "x'y"}),
    ]
    assert els[0].get("name") == "P" and els[0].get("message") == "gone"
    assert els[1].get("name") is None and TIMESTAMP.match(els[1].get("timestamp"))


def test_numbers_are_shortest_round_trip() -> None:
    v = NumberVector("D", "N", timeout=60, elements=[Number("a", "A", value=60.0), Number("b", "B", value=0.1),
                                                     Number("c", "C", value=1e-05)])
    el = ET.fromstring(xmlout.set_vector(v))
    assert el.get("timeout") == "60"
    assert [c.text for c in el] == ["60", "0.1", "1e-05"]


def test_new_vector_for_clients_and_config() -> None:
    v = SwitchVector("D", "S", elements=[Switch("A", "a", True), Switch("B", "b")])
    el = ET.fromstring(xmlout.new_vector(v))
    assert el.tag == "newSwitchVector" and [(c.get("name"), c.text) for c in el] == [("A", "On"), ("B", "Off")]
    n = NumberVector("D", "N", elements=[Number("A", "a", value=2), Number("B", "b")])
    assert [c.get("name") for c in ET.fromstring(xmlout.new_vector(n, ["B"]))] == ["B"]


# ------------------------------------------------------------------ resynchronisation

GOOD_STREAM = (xmlout.def_vector(NumberVector("D", "N", elements=[Number("a", "A", value=1)]))
               + xmlout.set_vector(TextVector("D", "T", elements=[Text("t", "T", "x < y & 'z'")]))
               + xmlout.message("D", "hello"))


@given(st.integers(1, len(GOOD_STREAM) - 1))
def test_truncated_message_then_good_one(cut: int) -> None:
    """A message cut anywhere, followed by a good one: the good one still arrives (no close())."""
    first_end = GOOD_STREAM.index(b"</defNumberVector>") + len(b"</defNumberVector>")
    data = GOOD_STREAM[:cut]
    events = XmlStreamReader().feed(data + GOOD)
    els = elements(events)
    assert els and is_good(els[-1])
    complete = [e for e in els[:-1]]
    # Only messages that were complete before the cut come out; at most one error for the cut one.
    assert len(complete) == sum(1 for end in _ends() if end <= cut)
    assert len(errors(events)) <= 1
    assert cut < first_end or complete[0].tag == "defNumberVector"


def _ends() -> list[int]:
    ends, r = [], XmlStreamReader()
    for i in range(len(GOOD_STREAM)):
        if elements(r.feed(GOOD_STREAM[i:i + 1])):
            ends.append(i + 1)
    return ends


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=6))
def test_random_bytes_never_raise(garbage: bytes, cuts: list[int]) -> None:
    r = XmlStreamReader(max_element_bytes=4096, max_tag_bytes=256, max_depth=4)
    events = feed_all(r, garbage, cuts)
    assert all(isinstance(e, (ParsedElement, ReaderError)) for e in events)
    events = r.close() + r.feed(GOOD)
    assert is_good(elements(events)[-1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"<", b">", b"/", b"'", b'"', b"<a>", b"</a>", b"<b/>", b"<!--", b"-->",
                                 b"<?", b"?>", b"<![CDATA[", b"]]>", b"<!DOCTYPE", b"&", b"x", b" ", b"=",
                                 b"<message message='m'/>", b"\xff", b"<newTextVector>"]), max_size=40))
def test_markup_soup_never_raises(parts: list[bytes]) -> None:
    r = XmlStreamReader(max_element_bytes=4096, max_tag_bytes=256, max_depth=4)
    events = []
    for p in parts:
        events += r.feed(p)
    events += r.close() + r.feed(GOOD)
    assert is_good(elements(events)[-1])
    for e in elements(events):
        ET.tostring(e)   # a real, complete element


# ------------------------------------------------------------------ hostile input

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<message message="&lol9;"/>"""


def test_billion_laughs_does_not_expand() -> None:
    events = XmlStreamReader().feed(BILLION_LAUGHS + GOOD)
    errs = errors(events)
    assert any("DTDs are not accepted" in e for e in errs)
    assert any("undefined entity" in e for e in errs)
    assert [e.tag for e in elements(events)] == ["getProperties"]


def test_external_entity_is_not_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = (f'<!DOCTYPE m [<!ENTITY e SYSTEM "file://{secret}">]><message message="&e;">&e;</message>'
            .encode() + GOOD)
    events = XmlStreamReader().feed(data)
    assert "TOP-SECRET" not in repr(events)
    assert [e.tag for e in elements(events)] == ["getProperties"]
    assert any("DTD" in e for e in errors(events))


def test_doctype_inside_an_element_drops_it() -> None:
    events = XmlStreamReader().feed(b"<setTextVector device='D'><!DOCTYPE x><oneText/></setTextVector>" + GOOD)
    assert any("DTD" in e for e in errors(events))
    assert [e.tag for e in elements(events)] == ["getProperties"]


@pytest.mark.parametrize("bad", [
    b"<message message='&foo;'/>",
    b"<message message='\xff\xfe'/>",                 # invalid UTF-8
    b"<message>\xc3\x28</message>",                   # invalid UTF-8 in text
    b"<message a='1' a='2'/>",
    b"<a><b></a></b>",
    b"<message message='a<b'/>",
])
def test_malformed_element_is_dropped_alone(bad: bytes) -> None:
    events = XmlStreamReader().feed(GOOD + bad + GOOD)
    assert [is_good(e) for e in elements(events)] == [True, True]
    assert len(errors(events)) >= 1


def test_comments_pis_and_cdata() -> None:
    data = (b"<?xml version='1.0'?>\n<!-- a <comment> -->"
            b"<setTextVector device='D' name='T'><!-- c --><oneText name='t'><![CDATA[<raw> & ]]>x</oneText>"
            b"<?pi inside?></setTextVector>")
    events = XmlStreamReader().feed(data)
    assert errors(events) == []
    (el,) = elements(events)
    assert el.find("oneText").text == "<raw> & x"


def test_deep_nesting() -> None:
    deep = b"<a>" * 1000 + b"</a>" * 1000
    events = XmlStreamReader(max_depth=8).feed(deep + GOOD)
    assert len(errors(events)) == 1 and "deeper than 8" in errors(events)[0]
    assert [is_good(e) for e in elements(events)] == [True]
    # Unclosed deep nesting: the next INDI top-level element ends it.
    events = XmlStreamReader(max_depth=8).feed(b"<a>" * 1000 + GOOD)
    assert [is_good(e) for e in elements(events)] == [True]


def test_oversized_element_and_tag() -> None:
    r = XmlStreamReader(max_element_bytes=1000, max_tag_bytes=100)
    big = b"<message>" + b"x" * 5000 + b"</message>"
    events = r.feed(big + GOOD)
    assert len(errors(events)) == 1 and "longer than 1000" in errors(events)[0]
    assert [is_good(e) for e in elements(events)] == [True]
    bigtag = b"<message message='" + b"y" * 500 + b"'/>"
    events = r.feed(bigtag + GOOD)
    assert len(errors(events)) == 1 and "tag longer than 100" in errors(events)[0]
    assert [is_good(e) for e in elements(events)] == [True]
    # The same, arriving byte by byte (the limits are checked between feeds too).
    events = feed_all(r, big + bigtag + GOOD, list(range(len(big + bigtag))))
    assert len(errors(events)) == 2 and [is_good(e) for e in elements(events)] == [True]


def test_close_reports_an_incomplete_element() -> None:
    r = XmlStreamReader()
    assert r.feed(b"<message message='m'") == []
    (err,) = r.close()
    assert isinstance(err, ReaderError) and "message" in err.message
    assert elements(r.feed(GOOD))


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_huge_text_memory_stays_bounded() -> None:
    """200 MB of text inside one element, fed in 1 MB chunks: RSS grows < 64 MB with a 16 MiB
    element limit. (With the default 64 MiB limit a CI run measured a 106 MB peak: the buffer's
    growth and one compaction copy sit on top of the limit, so the bound scales with it.)"""
    r = XmlStreamReader(max_element_bytes=16 * 1024 * 1024)
    chunk = b"A" * (1 << 20)
    base = _rss()
    peak = 0
    events = r.feed(b"<newBLOBVector device='D' name='B'><oneBLOB name='F' format='.bin'>")
    for _ in range(200):
        events += r.feed(chunk)
        peak = max(peak, _rss() - base)
    events += r.feed(b"</oneBLOB></newBLOBVector>" + GOOD)
    assert len(errors(events)) == 1 and "longer than" in errors(events)[0]
    assert [is_good(e) for e in elements(events)] == [True]
    assert peak < 64 * 1024 * 1024, peak


def test_large_blob_element_parses() -> None:
    """A 20 MB element split into 1 MB chunks arrives whole (the scan position is kept)."""
    payload = b"QUJD" * (5 << 20)
    data = b"<newBLOBVector device='D' name='B'><oneBLOB name='F' format='.fits'>" + payload + \
        b"</oneBLOB></newBLOBVector>"
    r = XmlStreamReader()
    events = feed_all(r, data, list(range(0, len(data), 1 << 20)))
    (el,) = elements(events)
    assert len(el.find("oneBLOB").text) == len(payload)
