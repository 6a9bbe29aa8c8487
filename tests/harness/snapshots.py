"""Plain data the test client hands out: vector snapshots, received BLOBs, exposure timelines.

No PyIndi here, so tests can annotate with these types without importing pyindi-client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ElementSnapshot", "PropertySnapshot", "ReceivedBlob", "ExposureTimeline", "Event"]


@dataclass(frozen=True)
class ElementSnapshot:
    """One element as last received.  ``value``: float (Number), bool (Switch), str (Text, Light
    state name), None (BLOB).  min/max/step/format only for numbers."""

    name: str
    label: str
    value: float | bool | str | None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    format: str | None = None


@dataclass(frozen=True)
class PropertySnapshot:
    """A vector as last defined or set: kind is Number/Switch/Text/Light/BLOB; perm ro/wo/rw; rule
    (switches only) OneOfMany/AtMostOne/AnyOfMany; state Idle/Ok/Busy/Alert."""

    device: str
    name: str
    kind: str
    group: str
    label: str
    perm: str
    rule: str | None
    timeout: float
    state: str
    elements: tuple[ElementSnapshot, ...]
    seq: int
    time: float

    def values(self) -> dict[str, Any]:
        return {e.name: e.value for e in self.elements}


@dataclass(frozen=True)
class ReceivedBlob:
    """A BLOB element as received.

    ``data`` is the private ``bytearray`` copy ``getblobdata()`` returns (measured for 105 MB: 68 ms;
    a further ``bytes()`` copy would add ~220 ms on the listener thread, delaying every later update,
    so we keep the bytearray).  ``size`` is the element's ``size`` attribute (uncompressed bytes).
    ``arrival`` is ``time.monotonic()`` at callback entry: libindiclient already holds the whole
    decoded BLOB then, and our copy has not started."""

    device: str
    name: str
    element: str
    data: bytearray
    format: str
    size: int
    arrival: float
    seq: int


@dataclass
class ExposureTimeline:
    """Client-side times (``time.monotonic()``) of one :meth:`IndiClient.expose`."""

    duration: float
    requested: float
    busy: float | None = None
    blob: float | None = None
    ok: float | None = None

    @property
    def exposure_end(self) -> float | None:
        """Defined as the first Busy seen after the request plus the exposure duration."""
        return None if self.busy is None else self.busy + self.duration


@dataclass
class Event:
    """One definition ("def"), update ("set") or deletion ("del") of a vector, in arrival order."""

    seq: int
    time: float
    device: str
    name: str
    what: str  # "def", "set", "del"
    state: str
