"""Device configurations in libindi's file format and place.

File: `$INDICONFIG` if set (indiserver's `-c`), else `~/.indi/<device>_config.xml`; the
first save also leaves `<file>.default`, which CONFIG_DEFAULT loads. Format (as libindi
writes it): an `<INDIDriver>` root holding one `new…Vector` per saved property, switches
with all their elements. So a config saved by the C++ driver for the same device name
loads into ours: properties and elements we do not have are skipped.

Files are written to a temporary name, synced and renamed: a crash never leaves half a
config. Reading goes through the protocol package's bounded reader (no DTDs, no entities).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable
from xml.sax.saxutils import escape

from . import xmlout
from .xmlreader import ParsedElement, XmlStreamReader


# Largest config file we read: real ones are a few kB.
MAX_CONFIG_BYTES = 4 * 1024 * 1024


class ConfigError(Exception):
    """User-facing message."""


def config_path(device: str) -> Path:
    explicit = os.environ.get("INDICONFIG")
    if explicit:
        return Path(explicit)
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".indi" / f"{device}_config.xml"


def default_path(path: Path) -> Path:
    return path.with_name(path.name + ".default")


ConfigEntry = tuple[str, str, list[tuple[str, str]]]  # (kind, property name, [(element, text)])


def _entries(root: ET.Element, device: str) -> list[ConfigEntry]:
    out: list[ConfigEntry] = []
    for vector in root:
        tag = vector.tag
        if not (tag.startswith("new") and tag.endswith("Vector")):
            continue
        if vector.get("device") not in (None, device) or not vector.get("name"):
            continue
        kind = tag[3:-6]
        items = [(one.get("name", ""), (one.text or "").strip()) for one in vector if one.get("name")]
        out.append((kind, vector.get("name", ""), items))
    return out


def read_config(path: Path, device: str) -> list[ConfigEntry]:
    """The saved properties of `device` in `path`, in file order."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} is {size} bytes; refusing to read a config that large")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"There is no saved configuration ({path}).") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}") from None
    # The new*Vector elements sit inside <INDIDriver>: no resynchronising on them here.
    reader = XmlStreamReader(max_element_bytes=MAX_CONFIG_BYTES, resync_names=frozenset())
    body = data.split(b"?>", 1)[1] if data.lstrip().startswith(b"<?xml") else data
    events = reader.feed(body) + reader.close()
    roots = [e.element for e in events if isinstance(e, ParsedElement)]
    if not roots or roots[0].tag != "INDIDriver":
        raise ConfigError(f"{path} is not an INDI configuration file")
    return _entries(roots[0], device)


def render(vectors: Iterable[Any]) -> bytes:
    parts = [b"<INDIDriver>\n"]
    for vector in vectors:
        parts.append(xmlout.new_vector(vector))
        parts.append(b"\n")
    parts.append(b"</INDIDriver>\n")
    return b"".join(parts)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_config(path: Path, vectors: Iterable[Any]) -> None:
    """Write every given vector; the first save also writes the `.default` file."""
    data = render(vectors)
    try:
        _write_atomic(path, data)
        if not default_path(path).exists():
            _write_atomic(default_path(path), data)
    except OSError as exc:
        raise ConfigError(f"Cannot save the configuration to {path}: {exc.strerror}") from None


def _render_entry(device: str, entry: ConfigEntry) -> bytes:
    """A saved property as read from a file, written back unchanged (values as text)."""
    kind, name, items = entry

    def attr(text: str) -> str:  # single-quoted, as libindi and xmlout write them
        return "'" + escape(text, {"'": "&apos;", '"': "&quot;"}) + "'"

    parts = "".join(f"<one{kind} name={attr(n)}>{escape(v)}</one{kind}>\n" for n, v in items)
    return (f"<new{kind}Vector device={attr(device)} name={attr(name)}>\n{parts}"
            f"</new{kind}Vector>\n").encode()


def replace_item(path: Path, device: str, vector: Any) -> None:
    """Write `vector` over its entry in the saved file (appended if it has none), the other
    entries unchanged: libindi's saveConfig(silent, name)."""
    parts, replaced = [b"<INDIDriver>\n"], False
    for entry in read_config(path, device):
        if entry[1] == vector.name:
            parts.append(xmlout.new_vector(vector))
            replaced = True
        else:
            parts.append(_render_entry(device, entry))
    if not replaced:
        parts.append(xmlout.new_vector(vector))
    parts.append(b"</INDIDriver>\n")
    _write_atomic(path, b"".join(parts))


def purge_config(path: Path) -> bool:
    """Delete the saved configuration (not the .default). False if there was none."""
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(f"Cannot delete {path}: {exc.strerror}") from None
