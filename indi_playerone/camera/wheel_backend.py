"""One Phoenix filter wheel: the SDK calls of one wheel, serialised by one lock (no INDI here).

The wheel's motion is the SDK's: :meth:`PhoenixWheel.goto` returns at once and the wheel turns on
its own; :meth:`position` answers None while it turns (the SDK's ``PW_ERROR_IS_MOVING``). Waiting
for the end of a move is the driver's business (``wheel/motion.py``), never a sleep in here.
Positions are the SDK's, 0-based; the driver shows them 1-based, as INDI's FILTER_SLOT.

What the wheel stores in its own memory (filter aliases, focus offsets, the custom name) is read
and written through here, so it travels with the wheel from one computer to the next.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from .wheel_binding import MAX_NAME_LEN, PwLibrary, PwState, WheelError, WheelProps

__all__ = ["PhoenixWheel", "WheelKey", "WheelInfo", "check_name"]


@dataclass(frozen=True, order=True)
class WheelKey:
    """A wheel as the driver tells wheels apart: which library, and that library's handle."""

    library: str
    handle: int


@dataclass(frozen=True)
class WheelInfo:
    """What a wheel is, read once: ``model`` is the SDK's name without the custom name."""

    model: str
    custom_name: str
    sdk_name: str  # as PWProperties.Name writes it: "<model> [<custom name>]" once one is set
    serial: str
    slots: int
    simulated: bool


def split_name(sdk_name: str) -> tuple[str, str]:
    """``("Phoenix 7x36mm", "Triplet")`` of ``"Phoenix 7x36mm [Triplet]"``: the SDK appends the
    custom name in brackets (with a space since SDK 1.2.0, without before)."""
    if sdk_name.endswith("]") and "[" in sdk_name:
        base, _, custom = sdk_name[:-1].rpartition("[")
        return base.rstrip(), custom
    return sdk_name, ""


def check_name(text: str, what: str) -> str | None:
    """Why the wheel would refuse ``text`` as a filter alias or custom name, or None: it keeps
    fewer than ``MAX_NAME_LEN`` (24) bytes and, being one line, no line break."""
    size = len(text.encode("utf-8"))
    if size >= MAX_NAME_LEN:
        return f"{what} {text!r} is {size} bytes; the wheel keeps at most {MAX_NAME_LEN - 1}"
    if "\n" in text or "\r" in text:
        return f"{what} {text!r} holds a line break"
    return None


class PhoenixWheel:
    """One wheel of a loaded SDK library. Every call holds this wheel's lock; none blocks for
    longer than the SDK call itself (a USB HID round trip)."""

    def __init__(self, sdk: PwLibrary, props: WheelProps) -> None:
        self.sdk, self.props = sdk, props
        self.key = WheelKey(sdk.path, props.handle)
        model, custom = split_name(props.name)
        self.info = WheelInfo(model, custom, props.name, props.serial, props.slots, sdk.simulated)
        self._lock = threading.Lock()
        self._handle = props.handle

    def _call(self, method: str, *args: object) -> object:
        with self._lock:
            return getattr(self.sdk, method)(self._handle, *args)

    # -- session ----------------------------------------------------------------------------
    def open(self) -> None:
        self._call("open")

    def close(self) -> None:
        self._call("close")

    def refresh_props(self) -> WheelProps:
        return self._call("props_by_handle")  # type: ignore[return-value]

    # -- motion ----------------------------------------------------------------------------
    def position(self) -> int | None:
        """The 0-based position, or None while the wheel turns."""
        try:
            return self._call("position")  # type: ignore[return-value]
        except WheelError as exc:
            if exc.moving:
                return None
            raise

    def state(self) -> PwState:
        return self._call("state")  # type: ignore[return-value]

    def goto(self, position: int) -> None:
        self._call("goto", position)

    def reset(self) -> None:
        """``POAResetPW``: the self-check (a full turn to position 0); frees a stalled wheel and
        clears a firmware error."""
        self._call("reset")

    def one_way(self) -> bool:
        return self._call("one_way")  # type: ignore[return-value]

    def set_one_way(self, on: bool) -> None:
        self._call("set_one_way", on)

    # -- what the wheel stores ------------------------------------------------------------
    def aliases(self) -> list[str]:
        return [self._call("alias", p) for p in range(self.info.slots)]  # type: ignore[misc]

    def set_alias(self, position: int, text: str) -> None:
        self._call("set_alias", position, text)

    def focus_offsets(self) -> list[int]:
        return [self._call("focus_offset", p) for p in range(self.info.slots)]  # type: ignore[misc]

    def set_focus_offset(self, position: int, offset: int) -> None:
        self._call("set_focus_offset", position, offset)

    def custom_name(self) -> str:
        return self._call("custom_name")  # type: ignore[return-value]

    def set_custom_name(self, text: str) -> None:
        self._call("set_custom_name", text)
