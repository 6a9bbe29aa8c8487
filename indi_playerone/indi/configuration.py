"""CONFIG_PROCESS and the saved settings of a device (libindi's DefaultDevice config calls).

Which vectors are saved is data: the ``saved`` flag of their spec (libindi's
saveConfigItems). Loading applies a file as if a client had sent it, through the device's
``handle_new``, so a saved value gets the same validation and the same handler as a
client's. The file format is :mod:`indi_playerone.indi.config`'s.
"""
from __future__ import annotations

import logging
from pathlib import Path
import threading
from typing import Any, Callable, Protocol, Sequence

from . import names as N
from .component import Component, Host, handles
from .config import (
    ConfigError, config_path, default_path, purge_config, read_config, replace_item, write_config,
)
from .properties import State, Vector
from .spec import PropertySpec


class ConfiguredDevice(Host, Protocol):
    """What CONFIG_PROCESS needs of its device (DefaultDevice is one)."""

    lock: threading.RLock

    def find(self, name: str) -> Any: ...
    def spec_of(self, name: str) -> PropertySpec: ...
    def known_vectors(self) -> list[Any]: ...
    def handle_new(self, kind: str, name: str, items: Sequence[tuple[str, ...]]) -> None: ...
    def update(self, vector: Vector, message: str | None = None,
               with_limits: bool = False) -> None: ...
    def alert(self, vector: Vector, message: str, level: str = "ERROR") -> None: ...


log = logging.getLogger(__name__)


class Configuration(Component):
    """Owns CONFIG_PROCESS; loads and saves the device's saved vectors."""

    device: ConfiguredDevice
    vector_table = {"vector": N.CONFIG_PROCESS}

    def __init__(self, device: ConfiguredDevice) -> None:
        super().__init__(device)
        self._loading = False  # no save_item while a file is being applied (libindi)

    def path(self) -> Path:
        return config_path(self.device.name)

    def saved_vectors(self) -> list[Any]:
        """The saved vectors, in the order the device defines them."""
        return [v for v in self.device.known_vectors() if self.device.spec_of(v.name).saved]

    def load(self, path: Path | None = None, only: Callable[[str], bool] = lambda name: True) -> int:
        """Apply a saved configuration as if a client had sent it (same validation).
        Returns how many properties were applied; ConfigError if there is no file."""
        device = self.device
        path = path or self.path()
        applied = 0
        with device.lock:
            self._loading = True
            try:
                for kind, name, items in read_config(path, device.name):
                    vector = device.find(name)
                    if vector is None or not device.spec_of(name).saved or not only(name):
                        continue  # not ours (e.g. a C++ driver property we do not have yet)
                    known = [(n, v) for n, v in items if n in vector.elements]
                    if known and kind == vector.kind:
                        device.handle_new(kind, name, known)
                        applied += 1
            finally:
                self._loading = False
        return applied

    def load_quietly(self, only: Callable[[str], bool]) -> None:
        """Load what `only` accepts; no saved configuration is no error (the defaults stand)."""
        try:
            applied = self.load(only=only)
        except ConfigError:
            return
        if applied:
            log.info("%s: %d saved settings loaded from %s", self.device.name, applied,
                     self.path(), extra={"device": self.device.name})

    def save(self) -> Path:
        path = self.path()
        with self.device.lock:
            write_config(path, self.saved_vectors())
        return path

    def save_item(self, name: str) -> None:
        """libindi's saveConfig(silent, name), which the Player One C++ driver calls after
        each change of CCD_CONTROLS and SENSOR_MODE: that property replaces its entry in the
        saved file, the others stay as they are; without a file, a full save. Failures are
        only logged."""
        device = self.device
        with device.lock:
            vector = device.find(name)
            if self._loading or vector is None:
                return
            path = self.path()
            try:
                if not path.exists():
                    write_config(path, self.saved_vectors())
                    return
                replace_item(path, device.name, vector)
            except (ConfigError, OSError) as exc:
                log.warning("%s: saving %s: %s", device.name, name, exc)

    @handles(N.CONFIG_PROCESS)
    def on_config_process(self, vector: Any, values: dict) -> None:
        action = next((name for name, on in values.items() if on), None)
        vector.reset()
        path = self.path()
        try:
            if action == "CONFIG_LOAD":
                n = self.load(path)
                message = f"{n} saved settings loaded from {path}."
            elif action == "CONFIG_SAVE":
                message = f"Configuration saved to {self.save()}."
            elif action == "CONFIG_DEFAULT":
                n = self.load(default_path(path))
                message = f"{n} default settings loaded from {default_path(path)}."
            elif action == "CONFIG_PURGE":
                message = (f"Configuration {path} deleted." if purge_config(path)
                           else f"There was no saved configuration ({path}).")
            else:
                vector.state = State.IDLE
                self.device.update(vector)
                return
        except ConfigError as exc:
            self.device.alert(vector, str(exc))
            return
        self.device.ok(vector, message)
