"""Turn the property specs of `names.py` into live vectors of the protocol package."""
from __future__ import annotations

from typing import Any, Callable

from ..indi.properties import (
    Blob, BlobVector, Number, NumberVector, Perm, Rule, State, Switch, SwitchVector, Text,
    TextVector,
)
from .names import BlobSpec, NumberSpec, PropertySpec, SwitchSpec, TextSpec

Handler = Callable[[Any, dict], None]


def _element(spec: Any) -> Any:
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
    """A fresh vector for `device` with the spec's defaults (state Idle)."""
    common = dict(
        device=device, name=spec.name, label=spec.label, group=spec.group,
        perm=Perm(perm or spec.perm), state=State.IDLE, timeout=spec.timeout,
        elements=[_element(e) for e in spec.elements],
    )
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
