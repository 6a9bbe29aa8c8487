"""`indi-playerone tilt`: sensor tilt from a star-field FITS, and which tilt-plate screws to turn (§7).

The measurement and the fitted model are ``tilt_fit.py``; this module turns a fit into advice.

Screw geometry assumed (the manual's drawings are not in its scan; check against your plate and
use ``--plate-rotation``): viewed from behind the camera, with the image as displayed (first row at
the top, ``ROWORDER = TOP-DOWN``) lying the same way round; the front 3-point plate's screw sets at
12, 4 and 8 o'clock, the rear 4-point plate's at 12, 3, 6 and 9 o'clock, on a circle of
``--plate-radius`` mm (default 30). Each set is a push and a pull screw (manual §7). On the front
plate (between camera and telescope adapter) the push screw pushes the camera, and the sensor,
back from the telescope; on the rear plate the push screw pushes the sensor forward. A set is
turned by loosening one screw and tightening the other by the amount given (turns of an M3 screw,
0.5 mm pitch, ``--pitch``).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from . import exits
from .tilt_fit import (FLAT_FIELD_LEVEL, MIN_TILT_UM, SIGNIFICANCE, Analysis, TiltFailed, TiltFit,
                       analyse, fit_tilt, model_fwhm)

__all__ = ["PLATES", "PLATE_NAMES", "TiltFit", "fit_tilt", "model_fwhm", "side_words", "screw_moves",
           "screw_advice", "report", "map_png", "add_arguments", "run"]

PLATES = {"front3": (90.0, 330.0, 210.0), "rear4": (90.0, 0.0, 270.0, 180.0)}  # degrees, CCW from 3 o'clock
PLATE_NAMES = {"front3": "front 3-point", "rear4": "rear 4-point"}


# --- advice ------------------------------------------------------------------------------------

def side_words(tx: float, ty: float) -> str:
    """Which side (or corner) the tilt vector points to: where the sensor is furthest back."""
    angle = math.degrees(math.atan2(-ty, tx)) % 360  # image y grows downwards
    names = ["right", "top right", "top", "top left", "left", "bottom left", "bottom", "bottom right"]
    return names[int(((angle + 22.5) % 360) // 45)]


def screw_moves(fit: TiltFit, width_mm: float, height_mm: float, plate: str, radius_mm: float,
                rotation_deg: float = 0.0) -> list[tuple[str, float]]:
    """Per screw set: (clock position, µm the sensor must move forward there; < 0 = back).

    The fitted plane z = tx·u + ty·v (µm behind focus; u, v fractional) at each screw, as a
    slope over the sensor's mm; moving each point forward by its z (minus the mean, so focus
    stays) lays the sensor flat on the focal plane.
    """
    out = []
    zs = []
    for a in PLATES[plate]:
        ang = math.radians(a + rotation_deg)
        x_mm, y_mm = radius_mm * math.cos(ang), -radius_mm * math.sin(ang)  # image y down
        zs.append(fit.tx_um * x_mm / width_mm + fit.ty_um * y_mm / height_mm)
        hour = round(((90 - (a + rotation_deg)) % 360) / 30) % 12 or 12
        out.append((f"{hour} o'clock", 0.0))
    mean = sum(zs) / len(zs)
    return [(name, z - mean) for (name, _), z in zip(out, zs)]


def screw_advice(move_um: float, plate: str, pitch_mm: float) -> str:
    turns = abs(move_um) / (pitch_mm * 1000)
    if abs(move_um) < 1:
        return "leave it"
    forward = move_um > 0
    # front plate: push = sensor back; rear plate: push = sensor forward (module docstring)
    push_moves_forward = plate == "rear4"
    tighten = "push" if forward == push_moves_forward else "pull"
    loosen = "pull" if tighten == "push" else "push"
    way = "forward (toward the telescope)" if forward else "back (away from the telescope)"
    return (f"move {abs(move_um):.0f} µm {way}: loosen the {loosen} screw, tighten the {tighten} "
            f"screw by {turns:.2f} turn")


def report(a: Analysis, plate: str, radius_mm: float, rotation_deg: float, pitch_mm: float) -> str:
    f = a.fit
    lines = [f"{f.n_stars} stars measured; FWHM in pixels over a 3×3 grid (top row first), "
             "stars per cell in brackets:"]
    for r in range(3):
        lines.append("  " + "  ".join(f"{a.grid_fwhm[r, c]:5.2f} ({a.grid_count[r, c]:2d})"
                                      for c in range(3)))
    lines.append("elongation (1 = round):")
    for r in range(3):
        lines.append("  " + "  ".join(f"{a.grid_elong[r, c]:5.2f}     " for c in range(3)))
    corners = [a.grid_fwhm[0, 0], a.grid_fwhm[0, 2], a.grid_fwhm[2, 0], a.grid_fwhm[2, 2]]
    if all(np.isfinite(corners)):
        lines.append(f"corners: top left {corners[0]:.2f}, top right {corners[1]:.2f}, bottom left "
                     f"{corners[2]:.2f}, bottom right {corners[3]:.2f} px (centre "
                     f"{a.grid_fwhm[1, 1]:.2f})")
    if f.flat:
        mean, spread = float(np.mean(a.stars.fwhm)), float(np.std(a.stars.fwhm))
        lines.append(f"fit (f/{a.fratio:g}, {a.pixel_um:g} µm pixels): FWHM {mean:.2f} px everywhere "
                     "(a flat field: the in-focus FWHM and the distance from focus cannot be told "
                     f"apart), residual {spread:.2f} px")
    else:
        lines.append(f"fit (f/{a.fratio:g}, {a.pixel_um:g} µm pixels): in-focus FWHM {f.f0_px:.2f} px, "
                     f"centre {abs(f.z0_um):.0f} ± {f.errors[1]:.0f} µm from focus, residual "
                     f"{f.rms_px:.2f} px")
    if f.flat:
        # The flat field's tilt, 0; the data allow about as much as the plane's estimate.
        ex, ey = max(f.errors[2], abs(f.tx_um)), max(f.errors[3], abs(f.ty_um))
        lines.append(f"tilt: right minus left +0 ± {ex:.0f} µm, bottom minus top +0 ± {ey:.0f} µm "
                     f"(0 ± {max(f.tilt_error_um, f.tilt_um):.0f} µm)")
        lines.append(f"flat field: one FWHM everywhere fits as well as the best tilted plane "
                     f"(F-test p = {f.flat_p:.2f}; that plane: right minus left {f.tx_um:+.0f} µm, "
                     f"bottom minus top {f.ty_um:+.0f} µm)")
    else:
        lines.append(f"tilt: right minus left {f.tx_um:+.0f} ± {f.errors[2]:.0f} µm, bottom minus top "
                     f"{f.ty_um:+.0f} ± {f.errors[3]:.0f} µm ({f.tilt_um:.0f} ± {f.tilt_error_um:.0f} µm)")
    if f.flat:
        lines.append(f"result: no significant tilt (a flat field fits as well: p > {FLAT_FIELD_LEVEL:g})")
    elif not f.significant:
        lines.append(f"result: no significant tilt (below {MIN_TILT_UM:g} µm or {SIGNIFICANCE:g} "
                     "standard errors)")
    else:
        side = side_words(f.tx_um, f.ty_um)
        opposite = side_words(-f.tx_um, -f.ty_um)
        if f.sign_known:
            lines.append(f"result: the {side} side is {f.tilt_um:.0f} µm further back (away from the "
                         f"telescope) than the {opposite} side")
            w_mm = a.stars.width * a.pixel_um / 1000
            h_mm = a.stars.height * a.pixel_um / 1000
            lines.append(f"{PLATE_NAMES[plate]} tilt plate (screw sets on a {radius_mm:g} mm circle, "
                         "viewed from behind the camera):")
            for name, move in screw_moves(f, w_mm, h_mm, plate, radius_mm, rotation_deg):
                lines.append(f"  {name:>11}: {screw_advice(move, plate, pitch_mm)}")
            lines.append("then tighten all screws and take another frame (manual §7: repeat until "
                         "the corners match)")
        else:
            lines.append(f"result: tilt along the {side}–{opposite} direction, {f.tilt_um:.0f} µm "
                         "edge to edge; which side is further back is unknown (the sensor centre is "
                         "in focus): take a frame with the focuser racked out a little and run "
                         "again with --racked out")
    lines += [f"note: {n}" for n in a.notes]
    return "\n".join(lines) + "\n"


def map_png(path: Path, a: Analysis, title: str) -> None:
    """FWHM over the field: the fitted model as a colour map, stars as dots, grid medians."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, f = a.stars, a.fit
    k = 1.0 / (a.fratio * a.pixel_um)
    gy, gx = np.mgrid[0:1:60j, 0:1:60j]
    model = model_fwhm(np.array([f.f0_px, f.z0_um, f.tx_um, f.ty_um]), gx - 0.5, gy - 0.5, k)
    lo = float(min(np.nanmin(s.fwhm), model.min()))
    hi = float(max(np.nanpercentile(s.fwhm, 98), model.max()))
    fig, ax = plt.subplots(figsize=(7.5, 7.5 * s.height / s.width + 0.8), dpi=100)
    im = ax.imshow(model, extent=(0, s.width, s.height, 0), cmap="viridis", vmin=lo, vmax=hi,
                   aspect="equal", alpha=0.85)
    ax.scatter(s.x, s.y, c=s.fwhm, cmap="viridis", vmin=lo, vmax=hi, edgecolors="white", s=40)
    for r in range(3):
        for c in range(3):
            if np.isfinite(a.grid_fwhm[r, c]):
                ax.text((c + 0.5) * s.width / 3, (r + 0.5) * s.height / 3,
                        f"{a.grid_fwhm[r, c]:.2f}", ha="center", va="center", color="white",
                        fontsize=13, weight="bold")
    for i in (1, 2):
        ax.axvline(i * s.width / 3, color="white", lw=0.5)
        ax.axhline(i * s.height / 3, color="white", lw=0.5)
    fig.colorbar(im, ax=ax, label="FWHM (px)", shrink=0.8)
    verdict = "no significant tilt" if not f.significant else \
        f"tilt {f.tilt_um:.0f} µm toward the {side_words(f.tx_um, f.ty_um)}"
    ax.set_title(f"{title}\n{verdict}", fontsize=10)
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fits", type=Path, help="a star-field FITS (in focus, or racked a little)")
    parser.add_argument("--fratio", type=float, help="focal ratio (default: FOCALLEN/APTDIA of the header)")
    parser.add_argument("--pixel-um", type=float, help="pixel size in µm (default: from the header)")
    parser.add_argument("--racked", choices=("out", "in"),
                        help="the frame was taken with the focuser moved out (or in) from best focus")
    parser.add_argument("--plate", choices=sorted(PLATES), default="front3",
                        help="tilt plate: front3 (3-point front) or rear4 (4-point rear)")
    parser.add_argument("--plate-radius", type=float, default=30.0, help="screw circle radius, mm")
    parser.add_argument("--plate-rotation", type=float, default=0.0,
                        help="degrees counter-clockwise the screws sit from the assumed positions")
    parser.add_argument("--pitch", type=float, default=0.5, help="screw thread pitch, mm (M3: 0.5)")
    parser.add_argument("--png", type=Path, help="write the FWHM map here")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        a = analyse(args.fits, args.fratio, args.pixel_um, args.racked)
    except (TiltFailed, OSError) as exc:
        err.write(f"tilt failed: {exc}\n")
        return exits.FAILURE
    except ImportError as exc:
        err.write(f"tilt needs the tools extra ({exc.name} is missing): "
                  "pip install 'indi-playerone[tools]'\n")
        return exits.FAILURE
    out.write(report(a, args.plate, args.plate_radius, args.plate_rotation, args.pitch))
    if args.png is not None:
        map_png(args.png, a, args.fits.name)
        err.write(f"FWHM map written to {args.png}\n")
    return exits.OK
