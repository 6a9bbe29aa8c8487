"""`DefaultDevice`: libindi's DefaultDevice for drivers of this package: the always-present
properties, the two-phase lifecycle and the parts a device is composed of.

Two phases, as libindi (``libs/indibase/defaultdevice.cpp``): the always-present vectors are
defined on the first getProperties, and the saved ones among them loaded then; the
connected-only vectors are defined on connect (and their saved values loaded) and deleted
on disconnect. Which vectors a device has is data given at construction: the always set,
the connected set in order of definition (chosen by the hardware's capabilities), and the
vectors defined on demand while a setting asks for them.

Every vector is built by one owner (a :class:`~indi_playerone.indi.component.Component` or
the device itself) and registered here by name, so CONFIG_PROCESS, the lookups by name and
the check that no vector has two owners need no list of names. A subclass provides
``connect`` and ``disconnect``: the order in which its components take their steps is its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from . import names as N
from .component import handlers_of, handles
from .configuration import Configuration
from .device import Device
from .properties import State, Vector
from .spec import PropertySpec, build_vector

__all__ = ["DriverIdentity", "DefaultDevice"]



@dataclass(frozen=True)
class DriverIdentity:
    """DRIVER_INFO's values."""

    name: str
    exec: str
    version: str
    interface: int


class DefaultDevice(Device):
    """An INDI device with libindi's DefaultDevice properties, composed of components."""

    #: The exceptions a failed ``connect`` raises; they become an Alert on CONNECTION.
    connect_errors: tuple[type[BaseException], ...] = ()
    #: What the device drives, in the CONNECTION messages ("Error connecting to the camera").
    noun = "device"
    #: Shown when a client turns SIMULATION on (the drivers choose simulation at start).
    simulation_hint = "Simulation is chosen when the driver starts."
    #: Saved vectors not applied at connect (the camera's frame and binning).
    not_loaded_at_connect: frozenset[str] = frozenset()

    def __init__(self, name: str, transport: Any, identity: DriverIdentity, *,
                 always: Sequence[PropertySpec], connected: Sequence[PropertySpec],
                 on_demand: Sequence[PropertySpec] = (), log_handler: Any = None) -> None:
        super().__init__(name, transport)
        self._always = tuple(always)
        self._connected_specs = tuple(connected)
        self._on_demand = tuple(on_demand)
        self._present = {s.name for s in (*self._always, *self._connected_specs, *self._on_demand)}
        self._registry: dict[str, tuple[object, PropertySpec, Vector]] = {}
        self._initialised = False
        self.connected = False
        self._log_handler = log_handler  # logbridge.IndiLogHandler: DEBUG turns its debug on
        handlers = handlers_of(self)
        for spec in (N.CONNECTION, N.DRIVER_INFO, N.DEBUG, N.SIMULATION, N.POLLING_PERIOD):
            self.register(self, spec, build_vector(spec, name, handlers.get(spec.name)))
        info = self.vector(N.DRIVER_INFO)
        info.set_values({"DRIVER_NAME": identity.name, "DRIVER_EXEC": identity.exec,
                         "DRIVER_VERSION": identity.version,
                         "DRIVER_INTERFACE": str(identity.interface)})
        self.configuration = Configuration(self)

    # --- the vectors, by owner ----------------------------------------------------------

    def has(self, spec: PropertySpec) -> bool:
        """Whether this device has `spec`'s vector at all (its capabilities say so)."""
        return spec.name in self._present

    def register(self, owner: object, spec: PropertySpec, vector: Vector) -> None:
        """Record `vector` as `owner`'s (called by Component.build). A second owner of a name,
        or a vector the device does not declare, is a programming error, refused at once."""
        with self.lock:
            if spec.name not in self._present:
                raise ValueError(f"{self.name} does not declare {spec.name}")
            entry = self._registry.get(spec.name)
            if entry is not None and entry[0] is not owner:
                raise ValueError(f"{spec.name} is built by both {type(entry[0]).__name__} "
                                 f"and {type(owner).__name__}")
            self._registry[spec.name] = (owner, spec, vector)

    def unregister(self, owner: object, spec: PropertySpec) -> None:
        with self.lock:
            entry = self._registry.get(spec.name)
            if entry is not None and entry[0] is owner:
                del self._registry[spec.name]

    def find(self, name: str) -> Any:
        """The vector of that name, defined or not (None if there is none)."""
        entry = self._registry.get(name)
        return entry[2] if entry is not None else None

    def vector(self, spec: PropertySpec) -> Any:
        """The vector of `spec` (KeyError if it was never built)."""
        return self._registry[spec.name][2]

    def spec_of(self, name: str) -> PropertySpec:
        return self._registry[name][1]

    def _in_order(self, specs: Sequence[PropertySpec]) -> list[Any]:
        return [self._registry[s.name][2] for s in specs if s.name in self._registry]

    def always_vectors(self) -> list[Any]:
        return self._in_order(self._always)

    def connected_vectors(self) -> list[Any]:
        return self._in_order(self._connected_specs)

    def known_vectors(self) -> list[Any]:
        """The always-present then the connected-only vectors, in order of definition."""
        return self.always_vectors() + self.connected_vectors()

    # --- lifecycle ----------------------------------------------------------------------

    def handle_get_properties(self, name: str | None = None) -> None:
        with self.lock:
            if not self._initialised:
                # First getProperties: define the always-present set (libindi's
                # ISGetProperties), which also answers this request.
                self._initialised = True
                for vector in self.always_vectors():
                    self.define(vector)
                # libindi loads the always-present saved settings at this point.
                always = {v.name for v in self.always_vectors()}
                self.configuration.load_quietly(lambda n: n in always)
                self.initialised()
                if self.connected:
                    self.define_connected()
                return
        super().handle_get_properties(name)

    def initialised(self) -> None:
        """Hook: the always-present vectors are defined (the camera asks for snooped ones)."""

    def define_connected(self) -> None:
        for vector in self.connected_vectors():
            self.define(vector)

    def delete_connected(self) -> None:
        """Delete the connected-only and on-demand vectors that are defined."""
        for vector in self.connected_vectors() + self._in_order(self._on_demand):
            if self.is_defined(vector.name):
                self.delete(vector.name)

    def connect(self) -> None:
        """Open the hardware and take the components' connect steps; raise one of
        ``connect_errors`` with the reason if it fails (the hardware closed again)."""
        raise NotImplementedError

    def disconnect(self) -> None:
        """Stop the components, close the hardware, delete the connected-only vectors."""
        raise NotImplementedError

    def online_message(self) -> str:
        return f"{self.name} is online."

    offline_message = "Device is offline."

    def intercept_connection(self, vector: Any, want: bool) -> bool:
        """Hook: True when a CONNECTION request was handled before the plain connect or
        disconnect (the camera's warm-up on disconnect)."""
        return False

    @handles(N.CONNECTION)
    def on_connection(self, vector: Any, values: dict) -> None:
        want = values["CONNECT"]
        if self.intercept_connection(vector, want):
            return
        if want and not self.connected:
            try:
                self.connect()
            except self.connect_errors as exc:
                vector.set_only("DISCONNECT")
                self.alert(vector, f"Error connecting to the {self.noun}: {exc}")
                return
            # The connected-only properties are defined before CONNECTION turns Ok (libindi
            # does it the other way round), so a script that waits for Ok finds them all.
            self.define_connected()
            connected = {v.name for v in self.connected_vectors()}
            self.configuration.load_quietly(lambda n: n in connected
                                            and n not in self.not_loaded_at_connect)
            vector.set_only("CONNECT")
            self.ok(vector)
            self.log(self.online_message())
        elif not want and self.connected:
            self.disconnect()
            vector.set_only("DISCONNECT")
            vector.state = State.IDLE
            self.update(vector)
            self.log(self.offline_message)
        else:
            vector.state = State.OK if self.connected else State.IDLE
            self.update(vector)

    def finish_disconnect(self) -> None:
        """Disconnect and tell the client, as a client's DISCONNECT does (for a disconnect
        that was delayed, as the camera's warm-up)."""
        self.disconnect()
        with self.lock:
            vector = self.vector(N.CONNECTION)
            vector.set_only("DISCONNECT")
            vector.state = State.IDLE
            self.update(vector)
        self.log(self.offline_message)

    # --- options ------------------------------------------------------------------------

    def polling_period_s(self) -> float:
        return self.vector(N.POLLING_PERIOD)["PERIOD_MS"].value / 1000.0

    @handles(N.DEBUG)
    def on_debug(self, vector: Any, values: dict) -> None:
        if self._log_handler is not None:
            self._log_handler.debug_enabled = bool(values.get("ENABLE", False))
        self.accept(vector, values)

    @handles(N.SIMULATION)
    def on_simulation(self, vector: Any, values: dict) -> None:
        if values.get("ENABLE"):
            self.alert(vector, self.simulation_hint, "WARNING")
            return
        self.accept(vector, values)
