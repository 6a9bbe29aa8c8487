"""`indi-playerone backfocus`: plan the imaging train to the flattener's back focus (manual chapter 5).

Most flatteners and coma correctors want the sensor 55 mm behind their last thread ("Most flattener
or Coma corrector was designed 55mm" in the manual). The train is: camera back focal length (17.5 mm
for every model, sensor to front face), plus each accessory's optical-path length, plus the glass a
filter adds (a plane plate of thickness t and index n moves the focus back by t·(1 − 1/n), ≈ t/3
for n = 1.5), plus spacers. This module checks each accessory against the manual's compatibility
table (:mod:`.accessories`), refuses what the manual does not list for the camera and says why,
and picks the spacers from a kit (each ring used at most once) whose sum comes closest to what is
missing, with the fewest rings.

Accessories not in the table are given as ``name=thickness_mm`` (taken as compatible: the tool
cannot know); a known name with ``=mm`` keeps the compatibility check and overrides the nominal
thickness. Does not talk to an INDI server.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass, field
from typing import TextIO

from ..camera.models import MODELS, find_model
from . import exits
from .accessories import (ACCESSORIES, CARBON, RECOMMENDED_FILTER, Accessory, family_of,
                          find_accessory)

DEFAULT_TARGET_MM = 55.0
#: A spacer kit of common M48 extension rings (each used at most once); ``--spacers`` replaces it.
DEFAULT_SPACERS_MM = (30.0, 20.0, 15.0, 10.0, 5.0, 3.0, 2.0, 1.0, 0.5)
#: Below this the rest is left to fine shims / the focuser: flatteners tolerate about ±0.5 mm.
TOLERANCE_MM = 0.25
FILTER_INDEX = 1.5


class Refused(Exception):
    """The train cannot be built as asked: the message says why."""


@dataclass
class Part:
    name: str
    thickness_mm: float
    source: str  # "manual (camera)", "table (nominal)", "given", "filter glass", "spacer"


@dataclass
class Plan:
    model: str
    target_mm: float
    parts: list[Part]
    spacers_mm: list[float]
    warnings: list[str] = field(default_factory=list)

    @property
    def before_spacers_mm(self) -> float:
        return sum(p.thickness_mm for p in self.parts)

    @property
    def total_mm(self) -> float:
        return self.before_spacers_mm + sum(self.spacers_mm)

    @property
    def residual_mm(self) -> float:
        """Target minus what the train makes: > 0 means still too short."""
        return self.target_mm - self.total_mm


def parse_accessory(text: str) -> tuple[str, Accessory | None, float | None]:
    """``"FHD-OAG MAX"`` or ``"name=12.5"`` -> (name, table entry or None, given thickness)."""
    name, sep, value = text.rpartition("=") if "=" in text else (text, "", "")
    name = name.strip()
    thickness: float | None = None
    if sep:
        try:
            thickness = float(value)
        except ValueError:
            raise Refused(f"{text!r}: the thickness after '=' must be a number of mm") from None
        if not 0 <= thickness <= 500:
            raise Refused(f"{text!r}: thickness {thickness:g} mm is not plausible")
    return name, find_accessory(name), thickness


def check_compatibility(model: str, accessories: list[Accessory]) -> list[str]:
    """Problems (each a refusal with its reason) of these table accessories on this camera."""
    family = family_of(model)
    problems = []
    for acc in accessories:
        if family not in acc.families:
            fits = ", ".join(a.name for a in ACCESSORIES.values()
                             if a.kind == acc.kind and family in a.families)
            problems.append(f"{acc.name} is not listed for the {model} in the manual's accessory table "
                            f"(the {family} takes: {fits})")
    big = [a for a in accessories if a.big_wheel]
    if family in CARBON and big and any(a.name == "FHD-OAG MN" for a in accessories):
        problems.append(f"FHD-OAG MN with the {big[0].name} on a carbon-fibre body: the manual says "
                        "to use the FHD-OAG MAX with the 7x36mm/7x2\"/7x50mm/5x2\" wheels")
    kinds = [a.kind for a in accessories]
    for kind in ("filter wheel", "filter drawer", "OAG"):
        if kinds.count(kind) > 1:
            problems.append(f"more than one {kind} in the train")
    return problems


def choose_spacers(missing_mm: float, kit: tuple[float, ...]) -> list[float]:
    """The subset of ``kit`` whose sum is closest to ``missing_mm``, then with the fewest rings."""
    best: tuple[float, int, tuple[float, ...]] = (abs(missing_mm), 0, ())
    for n in range(1, len(kit) + 1):
        for combo in itertools.combinations(kit, n):
            key = (round(abs(missing_mm - sum(combo)), 6), n, combo)
            if key[:2] < best[:2]:
                best = key
    return sorted(best[2], reverse=True)


def plan(model: str, accessories: list[str], target_mm: float = DEFAULT_TARGET_MM,
         filter_mm: float = 0.0, kit: tuple[float, ...] = DEFAULT_SPACERS_MM) -> Plan:
    """The train for ``model`` with ``accessories``; raises :class:`Refused` with the reasons."""
    spec = find_model(model)  # KeyError for an unknown model
    parts = [Part(f"{spec.model} (sensor to front face)", spec.bfl_mm, "manual (camera)")]
    table: list[Accessory] = []
    unknown = []
    for text in accessories:
        name, acc, given = parse_accessory(text)
        if acc is None and given is None:
            unknown.append(name)
            continue
        if acc is not None:
            table.append(acc)
        source = "given" if given is not None else "table (nominal)"
        thickness = given if given is not None else acc.thickness_mm  # type: ignore[union-attr]
        parts.append(Part(acc.name if acc is not None else name, thickness, source))
    if unknown:
        raise Refused(f"unknown accessory {', '.join(map(repr, unknown))}: give its thickness as "
                      f"name=mm, or use one of: {', '.join(ACCESSORIES)}")
    problems = check_compatibility(spec.model, table)
    if problems:
        raise Refused("; ".join(problems))
    if filter_mm > 0:
        parts.append(Part(f"filter glass {filter_mm:g} mm (n={FILTER_INDEX})",
                          filter_mm * (1 - 1 / FILTER_INDEX), "filter glass"))
    warnings = []
    family = family_of(spec.model)
    for acc in table:
        if acc.note and family in CARBON and acc.big_wheel:
            warnings.append(f"{acc.name}: {acc.note}")
        if acc.filter_size == "36mm" and family == "Zeus":
            warnings.append(f"{acc.name}: 36 mm filters vignette the Zeus's full-frame corners "
                            f"(the manual recommends {RECOMMENDED_FILTER[family]})")
    result = Plan(spec.model, target_mm, parts, [], warnings)
    missing = target_mm - result.before_spacers_mm
    if missing < -TOLERANCE_MM:
        raise Refused(f"the train is {-missing:.2f} mm longer than the {target_mm:g} mm target before "
                      "any spacer: remove an accessory or use a corrector with more back focus")
    result.spacers_mm = choose_spacers(missing, kit) if missing > TOLERANCE_MM else []
    if abs(result.residual_mm) > TOLERANCE_MM:
        result.warnings.append(f"the spacer kit leaves {result.residual_mm:+.2f} mm: add shims or a "
                               "custom spacer of that size")
    return result


def report(p: Plan) -> str:
    lines = [f"back focus plan for {p.model}, target {p.target_mm:g} mm:"]
    for part in p.parts:
        lines.append(f"  {part.thickness_mm:7.2f} mm  {part.name}  [{part.source}]")
    if p.spacers_mm:
        lines.append(f"  {sum(p.spacers_mm):7.2f} mm  spacers: "
                     f"{' + '.join(f'{s:g}' for s in p.spacers_mm)} mm")
    lines.append(f"  {p.total_mm:7.2f} mm  total ({p.residual_mm:+.2f} mm from the target)")
    lines += [f"warning: {w}" for w in p.warnings]
    if any(part.source == "table (nominal)" for part in p.parts):
        lines.append("note: accessory thicknesses marked 'table (nominal)' are not printed in the "
                     "manual's scan; check them against your parts (override with name=mm)")
    return "\n".join(lines) + "\n"


def _kit(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"a comma-separated list of mm, not {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("spacer lengths must be > 0 mm")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("accessories", nargs="*", metavar="ACCESSORY",
                        help="accessories between camera and corrector: a name from the table "
                             f"({', '.join(ACCESSORIES)}) or name=thickness_mm")
    parser.add_argument("--model", "-m", required=True, help=f"camera model ({', '.join(MODELS)})")
    parser.add_argument("--target", type=float, default=DEFAULT_TARGET_MM,
                        help="back focus the corrector needs, mm (default 55)")
    parser.add_argument("--filter", type=float, default=0.0, dest="filter_mm",
                        help="filter glass thickness in mm (adds about a third of it)")
    parser.add_argument("--spacers", type=_kit, default=DEFAULT_SPACERS_MM,
                        help="the spacer rings you have, comma-separated mm (default "
                             f"{','.join(f'{s:g}' for s in DEFAULT_SPACERS_MM)})")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        result = plan(args.model, args.accessories, args.target, args.filter_mm, args.spacers)
    except KeyError as exc:
        err.write(f"indi-playerone backfocus: error: {exc.args[0]}\n")
        return exits.USAGE
    except Refused as exc:
        err.write(f"refused: {exc}\n")
        return exits.FAILURE
    out.write(report(result))
    return exits.OK
