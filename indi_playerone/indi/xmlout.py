"""Serialisation of INDI messages to bytes.

Every message is one complete top-level element ending in a newline, ready for
``Transport.send``. Attributes are single-quoted like libindi's output; every
attribute value and every text goes through :func:`xml.sax.saxutils.escape`
(never formatted in unescaped), and characters that XML 1.0 cannot carry at all
(control characters, lone surrogates, U+FFFE/U+FFFF) are replaced by U+FFFD so
that the output is well-formed whatever a device message contains.

Whitespace that an XML parser would normalise is written as character
references (``&#10;`` in attributes, ``&#13;`` everywhere) so labels and texts
read back exactly. Element text is written without indentation: lilxml and
ElementTree both read ``<oneText>value</oneText>`` unchanged.

BLOB payloads are not serialised here: the transport streams them.
"""
from __future__ import annotations

import re
import time
from typing import Iterable
from xml.sax.saxutils import escape

from .properties import (
    BlobVector, LightVector, Number, NumberVector, State, SwitchVector, TextVector, Vector,
)
from .sexagesimal import format_number

__all__ = [
    "PROTOCOL_VERSION", "timestamp", "xml_safe", "def_vector", "set_vector", "new_vector",
    "del_property", "message", "get_properties", "ping_reply", "ping_request",
]

PROTOCOL_VERSION = "1.7"

# Characters outside XML 1.0's Char production. Python str may also hold lone
# surrogates (from surrogateescape decoding), which cannot be encoded to UTF-8.
_INVALID_XML_RE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_ATTR_ENTITIES = {"'": "&apos;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_TEXT_ENTITIES = {"\r": "&#13;"}


def timestamp(t: float | None = None) -> str:
    """INDI timestamp ``YYYY-MM-DDTHH:MM:SS`` in UTC (``t``: epoch seconds, default now)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 forbids by U+FFFD."""
    return _INVALID_XML_RE.sub("\ufffd", text)


def _attr(value: object) -> str:
    return escape(xml_safe(str(value)), _ATTR_ENTITIES)


def quote_attr(value: object) -> str:
    """`value` as a complete single-quoted attribute value (``'…'``), escaped as above."""
    return f"'{_attr(value)}'"


def _text(value: object) -> str:
    return escape(xml_safe(str(value)), _TEXT_ENTITIES)


def _attrs(pairs: Iterable[tuple[str, object]]) -> str:
    """`` name='value'`` for every pair whose value is not None."""
    return "".join(f" {k}='{_attr(v)}'" for k, v in pairs if v is not None)


def _num(value: float) -> str:
    return format_number(value)


def _state(state: State | str) -> str:
    return State(state).value


def _vector_attrs(vector: Vector, message: str | None, definition: bool) -> list[tuple[str, object]]:
    pairs: list[tuple[str, object]] = [("device", vector.device), ("name", vector.name)]
    if definition:
        pairs += [("label", vector.label), ("group", vector.group)]
    pairs.append(("state", _state(vector.state)))
    if definition and not isinstance(vector, LightVector):
        pairs.append(("perm", vector.perm.value))
    if definition and isinstance(vector, SwitchVector):
        pairs.append(("rule", vector.rule.value))
    if not isinstance(vector, LightVector):
        pairs.append(("timeout", _num(vector.timeout)))
    pairs.append(("timestamp", timestamp()))
    pairs.append(("message", message))
    return pairs


def _element_tag(prefix: str, vector: Vector) -> str:
    return f"{prefix}{vector.kind}"


def _number_limits(el: Number) -> list[tuple[str, object]]:
    return [("min", _num(el.min)), ("max", _num(el.max)), ("step", _num(el.step))]


def _children(vector: Vector, prefix: str, definition: bool, with_limits: bool) -> str:
    tag = _element_tag(prefix, vector)
    parts: list[str] = []
    for el in vector.elements.values():
        pairs: list[tuple[str, object]] = [("name", el.name)]
        if definition:
            pairs.append(("label", el.label))
        if isinstance(vector, NumberVector):
            if definition:
                pairs.append(("format", el.format))
            if definition or with_limits:
                pairs += _number_limits(el)
            body = _num(el.value)
        elif isinstance(vector, SwitchVector):
            body = "On" if el.on else "Off"
        elif isinstance(vector, TextVector):
            body = _text(el.value)
        elif isinstance(vector, LightVector):
            body = _state(el.state)
        else:  # BLOB definitions are empty; BLOB data never comes through here
            body = ""
        parts.append(f"<{tag}{_attrs(pairs)}>{body}</{tag}>\n")
    return "".join(parts)


def def_vector(vector: Vector, message: str | None = None) -> bytes:
    """``def*Vector`` with every element (labels, number format and limits)."""
    tag = _element_tag("def", vector) + "Vector"
    head = _attrs(_vector_attrs(vector, message, definition=True))
    body = _children(vector, "def", definition=True, with_limits=True)
    return f"<{tag}{head}>\n{body}</{tag}>\n".encode()


def set_vector(vector: Vector, message: str | None = None, with_limits: bool = False) -> bytes:
    """``set*Vector`` with every element's current value.

    Switches are sent in full (not only the On element as libindi does) so a
    client that missed an update still ends in the right state. ``with_limits``
    adds min/max/step to ``oneNumber`` (clients apply them as IUUpdateMinMax).
    For a BLOB vector this is a state-only update with no ``oneBLOB``: data goes
    through ``Transport.send_blob_vector``.
    """
    tag = _element_tag("set", vector) + "Vector"
    head = _attrs(_vector_attrs(vector, message, definition=False))
    body = "" if isinstance(vector, BlobVector) else _children(vector, "one", False, with_limits)
    return f"<{tag}{head}>\n{body}</{tag}>\n".encode()


def new_vector(vector: Vector, names: Iterable[str] | None = None) -> bytes:
    """``new*Vector`` as a client (or a saved config file) would send it.

    Used by tests and config files; ``names`` limits the elements sent. BLOB
    vectors are not supported (a driver never sends newBLOBVector).
    """
    if isinstance(vector, (BlobVector, LightVector)):
        raise TypeError(f"new{vector.kind}Vector is not supported")
    wanted = None if names is None else set(names)
    tag = _element_tag("new", vector) + "Vector"
    child = _element_tag("one", vector)
    parts = []
    for el in vector.elements.values():
        if wanted is not None and el.name not in wanted:
            continue
        if isinstance(vector, NumberVector):
            body = _num(el.value)
        elif isinstance(vector, SwitchVector):
            body = "On" if el.on else "Off"
        else:
            body = _text(el.value)
        parts.append(f"<{child}{_attrs([('name', el.name)])}>{body}</{child}>\n")
    head = _attrs([("device", vector.device), ("name", vector.name), ("timestamp", timestamp())])
    return f"<{tag}{head}>\n{''.join(parts)}</{tag}>\n".encode()


def del_property(device: str, name: str | None = None, message: str | None = None) -> bytes:
    """``delProperty``: one vector, or the whole device when ``name`` is None."""
    pairs = [("device", device), ("name", name), ("timestamp", timestamp()), ("message", message)]
    return f"<delProperty{_attrs(pairs)}/>\n".encode()


def message(device: str | None, text: str) -> bytes:
    """A log line for the client; ``device=None`` makes it a server-wide message."""
    pairs = [("device", device), ("timestamp", timestamp()), ("message", text)]
    return f"<message{_attrs(pairs)}/>\n".encode()


def get_properties(device: str | None = None, name: str | None = None) -> bytes:
    """``getProperties`` (a driver sends it to snoop another device)."""
    pairs = [("version", PROTOCOL_VERSION), ("device", device), ("name", name)]
    return f"<getProperties{_attrs(pairs)}/>\n".encode()


def ping_reply(uid: str) -> bytes:
    return f"<pingReply{_attrs([('uid', uid)])}/>\n".encode()


def ping_request(uid: str) -> bytes:
    return f"<pingRequest{_attrs([('uid', uid)])}/>\n".encode()
