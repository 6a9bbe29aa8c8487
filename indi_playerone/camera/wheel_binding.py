"""The Phoenix filter wheel SDK (``libPlayerOnePW``) bound with cffi in ABI mode: marshalling only.

The wheel's API (``PlayerOnePW.h``; ``docs/upstream-facts.md`` section 9) takes ints, int pointers,
char buffers and one plain structure, with no unions or ``long``s whose size varies, so cffi's ABI
mode calls it directly, with no C shim to build: :class:`PwLibrary` ``dlopen``s a file, checks that
every function is there, and turns each non-zero ``PWErrors`` into :class:`WheelError` carrying the
function's name, the raw code and the SDK's own text (``POAGetPWErrorString``). cffi releases the
GIL around every call. Serialising the calls of one wheel is the backend's job
(:mod:`.wheel_backend`); this module holds no state but the library.

The same class loads the vendor's library and the simulated one (``libPlayerOneCameraSim.so``
exports the wheel API too); :attr:`PwLibrary.simulated` tells them apart by the simulator's own
``SimPOA_GetPWConfigError``.
"""
from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Any

from cffi import FFI

from .interface import CameraError
from .sdk_types import SdkCallError

__all__ = ["PwError", "PwState", "WheelProps", "WheelError", "WheelLoadError", "WheelNotFound",
           "WheelMissingSymbols", "PwLibrary", "MAX_NAME_LEN"]

#: Custom names and filter aliases are shorter than this, in bytes (``PlayerOnePW.h``).
MAX_NAME_LEN = 24

_CDEF = """
typedef struct { char Name[64]; int Handle; int PositionCount; char SN[32]; char Reserved[32]; } PWProperties;
int POAGetPWCount(void);
int POAGetPWProperties(int index, PWProperties *pProp);
int POAGetPWPropertiesByHandle(int Handle, PWProperties *pProp);
int POAOpenPW(int Handle);
int POAClosePW(int Handle);
int POAGetCurrentPosition(int Handle, int *pPosition);
int POAGotoPosition(int Handle, int position);
int POAGetOneWay(int Handle, int *pIsOneWay);
int POASetOneWay(int Handle, int isOneWay);
int POAGetPWState(int Handle, int *pPWState);
int POAGetPWFilterAlias(int Handle, int position, char *pAliasBuf, int bufLen);
int POASetPWFilterAlias(int Handle, int position, const char *pAliasBuf, int bufLen);
int POAGetPWFocusOffset(int Handle, int position, int *pFocusOffset);
int POASetPWFocusOffset(int Handle, int position, int focusOffset);
int POAGetPWCustomName(int Handle, char *pNameBuf, int bufLen);
int POASetPWCustomName(int Handle, const char *pNameBuf, int bufLen);
int POAResetPW(int Handle);
const char *POAGetPWErrorString(int err);
int POAGetPWAPIVer(void);
const char *POAGetPWSDKVer(void);
int SimPOA_GetPWConfigError(char *buf, int size);
"""
_ffi = FFI()
_ffi.cdef(_CDEF)

#: Every function of the vendor's header: a library without one of them is refused.
REQUIRED = (
    "POAGetPWCount", "POAGetPWProperties", "POAGetPWPropertiesByHandle", "POAOpenPW", "POAClosePW",
    "POAGetCurrentPosition", "POAGotoPosition", "POAGetOneWay", "POASetOneWay", "POAGetPWState",
    "POAGetPWFilterAlias", "POASetPWFilterAlias", "POAGetPWFocusOffset", "POASetPWFocusOffset",
    "POAGetPWCustomName", "POASetPWCustomName", "POAResetPW", "POAGetPWErrorString",
    "POAGetPWAPIVer", "POAGetPWSDKVer",
)


class PwError(enum.IntEnum):
    """``PWErrors`` of ``PlayerOnePW.h``."""

    OK = 0
    INVALID_INDEX = 1
    INVALID_HANDLE = 2
    INVALID_ARGU = 3
    NOT_OPENED = 4
    NOT_FOUND = 5
    IS_MOVING = 6
    POINTER = 7
    OPERATION_FAILED = 8
    FIRMWARE_ERROR = 9


class PwState(enum.IntEnum):
    """``PWState`` of ``PlayerOnePW.h``."""

    CLOSED = 0
    OPENED = 1
    MOVING = 2


class WheelError(SdkCallError):
    """A wheel SDK call failed (``PWErrors``)."""

    codes, prefix = PwError, "PW_ERROR_"

    @property
    def moving(self) -> bool:
        return self.code == PwError.IS_MOVING

    @property
    def gone(self) -> bool:
        """The wheel was removed (or stopped answering as a removed one does)."""
        return self.code in (PwError.NOT_FOUND, PwError.OPERATION_FAILED, PwError.INVALID_HANDLE)


class WheelLoadError(CameraError):
    """The wheel SDK library could not be loaded."""


class WheelNotFound(WheelLoadError):
    """No loadable ``libPlayerOnePW`` (the message says what to install)."""


class WheelMissingSymbols(WheelLoadError):
    """The library loaded but lacks wheel functions; ``missing`` names them."""

    def __init__(self, path: str, missing: list[str]) -> None:
        self.path, self.missing = path, missing
        super().__init__(f"{path} is not a Player One filter wheel SDK: it lacks {', '.join(missing)}")


@dataclass(frozen=True)
class WheelProps:
    """``PWProperties``: ``name`` as the SDK writes it (with `` [<custom name>]`` once one is set)."""

    name: str
    handle: int
    slots: int
    serial: str


def _text(buf: Any) -> str:
    return _ffi.string(buf).decode("utf-8", "replace")


class PwLibrary:
    """One loaded wheel SDK (use :func:`.wheel_loader.load_pw_sdk`, which caches them). The
    library stays mapped until the process ends."""

    def __init__(self, path: str) -> None:
        try:
            lib = _ffi.dlopen(path, _ffi.RTLD_NOW | _ffi.RTLD_LOCAL)
        except OSError as exc:
            raise WheelLoadError(str(exc)) from None
        missing = [name for name in REQUIRED if not self._has(lib, name)]
        if missing:
            raise WheelMissingSymbols(path, missing)
        self._lib, self.path = lib, path
        self.simulated = self._has(lib, "SimPOA_GetPWConfigError")
        #: Enumeration (count, then properties by index) is one step: two threads interleaving
        #: would read another scan's indices.
        self.enumeration_lock = threading.Lock()

    @staticmethod
    def _has(lib: Any, name: str) -> bool:
        try:
            getattr(lib, name)
        except AttributeError:
            return False
        return True

    # -- facts about the library ----------------------------------------------------------
    @property
    def version(self) -> str:
        return _text(self._lib.POAGetPWSDKVer())

    @property
    def api_version(self) -> int:
        return int(self._lib.POAGetPWAPIVer())

    def error_text(self, code: int) -> str:
        text = self._lib.POAGetPWErrorString(code)
        return _text(text) if text != _ffi.NULL else f"error {code}"

    def check(self, func: str, code: int) -> None:
        if code != 0:
            raise WheelError(func, int(code), self.error_text(code))

    def config_error(self) -> str:
        """What the simulated library found wrong with its configuration ("" for none, and
        always for the vendor's library)."""
        if not self.simulated:
            return ""
        buf = _ffi.new("char[1024]")
        return _text(buf) if self._lib.SimPOA_GetPWConfigError(buf, 1024) > 0 else ""

    # -- enumeration ----------------------------------------------------------------------
    def count(self) -> int:
        return int(self._lib.POAGetPWCount())

    def props(self, index: int) -> WheelProps:
        p = _ffi.new("PWProperties *")
        self.check("POAGetPWProperties", self._lib.POAGetPWProperties(index, p))
        return self._props(p)

    def props_by_handle(self, handle: int) -> WheelProps:
        p = _ffi.new("PWProperties *")
        self.check("POAGetPWPropertiesByHandle", self._lib.POAGetPWPropertiesByHandle(handle, p))
        return self._props(p)

    @staticmethod
    def _props(p: Any) -> WheelProps:
        return WheelProps(_text(p.Name), int(p.Handle), int(p.PositionCount), _text(p.SN))

    # -- one wheel ------------------------------------------------------------------------
    def open(self, handle: int) -> None:
        self.check("POAOpenPW", self._lib.POAOpenPW(handle))

    def close(self, handle: int) -> None:
        self.check("POAClosePW", self._lib.POAClosePW(handle))

    def position(self, handle: int) -> int:
        """0-based; :class:`WheelError` with ``moving`` while the wheel turns."""
        out = _ffi.new("int *")
        self.check("POAGetCurrentPosition", self._lib.POAGetCurrentPosition(handle, out))
        return int(out[0])

    def goto(self, handle: int, position: int) -> None:
        self.check("POAGotoPosition", self._lib.POAGotoPosition(handle, position))

    def one_way(self, handle: int) -> bool:
        out = _ffi.new("int *")
        self.check("POAGetOneWay", self._lib.POAGetOneWay(handle, out))
        return bool(out[0])

    def set_one_way(self, handle: int, on: bool) -> None:
        self.check("POASetOneWay", self._lib.POASetOneWay(handle, 1 if on else 0))

    def state(self, handle: int) -> PwState:
        out = _ffi.new("int *")
        self.check("POAGetPWState", self._lib.POAGetPWState(handle, out))
        return PwState(out[0])

    def alias(self, handle: int, position: int) -> str:
        buf = _ffi.new("char[]", 2 * MAX_NAME_LEN)
        self.check("POAGetPWFilterAlias",
                   self._lib.POAGetPWFilterAlias(handle, position, buf, 2 * MAX_NAME_LEN))
        return _text(buf)

    def set_alias(self, handle: int, position: int, text: str) -> None:
        data = text.encode("utf-8")
        self.check("POASetPWFilterAlias", self._lib.POASetPWFilterAlias(handle, position, data, len(data)))

    def focus_offset(self, handle: int, position: int) -> int:
        out = _ffi.new("int *")
        self.check("POAGetPWFocusOffset", self._lib.POAGetPWFocusOffset(handle, position, out))
        return int(out[0])

    def set_focus_offset(self, handle: int, position: int, offset: int) -> None:
        self.check("POASetPWFocusOffset", self._lib.POASetPWFocusOffset(handle, position, offset))

    def custom_name(self, handle: int) -> str:
        buf = _ffi.new("char[]", 2 * MAX_NAME_LEN)
        self.check("POAGetPWCustomName", self._lib.POAGetPWCustomName(handle, buf, 2 * MAX_NAME_LEN))
        return _text(buf)

    def set_custom_name(self, handle: int, text: str) -> None:
        data = text.encode("utf-8")
        self.check("POASetPWCustomName", self._lib.POASetPWCustomName(handle, data, len(data)))

    def reset(self, handle: int) -> None:
        self.check("POAResetPW", self._lib.POAResetPW(handle))
