"""One INDI device: owns its vectors, answers getProperties, validates client input.

The device is the only place that checks permissions and turns refused input into
what libindi clients expect: the vector re-sent unchanged with state Alert and a
message saying why. Accepted input goes to the vector's handler (the camera layer)
or, without one, is applied and acknowledged with state Ok.

Everything that touches this device's vectors runs under ``self.lock`` (an RLock,
so a handler may call :meth:`update`/:meth:`define` from inside ``handle_new``).
Messages are sent while holding the lock, so the order of updates on the wire
matches the order of changes to the vectors.
"""
from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ET
from typing import Any, Sequence

from . import xmlout
from .logbridge import NOT_TO_CLIENT
from .properties import Perm, PropertyError, State, Vector

__all__ = ["Device", "LOG_LEVELS"]

_log = logging.getLogger(__name__)

LOG_LEVELS = ("ERROR", "WARNING", "INFO", "DEBUG")


class Device:
    """An INDI device named ``name`` that sends through ``transport``."""

    def __init__(self, name: str, transport: Any) -> None:
        self.name = name
        self.transport = transport
        self.lock = threading.RLock()
        self._vectors: dict[str, Vector] = {}

    # ------------------------------------------------------------ vectors
    def define(self, vector: Vector, message: str | None = None) -> None:
        """Store the vector (replacing one of the same name in place) and send its def."""
        with self.lock:
            self._vectors[vector.name] = vector
            if message is not None:
                vector.message = message
            self.transport.send(xmlout.def_vector(vector, message))

    def delete(self, name: str | None = None, message: str | None = None) -> None:
        """Forget one vector (or all when ``name`` is None) and send delProperty."""
        with self.lock:
            if name is None:
                self._vectors.clear()
            else:
                self._vectors.pop(name, None)
            self.transport.send(xmlout.del_property(self.name, name, message))

    def update(self, vector: Vector, message: str | None = None, with_limits: bool = False) -> None:
        """Send the vector's current state and values (set*Vector)."""
        with self.lock:
            if message is not None:
                vector.message = message
            self.transport.send(xmlout.set_vector(vector, message, with_limits))

    def accept(self, vector: Vector, values: dict, message: str | None = None) -> None:
        """Store a client's values as they are, state Ok, and tell the clients: what a vector
        without a handler gets, and the last step of most handlers."""
        with self.lock:
            vector.apply(values)
            self.ok(vector, message)

    def ok(self, vector: Vector, message: str | None = None) -> None:
        """State Ok and tell the clients: the last step of a handler that has set the values
        itself (or of a driver-side change)."""
        with self.lock:
            vector.state = State.OK
            self.update(vector, message)

    def alert(self, vector: Vector, message: str, level: str = "ERROR") -> None:
        """State Alert with the reason; the reason reaches the client with the vector, and
        stderr through the log (not a second time to the client)."""
        with self.lock:
            vector.state = State.ALERT
            self.update(vector, message)
        _log.log(logging.ERROR if level == "ERROR" else logging.WARNING, "%s: %s", self.name,
                 message, extra=NOT_TO_CLIENT)

    def show(self, vector: Vector, wanted: bool) -> None:
        """Define `vector` if wanted and not defined, delete it if defined and not wanted:
        for the vectors that exist only while a setting says so (libindi's CCD_FILE_PATH
        while uploads go to disk, CCD_ROTATION while WCS is on)."""
        with self.lock:
            defined = vector.name in self._vectors
            if wanted and not defined:
                self.define(vector)
            elif defined and not wanted:
                self.delete(vector.name)

    def get(self, name: str) -> Vector | None:
        with self.lock:
            return self._vectors.get(name)

    def is_defined(self, name: str) -> bool:
        with self.lock:
            return name in self._vectors

    @property
    def vectors(self) -> list[Vector]:
        """The defined vectors in definition order (a copy)."""
        with self.lock:
            return list(self._vectors.values())

    def log(self, text: str, level: str = "INFO") -> None:
        """Send a ``message`` tagged like libindi's LOG_* macros: ``[LEVEL] text``."""
        self.transport.send(xmlout.message(self.name, f"[{level}] {text}"))

    # ------------------------------------------------------------ client input
    def handle_get_properties(self, name: str | None = None) -> None:
        """Re-send the def of every defined vector (or just ``name``) in definition order."""
        with self.lock:
            if name is None:
                for vector in self._vectors.values():
                    self.transport.send(xmlout.def_vector(vector))
            else:
                vector = self._vectors.get(name)
                if vector is not None:
                    self.transport.send(xmlout.def_vector(vector))

    def handle_new(self, kind: str, name: str, items: Sequence[tuple[str, ...]]) -> None:
        """A client's new{kind}Vector. Never raises: refusals become Alert replies.

        ``items`` are ``(element_name, text)``; for BLOBs ``(element_name, base64, format)``.
        """
        with self.lock:
            vector = self._vectors.get(name)
            if vector is None:
                self.log(f"Property {name} is not defined in {self.name}.", "ERROR")
                return
            if vector.kind != kind:
                self._refuse(vector, f"{name} is a {vector.kind} property, not {kind}.")
                return
            if vector.perm is Perm.RO:
                self._refuse(vector, f"Cannot set read-only property {name}")
                return
            try:
                values = vector.parse_new(items)
            except PropertyError as exc:
                self._refuse(vector, str(exc))
                return
            if not items:
                # A new*Vector with no element of its kind (found by the hostile-input
                # tests): handlers read the elements they need, and an empty request
                # reached them as a KeyError ("internal error"). libindi hands drivers
                # n=0 here; nothing sensible can follow from it, so refuse it.
                self._refuse(vector, f"{name}: the request holds no {kind} element; nothing changed.")
                return
            try:
                if vector.handler is not None:
                    vector.handler(vector, values)
                else:
                    self.accept(vector, values)
            except Exception as exc:  # a handler bug must not kill the reader thread
                _log.exception("handler of %s.%s failed", self.name, name)
                try:
                    self._refuse(vector, f"internal error: {type(exc).__name__}: {exc}")
                except Exception:
                    _log.exception("could not report the failure of %s.%s", self.name, name)

    def _refuse(self, vector: Vector, text: str) -> None:
        """Re-send the unchanged values with state Alert and the reason."""
        vector.state = State.ALERT
        self.update(vector, message=text)

    def on_snoop(self, element: ET.Element) -> None:
        """Hook for set*/def*/delProperty/message from other devices (default: ignore)."""
