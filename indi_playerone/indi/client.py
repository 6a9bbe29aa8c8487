"""A small synchronous INDI client, for scripts: the demo and the command-line tool.

It knows the protocol and libindi's DefaultDevice properties, nothing of cameras (what a
camera client adds is in :mod:`indi_playerone.tools.camera_client`). It uses the same
streaming reader as the driver. Everything it learns is kept
in `props` (device, property) -> `RemoteProperty`; `wait_for` blocks on a
condition until a predicate over that state holds, with a timeout, so a script
reads like the sequence it performs. Tests use the real C++ client library
(pyindi-client) instead, so the driver is always checked against a peer we did
not write.
"""
from __future__ import annotations

import base64
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from . import names as N
from . import xmlout
from .xmlreader import ParsedElement, ReaderError, XmlStreamReader


@dataclass
class RemoteProperty:
    device: str
    name: str
    kind: str  # Number, Switch, Text, Light, BLOB
    state: str = "Idle"
    perm: str = "ro"
    values: dict[str, object] = field(default_factory=dict)
    message: str | None = None
    #: How many set*Vector messages arrived for it: `request` waits for this to move, so a
    #: state left over from before the request is never taken for the answer.
    updates: int = 0


@dataclass
class ReceivedBlob:
    device: str
    name: str
    element: str
    format: str
    data: bytes
    received: float  # time.monotonic()


class IndiError(Exception):
    pass


_attr = xmlout.quote_attr


class SimpleIndiClient:
    """One TCP connection to an indiserver, read by a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 7624) -> None:
        self.host, self.port = host, port
        self.props: dict[tuple[str, str], RemoteProperty] = {}
        self.messages: list[str] = []
        self.blobs: list[ReceivedBlob] = []
        self._cond = threading.Condition()
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self.closed = False

    # --- connection ---------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> "SimpleIndiClient":
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=2.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise IndiError(f"cannot connect to indiserver at {self.host}:{self.port}")
                time.sleep(0.1)
        self._sock.settimeout(None)
        self._reader = threading.Thread(target=self._read_loop, name="indi-client", daemon=True)
        self._reader.start()
        self.send(b"<getProperties version='1.7'/>")
        return self

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        if self._reader is not None:
            self._reader.join(2.0)

    def __enter__(self) -> "SimpleIndiClient":
        return self if self._sock is not None else self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, xml: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(xml)

    # --- reading ------------------------------------------------------------------------

    def _read_loop(self) -> None:
        # A 16-bit Zeus frame is a 122 MB FITS, 164 MB as base64 in one setBLOBVector: the
        # reader's 64 MiB default (right for a driver's stdin) silently dropped every frame
        # above ~48 MB (Poseidon, Artemis-M, Zeus), so the client allows 512 MiB.
        reader = XmlStreamReader(max_element_bytes=512 * 1024 * 1024)
        assert self._sock is not None
        try:
            while True:
                data = self._sock.recv(1 << 20)
                if not data:
                    break
                for event in reader.feed(data):
                    if isinstance(event, ParsedElement):
                        self._handle(event.element)
                    elif isinstance(event, ReaderError):
                        with self._cond:
                            self.messages.append(f"(client) malformed input: {event.message}")
        except OSError:
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _handle(self, el) -> None:  # noqa: ANN001 (an ElementTree element)
        tag = el.tag
        with self._cond:
            if tag == "message":
                self.messages.append(el.get("message", ""))
            elif tag.startswith("def") and tag.endswith("Vector"):
                kind = tag[3:-6]
                prop = RemoteProperty(el.get("device", ""), el.get("name", ""), kind,
                                      el.get("state", "Idle"), el.get("perm", "ro"))
                for child in el:
                    prop.values[child.get("name", "")] = self._value(kind, child)
                self.props[(prop.device, prop.name)] = prop
            elif tag.startswith("set") and tag.endswith("Vector"):
                key = (el.get("device", ""), el.get("name", ""))
                prop = self.props.get(key)
                if prop is None:
                    return
                prop.state = el.get("state", prop.state)
                prop.message = el.get("message")
                prop.updates += 1
                if prop.message:
                    self.messages.append(prop.message)
                for child in el:
                    if prop.kind == "BLOB":
                        text = (child.text or "").strip()
                        if text:
                            self.blobs.append(ReceivedBlob(
                                key[0], key[1], child.get("name", ""), child.get("format", ""),
                                base64.b64decode(text), time.monotonic()))
                    else:
                        prop.values[child.get("name", "")] = self._value(prop.kind, child)
            elif tag == "delProperty":
                device, name = el.get("device", ""), el.get("name")
                for key in [k for k in self.props if k[0] == device and (name is None or k[1] == name)]:
                    del self.props[key]
            self._cond.notify_all()

    @staticmethod
    def _value(kind: str, child) -> object:  # noqa: ANN001
        text = (child.text or "").strip()
        if kind == "Number":
            try:
                return float(text)
            except ValueError:
                return float("nan")
        if kind == "Switch":
            return text == "On"
        if kind == "Light":
            return text
        return text if kind == "Text" else None

    # --- waiting ------------------------------------------------------------------------

    @property
    def condition(self) -> threading.Condition:
        """Held while `props`, `blobs` and `messages` change; notified after every message:
        what a helper built on this client waits on (tools/camera_client.py)."""
        return self._cond

    def wait_for(self, predicate: Callable[[], object], timeout: float, what: str) -> object:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise IndiError(f"timed out after {timeout:g} s waiting for {what}")
                self._cond.wait(left)

    def prop(self, device: str, name: str, timeout: float = 10.0) -> RemoteProperty:
        return self.wait_for(lambda: self.props.get((device, name)), timeout,
                             f"{device}.{name}")  # type: ignore[return-value]

    def devices(self) -> list[str]:
        with self._cond:
            return sorted({d for d, _ in self.props})

    # --- writing ------------------------------------------------------------------------

    def _new(self, kind: str, device: str, name: str, items: Iterable[tuple[str, str]]) -> None:
        body = "".join(f"<one{kind} name={_attr(k)}>{v}</one{kind}>" for k, v in items)
        self.send(f"<new{kind}Vector device={_attr(device)} name={_attr(name)}>{body}"
                  f"</new{kind}Vector>".encode())

    def set_switch(self, device: str, name: str, on: Iterable[str]) -> None:
        self._new("Switch", device, name, [(n, "On") for n in on])

    def set_number(self, device: str, name: str, values: dict[str, float]) -> None:
        self._new("Number", device, name, [(k, repr(float(v))) for k, v in values.items()])

    def set_text(self, device: str, name: str, values: dict[str, str]) -> None:
        from xml.sax.saxutils import escape
        self._new("Text", device, name, [(k, escape(v)) for k, v in values.items()])

    def enable_blobs(self, device: str) -> None:
        self.send(f"<enableBLOB device={_attr(device)}>Also</enableBLOB>".encode())

    def request(self, device: str, name: str, values: dict[str, object], timeout: float) -> RemoteProperty:
        """Send new values for an existing property and wait for the driver's answer.

        The answer is the first set*Vector after ours whose state is not Busy (a driver may
        answer Busy first, as CCD_TEMPERATURE does while ramping). Switch values are the
        element names to turn On. Raises `IndiError` if the property is unknown or nothing
        settles within `timeout`; the caller reads `.state` (Ok/Alert/Idle) and `.message`.
        """
        with self._cond:
            prop = self.props.get((device, name))
            if prop is None:
                raise IndiError(f"{device} has no property {name}")
            kind, before = prop.kind, prop.updates
        if kind == "Switch":
            self.set_switch(device, name, [str(k) for k, v in values.items() if v])
        elif kind == "Number":
            self.set_number(device, name, {k: float(v) for k, v in values.items()})  # type: ignore[arg-type]
        elif kind == "Text":
            self.set_text(device, name, {k: str(v) for k, v in values.items()})
        else:
            raise IndiError(f"{device}.{name} is a {kind} vector: it cannot be set")
        key = (device, name)
        return self.wait_for(lambda: (key in self.props and self.props[key].updates > before
                                      and self.props[key].state != "Busy" and self.props[key]),
                             timeout, f"{device}.{name} to answer")  # type: ignore[return-value]

    def discard_blobs(self, device: str | None = None) -> None:
        """Forget received BLOBs (of one device, or all): a long capture keeps only what it needs."""
        with self._cond:
            self.blobs = [b for b in self.blobs if device is not None and b.device != device]

    # --- devices ------------------------------------------------------------------------

    def connect_device(self, device: str, timeout: float = 15.0, ready: str | None = None) -> None:
        """Switch CONNECTION on and wait until the driver says connected (and, with `ready`,
        until it has defined that property: a driver may define its connected-only
        properties after CONNECTION turns Ok)."""
        key = (device, N.CONNECTION.name)
        self.prop(device, N.CONNECTION.name, timeout)
        self.set_switch(device, N.CONNECTION.name, ["CONNECT"])
        self.wait_for(lambda: (self.props.get(key) is not None
                               and self.props[key].values.get("CONNECT")
                               and (ready is None or (device, ready) in self.props)),
                      timeout, f"{device} to connect")
