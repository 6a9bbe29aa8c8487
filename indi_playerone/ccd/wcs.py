"""WCS keywords (WCS_CONTROL enabled), as libindi's camera class writes them.

A tangent-plane solution centred on the mount's J2000 position: CRVAL = (RA, DEC) of the
image centre, CRPIX = centre pixel, CDELT = the pixel scale (from the focal length) and
CROTA = CCD_ROTATION. Only as good as the mount's pointing, which is what a plate solver
then refines; written only when the mount position and a focal length are known.
"""
from __future__ import annotations


def wcs_cards(ra_deg: float, dec_deg: float, shape: tuple[int, int], pixel_um: tuple[float, float],
              binning: tuple[int, int], focal_mm: float, rotation_deg: float) -> list[tuple]:
    height, width = shape
    # arcsec per (binned) pixel; libindi's 206.3 so the values match its SCALE keyword.
    secpix1 = pixel_um[0] / focal_mm * 206.3 * binning[0]
    secpix2 = pixel_um[1] / focal_mm * 206.3 * binning[1]
    return [
        ("CRVAL1", round(ra_deg, 8), "CRVAL1"),
        ("CRVAL2", round(dec_deg, 8), "CRVAL1"),
        ("RADECSYS", "FK5", "RADECSYS"),  # what libindi writes; deprecated by FITS 4.0
        ("RADESYS", "FK5", "Reference frame"),  # the standard spelling, for WCS readers
        ("CTYPE1", "RA---TAN", "CTYPE1"),
        ("CTYPE2", "DEC--TAN", "CTYPE2"),
        ("CRPIX1", (width + 1) / 2.0, "CRPIX1"),
        ("CRPIX2", (height + 1) / 2.0, "CRPIX2"),
        ("SECPIX1", round(secpix1, 6), "SECPIX1"),
        ("SECPIX2", round(secpix2, 6), "SECPIX2"),
        ("CDELT1", round(secpix1 / 3600.0, 10), "CDELT1"),
        ("CDELT2", round(secpix2 / 3600.0, 10), "CDELT2"),
        ("CROTA1", round(rotation_deg, 6), "CROTA1"),
        ("CROTA2", round(rotation_deg, 6), "CROTA2"),
    ]
