"""The driver's input loop: read stdin, split it into INDI messages, route them.

indiserver gives a driver one AF_UNIX socketpair as both fd 0 and fd 1 (pipes in
builds without shared memory), so fd 0 is never made non-blocking: that flag
would be shared with stdout, where the transport's blocking writes rely on it.
``run`` therefore blocks in ``poll`` on fd 0 plus a private wake-up pipe; the pipe
lets :meth:`DriverLoop.stop` end the loop without touching fd 0's flags.

The loop returns when stdin reaches end of file (indiserver is gone: a driver that
kept running would be orphaned) or a read fails. Bad input never raises out of it:
reader errors become one rate-limited ``message`` to the client, and an exception
from a handler is logged to stderr and the loop carries on.
"""
from __future__ import annotations

import logging
import os
import select
import threading
import time
import xml.etree.ElementTree as ET
from typing import Any, Callable

from . import xmlout
from .logbridge import NOT_TO_CLIENT
from .xmlreader import ParsedElement, XmlStreamReader

__all__ = ["DriverLoop", "READ_CHUNK"]

_log = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024
"""Bytes per ``os.read``: large enough that a client's BLOB upload costs few calls."""

_NEW_KINDS = {"Number", "Switch", "Text", "BLOB", "Light"}
_SNOOP_PREFIXES = ("set", "def")
_MAX_VERSION = (1, 7)


def _version_tuple(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in text.strip().split("."))
    except ValueError:
        return None


class DriverLoop:
    """Routes parsed messages to :class:`~indi_playerone.indi.device.Device` objects."""

    error_interval = 1.0
    """Seconds between two "Malformed INDI input" messages; the rest are counted."""

    def __init__(self, transport: Any, in_fd: int = 0, reader: XmlStreamReader | None = None) -> None:
        self.transport = transport
        self.in_fd = in_fd
        self.reader = reader if reader is not None else XmlStreamReader()
        self.devices: dict[str, Any] = {}
        self.on_get_properties: Callable[[str | None, str | None], None] | None = None
        """Called as ``hook(device, name)`` before devices answer a getProperties."""
        self._stop = threading.Event()
        # Reentrant: stop() may run in a signal handler, on the main thread, while that thread
        # is inside run() holding this lock.
        self._wake_lock = threading.RLock()
        self._wake_w = -1
        self._last_error_sent = float("-inf")
        self._suppressed = 0

    # ------------------------------------------------------------ devices
    def add_device(self, device: Any) -> None:
        self.devices[device.name] = device

    def remove_device(self, name: str) -> None:
        self.devices.pop(name, None)

    # ------------------------------------------------------------ loop
    def run(self) -> None:
        """Read and dispatch until EOF, a read error or :meth:`stop`."""
        wake_r, wake_w = os.pipe()
        with self._wake_lock:
            self._wake_w = wake_w
        try:
            poller = select.poll()
            poller.register(self.in_fd, select.POLLIN | select.POLLPRI)
            poller.register(wake_r, select.POLLIN)
            while not self._stop.is_set():
                ready = poller.poll()
                if any(fd == wake_r for fd, _ in ready):
                    break
                try:
                    data = os.read(self.in_fd, READ_CHUNK)
                except OSError as exc:
                    _log.error("reading INDI input failed: %s", exc)
                    break
                if not data:
                    break
                self.feed(data)
        finally:
            with self._wake_lock:
                self._wake_w = -1
            os.close(wake_r)
            os.close(wake_w)
            for event in self.reader.close():
                if not isinstance(event, ParsedElement):
                    _log.warning("at end of input: %s", event.message)

    def stop(self) -> None:
        """Make :meth:`run` return soon (now if it is waiting for input)."""
        self._stop.set()
        with self._wake_lock:
            if self._wake_w >= 0:
                try:
                    os.write(self._wake_w, b"x")
                except OSError:
                    pass

    def feed(self, data: bytes) -> None:
        """Parse ``data`` and dispatch every complete message in it."""
        for event in self.reader.feed(data):
            if isinstance(event, ParsedElement):
                try:
                    self.dispatch(event.element)
                except Exception:
                    _log.exception("dispatching <%s> failed", event.element.tag)
            else:
                self._reader_error(event.message)

    def _reader_error(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_error_sent < self.error_interval:
            self._suppressed += 1
            return
        if self._suppressed:
            text += f" ({self._suppressed} more errors suppressed)"
        self._last_error_sent, self._suppressed = now, 0
        _log.error("Malformed INDI input ignored: %s", text, extra=NOT_TO_CLIENT)
        self.transport.send(xmlout.message(None, f"[ERROR] Malformed INDI input ignored: {text}"))

    # ------------------------------------------------------------ routing
    def dispatch(self, element: ET.Element) -> None:
        """Route one top-level element."""
        tag = element.tag
        if tag == "getProperties":
            self._get_properties(element)
        elif tag.startswith("new") and tag.endswith("Vector") and tag[3:-6] in _NEW_KINDS:
            self._new_vector(element, tag[3:-6])
        elif tag == "pingRequest":
            uid = self._required(element, "uid")
            if uid is not None:
                self.transport.send(xmlout.ping_reply(uid))
        elif tag == "pingReply":
            uid = self._required(element, "uid")
            if uid is not None:
                self.transport.ping_reply_received(uid)
        elif tag == "enableBLOB":
            pass  # indiserver's business, per client
        elif (tag.startswith(_SNOOP_PREFIXES) and tag.endswith("Vector")) or tag in ("delProperty", "message"):
            for device in list(self.devices.values()):
                device.on_snoop(element)
        else:
            _log.debug("ignoring unknown INDI element <%s>", tag)

    def _complain(self, device: str | None, text: str) -> None:
        _log.warning("%s", text, extra=NOT_TO_CLIENT)
        self.transport.send(xmlout.message(device, f"[ERROR] {text}"))

    def _required(self, element: ET.Element, attr: str, device: str | None = None) -> str | None:
        value = element.get(attr)
        if value is None:
            self._complain(device, f"<{element.tag}> without a {attr} attribute ignored")
        return value

    def _get_properties(self, element: ET.Element) -> None:
        version = element.get("version")
        if version is not None:
            v = _version_tuple(version)
            if v is not None and v > _MAX_VERSION:
                # libindi drivers exit here; we stay up and say why.
                _log.error("getProperties with protocol version %s > %s ignored",
                           version, xmlout.PROTOCOL_VERSION)
                return
        device_name, name = element.get("device"), element.get("name")
        if self.on_get_properties is not None:
            self.on_get_properties(device_name, name)
        if device_name is None:
            for device in list(self.devices.values()):
                device.handle_get_properties(name)
        else:
            device = self.devices.get(device_name)
            if device is not None:
                device.handle_get_properties(name)

    def _new_vector(self, element: ET.Element, kind: str) -> None:
        device_name = self._required(element, "device")
        if device_name is None:
            return
        device = self.devices.get(device_name)
        if device is None:
            return  # addressed to another driver's device
        name = self._required(element, "name", device_name)
        if name is None:
            return
        child_tag = f"one{kind}"
        items: list[tuple[str, ...]] = []
        for child in element:
            if child.tag != child_tag:
                continue
            el_name = child.get("name")
            if el_name is None:
                self._complain(device_name, f"<{element.tag} name='{name}'>: <{child_tag}> without a name; ignored")
                return
            # Measured with indiserver 1.9.9 + indi_setprop: the server re-serialises
            # a client's text as "<oneText name=\"A\">\nhello world\n    </oneText>",
            # and lilxml trims element text on reading, so surrounding whitespace
            # never survives INDI anyway. Strip it as libindi drivers see it.
            text = (child.text or "").strip()
            if kind == "BLOB":
                items.append((el_name, text, child.get("format", "")))
            else:
                items.append((el_name, text))
        device.handle_new(kind, name, items)
