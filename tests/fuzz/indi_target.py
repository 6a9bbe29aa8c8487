"""What the hostile-input tests and the atheris fuzzer drive: the real reader, DriverLoop, Device
and PlayerOneCCD, with a transport that checks every outgoing message.

Shared by ``tests/system/test_reliability_hostile.py`` (hypothesis) and ``tests/fuzz/fuzz_indi.py``
(atheris); imports nothing from pytest or atheris.

* :class:`CheckingTransport` has the two sending methods of ``indi.transport.Transport``. Each
  ``send`` must be whole, well-formed INDI messages: it parses them at once (so a bad message
  fails at the line that sent it). BLOB payloads are closed on arrival and counted.
* :class:`FailureLog` is a logging handler that keeps every record carrying an exception
  (``log.exception``) or saying "internal error": DriverLoop and Device catch exceptions so the
  driver survives, which would otherwise hide a crash from a test.
* :func:`protocol_device` is a device with one vector of every kind, perm and switch rule.
* :func:`ccd_device` is the real camera device around a simulated Apollo-M MAX PRO (the smallest
  sensor, 1608 x 1104: an exposure costs ~20 ms; the simulated SDK library through the SDK
  backend, ``INDI_PLAYERONE_SIMULATE`` set for this process), with UPLOAD_DIR pinned under a
  directory the test owns: the fuzzer may set any path, and the driver (run as root here) would
  write there.
"""
from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Sequence

from indi_playerone.camera.registry import simulated_cameras
from indi_playerone.ccd.device import PlayerOneCCD
from indi_playerone.indi.device import Device
from indi_playerone.indi.driver import DriverLoop
from indi_playerone.indi.properties import (
    Blob, BlobVector, Light, LightVector, Number, NumberVector, Perm, Rule, State, Switch,
    SwitchVector, Text, TextVector,
)

__all__ = ["CheckingTransport", "FailureLog", "protocol_device", "ccd_device", "CCD_MODEL",
           "CCD_NAME", "PROTO_NAME", "RESYNC", "make_loop", "snapshot"]

PROTO_NAME = "Fuzz Cam"
CCD_MODEL = "Apollo-M MAX PRO"
CCD_NAME = "PlayerOne CCD " + CCD_MODEL

RESYNC = b">-->]]>?>"
"""Ends whatever a cut-off input left open in the reader: a comment, a CDATA section, a
processing instruction. An open tag, an open element and a DTD need nothing: the next INDI
start tag ends them (see the reader's docstring). The leading '>' keeps a trailing "<!" or
"<!-" of the garbage from joining the "--" into a comment opener (found by the fuzzer: a
real INDI message always starts with '<', so only this sequence could do that)."""


class CheckingTransport:
    """Records what the driver sends; every message is parsed when it is sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.elements: list[ET.Element] = []
        self.blobs = 0
        self.bad: list[str] = []

    def send(self, xml: bytes) -> None:
        if not isinstance(xml, bytes):
            self.bad.append(f"send() given {type(xml).__name__}, not bytes")
            return
        try:
            # One or more whole top-level elements: wrap them so expat sees one document.
            root = ET.fromstring(b"<r>" + xml + b"</r>")
        except ET.ParseError as exc:
            self.bad.append(f"malformed output {xml[:200]!r}: {exc}")
            return
        with self.lock:
            self.elements.extend(root)

    def send_blob_vector(self, device: str, name: str, state: str, blobs: Sequence[Any],
                         timeout: float = 60, message: str | None = None) -> None:
        for blob in blobs:
            blob.payload.close()
        with self.lock:
            self.blobs += 1

    def ping_reply_received(self, uid: str) -> None:
        pass

    def take(self) -> list[ET.Element]:
        with self.lock:
            out, self.elements = self.elements, []
        return out


class FailureLog(logging.Handler):
    """Keeps records that carry an exception or report an internal error."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info or "internal error" in text:
            detail = self.format(record) if record.exc_info else text
            self.failures.append(detail)

    def __enter__(self) -> "FailureLog":
        logger = logging.getLogger("indi_playerone")
        logger.addHandler(self)
        self._old_level = logger.level
        if logger.level == logging.NOTSET or logger.level > logging.ERROR:
            logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("indi_playerone")
        logger.removeHandler(self)
        logger.setLevel(self._old_level)


def protocol_device(transport: Any) -> Device:
    """One vector of every kind, permission and rule; default handlers (apply + Ok)."""
    d = Device(PROTO_NAME, transport)
    n = PROTO_NAME
    d.define(NumberVector(n, "LIMITED", elements=[
        Number("A", "a", "%g", -10, 10, 0, 1), Number("B", "b", "%g", 0, 1e6, 1, 5)]))
    d.define(NumberVector(n, "UNLIMITED", elements=[Number("U", "u", "%g", 0, 0, 0, 0)]))
    d.define(NumberVector(n, "NUM_RO", perm=Perm.RO, elements=[Number("R", "r", "%g", 0, 1, 0, 0.5)]))
    d.define(NumberVector(n, "NUM_WO", perm=Perm.WO, elements=[Number("W", "w", "%g", 0, 100, 0, 0)]))
    for rule in Rule:
        d.define(SwitchVector(n, f"SW_{rule.name}", rule=rule, elements=[
            Switch("S1", "1", rule is Rule.ONE_OF_MANY), Switch("S2", "2"), Switch("S3", "3")]))
    d.define(TextVector(n, "TEXT", elements=[Text("T1", "t1", "x"), Text("T2", "t2", "")]))
    d.define(TextVector(n, "TEXT_RO", perm=Perm.RO, elements=[Text("R", "r", "fixed")]))
    d.define(LightVector(n, "LIGHTS", elements=[Light("L", "l", State.OK)]))
    d.define(BlobVector(n, "BLOB_IN", perm=Perm.WO, elements=[Blob("F", "file")]))
    d.define(BlobVector(n, "BLOB_RO", perm=Perm.RO, elements=[Blob("CCD1", "image")]))
    return d


def ccd_device(transport: Any, upload_root: Path, connect: bool = True) -> PlayerOneCCD:
    """The real camera device on a simulated Apollo-M MAX PRO, initialised (and connected).

    UPLOAD_SETTINGS keeps its handler, but any UPLOAD_DIR a client sends is replaced by
    ``upload_root`` first: hostile input must not make this test write outside its directory.
    """
    dev = PlayerOneCCD(CCD_NAME, simulated_cameras(CCD_MODEL)[0], transport, "0.1")
    settings = dev.find("UPLOAD_SETTINGS")
    settings["UPLOAD_DIR"].value = str(upload_root)
    original = settings.handler

    def pinned(vector: Any, values: dict) -> None:
        if "UPLOAD_DIR" in values:
            values = {**values, "UPLOAD_DIR": str(upload_root)}
        original(vector, values)

    settings.handler = pinned
    dev.handle_get_properties()
    if connect:
        dev.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
        if not dev.connected:
            raise RuntimeError("the simulated camera did not connect")
    return dev


def make_loop(transport: Any, *devices: Any) -> DriverLoop:
    loop = DriverLoop(transport, in_fd=-1)
    loop.error_interval = 0.0  # report every reader error (the rate limit is tested elsewhere)
    for device in devices:
        loop.add_device(device)
    return loop


def snapshot(vector: Any) -> dict[str, Any]:
    """Element values of a vector (numbers, switch states, texts, light states)."""
    out: dict[str, Any] = {}
    for el in vector:
        for attr in ("value", "on", "state"):
            if hasattr(el, attr):
                out[el.name] = getattr(el, attr)
                break
        else:
            out[el.name] = None
    return out
