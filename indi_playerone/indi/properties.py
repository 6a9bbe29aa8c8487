"""The INDI property model as plain data, and validation of client input.

A *vector* (INDI "property") is a named group of *elements* of one kind. Vectors
are dataclasses so the camera layer can declare them as tables; the behaviour that
belongs to a vector (parsing a client's ``new*Vector``, applying the result) lives
here so that :mod:`indi_playerone.indi.device` only routes.

Parsing (:meth:`parse_new`) never mutates the vector; :meth:`apply` does. The
error texts of :class:`PropertyError` are shown to the user as the ``message`` of
the Alert reply, so they are written for people and follow libindi's wording.
Permissions are not checked here: :class:`~indi_playerone.indi.device.Device` does.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, ClassVar, Generic, Iterator, Mapping, Sequence, TypeVar

from .sexagesimal import parse_number

__all__ = [
    "State", "Perm", "Rule", "PropertyError",
    "Number", "Switch", "Text", "Light", "Blob",
    "Vector", "NumberVector", "SwitchVector", "TextVector", "LightVector", "BlobVector",
]


class State(str, Enum):
    """Vector state; the value is the wire spelling."""

    IDLE = "Idle"
    OK = "Ok"
    BUSY = "Busy"
    ALERT = "Alert"


class Perm(str, Enum):
    """Client permission on a vector (lights have none on the wire)."""

    RO = "ro"
    WO = "wo"
    RW = "rw"


class Rule(str, Enum):
    """Switch vector rule."""

    ONE_OF_MANY = "OneOfMany"
    AT_MOST_ONE = "AtMostOne"
    ANY_OF_MANY = "AnyOfMany"


class PropertyError(ValueError):
    """Client input refused; ``str(exc)`` is the user-facing message."""


# ---------------------------------------------------------------- elements

@dataclass
class Number:
    name: str
    label: str
    format: str = "%g"
    min: float = 0.0
    max: float = 0.0
    step: float = 0.0
    value: float = 0.0


@dataclass
class Switch:
    name: str
    label: str
    on: bool = False


@dataclass
class Text:
    name: str
    label: str
    value: str = ""


@dataclass
class Light:
    name: str
    label: str
    state: State = State.IDLE

    def __post_init__(self) -> None:
        self.state = State(self.state)


@dataclass
class Blob:
    """A BLOB element carries no value here: payloads go through the transport."""

    name: str
    label: str


E = TypeVar("E", Number, Switch, Text, Light, Blob)

Handler = Callable[[Any, dict], None]
"""``handler(vector, values)``: called with the parsed result of a client's new*Vector."""


# ---------------------------------------------------------------- vectors

@dataclass(eq=True)
class Vector(Generic[E]):
    """Fields common to every vector. ``elements`` may be given as a list; it is
    stored as an insertion-ordered dict name -> element (wire order)."""

    device: str
    name: str
    label: str = ""
    group: str = ""
    perm: Perm = Perm.RW
    state: State = State.IDLE
    timeout: float = 0.0
    elements: Any = field(default_factory=dict)
    handler: Handler | None = field(default=None, compare=False, repr=False)
    message: str | None = field(default=None, compare=False)

    kind: ClassVar[str] = ""           # "Number", "Switch", ... as in the tag names
    element_type: ClassVar[type] = object
    #: The element's field that holds its value, and what makes a value given by the driver
    #: or a client that field's type.
    value_field: ClassVar[str] = "value"
    convert: ClassVar[Callable[[Any], Any]] = staticmethod(lambda value: value)

    def __post_init__(self) -> None:
        self.perm = Perm(self.perm)
        self.state = State(self.state)
        items = self.elements.values() if isinstance(self.elements, Mapping) else self.elements
        elements: dict[str, E] = {}
        for el in items:
            if not isinstance(el, self.element_type):
                raise TypeError(f"{type(self).__name__} {self.name}: {el!r} is not a {self.element_type.__name__}")
            if el.name in elements:
                raise ValueError(f"{type(self).__name__} {self.name}: duplicate element {el.name}")
            elements[el.name] = el
        self.elements = elements

    def __getitem__(self, name: str) -> E:
        return self.elements[name]

    def __contains__(self, name: object) -> bool:
        return name in self.elements

    def __iter__(self) -> Iterator[E]:
        return iter(self.elements.values())

    def __len__(self) -> int:
        return len(self.elements)

    # -- client input
    def parse_new(self, items: Sequence[tuple[str, ...]]) -> dict:
        """Validate a client's new*Vector items; returns the values to apply."""
        raise PropertyError(f"{self.name} cannot be set by a client.")

    def values(self) -> dict[str, Any]:
        """{element name: value} (a number, a text, a switch's on, a light's state)."""
        return {el.name: getattr(el, self.value_field) for el in self.elements.values()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            setattr(self.elements[name], self.value_field, self.convert(value))

    def apply(self, values: Mapping[str, Any]) -> None:
        """Store values as returned by :meth:`parse_new`."""
        self.set_values(values)

    def _check_names(self, items: Sequence[tuple[str, ...]]) -> None:
        seen: set[str] = set()
        for item in items:
            name = item[0]
            if name not in self.elements:
                raise PropertyError(f"{self.name} has no element {name}.")
            if name in seen:
                raise PropertyError(f"{self.name}: element {name} was sent twice.")
            seen.add(name)


@dataclass(eq=True)
class NumberVector(Vector[Number]):
    kind: ClassVar[str] = "Number"
    element_type: ClassVar[type] = Number
    convert: ClassVar[Callable[[Any], Any]] = float

    def set_limits(self, name: str, min: float, max: float, step: float | None = None) -> None:
        el = self.elements[name]
        el.min, el.max = float(min), float(max)
        if step is not None:
            el.step = float(step)

    def parse_new(self, items: Sequence[tuple[str, ...]]) -> dict[str, float]:
        """Numbers: sexagesimal or C float, finite, inside [min, max] when min < max
        (libindi treats min >= max as "no limits"). Returns only the sent elements."""
        self._check_names(items)
        out: dict[str, float] = {}
        for item in items:
            name, text = item[0], item[1]
            el = self.elements[name]
            try:
                value = parse_number(text)
            except ValueError:
                raise PropertyError(f"{name} value {text.strip()!r} is not a valid number.") from None
            if el.min < el.max and not (el.min <= value <= el.max):
                raise PropertyError(
                    f"{name} value {value:g} is out of range [{el.min:g}, {el.max:g}].")
            out[name] = value
        return out


@dataclass(eq=True)
class SwitchVector(Vector[Switch]):
    rule: Rule = Rule.ONE_OF_MANY

    kind: ClassVar[str] = "Switch"
    element_type: ClassVar[type] = Switch
    value_field: ClassVar[str] = "on"
    convert: ClassVar[Callable[[Any], Any]] = bool

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rule = Rule(self.rule)

    def on_names(self) -> list[str]:
        return [s.name for s in self.elements.values() if s.on]

    states = Vector.values
    set_states = Vector.set_values

    def set_only(self, name: str | None) -> None:
        """Turn ``name`` on and every other element off (None: all off)."""
        if name is not None and name not in self.elements:
            raise KeyError(name)
        for s in self.elements.values():
            s.on = s.name == name

    def reset(self) -> None:
        self.set_only(None)

    def parse_new(self, items: Sequence[tuple[str, ...]]) -> dict[str, bool]:
        """Switch semantics as libindi's IUUpdateSwitch: OneOfMany and AtMostOne
        start from all Off (clients send only the element turned On); AnyOfMany
        merges over the current states. Returns the full resulting map."""
        self._check_names(items)
        sent: dict[str, bool] = {}
        for item in items:
            name, text = item[0], item[1].strip()
            if text == "On":
                sent[name] = True
            elif text == "Off":
                sent[name] = False
            else:
                raise PropertyError(f"{name} switch value {text!r} must be On or Off.")
        if self.rule is Rule.ANY_OF_MANY:
            result = self.states()
        else:
            result = dict.fromkeys(self.elements, False)
        result.update(sent)
        n_on = sum(result.values())
        if self.rule is Rule.ONE_OF_MANY and n_on != 1:
            raise PropertyError(f"{self.name}: exactly one switch must be On (got {n_on}).")
        if self.rule is Rule.AT_MOST_ONE and n_on > 1:
            raise PropertyError(f"{self.name}: at most one switch may be On (got {n_on}).")
        return result


@dataclass(eq=True)
class TextVector(Vector[Text]):
    kind: ClassVar[str] = "Text"
    element_type: ClassVar[type] = Text
    convert: ClassVar[Callable[[Any], Any]] = str

    def parse_new(self, items: Sequence[tuple[str, ...]]) -> dict[str, str]:
        self._check_names(items)
        return {item[0]: item[1] for item in items}


@dataclass(eq=True)
class LightVector(Vector[Light]):
    """Lights are read-only by nature and carry no perm on the wire; ``perm`` is
    fixed at ``ro`` (not an argument) so a client ``new`` is refused like any read-only vector."""

    perm: Perm = field(default=Perm.RO, init=False)

    kind: ClassVar[str] = "Light"
    element_type: ClassVar[type] = Light
    value_field: ClassVar[str] = "state"
    convert: ClassVar[Callable[[Any], Any]] = State

    states = Vector.values
    set_states = Vector.set_values


@dataclass(eq=True)
class BlobVector(Vector[Blob]):
    kind: ClassVar[str] = "BLOB"
    element_type: ClassVar[type] = Blob

    def parse_new(self, items: Sequence[tuple[str, ...]]) -> dict[str, tuple[bytes, str]]:
        """Items are ``(name, base64_text, format)`` (format may be omitted).

        Whitespace inside the base64 is allowed (libindi wraps at 72 columns);
        anything else that is not base64 is refused rather than silently dropped.
        """
        self._check_names(items)
        out: dict[str, tuple[bytes, str]] = {}
        for item in items:
            name, text = item[0], item[1]
            fmt = item[2] if len(item) > 2 else ""
            try:
                data = base64.b64decode("".join(text.split()), validate=True)
            except (binascii.Error, ValueError):
                raise PropertyError(f"{name}: BLOB data is not valid base64.") from None
            out[name] = (data, fmt)
        return out

    def apply(self, values: Mapping[str, Any]) -> None:
        """BLOB elements keep no value; uploads are the handler's business."""

