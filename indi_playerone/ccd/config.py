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

import logging
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable, Iterable
from xml.sax.saxutils import escape

from ..indi import xmlout
from ..indi.properties import State
from ..indi.xmlreader import ParsedElement, XmlStreamReader
from . import names as P

log = logging.getLogger(__name__)

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


def purge_config(path: Path) -> bool:
    """Delete the saved configuration (not the .default). False if there was none."""
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(f"Cannot delete {path}: {exc.strerror}") from None


class ConfigMixin:
    """CONFIG_PROCESS and the loading of saved settings, mixed into PlayerOneCCD (uses its
    `always`, `props`, `lock`, `handle_new`, `update`, `_alert`)."""

    def saved_vectors(self) -> list[Any]:
        vectors = list(self.always.values()) + list(self.props.values())
        return [v for v in vectors if P.SPECS[v.name].saved]

    def load_config(self, path: Path | None = None,
                    only: Callable[[str], bool] = lambda name: True) -> int:
        """Apply a saved configuration as if a client had sent it (same validation).
        Returns how many properties were applied; ConfigError if there is no file."""
        path = path or config_path(self.name)
        applied = 0
        with self.lock:
            self._config_loading = True  # no save_config_item while loading (libindi)
            try:
                for kind, name, items in read_config(path, self.name):
                    vector = self.always.get(name) or self.props.get(name)
                    if vector is None or not P.SPECS[name].saved or not only(name):
                        continue  # not ours (e.g. a C++ driver property we do not have yet)
                    known = [(n, v) for n, v in items if n in vector.elements]
                    if known and kind == vector.kind:
                        self.handle_new(kind, name, known)
                        applied += 1
            finally:
                self._config_loading = False
        return applied

    def save_config_item(self, name: str) -> None:
        """libindi's saveConfig(silent, name), which the C++ driver calls after each change of
        CCD_CONTROLS and SENSOR_MODE: that property replaces its entry in the saved file, the
        others stay as they are; without a file, a full save. Failures are only logged."""
        with self.lock:
            vector = self.always.get(name) or self.props.get(name)
            if getattr(self, "_config_loading", False) or vector is None:
                return
            path = config_path(self.name)
            try:
                if not path.exists():
                    write_config(path, self.saved_vectors())
                    return
                parts, replaced = [b"<INDIDriver>\n"], False
                for entry in read_config(path, self.name):
                    if entry[1] == name:
                        parts.append(xmlout.new_vector(vector))
                        replaced = True
                    else:
                        parts.append(_render_entry(self.name, entry))
                if not replaced:
                    parts.append(xmlout.new_vector(vector))
                parts.append(b"</INDIDriver>\n")
                _write_atomic(path, b"".join(parts))
            except (ConfigError, OSError) as exc:
                log.warning("%s: saving %s: %s", self.name, name, exc)

    def load_config_quietly(self, only: Callable[[str], bool]) -> None:
        try:
            applied = self.load_config(only=only)
        except ConfigError:
            return  # no saved configuration: the defaults stand
        if applied:
            log.info("%s: %d saved settings loaded from %s", self.name, applied,
                     config_path(self.name), extra={"device": self.name})

    def save_config(self) -> Path:
        path = config_path(self.name)
        with self.lock:
            write_config(path, self.saved_vectors())
        return path

    def on_config_process(self, vector: Any, values: dict) -> None:
        action = next((name for name, on in values.items() if on), None)
        vector.reset()
        path = config_path(self.name)
        try:
            if action == "CONFIG_LOAD":
                n = self.load_config(path)
                message = f"{n} saved settings loaded from {path}."
            elif action == "CONFIG_SAVE":
                message = f"Configuration saved to {self.save_config()}."
            elif action == "CONFIG_DEFAULT":
                n = self.load_config(default_path(path))
                message = f"{n} default settings loaded from {default_path(path)}."
            elif action == "CONFIG_PURGE":
                message = (f"Configuration {path} deleted." if purge_config(path)
                           else f"There was no saved configuration ({path}).")
            else:
                vector.state = State.IDLE
                self.update(vector)
                return
        except ConfigError as exc:
            self._alert(vector, str(exc))
            return
        vector.state = State.OK
        self.update(vector, message)
