"""Components: the parts a device is composed of, as libindi composes its StreamManager into
INDI::CCD. Each owns its vectors (built from specs), their handlers, and the steps it takes
when the device connects and disconnects; it talks to the other parts through the narrow
interfaces it is given, never through the device's private state.

There is one way to bind a handler: the ``@handles(SPEC)`` decorator on a method of the
object that builds the vector (a component, or the device itself for CONNECTION). The
binding is keyed by the spec, so the property name is spelled only in the spec module; a
class that marks two methods for one spec is refused when it is defined, and a device
refuses a vector that a second owner builds (no silent override).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Mapping, Protocol, TypeVar

from .properties import Handler, Vector
from .spec import ElementSpec, PropertySpec, build_vector, with_elements

__all__ = ["handles", "handlers_of", "Component", "Host", "IfPresent"]

_MARK = "_indi_handles"
F = TypeVar("F", bound=Callable[..., None])


def handles(spec: PropertySpec) -> Callable[[F], F]:
    """Mark a method ``(self, vector, values)`` as the handler of `spec`'s vector."""
    def mark(method: F) -> F:
        setattr(method, _MARK, spec.name)
        return method
    return mark


def _marked(cls: type) -> dict[str, str]:
    """{property name: method name} of the methods of `cls` marked with :func:`handles`."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            name = getattr(value, _MARK, None)
            if name is None:
                continue
            previous = found.get(name)
            if previous is not None and previous != attr and klass is cls:
                raise TypeError(f"{cls.__name__}: {attr} and {previous} both handle {name}")
            found[name] = attr
    return found


def handlers_of(owner: object) -> dict[str, Handler]:
    """The handlers `owner` binds, by property name (its marked methods, bound)."""
    return {name: getattr(owner, attr) for name, attr in _marked(type(owner)).items()}


class Host(Protocol):
    """What a component needs of the device that owns it to build its vectors (the
    :class:`~indi_playerone.indi.defaultdevice.DefaultDevice` is one)."""

    name: str

    def has(self, spec: PropertySpec) -> bool: ...
    def register(self, owner: object, spec: PropertySpec, vector: Vector) -> None: ...
    def unregister(self, owner: object, spec: PropertySpec) -> None: ...


@dataclass(frozen=True)
class IfPresent:
    """An entry of :attr:`Component.vector_table` built only if the device has the spec (its
    capabilities say so); the attribute is None otherwise."""

    spec: PropertySpec


class Component:
    """A part of a device. Its vectors that take only the spec's shape are declared in
    :attr:`vector_table` and built when the component is made; the others it builds with
    :meth:`build` (at connect for the ones the hardware shapes). Handlers are marked with
    :func:`handles`. A subclass that publishes through its device types ``device`` as the
    device class it is made for."""

    device: Any
    #: Attribute name -> spec (or :class:`IfPresent`) of the vectors built by ``__init__``,
    #: each stored in that attribute.
    vector_table: ClassVar[Mapping[str, PropertySpec | IfPresent]] = {}

    def __init__(self, device: Host, **parts: Any) -> None:
        """`parts`: what this component talks to besides its device (the camera, the other
        components it is given), each kept as the attribute of its name."""
        self.device = device
        for name, part in parts.items():
            setattr(self, name, part)
        self._handlers = handlers_of(self)
        for attr, entry in self.vector_table.items():
            if isinstance(entry, IfPresent):
                setattr(self, attr, self.build_present(entry.spec))
            else:
                setattr(self, attr, self.build(entry))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _marked(cls)  # two methods for one spec: refused here, at import

    def build(self, spec: PropertySpec, elements: Iterable[ElementSpec] | None = None,
              perm: str | None = None) -> Any:
        """A fresh vector of `spec` for this device, its handler bound, registered as ours.

        `elements` replaces the spec's (for vectors the hardware shapes); `perm` overrides
        the spec's. Building again replaces our earlier vector of that name."""
        if elements is not None:
            spec = with_elements(spec, elements)
        vector = build_vector(spec, self.device.name, self._handlers.get(spec.name), perm)
        self.device.register(self, spec, vector)
        return vector

    def build_present(self, spec: PropertySpec, perm: str | None = None) -> Any:
        """:meth:`build` if this device has `spec` (its capabilities say so), else None."""
        return self.build(spec, perm=perm) if self.device.has(spec) else None

    def drop(self, spec: PropertySpec) -> None:
        """Forget our vector of `spec` (the hardware no longer offers it)."""
        self.device.unregister(self, spec)
