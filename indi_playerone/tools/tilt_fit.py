"""Sensor tilt measured from a star-field FITS: the stars, their FWHM, and the tilted plane fitted to them.

`indi-playerone tilt` (``tilt.py``) reports the result and which tilt-plate screws to turn.

Stars are found with photutils (``DAOStarFinder``) and each star's FWHM is fitted with photutils'
circular Gaussian (``fit_fwhm``); elongation comes from image moments (``data_properties``). The
field is summarised on a 3×3 grid (the four corner cells are the manual's "corners").

Model fitted to every star's FWHM (pixels), at fractional position ``u = x/W − ½``, ``v = y/H − ½``::

    FWHM² = F0² + (z / (N · p))²,   z = z0 + tx · u + ty · v   (µm)

``F0`` is the in-focus FWHM (seeing + optics), ``z`` the sensor's distance from the focal plane,
``N`` the focal ratio, ``p`` the pixel size in µm: a point ``z`` µm out of focus blurs into a disc
of diameter ``z / N`` µm, added in quadrature. ``tx`` is the height difference right edge minus
left edge, ``ty`` bottom edge minus top edge: the simulated camera's ``tilt=<dx_um>:<dy_um>`` and
``focus=<um>`` options are this model (``native/simsdk/sim_scene.c`` renders Gaussian stars with
that FWHM), which is how the tests check the tool. A real defocused star is a ring/disc whose
moment-equivalent FWHM is about 0.59 × its diameter: on real optics the µm figures may be up to
1.7× small; the direction and the screw pattern do not depend on it.

FWHM sees only ``|z|``: the fit cannot tell (z0, tx, ty) from (−z0, −tx, −ty). With the sensor centre
in focus (z0 ≈ 0) both sides of a tilt blur alike and only the axis and size are known. Take the
frame with the focuser moved a few steps **out** (camera away from the objective: the whole
sensor behind focus, z > 0) and say so with ``--racked out`` (or ``in``): the sign of z0 then fixes
the sign of the tilt, and the report names the side that is too far back and the screws to turn.
Without it the axis is named with its larger component positive ("bottom–top", "right–left").

No tilt is the flat field: every star the same FWHM, F0 and z0 then inseparable. The plane is
kept only if it fits clearly better (F-test, ``FLAT_FIELD_LEVEL``): otherwise the fit can lay the
focal plane through the sensor centre, where the FWHM grows only with the square of the tilt, and
turn the FWHMs' noise into tens of µm of tilt.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["MIN_TILT_UM", "SIGNIFICANCE", "SIGN_SIGNIFICANCE", "FLAT_FIELD_LEVEL", "MIN_STARS",
           "TiltFailed", "Stars", "TiltFit", "Analysis", "load", "measure", "grid", "model_fwhm",
           "fit_tilt", "flat_field_p", "analyse"]

#: A tilt below this (µm edge to edge) is reported as no significant tilt, whatever the fit's error.
MIN_TILT_UM = 10.0
#: ... and so is one below this many standard errors of the fit.
SIGNIFICANCE = 3.0
#: |z0| at least this many standard errors (and >= MIN_TILT_UM) fixes the sign with --racked.
SIGN_SIGNIFICANCE = 3.0
#: A tilted plane must fit the FWHMs better than a flat field at this level (F-test) to count.
FLAT_FIELD_LEVEL = 0.05
MIN_STARS = 8


class TiltFailed(Exception):
    pass


@dataclass
class Stars:
    """Measured stars, positions in the frame's pixels (binned as stored), FWHM in those pixels."""

    x: np.ndarray
    y: np.ndarray
    fwhm: np.ndarray
    elongation: np.ndarray
    width: int
    height: int


@dataclass
class TiltFit:
    f0_px: float
    z0_um: float
    tx_um: float
    ty_um: float
    errors: tuple[float, float, float, float]  # standard errors of (f0, z0, tx, ty)
    rms_px: float
    n_stars: int
    sign_known: bool = False
    #: p-value of the flat field (every star the same FWHM, no tilt) against the fitted plane
    #: (F-test, 3 parameters more): above FLAT_FIELD_LEVEL the data do not need a tilt.
    flat_p: float = 0.0

    @property
    def tilt_um(self) -> float:
        return math.hypot(self.tx_um, self.ty_um)

    @property
    def tilt_error_um(self) -> float:
        t = self.tilt_um
        if t == 0:
            return math.hypot(self.errors[2], self.errors[3])
        return math.hypot(self.tx_um * self.errors[2], self.ty_um * self.errors[3]) / t

    @property
    def flat(self) -> bool:
        """A flat field explains the FWHMs as well as the tilted plane does."""
        return self.flat_p > FLAT_FIELD_LEVEL

    @property
    def significant(self) -> bool:
        return (not self.flat and self.tilt_um >= MIN_TILT_UM
                and self.tilt_um >= SIGNIFICANCE * self.tilt_error_um)


@dataclass
class Analysis:
    stars: Stars
    fit: TiltFit
    grid_fwhm: np.ndarray  # 3×3 medians (nan where a cell has no star)
    grid_elong: np.ndarray
    grid_count: np.ndarray
    pixel_um: float
    fratio: float
    notes: list[str] = field(default_factory=list)


# --- reading and measuring -------------------------------------------------------------------

def load(path: Path) -> tuple[np.ndarray, dict]:
    """The image as float (colour: 2×2 superpixels summed) and header facts."""
    from astropy.io import fits

    with fits.open(path) as hdul:
        hdu = next((h for h in hdul if h.data is not None and np.ndim(h.data) == 2), None)
        if hdu is None:
            raise TiltFailed(f"{path}: no 2-D image in the file")
        data = np.asarray(hdu.data, dtype=np.float64)
        h = hdu.header
    binning = int(h.get("XBINNING", 1) or 1)
    pixel = h.get("PIXSIZE1")
    pixel_um = float(pixel) * binning if pixel else (float(h["XPIXSZ"]) if "XPIXSZ" in h else None)
    facts = {"pixel_um": pixel_um, "bayer": h.get("BAYERPAT"), "superpixel": 1,
             "focallen": h.get("FOCALLEN"), "aperture": h.get("APTDIA")}
    if facts["bayer"]:
        hh, ww = data.shape[0] // 2 * 2, data.shape[1] // 2 * 2
        d = data[:hh, :ww]
        data = d[0::2, 0::2] + d[0::2, 1::2] + d[1::2, 0::2] + d[1::2, 1::2]
        facts["superpixel"] = 2
        if pixel_um:
            facts["pixel_um"] = pixel_um * 2
    return data, facts


def measure(data: np.ndarray, fwhm_guess: float = 4.0, max_stars: int = 400,
            saturation: float | None = None) -> Stars:
    """Detect stars (photutils) and fit each one's FWHM; keeps isolated stars whose peak stays
    below 90 % of ``saturation`` (a clipped star's fitted FWHM is too wide)."""
    from astropy.stats import sigma_clipped_stats
    from photutils.detection import DAOStarFinder
    from photutils.utils.exceptions import NoDetectionsWarning
    from photutils.morphology import data_properties
    from photutils.psf import fit_fwhm

    # Background level and noise from every 4th pixel both ways: the same figures to well under
    # a percent on a star field, in a sixteenth of the time (9 MP: ~1 s -> 60 ms).
    _, median, std = sigma_clipped_stats(data[::4, ::4], sigma=3.0, maxiters=5)
    img = data - median
    finder = DAOStarFinder(threshold=10.0 * std, fwhm=fwhm_guess, exclude_border=True,
                           n_brightest=max_stars, min_separation=3 * fwhm_guess,
                           peak_max=None if saturation is None else 0.9 * (saturation - median))
    with warnings.catch_warnings():  # "no sources": said below, with what to do
        warnings.simplefilter("ignore", NoDetectionsWarning)
        table = finder(img)
    if table is None or len(table) < MIN_STARS:
        raise TiltFailed(f"{0 if table is None else len(table)} stars found, {MIN_STARS} needed: "
                         "expose longer, or the frame is not a star field")
    xs = np.asarray(table["x_centroid"] if "x_centroid" in table.colnames else table["xcentroid"])
    ys = np.asarray(table["y_centroid"] if "y_centroid" in table.colnames else table["ycentroid"])
    # Fit box: big enough for defocused stars (FWHM up to ~10 px), odd.
    box = 25
    half = box // 2
    h, w = img.shape
    inside = (xs > half) & (xs < w - half - 1) & (ys > half) & (ys < h - half - 1)
    # Isolated: no other detection within one box (a neighbour biases the single-star fit).
    from scipy.spatial import cKDTree
    tree = cKDTree(np.column_stack([xs, ys]))
    crowded = np.array([len(tree.query_ball_point((x, y), box)) > 1 for x, y in zip(xs, ys)])
    keep = inside & ~crowded
    xs, ys = xs[keep], ys[keep]
    if xs.size < MIN_STARS:
        raise TiltFailed(f"{xs.size} isolated stars away from the edges, {MIN_STARS} needed")
    fwhm = np.asarray(fit_fwhm(img, xypos=np.column_stack([xs, ys]), fwhm=fwhm_guess,
                               fit_shape=box), dtype=float)
    elong = np.empty(xs.size)
    for i, (x, y) in enumerate(zip(xs, ys)):
        cx, cy = int(round(x)), int(round(y))
        cut = img[cy - half:cy + half + 1, cx - half:cx + half + 1]
        yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
        r = max(3.0, 1.5 * (fwhm[i] if np.isfinite(fwhm[i]) else fwhm_guess))
        mask = (xx ** 2 + yy ** 2 > r ** 2) | (cut <= 0)
        try:
            elong[i] = float(data_properties(np.where(mask, 0.0, cut), mask=mask).elongation.value)
        except Exception:  # noqa: BLE001 (degenerate cutout: no elongation for this star)
            elong[i] = np.nan
    good = np.isfinite(fwhm) & (fwhm > 0.5) & (fwhm < box / 2)
    return Stars(xs[good], ys[good], fwhm[good], elong[good], w, h)


def grid(stars: Stars, values: np.ndarray, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``values`` per cell of an n×n grid (row 0 = the top of the image), and counts."""
    ix = np.clip((stars.x / stars.width * n).astype(int), 0, n - 1)
    iy = np.clip((stars.y / stars.height * n).astype(int), 0, n - 1)
    med = np.full((n, n), np.nan)
    count = np.zeros((n, n), dtype=int)
    for r in range(n):
        for c in range(n):
            sel = (iy == r) & (ix == c) & np.isfinite(values)
            count[r, c] = int(sel.sum())
            if sel.any():
                med[r, c] = float(np.median(values[sel]))
    return med, count


# --- the fit -----------------------------------------------------------------------------------

def model_fwhm(params: np.ndarray, u: np.ndarray, v: np.ndarray, k: float) -> np.ndarray:
    f0, z0, tx, ty = params
    return np.sqrt(f0 ** 2 + (k * (z0 + tx * u + ty * v)) ** 2)


def fit_tilt(u: np.ndarray, v: np.ndarray, fwhm: np.ndarray, k: float) -> TiltFit:
    """Least-squares fit of the module's model; ``k`` = 1 / (N · pixel_um) px per µm.

    |z| makes the problem two-fold symmetric and kinked where the focal plane crosses the sensor,
    so the fit starts from a spread of (z0, tx, ty) and keeps the best; the answer is returned
    with z0 ≥ 0 (its mirror image fits exactly as well). Robust (soft-L1) loss: a blended or
    mis-fitted star does not pull the plane.
    """
    from scipy.optimize import least_squares

    f_min = float(np.percentile(fwhm, 5))
    span = max(float(np.sqrt(max(np.percentile(fwhm, 95) ** 2 - f_min ** 2, 0.0))) / k, 5.0)

    def jac(p: np.ndarray) -> np.ndarray:
        z = p[1] + p[2] * u + p[3] * v
        m = np.sqrt(p[0] ** 2 + (k * z) ** 2)
        kz = k * k * z / m
        return np.column_stack([p[0] / m, kz, kz * u, kz * v])

    best = None
    # z0 >= 0 suffices (the mirror image fits as well); tilts of either sign along both axes.
    for z0 in (0.1 * span, span):
        for tx in (-2 * span, 0.0, 2 * span):
            for ty in (-2 * span, 0.0, 2 * span):
                x0 = np.array([max(f_min * 0.9, 0.5), z0, tx, ty])
                res = least_squares(lambda p: model_fwhm(p, u, v, k) - fwhm, x0, jac=jac,
                                    loss="soft_l1", f_scale=0.1 * f_min,
                                    bounds=([0.1, -np.inf, -np.inf, -np.inf], np.inf))
                if best is None or res.cost < best.cost:
                    best = res
    assert best is not None
    p = best.x.copy()
    if p[1] < 0:
        p[1:] = -p[1:]
    resid = model_fwhm(p, u, v, k) - fwhm
    dof = max(1, fwhm.size - 4)
    s2 = float(np.sum(resid ** 2) / dof)
    # Standard errors from the plain (not loss-scaled) Jacobian. Without tilt, F0 and z0 are one
    # parameter (only F0² + (k·z0)² shows): pinv's cutoff drops that direction instead of
    # letting it blow up the others' errors.
    j = jac(p)
    try:
        cov = np.linalg.pinv(j.T @ j, rcond=1e-8) * s2
        errs = tuple(float(math.sqrt(max(c, 0.0))) for c in np.diag(cov))
    except np.linalg.LinAlgError:
        errs = (math.inf,) * 4
    return TiltFit(float(abs(p[0])), float(p[1]), float(p[2]), float(p[3]), errs,  # type: ignore[arg-type]
                   float(math.sqrt(s2)), int(fwhm.size), flat_p=flat_field_p(fwhm, resid))


def flat_field_p(fwhm: np.ndarray, resid: np.ndarray) -> float:
    """p-value of "no tilt" against the fitted plane (F-test of nested models).

    Without tilt the model is one number, the FWHM everywhere (F0 and z0 then only show as
    F0² + (k·z0)²); the plane has three parameters more. Why a test and not only the standard
    errors: on a flat field the fit can put the focal plane through the sensor centre (z0 ≈ 0),
    where FWHM grows only quadratically with the tilt and any tilt of tens of µm bends the
    surface less than the FWHMs' noise; there the Jacobian's errors understate the spread (a
    simulated Ares-M PRO, no tilt, 80 µm behind focus, ~18 stars with 0.07 px FWHM noise: six
    frames gave tilts of 9 to 45 µm, one "significant")."""
    from scipy.stats import f as f_dist

    n = int(fwhm.size)
    if n <= 4:
        return 1.0
    ssr_plane = float(np.sum(resid ** 2))
    ssr_flat = float(np.sum((fwhm - fwhm.mean()) ** 2))
    if ssr_plane <= 0:
        return 0.0 if ssr_flat > 0 else 1.0
    stat = max(ssr_flat - ssr_plane, 0.0) / 3 / (ssr_plane / (n - 4))
    return float(f_dist.sf(stat, 3, n - 4))


def analyse(path: Path, fratio: float | None = None, pixel_um: float | None = None,
            racked: str | None = None) -> Analysis:
    data, facts = load(path)
    pixel = pixel_um or facts["pixel_um"]
    if not pixel:
        raise TiltFailed(f"{path}: no PIXSIZE1/XPIXSZ in the header: give --pixel-um")
    if fratio is None and facts["focallen"] and facts["aperture"]:
        fratio = float(facts["focallen"]) / float(facts["aperture"])
    if not fratio:
        raise TiltFailed("the focal ratio is needed (--fratio; the header has no FOCALLEN/APTDIA)")
    saturation = 65535.0 * facts["superpixel"] ** 2  # 16-bit FITS; a superpixel sums four
    stars = measure(data, saturation=saturation if data.max() <= saturation else None)
    u = stars.x / stars.width - 0.5
    v = stars.y / stars.height - 0.5
    k = 1.0 / (fratio * pixel)
    fit = fit_tilt(u, v, stars.fwhm, k)
    notes = []
    if racked in ("out", "in"):
        if abs(fit.z0_um) >= max(MIN_TILT_UM, SIGN_SIGNIFICANCE * fit.errors[1]):
            if racked == "in":
                fit.z0_um, fit.tx_um, fit.ty_um = -fit.z0_um, -fit.tx_um, -fit.ty_um
            fit.sign_known = True
        elif fit.significant:
            notes.append(f"--racked {racked} given, but the sensor centre is in focus "
                         f"(z0 = {fit.z0_um:.0f} ± {fit.errors[1]:.0f} µm): rack further")
    if not fit.sign_known:
        # Either mirror image fits: name the axis one way whichever the fit landed on (the
        # larger component positive), so the same frame always reads the same.
        lead = fit.ty_um if abs(fit.ty_um) >= abs(fit.tx_um) else fit.tx_um
        if lead < 0:
            fit.z0_um, fit.tx_um, fit.ty_um = -fit.z0_um, -fit.tx_um, -fit.ty_um
    g, count = grid(stars, stars.fwhm)
    e, _ = grid(stars, stars.elongation)
    sp = facts["superpixel"]
    if sp != 1:
        notes.append("colour frame: measured on 2×2 superpixels (FWHM given in superpixels)")
    return Analysis(stars, fit, g, e, count, pixel, fratio, notes)
