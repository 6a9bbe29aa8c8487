"""Property specs: what a vector is (name, labels, group, perm, rule, elements) as frozen data,
and the one function that turns a spec into a live vector.

A driver declares every property it defines as a module of specs (``ccd/names.py`` for the
camera, ``indi/names.py`` for libindi's DefaultDevice properties every driver shares), so
names and shapes live in one place and a second driver reuses this module as it is. The
spec holds libindi's defaults; values that depend on the hardware are filled in after
:func:`build_vector` (or given as elements with :func:`with_elements` when the hardware
decides which elements exist, as the camera's controls do).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable, Union

from .properties import (
    Blob, BlobVector, Handler, Number, NumberVector, Perm, Rule, State, Switch, SwitchVector,
    Text, TextVector, Vector,
)

__all__ = ["NumberSpec", "SwitchSpec", "TextSpec", "BlobSpec", "ElementSpec", "PropertySpec",
           "build_vector", "with_elements", "num"]


@dataclass(frozen=True)
class NumberSpec:
    name: str
    label: str
    format: str
    min: float
    max: float
    step: float
    value: float


@dataclass(frozen=True)
class SwitchSpec:
    name: str
    label: str
    on: bool = False


@dataclass(frozen=True)
class TextSpec:
    name: str
    label: str
    value: str = ""


@dataclass(frozen=True)
class BlobSpec:
    name: str
    label: str


ElementSpec = Union[NumberSpec, SwitchSpec, TextSpec, BlobSpec]


@dataclass(frozen=True)
class PropertySpec:
    kind: str  # "Number" | "Switch" | "Text" | "BLOB"
    name: str
    label: str
    group: str
    perm: str  # "ro" | "wo" | "rw"
    timeout: float
    elements: tuple[ElementSpec, ...]
    rule: str | None = None  # switches only
    saved: bool = False  # written by CONFIG_PROCESS save (libindi's saveConfigItems)
    notes: str = field(default="", compare=False)


def num(*args: object) -> NumberSpec:
    """A NumberSpec from positional fields (name, label, format, min, max, step, value):
    the spec tables read like libindi's IUFillNumber calls."""
    return NumberSpec(*args)  # type: ignore[arg-type]


def with_elements(spec: PropertySpec, elements: Iterable[ElementSpec]) -> PropertySpec:
    """The spec with the elements the hardware reported (CCD_CONTROLS, SENSOR_MODE, ...)."""
    return dataclasses.replace(spec, elements=tuple(elements))


def _element(spec: ElementSpec) -> Any:
    if isinstance(spec, NumberSpec):
        return Number(spec.name, spec.label, spec.format, float(spec.min), float(spec.max),
                      float(spec.step), float(spec.value))
    if isinstance(spec, SwitchSpec):
        return Switch(spec.name, spec.label, spec.on)
    if isinstance(spec, TextSpec):
        return Text(spec.name, spec.label, spec.value)
    if isinstance(spec, BlobSpec):
        return Blob(spec.name, spec.label)
    raise TypeError(f"unknown element spec {spec!r}")


def build_vector(spec: PropertySpec, device: str, handler: Handler | None = None,
                 perm: str | None = None) -> Any:
    """A fresh vector of `device` with the spec's defaults (state Idle); `perm` overrides the
    spec's (CCD_TEMPERATURE is read-only on a camera without a cooler)."""
    common = dict(
        device=device, name=spec.name, label=spec.label, group=spec.group,
        perm=Perm(perm or spec.perm), state=State.IDLE, timeout=spec.timeout,
        elements=[_element(e) for e in spec.elements],
    )
    vector: Vector
    if spec.kind == "Number":
        vector = NumberVector(**common)
    elif spec.kind == "Switch":
        vector = SwitchVector(rule=Rule(spec.rule), **common)
    elif spec.kind == "Text":
        vector = TextVector(**common)
    elif spec.kind == "BLOB":
        vector = BlobVector(**common)
    else:
        raise ValueError(f"unknown property kind {spec.kind!r}")
    vector.handler = handler
    return vector
