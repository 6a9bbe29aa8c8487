"""Robust statistics of a frame's pixels, for the tests that look for the simulated cameras' hot
pixels and background."""
from __future__ import annotations

import numpy as np


def robust_level(data: np.ndarray) -> tuple[float, float]:
    """The median and the noise about it (1.4826 x the median absolute deviation: the standard
    deviation of a normal distribution, untouched by stars and hot pixels)."""
    data = data.astype(np.float64)
    med = np.median(data)
    return med, 1.4826 * np.median(np.abs(data - med))


def hot_pixels(data: np.ndarray, sigmas: float = 30) -> set[tuple[int, int]]:
    """(y, x) of the pixels more than `sigmas` noise above the median."""
    med, sigma = robust_level(data)
    ys, xs = np.nonzero(data.astype(np.float64) > med + sigmas * sigma)
    return set(zip(ys.tolist(), xs.tolist()))
