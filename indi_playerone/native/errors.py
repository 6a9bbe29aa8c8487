"""The C core's error codes (``native/include/poa_common.h``) as Python exceptions."""
from __future__ import annotations

from indi_playerone._native import lib

_ERRORS = {
    lib.POA_EINVAL: "invalid argument",
    lib.POA_ENOMEM: "out of memory",
    lib.POA_ETIMEDOUT: "timed out",
    lib.POA_ECLOSED: "ring closed",
    lib.POA_EIO: "I/O error",
    lib.POA_EAGAIN: "no slot available",
    lib.POA_EFRAME: "frame rejected",
    lib.POA_ESTATE: "call not valid in this state",
}


class NativeError(RuntimeError):
    """A C core call returned a negative code; `code` keeps the raw value."""

    def __init__(self, func: str, code: int, detail: str = "") -> None:
        self.func, self.code = func, code
        msg = f"{func}: {_ERRORS.get(code, 'error')} ({code})"
        super().__init__(msg + (f": {detail}" if detail else ""))


class RingClosed(NativeError):
    """The ring was closed and nothing is left to deliver."""


class RingTimeout(NativeError, TimeoutError):
    """No frame arrived within the timeout."""


def check(func: str, rc: int) -> int:
    """rc when it is not negative; otherwise the matching exception."""
    if rc >= 0:
        return rc
    if rc == lib.POA_ECLOSED:
        raise RingClosed(func, rc)
    if rc == lib.POA_ETIMEDOUT:
        raise RingTimeout(func, rc)
    raise NativeError(func, rc)
