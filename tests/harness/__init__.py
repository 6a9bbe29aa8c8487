"""Test harness: a real Debian indiserver (:class:`IndiServer`) and a synchronous pyindi-client
wrapper (:class:`IndiClient`).  PyIndi is imported only when ``IndiClient`` is first used, so code
that needs just the server or the snapshot types runs where pyindi-client is not installed."""

from __future__ import annotations

from typing import Any

from .server import IndiServer, ProcessRef, descendant_processes, started_processes
from .snapshots import ElementSnapshot, ExposureTimeline, PropertySnapshot, ReceivedBlob

__all__ = [
    "IndiServer", "IndiClient", "ProcessRef", "descendant_processes", "started_processes",
    "ElementSnapshot", "ExposureTimeline", "PropertySnapshot", "ReceivedBlob",
]


def __getattr__(name: str) -> Any:
    if name == "IndiClient":
        from .client import IndiClient

        return IndiClient
    raise AttributeError(name)
