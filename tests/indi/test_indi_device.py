"""Device, DriverLoop and the log bridge, driven through real bytes.

``RecordingTransport`` is a test double of the transport module (another
engineer's): it records the bytes our code sends, which are parsed back with our
own reader, so the assertions are about what a client would receive.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import xml.etree.ElementTree as ET
from typing import Sequence

import pytest
from hypothesis import given, settings, strategies as st

from indi_playerone.indi import xmlout
from indi_playerone.indi.device import Device
from indi_playerone.indi.driver import DriverLoop
from indi_playerone.indi.logbridge import IndiLogHandler, setup_logging
from indi_playerone.indi.properties import (
    Blob, BlobVector, Light, LightVector, Number, NumberVector, Perm, State, Switch,
    SwitchVector, Text, TextVector,
)
from indi_playerone.indi.xmlreader import ParsedElement, XmlStreamReader


class RecordingTransport:
    """Same two sending methods as ``Transport``; keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.blobs: list[tuple] = []
        self.ping_replies: list[str] = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def send(self, xml: bytes) -> None:
        assert isinstance(xml, bytes)
        with self.lock:
            self.sent.append(xml)
            self.changed.notify_all()

    def send_blob_vector(self, device: str, name: str, state: str, blobs: Sequence, timeout: float = 60,
                         message: str | None = None) -> None:
        self.blobs.append((device, name, state, blobs, timeout, message))

    def ping_reply_received(self, uid: str) -> None:
        self.ping_replies.append(uid)

    def elements(self) -> list[ET.Element]:
        """Everything sent, parsed as a client would (each send must be whole messages)."""
        out = []
        for msg in self.sent:
            r = XmlStreamReader()
            events = r.feed(msg) + r.close()
            assert all(isinstance(e, ParsedElement) for e in events), events
            out += [e.element for e in events]
        return out

    def take(self) -> list[ET.Element]:
        els = self.elements()
        self.sent.clear()
        return els

    def wait_for(self, predicate, timeout: float = 10.0) -> list[ET.Element]:
        deadline = time.monotonic() + timeout
        while True:
            els = self.elements()
            if predicate(els):
                return els
            with self.lock:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; got {[e.tag for e in els]}")
                self.changed.wait(min(left, 0.2))


def values(el: ET.Element) -> dict[str, str]:
    return {c.get("name"): (c.text or "").strip() for c in el}


@pytest.fixture
def tr() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def dev(tr: RecordingTransport) -> Device:
    d = Device("Cam", tr)
    d.define(NumberVector("Cam", "CCD_CONTROLS", "Controls", "Main", Perm.RW, State.IDLE, 60,
                          [Number("Gain", "Gain", "%.f", 0, 600, 1, 100)]))
    d.define(SwitchVector("Cam", "MODE", "Mode", "Main", elements=[Switch("A", "a", True), Switch("B", "b")]))
    d.define(TextVector("Cam", "CCD_INFO_TEXT", "Info", "Main", Perm.RO, elements=[Text("T", "t", "ro")]))
    d.define(LightVector("Cam", "LIGHTS", "Lights", "Main", elements=[Light("L", "l")]))
    d.define(BlobVector("Cam", "UPLOAD", "Upload", "Main", Perm.WO, elements=[Blob("F", "file")]))
    tr.sent.clear()
    return d


# ------------------------------------------------------------------ Device

def test_define_update_delete(dev: Device, tr: RecordingTransport) -> None:
    v = dev.get("CCD_CONTROLS")
    v.set_values({"Gain": 200})
    v.state = State.BUSY
    dev.update(v, "working")
    (el,) = tr.take()
    assert el.tag == "setNumberVector" and el.get("state") == "Busy" and el.get("message") == "working"
    assert values(el) == {"Gain": "200"} and v.message == "working"
    dev.delete("MODE", "bye")
    (el,) = tr.take()
    assert (el.tag, el.get("device"), el.get("name"), el.get("message")) == ("delProperty", "Cam", "MODE", "bye")
    assert not dev.is_defined("MODE") and dev.get("MODE") is None
    dev.delete()
    (el,) = tr.take()
    assert el.tag == "delProperty" and el.get("name") is None and dev.vectors == []


def test_get_properties_resends_in_definition_order(dev: Device, tr: RecordingTransport) -> None:
    dev.define(NumberVector("Cam", "CCD_CONTROLS", "Controls v2", "Main", elements=[Number("Gain", "G")]))
    tr.sent.clear()
    dev.handle_get_properties()
    els = tr.take()
    assert [e.get("name") for e in els] == ["CCD_CONTROLS", "MODE", "CCD_INFO_TEXT", "LIGHTS", "UPLOAD"]
    assert els[0].get("label") == "Controls v2"       # replaced in place
    dev.handle_get_properties("MODE")
    assert [e.get("name") for e in tr.take()] == ["MODE"]
    dev.handle_get_properties("NOPE")
    assert tr.take() == []


def test_new_default_handler_applies_and_acks(dev: Device, tr: RecordingTransport) -> None:
    dev.handle_new("Number", "CCD_CONTROLS", [("Gain", "300")])
    (el,) = tr.take()
    assert el.get("state") == "Ok" and values(el) == {"Gain": "300"}
    assert dev.get("CCD_CONTROLS")["Gain"].value == 300


@pytest.mark.parametrize("kind, name, items, message", [
    ("Number", "CCD_CONTROLS", [("Gain", "700")], "Gain value 700 is out of range [0, 600]."),
    ("Number", "CCD_CONTROLS", [("Nope", "1")], "CCD_CONTROLS has no element Nope."),
    ("Switch", "MODE", [("A", "On"), ("B", "On")], "MODE: exactly one switch must be On (got 2)."),
    ("Text", "CCD_INFO_TEXT", [("T", "x")], "Cannot set read-only property CCD_INFO_TEXT"),
    ("Light", "LIGHTS", [("L", "Ok")], "Cannot set read-only property LIGHTS"),
    ("Text", "CCD_CONTROLS", [("Gain", "1")], "CCD_CONTROLS is a Number property, not Text."),
    ("BLOB", "UPLOAD", [("F", "not base64!", ".bin")], "F: BLOB data is not valid base64."),
])
def test_refused_input_is_alert_with_unchanged_values(dev, tr, kind, name, items, message) -> None:
    before = values(ET.fromstring(xmlout.set_vector(dev.get(name))))
    dev.handle_new(kind, name, items)
    (el,) = tr.take()
    assert el.tag == f"set{dev.get(name).kind}Vector"
    assert el.get("state") == "Alert" and el.get("message") == message
    assert values(el) == before


def test_unknown_property_logs_error(dev: Device, tr: RecordingTransport) -> None:
    dev.handle_new("Number", "NOPE", [("x", "1")])
    (el,) = tr.take()
    assert el.tag == "message" and el.get("device") == "Cam"
    assert el.get("message") == "[ERROR] Property NOPE is not defined in Cam."


def test_handler_gets_parsed_values_and_owns_the_reply(dev: Device, tr: RecordingTransport) -> None:
    seen = []

    def handler(vector, vals):
        seen.append((vector.name, vals))
        vector.apply(vals)
        vector.state = State.BUSY
        dev.update(vector)

    dev.get("MODE").handler = handler
    dev.handle_new("Switch", "MODE", [("B", "On")])
    assert seen == [("MODE", {"A": False, "B": True})]
    (el,) = tr.take()
    assert el.get("state") == "Busy" and values(el) == {"A": "Off", "B": "On"}


def test_blob_upload_reaches_handler(dev: Device, tr: RecordingTransport) -> None:
    got = []
    dev.get("UPLOAD").handler = lambda v, vals: got.append(vals)
    dev.handle_new("BLOB", "UPLOAD", [("F", "aGVs\nbG8=", ".txt")])
    assert got == [{"F": (b"hello", ".txt")}]


def test_handler_exception_becomes_alert(dev: Device, tr: RecordingTransport, caplog) -> None:
    def handler(vector, vals):
        raise RuntimeError("camera on fire")

    dev.get("CCD_CONTROLS").handler = handler
    with caplog.at_level(logging.ERROR):
        dev.handle_new("Number", "CCD_CONTROLS", [("Gain", "5")])
    (el,) = tr.take()
    assert el.get("state") == "Alert" and el.get("message") == "internal error: RuntimeError: camera on fire"
    assert values(el) == {"Gain": "100"}
    assert "camera on fire" in caplog.text and "Traceback" in caplog.text


def test_log_levels(dev: Device, tr: RecordingTransport) -> None:
    dev.log("hi <there> & 'you'", "WARNING")
    (el,) = tr.take()
    assert el.get("message") == "[WARNING] hi <there> & 'you'"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Gain", "Offset", "x"]),
                          st.one_of(st.floats(-1000, 1000).map(repr), st.text(max_size=5))), max_size=3))
def test_number_input_property(items) -> None:
    """Any input: either accepted (Ok, values applied) or Alert with values unchanged."""
    tr = RecordingTransport()
    d = Device("Cam", tr)
    d.define(NumberVector("Cam", "N", elements=[Number("Gain", "G", min=0, max=600, value=7),
                                                Number("Offset", "O", value=3)]))
    tr.sent.clear()
    d.handle_new("Number", "N", items)
    (el,) = tr.take()
    if el.get("state") == "Ok":
        expected = {"Gain": 7.0, "Offset": 3.0}
        expected.update({k: float(v) for k, v in items})
        assert {k: float(v) for k, v in values(el).items()} == expected
    else:
        assert el.get("state") == "Alert" and el.get("message")
        assert values(el) == {"Gain": "7", "Offset": "3"}


# ------------------------------------------------------------------ DriverLoop.dispatch

@pytest.fixture
def loop(tr: RecordingTransport, dev: Device) -> DriverLoop:
    lp = DriverLoop(tr, in_fd=-1)
    lp.add_device(dev)
    other = Device("Other", tr)
    other.define(SwitchVector("Other", "CONNECTION", elements=[Switch("CONNECT", "c"), Switch("DISCONNECT", "d", True)]))
    lp.add_device(other)
    tr.sent.clear()
    return lp


def test_get_properties_routing(loop: DriverLoop, tr: RecordingTransport) -> None:
    calls = []
    loop.on_get_properties = lambda d, n: calls.append((d, n))
    loop.feed(b"<getProperties version='1.7'/>")
    assert [(e.get("device"), e.get("name")) for e in tr.take()][-1] == ("Other", "CONNECTION")
    loop.feed(b"<getProperties version='1.7' device='Cam' name='MODE'/>")
    assert [(e.get("device"), e.get("name")) for e in tr.take()] == [("Cam", "MODE")]
    loop.feed(b"<getProperties version='1.7' device='Nobody'/><getProperties version='1.8'/>")
    assert tr.take() == []
    assert calls == [(None, None), ("Cam", "MODE"), ("Nobody", None)]


def test_hook_can_create_devices_lazily(tr: RecordingTransport) -> None:
    lp = DriverLoop(tr, in_fd=-1)

    def hook(device, name):
        if "Lazy" not in lp.devices:
            d = Device("Lazy", tr)
            lp.add_device(d)
            d.define(TextVector("Lazy", "DRIVER_INFO", elements=[Text("DRIVER_NAME", "n", "x")]))
            tr.sent.clear()

    lp.on_get_properties = hook
    lp.feed(b"<getProperties version='1.7'/>")
    assert [e.get("device") for e in tr.take()] == ["Lazy"]


def test_new_vectors_are_routed_with_stripped_text(loop: DriverLoop, tr: RecordingTransport) -> None:
    # The exact bytes indiserver 1.9.9 forwarded from indi_setprop (double quotes, indented value).
    loop.feed(b'<newNumberVector device="Cam" name="CCD_CONTROLS">\n    <oneNumber name="Gain">\n'
              b'12:30\n    </oneNumber>\n</newNumberVector>\n')
    (el,) = tr.take()
    assert el.get("state") == "Ok" and values(el) == {"Gain": "12.5"}
    loop.feed(b"<newSwitchVector device='Cam' name='MODE'><oneSwitch name='B'>On</oneSwitch></newSwitchVector>")
    assert values(tr.take()[0]) == {"A": "Off", "B": "On"}
    loop.feed(b"<newNumberVector device='Elsewhere' name='X'><oneNumber name='a'>1</oneNumber></newNumberVector>")
    assert tr.take() == []


@pytest.mark.parametrize("data, device", [
    (b"<newNumberVector name='CCD_CONTROLS'><oneNumber name='Gain'>1</oneNumber></newNumberVector>", None),
    (b"<newNumberVector device='Cam'><oneNumber name='Gain'>1</oneNumber></newNumberVector>", "Cam"),
    (b"<newNumberVector device='Cam' name='CCD_CONTROLS'><oneNumber>1</oneNumber></newNumberVector>", "Cam"),
    (b"<pingRequest/>", None),
])
def test_missing_attributes_are_explained(loop, tr, data, device) -> None:
    loop.feed(data)
    (el,) = tr.take()
    assert el.tag == "message" and el.get("device") == device and "without a" in el.get("message")
    assert loop.devices["Cam"].get("CCD_CONTROLS")["Gain"].value == 100


def test_ping_and_snoop(loop: DriverLoop, tr: RecordingTransport) -> None:
    snooped = []
    loop.devices["Cam"].on_snoop = snooped.append
    loop.feed(b"<pingRequest uid='SetBLOB/7'/><pingReply uid='SetBLOB/1'/><enableBLOB device='Cam'>Also</enableBLOB>")
    (el,) = tr.take()
    assert el.tag == "pingReply" and el.get("uid") == "SetBLOB/7"
    assert tr.ping_replies == ["SetBLOB/1"]
    loop.feed(b"<setNumberVector device='Mount' name='EQUATORIAL_EOD_COORD' state='Ok'>"
              b"<oneNumber name='RA'>5.5</oneNumber></setNumberVector><message device='Mount' message='m'/>"
              b"<delProperty device='Mount'/><defTextVector device='Mount' name='T'/><unknownThing/>")
    assert [e.tag for e in snooped] == ["setNumberVector", "message", "delProperty", "defTextVector"]
    assert tr.take() == []


def test_reader_errors_are_rate_limited(loop: DriverLoop, tr: RecordingTransport) -> None:
    loop.error_interval = 0.3
    for _ in range(5):
        loop.feed(b"<message message='&bad;'/>")
    (el,) = tr.take()
    assert el.tag == "message" and el.get("device") is None
    assert el.get("message").startswith("[ERROR] Malformed INDI input ignored: malformed <message>")
    time.sleep(0.35)
    loop.feed(b"<message message='&bad;'/>")
    (el,) = tr.take()
    assert "(4 more errors suppressed)" in el.get("message")


def test_dispatch_survives_a_broken_device(loop: DriverLoop, tr: RecordingTransport, caplog) -> None:
    def boom(name=None):
        raise RuntimeError("broken")

    loop.devices["Cam"].handle_get_properties = boom
    with caplog.at_level(logging.ERROR):
        loop.feed(b"<getProperties version='1.7' device='Cam'/><getProperties version='1.7' device='Other'/>")
    assert [e.get("device") for e in tr.take()] == ["Other"]
    assert "broken" in caplog.text


# ------------------------------------------------------------------ DriverLoop.run on real fds

def _run_in_thread(lp: DriverLoop) -> threading.Thread:
    t = threading.Thread(target=lp.run, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("kind", ["pipe", "socketpair"])
def test_run_until_eof(kind: str, tr: RecordingTransport, dev: Device) -> None:
    if kind == "pipe":
        r, w = os.pipe()
        writer = lambda b: os.write(w, b)  # noqa: E731
        close = lambda: os.close(w)  # noqa: E731
        fd = r
    else:
        a, b = socket.socketpair()
        writer, close, fd = b.sendall, b.close, a.fileno()
    lp = DriverLoop(tr, in_fd=fd)
    lp.add_device(dev)
    t = _run_in_thread(lp)
    msg = b"<getProperties version='1.7' device='Cam' name='MODE'/>"
    for i in range(0, len(msg), 7):          # arrives in pieces
        writer(msg[i:i + 7])
    tr.wait_for(lambda els: len(els) == 1)
    writer(b"garbage <message message='&x;'/>")
    tr.wait_for(lambda els: len(els) == 2)
    close()
    t.join(10)
    assert not t.is_alive()
    assert os.get_blocking(fd), "the loop must never make its input non-blocking"
    els = tr.elements()
    assert els[0].get("name") == "MODE" and "Malformed" in els[1].get("message")
    if kind == "pipe":
        os.close(r)
    else:
        a.close()


def test_stop_interrupts_a_blocked_read(tr: RecordingTransport) -> None:
    r, w = os.pipe()
    try:
        lp = DriverLoop(tr, in_fd=r)
        t = _run_in_thread(lp)
        time.sleep(0.1)
        lp.stop()
        t.join(10)
        assert not t.is_alive()
    finally:
        os.close(r)
        os.close(w)


def test_run_returns_on_read_error(tr: RecordingTransport, tmp_path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)      # poll says readable, read() fails with EISDIR
    try:
        lp = DriverLoop(tr, in_fd=fd)
        t = _run_in_thread(lp)
        t.join(10)
        assert not t.is_alive()
    finally:
        os.close(fd)
    lp = DriverLoop(tr, in_fd=4093)          # not open: POLLNVAL, then EBADF
    t = _run_in_thread(lp)
    t.join(10)
    assert not t.is_alive()


# ------------------------------------------------------------------ log bridge

def test_log_handler(tr: RecordingTransport) -> None:
    logger = logging.getLogger("indi_playerone.test_bridge")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = IndiLogHandler(tr, lambda rec: "FromCallback")
    logger.addHandler(handler)
    try:
        logger.info("plain %s", "<x>")
        logger.warning("for cam", extra={"device": "Cam"})
        logger.error("bad")
        logger.critical("worse")
        logger.debug("hidden")
        handler.debug_enabled = True
        logger.debug("shown")
        logger.error("stderr only", extra={"indi_client": False})
    finally:
        logger.removeHandler(handler)
    got = [(e.get("device"), e.get("message")) for e in tr.take()]
    assert got == [("FromCallback", "[INFO] plain <x>"), ("Cam", "[WARNING] for cam"),
                   ("FromCallback", "[ERROR] bad"), ("FromCallback", "[ERROR] worse"),
                   ("FromCallback", "[DEBUG] shown")]


def test_setup_logging_is_idempotent(tr: RecordingTransport, capfd) -> None:
    logger = logging.getLogger("indi_playerone")
    saved = list(logger.handlers), logger.level
    try:
        setup_logging(tr)
        h = setup_logging(tr)
        assert sum(isinstance(x, IndiLogHandler) for x in logger.handlers) == 1
        logging.getLogger("indi_playerone.somewhere").warning("careful", extra={"device": "Cam"})
        (el,) = tr.take()
        assert el.get("message") == "[WARNING] careful" and el.get("device") == "Cam"
        assert "careful" in capfd.readouterr().err
        assert h in logger.handlers
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
