"""Fixtures of the simulated-SDK tests: the library built once per module, loaded with ctypes
and the vendor's signatures, and a reset library with two cameras."""
from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.simsdk_api import _SIGNATURES, APOLLO_M, ARES_C, build_simsdk, load_library


@pytest.fixture(scope="module")
def lib_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_simsdk(tmp_path_factory.mktemp("simsdk"))


@pytest.fixture(scope="module")
def lib(lib_path: Path) -> ctypes.CDLL:
    return load_library(lib_path, _SIGNATURES)


@pytest.fixture
def sdk(lib: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> Iterator[ctypes.CDLL]:
    """The library, reset, with two cameras configured and a fast cooler; reset again after."""
    for var in [v for v in os.environ if v.startswith("INDI_PLAYERONE_SIM")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", f"{APOLLO_M},{ARES_C}")
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "cooler_tau=0.2")
    lib.SimPOA_Reset()
    yield lib
    lib.SimPOA_Reset()
