"""What the C kernels' property tests share: the hypothesis settings, a fixture running each test
with the SIMD paths on and with the plain-C fallback forced, seeded inputs, and the FITS reference."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# The simd fixture sets a mode for the whole test; it needs no reset between examples.
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def simd_fixture(switch: Callable[[bool], AbstractContextManager[Any]]) -> Any:
    """A ``simd`` fixture for a test module: each test runs under ``switch(True)`` (the run-time
    SIMD choice) and ``switch(False)`` (the plain C), so both paths meet the same reference."""

    @pytest.fixture(params=[True, False], ids=["simd", "plain_c"])
    def simd(request: pytest.FixtureRequest) -> Iterator[bool]:
        with switch(request.param):
            yield request.param

    return simd


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def ref_fits(v: np.ndarray) -> bytes:
    """FITS BITPIX 16 with BZERO 32768, from the standard's definition, not from the C."""
    return (v.astype(np.int32) - 32768).astype(">i2").tobytes()
