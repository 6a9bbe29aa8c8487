"""A synchronous INDI client for tests: pyindi-client 2.3.0 (its bundled libindiclient 2.1.2).

libindiclient calls us back on its own listener thread.  Every callback only copies what it needs
into plain Python objects under one lock and notifies a Condition; the test thread waits on that
Condition with a timeout.  Nothing blocks in a callback, and nothing on the test thread touches
libindiclient's property objects while the listener may be writing them: values are read from our
snapshots, and new values are sent as freshly built vectors (so an exposure countdown arriving
meanwhile cannot overwrite the value we are about to send).

Measured behaviour of pyindi-client 2.3.0 that shapes this module:

* Host ``"127.0.0.1"`` (or any name) uses TCP.  Host ``"localhost:" + path`` uses the abstract Unix
  socket ``path`` (indiserver's ``-u``) and ignores the port; bare ``"localhost:"`` means the
  default ``/tmp/indiserver`` — possibly another test's server — so it is refused here.
* ``sendNewSwitch`` of a OneOfMany vector sends only the On element (what Ekos sends too); other
  rules send every element.
* ``WidgetViewBlob.getblobdata()`` returns a fresh ``bytearray`` copy of the decoded BLOB (two calls
  give two independent objects); the callback runs after libindiclient has received and
  base64-decoded the whole BLOB.
* An exception escaping a SWIG director callback can abort the interpreter, so every callback
  catches everything and records it; the next wait re-raises it on the test thread.
* The ``BaseClient`` must never be destroyed on its own listener thread: when the last Python
  reference went away while a callback was running (the callback's frame holds ``self``), the C++
  destructor ran on that thread, joined itself and the process died with "terminate called after
  throwing an instance of 'std::system_error'" (seen 1 run in 6).  So every BaseClient we create is
  kept referenced (``_RETIRED``) until the interpreter exits, and still-connected clients are
  disconnected by an ``atexit`` hook first.
"""

from __future__ import annotations

import atexit
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import PyIndi

from .snapshots import ElementSnapshot, Event, ExposureTimeline, PropertySnapshot, ReceivedBlob

__all__ = ["IndiClient", "ReceivedBlob", "PropertySnapshot", "ElementSnapshot", "ExposureTimeline"]

T = TypeVar("T")

_KINDS = {
    PyIndi.INDI_NUMBER: "Number",
    PyIndi.INDI_SWITCH: "Switch",
    PyIndi.INDI_TEXT: "Text",
    PyIndi.INDI_LIGHT: "Light",
    PyIndi.INDI_BLOB: "BLOB",
}
_VIEWS = {
    PyIndi.INDI_NUMBER: PyIndi.PropertyNumber,
    PyIndi.INDI_SWITCH: PyIndi.PropertySwitch,
    PyIndi.INDI_TEXT: PyIndi.PropertyText,
    PyIndi.INDI_LIGHT: PyIndi.PropertyLight,
    PyIndi.INDI_BLOB: PyIndi.PropertyBlob,
}
_TYPES = {kind: ptype for ptype, kind in _KINDS.items()}
_RULES = {"OneOfMany": PyIndi.ISR_1OFMANY, "AtMostOne": PyIndi.ISR_ATMOST1, "AnyOfMany": PyIndi.ISR_NOFMANY}


class _Listener(PyIndi.BaseClient):
    """The SWIG director subclass: forwards every callback to the owning IndiClient.

    It holds the owner weakly: the listener outlives it in ``_RETIRED``, and must not keep a
    client's snapshots and frames alive."""

    def __init__(self, owner: "IndiClient") -> None:
        super().__init__()
        self._owner = weakref.ref(owner)

    def _call(self, name: str, *args: Any) -> None:
        owner = self._owner()
        if owner is not None:
            owner._guard(getattr(owner, name), *args)

    def newDevice(self, d: Any) -> None:
        self._call("_on_device", d, True)

    def removeDevice(self, d: Any) -> None:
        self._call("_on_device", d, False)

    def newProperty(self, p: Any) -> None:
        self._call("_on_property", p, "def")

    def updateProperty(self, p: Any) -> None:
        self._call("_on_property", p, "set")

    def removeProperty(self, p: Any) -> None:
        self._call("_on_property", p, "del")

    def newMessage(self, d: Any, message_id: int) -> None:
        self._call("_on_message_of", d, message_id)

    def newUniversalMessage(self, message: str) -> None:
        self._call("_on_message", "", str(message))

    def serverConnected(self) -> None:
        self._call("_on_server", True, 0)

    def serverDisconnected(self, exit_code: int) -> None:
        self._call("_on_server", False, exit_code)


_RETIRED: list[_Listener] = []  # BaseClients kept alive until exit; see the module docstring
_LIVE: "weakref.WeakSet[IndiClient]" = weakref.WeakSet()


@atexit.register
def _disconnect_all() -> None:
    for client in list(_LIVE):
        client.disconnect()


class IndiClient:
    """Synchronous wrapper around ``PyIndi.BaseClient``; a context manager (connect/disconnect).

    Every ``wait_*`` takes a timeout and raises ``TimeoutError`` describing what it saw, or
    ``ConnectionError`` if the server went away first.
    """

    def __init__(self, port: int, host: str = "127.0.0.1", *, blob_queue: int = 8) -> None:
        if host == "localhost:":
            raise ValueError('host "localhost:" means /tmp/indiserver, not your server: use "localhost:" + path')
        self.host = host
        self.port = port
        self._cond = threading.Condition(threading.Lock())
        self._seq = 0
        self._devices: dict[str, None] = {}
        self._props: dict[tuple[str, str], PropertySnapshot] = {}
        self._def_seq: dict[tuple[str, str], int] = {}
        self._history: deque[Event] = deque(maxlen=100_000)
        self._blobs: dict[tuple[str, str], deque[ReceivedBlob]] = {}
        self._blob_queue = blob_queue
        self.blobs_dropped = 0
        self._messages: list[tuple[int, str, str]] = []
        self._errors: list[str] = []
        self._connected = False
        self._disconnect_code: int | None = None
        self._base: _Listener | None = None
        self.last_exposure: ExposureTimeline | None = None

    # ------------------------------------------------------------------ connection
    def __enter__(self) -> "IndiClient":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def connect(self, timeout: float = 10) -> None:
        if self._base is not None:
            raise RuntimeError("already connected")
        base = _Listener(self)
        _RETIRED.append(base)
        base.setServer(self.host, int(self.port))
        base.setConnectionTimeout(int(timeout), int((timeout % 1) * 1e6))
        with self._cond:
            self._disconnect_code = None
        if not base.connectServer():
            raise ConnectionError(f"cannot connect to indiserver at {self.host}:{self.port}")
        self._base = base
        _LIVE.add(self)
        self._wait(lambda: self._connected or None, timeout, lambda: "serverConnected callback")

    def disconnect(self, timeout: float = 5) -> None:
        """Close the connection and wait (up to ``timeout``) for libindiclient to report it closed.

        Idempotent.  Snapshots and received data stay readable afterwards.
        """
        base, self._base = self._base, None
        _LIVE.discard(self)
        if base is not None and base.isServerConnected():
            base.disconnectServer()
            deadline = time.monotonic() + timeout
            with self._cond:
                while self._connected and time.monotonic() < deadline:
                    self._cond.wait(deadline - time.monotonic())

    @property
    def connected(self) -> bool:
        with self._cond:
            return self._connected

    # ------------------------------------------------------------------ callbacks (listener thread)
    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except BaseException:  # noqa: BLE001 - must never escape into the SWIG director
            with self._cond:
                self._errors.append(traceback.format_exc())
                self._cond.notify_all()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _on_server(self, up: bool, code: int) -> None:
        with self._cond:
            self._connected = up
            if not up:
                self._disconnect_code = code
            self._cond.notify_all()

    def _on_device(self, d: Any, added: bool) -> None:
        name = d.getDeviceName()
        with self._cond:
            if added:
                self._devices.setdefault(name, None)
            else:
                self._devices.pop(name, None)
                for key in [k for k in self._props if k[0] == name]:
                    del self._props[key]
                    self._def_seq.pop(key, None)
            self._cond.notify_all()

    def _on_message_of(self, d: Any, message_id: int) -> None:
        self._on_message(d.getDeviceName(), d.messageQueue(message_id))

    def _on_message(self, device: str, text: str) -> None:
        with self._cond:
            self._messages.append((self._next_seq(), device, str(text)))
            self._cond.notify_all()

    def _on_property(self, p: Any, what: str) -> None:
        now = time.monotonic()
        ptype = p.getType()
        view = _VIEWS[ptype](p)
        device, name = p.getDeviceName(), p.getName()
        received: list[tuple[str, bytearray, str, int]] = []
        elements = []
        for w in view:
            if ptype == PyIndi.INDI_NUMBER:
                elements.append(
                    ElementSnapshot(w.getName(), w.getLabel(), float(w.getValue()), float(w.getMin()),
                                    float(w.getMax()), float(w.getStep()), w.getFormat())
                )
            elif ptype == PyIndi.INDI_SWITCH:
                elements.append(ElementSnapshot(w.getName(), w.getLabel(), w.getState() == PyIndi.ISS_ON))
            elif ptype == PyIndi.INDI_TEXT:
                elements.append(ElementSnapshot(w.getName(), w.getLabel(), w.getText() or ""))
            elif ptype == PyIndi.INDI_LIGHT:
                elements.append(ElementSnapshot(w.getName(), w.getLabel(), w.getStateAsString()))
            else:
                elements.append(ElementSnapshot(w.getName(), w.getLabel(), None, format=w.getFormat()))
                if what == "set" and w.getBlobLen() > 0:
                    received.append((w.getName(), w.getblobdata(), w.getFormat(), int(w.getSize())))
        with self._cond:
            seq = self._next_seq()
            state = view.getStateAsString()
            self._history.append(Event(seq, now, device, name, what, state))
            key = (device, name)
            if what == "del":
                self._props.pop(key, None)
                self._def_seq.pop(key, None)
            else:
                self._def_seq.setdefault(key, seq)  # a re-definition keeps its first place
                self._devices.setdefault(device, None)
                self._props[key] = PropertySnapshot(
                    device=device, name=name, kind=_KINDS[ptype], group=p.getGroupName(), label=p.getLabel(),
                    perm=view.getPermissionAsString(),
                    rule=view.getRuleAsString() if ptype == PyIndi.INDI_SWITCH else None,
                    timeout=float(view.getTimeout()), state=state, elements=tuple(elements), seq=seq, time=now,
                )
            for element, data, fmt, size in received:
                q = self._blobs.setdefault(key, deque())
                if len(q) >= self._blob_queue:
                    q.popleft()
                    self.blobs_dropped += 1
                q.append(ReceivedBlob(device, name, element, data, fmt, size, now, seq))
            self._cond.notify_all()

    # ------------------------------------------------------------------ waiting
    def _wait(self, predicate: Callable[[], T | None], timeout: float, seen: Callable[[], str]) -> T:
        """Wait until ``predicate()`` (called with the lock held) returns something not None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._errors:
                    raise RuntimeError("a PyIndi callback failed:\n" + self._errors[0])
                result = predicate()
                if result is not None and result is not False:
                    return result
                if self._disconnect_code is not None:
                    raise ConnectionError(f"server disconnected (code {self._disconnect_code}) while waiting; "
                                          f"seen: {seen()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout} s; seen: {seen()}")
                self._cond.wait(remaining)

    def _names_seen(self, device: str) -> str:
        names = [n for (d, n) in self._props if d == device]
        return f"devices={list(self._devices)}; {device!r} properties={names}; last messages={self._tail_messages()}"

    def _tail_messages(self, n: int = 5) -> list[str]:
        return [f"{d}: {t}" for _, d, t in self._messages[-n:]]

    def wait_device(self, name: str, timeout: float = 10) -> None:
        """Wait until the device is known.  It may not have a single vector yet (libindiclient
        announces the device before its first definition): wait_property for those."""
        self._wait(lambda: name in self._devices or None, timeout, lambda: f"devices={list(self._devices)}")

    def wait_property(self, device: str, name: str, timeout: float = 10) -> Any:
        """Wait until ``device.name`` is defined; returns the PyIndi property object."""
        self._wait(lambda: (device, name) in self._props or None, timeout, lambda: self._names_seen(device))
        assert self._base is not None
        return self._base.getDevice(device).getProperty(name)

    def wait_state(self, device: str, name: str, states: set[str], timeout: float) -> str:
        """Wait until the vector's current state is one of ``states``; returns that state."""
        return self.wait_until(device, name, lambda snap: snap.state in states, timeout).state

    def wait_until(
        self, device: str, name: str, check: Callable[[PropertySnapshot], bool], timeout: float
    ) -> PropertySnapshot:
        """Wait until ``check(snapshot)`` is true for the vector's latest snapshot; returns it.
        ``check`` runs with the client's lock held: keep it short, and it may raise to stop."""
        def pred() -> PropertySnapshot | None:
            snap = self._props.get((device, name))
            return snap if snap is not None and check(snap) else None

        def seen() -> str:
            snap = self._props.get((device, name))
            return f"{device}.{name} state={snap.state} values={snap.values()}" if snap else self._names_seen(device)

        return self._wait(pred, timeout, seen)

    def wait_quiet(self, device: str, quiet: float = 0.5, timeout: float = 10) -> list[str]:
        """Wait until ``device`` has defined or deleted no vector for ``quiet`` seconds (a driver
        defines its vectors in a burst after getProperties or connect); returns the names then."""
        start = time.monotonic()
        deadline = start + timeout
        with self._cond:
            while True:
                last = start
                for ev in reversed(self._history):
                    if ev.device == device and ev.what != "set":
                        last = max(last, ev.time)
                        break
                now = time.monotonic()
                if now - last >= quiet:
                    break
                if now >= deadline:
                    raise TimeoutError(f"{device} still defining vectors after {timeout} s; {self._names_seen(device)}")
                self._cond.wait(min(deadline - now, quiet - (now - last)))
        return self.property_names(device)

    # ------------------------------------------------------------------ reading snapshots
    def describe(self, device: str, name: str) -> PropertySnapshot:
        """The vector's latest snapshot (raises KeyError if it is not defined)."""
        with self._cond:
            try:
                return self._props[(device, name)]
            except KeyError:
                raise KeyError(f"{device}.{name} not defined; {self._names_seen(device)}") from None

    def _values(self, device: str, name: str, kind: str) -> dict[str, Any]:
        snap = self.describe(device, name)
        if snap.kind != kind:
            raise TypeError(f"{device}.{name} is a {snap.kind} vector, not {kind}")
        return snap.values()

    def number(self, device: str, name: str) -> dict[str, float]:
        return self._values(device, name, "Number")

    def switch(self, device: str, name: str) -> dict[str, bool]:
        return self._values(device, name, "Switch")

    def text(self, device: str, name: str) -> dict[str, str]:
        return self._values(device, name, "Text")

    def state(self, device: str, name: str) -> str:
        return self.describe(device, name).state

    def perm(self, device: str, name: str) -> str:
        return self.describe(device, name).perm

    def rule(self, device: str, name: str) -> str | None:
        return self.describe(device, name).rule

    def kind(self, device: str, name: str) -> str:
        return self.describe(device, name).kind

    def property_names(self, device: str) -> list[str]:
        """Names currently defined, in order of (latest) definition."""
        with self._cond:
            keys = sorted((seq, key) for key, seq in self._def_seq.items() if key[0] == device)
        return [key[1] for _, key in keys]

    def elements(self, device: str, name: str) -> list[str]:
        return [e.name for e in self.describe(device, name).elements]

    def devices(self) -> list[str]:
        with self._cond:
            return list(self._devices)

    # ------------------------------------------------------------------ sending
    def _send(self, snap: PropertySnapshot, values: dict[str, Any], setter: Callable[[Any, Any], None]) -> None:
        if self._base is None:
            raise ConnectionError("not connected")
        names = [e.name for e in snap.elements]
        unknown = set(values) - set(names)
        if unknown:
            raise KeyError(f"{snap.device}.{snap.name} has no element(s) {sorted(unknown)}; has {names}")
        vec = _VIEWS[_TYPES[snap.kind]](len(values))
        vec.setDeviceName(snap.device)
        vec.setName(snap.name)
        if snap.rule is not None:
            vec.setRule(_RULES[snap.rule])
        for i, (elem, value) in enumerate(values.items()):
            vec[i].setName(elem)
            setter(vec[i], value)
        send = {"Number": self._base.sendNewNumber, "Switch": self._base.sendNewSwitch, "Text": self._base.sendNewText}
        send[snap.kind](vec)

    def _ordered(self, snap: PropertySnapshot, values: dict[str, Any], partial: bool) -> dict[str, Any]:
        if partial:
            return dict(values)
        current = snap.values()
        merged = {e.name: (values[e.name] if e.name in values else current[e.name]) for e in snap.elements}
        merged.update({k: v for k, v in values.items() if k not in merged})  # unknown → KeyError in _send
        return merged

    def set_number(self, device: str, name: str, values: dict[str, float], *, partial: bool = False) -> None:
        """Send a newNumberVector.  Like Ekos, the whole vector is sent (given values over the last
        received ones) unless ``partial`` (then only the given elements)."""
        snap = self.describe(device, name)
        if snap.kind != "Number":
            raise TypeError(f"{device}.{name} is a {snap.kind} vector")
        self._send(snap, self._ordered(snap, values, partial), lambda w, v: w.setValue(float(v)))

    def set_text(self, device: str, name: str, values: dict[str, str], *, partial: bool = False) -> None:
        snap = self.describe(device, name)
        if snap.kind != "Text":
            raise TypeError(f"{device}.{name} is a {snap.kind} vector")
        self._send(snap, self._ordered(snap, values, partial), lambda w, v: w.setText(str(v)))

    def set_switch(self, device: str, name: str, on: Iterable[str]) -> None:
        """Turn exactly the named switches On and the rest Off.

        The rule is checked first (OneOfMany: exactly one; AtMostOne: at most one).  libindiclient
        then sends only the On element of a OneOfMany vector (as Ekos does) and all elements
        otherwise.
        """
        snap = self.describe(device, name)
        if snap.kind != "Switch":
            raise TypeError(f"{device}.{name} is a {snap.kind} vector")
        on_set = set(on)
        if snap.rule == "OneOfMany" and len(on_set) != 1:
            raise ValueError(f"{device}.{name} is OneOfMany: exactly one switch must be On, got {sorted(on_set)}")
        if snap.rule == "AtMostOne" and len(on_set) > 1:
            raise ValueError(f"{device}.{name} is AtMostOne: got {sorted(on_set)}")
        values = {e.name: e.name in on_set for e in snap.elements}
        values.update({n: True for n in on_set if n not in values})  # unknown → KeyError in _send
        self._send(snap, values, lambda w, v: w.setState(PyIndi.ISS_ON if v else PyIndi.ISS_OFF))

    def connect_device(self, device: str, timeout: float = 10) -> None:
        """CONNECTION.CONNECT and wait until CONNECTION is Ok with CONNECT On (Alert raises).

        The vectors a driver defines on connect may still be arriving then: wait_property (or
        wait_quiet) for the ones you need."""
        self.wait_property(device, "CONNECTION", timeout)
        mark = self._mark()
        self.set_switch(device, "CONNECTION", ["CONNECT"])

        def check(s: PropertySnapshot) -> bool:
            if s.state == "Alert" and s.seq > mark:
                raise RuntimeError(f"{device} refused to connect; messages: {self._tail_messages()}")
            return s.state == "Ok" and bool(s.values().get("CONNECT"))

        self.wait_until(device, "CONNECTION", check, timeout)

    def disconnect_device(self, device: str, timeout: float = 10) -> None:
        self.set_switch(device, "CONNECTION", ["DISCONNECT"])
        self.wait_until(device, "CONNECTION", lambda s: bool(s.values().get("DISCONNECT")), timeout)

    def enable_blobs(self, device: str) -> None:
        """``enableBLOB Also`` for the device (indiserver sends clients no BLOBs until asked)."""
        if self._base is None:
            raise ConnectionError("not connected")
        self._base.setBLOBMode(PyIndi.B_ALSO, device, None)

    # ------------------------------------------------------------------ BLOBs and exposures
    def _mark(self) -> int:
        with self._cond:
            return self._seq

    def wait_blob(self, device: str, name: str = "CCD1", timeout: float = 30) -> ReceivedBlob:
        """The oldest BLOB of ``device.name`` not yet taken (queued since the last take), or the next
        to arrive.  At most ``blob_queue`` are kept; older ones are dropped (``blobs_dropped``)."""
        def pred() -> ReceivedBlob | None:
            q = self._blobs.get((device, name))
            return q.popleft() if q else None

        return self._wait(pred, timeout, lambda: self._names_seen(device))

    def clear_blobs(self, device: str, name: str = "CCD1") -> int:
        """Drop queued BLOBs of ``device.name``; returns how many were dropped."""
        with self._cond:
            q = self._blobs.pop((device, name), None)
            return len(q) if q else 0

    def expose(self, device: str, seconds: float, timeout: float) -> ReceivedBlob:
        """Take one exposure the way libindi clients do and return its BLOB.

        Drops BLOBs queued before, sends CCD_EXPOSURE, then waits for *both* the CCD1 BLOB and
        CCD_EXPOSURE back to Ok (libindi sends the BLOB first).  CCD_EXPOSURE Alert raises
        RuntimeError.  Times are kept in :attr:`last_exposure`.  BLOBs must be enabled.
        """
        self.wait_property(device, "CCD_EXPOSURE", timeout)  # defined only after CONNECTION turns Ok
        self.clear_blobs(device, "CCD1")
        mark = self._mark()
        timeline = ExposureTimeline(duration=seconds, requested=time.monotonic())
        self.last_exposure = timeline
        self.set_number(device, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds})
        got: dict[str, ReceivedBlob] = {}

        def pred() -> ReceivedBlob | None:
            for ev in self._history_since(mark):
                if ev.device != device or ev.name != "CCD_EXPOSURE" or ev.what == "del":
                    continue
                if ev.state == "Busy" and timeline.busy is None:
                    timeline.busy = ev.time
                elif ev.state == "Ok" and timeline.ok is None:
                    timeline.ok = ev.time
                elif ev.state == "Alert":
                    raise RuntimeError(f"CCD_EXPOSURE went Alert; messages: {self._tail_messages()}")
            if "blob" not in got:
                q = self._blobs.get((device, "CCD1"))
                while q and q[0].seq <= mark:  # arrived before the request: not this exposure's
                    q.popleft()
                if q:
                    got["blob"] = q.popleft()
                    timeline.blob = got["blob"].arrival
            return got["blob"] if "blob" in got and timeline.ok is not None else None

        def seen() -> str:
            hint = "" if timeline.busy is None or timeline.ok is None else " (BLOBs enabled? enable_blobs())"
            return f"timeline={timeline}{hint}; {self._names_seen(device)}"

        return self._wait(pred, timeout, seen)

    def _history_since(self, mark: int) -> list[Event]:
        out = []
        for ev in reversed(self._history):
            if ev.seq <= mark:
                break
            out.append(ev)
        out.reverse()
        return out

    def abort(self, device: str) -> None:
        self.set_switch(device, "CCD_ABORT_EXPOSURE", ["ABORT"])

    # ------------------------------------------------------------------ messages
    def messages(self, device: str | None = None) -> list[str]:
        """INDI messages received so far (all devices and universal ones if ``device`` is None)."""
        with self._cond:
            return [t for _, d, t in self._messages if device is None or d == device]

    def wait_message(self, device: str | None, contains: str, timeout: float, *, since: int = 0) -> str:
        """The first message of ``device`` (index ≥ ``since`` in :meth:`messages`) containing
        ``contains``, waiting for it if none has arrived yet."""
        def pred() -> str | None:
            texts = [t for _, d, t in self._messages if device is None or d == device]
            return next((t for t in texts[since:] if contains in t), None)

        return self._wait(pred, timeout, lambda: f"messages={self._tail_messages(10)}")

