"""Listing the devices of loaded SDK libraries: the loop the camera registry (``registry.py``) and
the wheel registry (``wheel_registry.py``) share. Each says how its library counts its devices and
reads one's properties, how a device is keyed, and how it is made."""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

__all__ = ["list_devices", "scan", "discover"]

log = logging.getLogger(__name__)

L = TypeVar("L")
P = TypeVar("P")
K = TypeVar("K", bound=Hashable)
D = TypeVar("D")


def list_devices(where: str, count: Callable[[], int], props: Callable[[int], P],
                 errors: type[Exception]) -> list[P] | None:
    """One library's devices now, in its order; None when listing failed (``count`` raised
    ``errors`` or answered a negative number). A device that cannot be read is left out: it was
    unplugged between the count and its call."""
    try:
        n = count()
    except errors as exc:
        log.debug("%s: listing failed: %s", where, exc)
        return None
    if n < 0:
        log.debug("%s: listing failed: the count is %d", where, n)
        return None
    found = []
    for index in range(n):
        try:
            found.append(props(index))
        except errors as exc:
            log.debug("%s: #%d: %s", where, index, exc)
    return found


def scan(libs: Iterable[L], listing: Callable[[L], list[P] | None],
         key: Callable[[L, P], K]) -> dict[K, P] | None:
    """Every device present now, by key, in the libraries' order (enumeration calls only: no open
    device is disturbed). None when a library's listing failed: a caller comparing lists must
    not take that for "every device is gone"."""
    present: dict[K, P] = {}
    for lib in libs:
        found = listing(lib)
        if found is None:
            return None
        for props in found:
            present[key(lib, props)] = props
    return present


def discover(libs: Iterable[L], listing: Callable[[L], list[P] | None],
             config_error: Callable[[L], str | None], make: Callable[[L, P], D],
             describe: Callable[[L], str], noun: str) -> list[D]:
    """Each library's devices, made, the libraries' order kept. ``ValueError`` with the words of
    what a simulated library's scan found wrong with its configuration; a library whose listing
    failed is logged (``describe(lib)`` names it, ``noun`` its devices) and skipped."""
    devices: list[D] = []
    for lib in libs:
        found = listing(lib)
        problem = config_error(lib)
        if problem:
            raise ValueError(problem)
        if found is None:
            log.error("%s: listing %s failed", describe(lib), noun)
            continue
        devices += [make(lib, props) for props in found]
        log.debug("%s: %d %s", describe(lib), len(found), noun)
    return devices
