"""The simulated SDK library (``libPlayerOneCameraSim.so``, ``native/simsdk/``) in tests.

* :func:`library`: the build the package installed (``indi_playerone/simsdk/``), the one the
  driver loads for ``INDI_PLAYERONE_SIMULATE``;
* :func:`build`: another build on demand (sanitizers, another compiler), with
  ``native/build_simsdk.py``; point ``INDI_PLAYERONE_SIM_SDK`` at it to have the driver load it;
* :func:`use`: set the simulated cameras of this process (the library reads the environment
  at its next camera count and at each open);
* :class:`SimControl`: the library's own control functions (``SimPOA_SetFault``, ``SimPOA_Reset``,
  ``SimPOA_GetFrameCount``), reached with ctypes on the same mapped library.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from indi_playerone.camera import registry
from indi_playerone.camera.sdk_loader import SIM_LIBRARY, SIM_SDK_ENV

ROOT = Path(__file__).resolve().parents[2]


def library() -> Path:
    """The package's simulated SDK (skips the test where the package was built without it)."""
    if not SIM_LIBRARY.exists():
        pytest.skip(f"{SIM_LIBRARY} is not built (reinstall the package: pip install -e .)")
    return SIM_LIBRARY


def builder() -> ModuleType:
    """``native/build_simsdk.py``, the on-demand build (the package's own build uses it too)."""
    spec = importlib.util.spec_from_file_location("build_simsdk", ROOT / "native" / "build_simsdk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(out_dir: Path, **kwargs: Any) -> Path:
    """``build_simsdk.build(out_dir, cc=..., extra_cflags=..., force=...)``: the path of the
    library (skips without a C compiler)."""
    module = builder()
    try:
        return module.build(out_dir, **kwargs)
    except module.BuildError as exc:
        if "not found" in str(exc):
            pytest.skip(str(exc))
        raise


def use(monkeypatch: pytest.MonkeyPatch, models: str, *, options: str | None = None,
        fault_file: Path | None = None, fault_log: Path | None = None, reset: bool = True) -> None:
    """Simulated cameras ``models`` for this process, with ``INDI_PLAYERONE_SIM_OPTIONS``
    ``options`` and the fault file and log (None: unset); the package's library unless
    ``INDI_PLAYERONE_SIM_SDK`` is set. ``reset``: the library forgets what earlier tests did
    to it (``SimPOA_Reset``: every camera closed, faults and unplugs cleared)."""
    monkeypatch.setenv(registry.SIMULATE_ENV, models)
    for name, value in ((registry.SIM_OPTIONS_ENV, options), (registry.FAULT_FILE_ENV, fault_file),
                        (registry.FAULT_LOG_ENV, fault_log)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value))
    if reset:
        SimControl().reset()


def env(models: str, **more: str) -> dict[str, str]:
    """The environment of a driver process serving simulated cameras ``models``."""
    out = {registry.SIMULATE_ENV: models}
    if os.environ.get(SIM_SDK_ENV):
        out[SIM_SDK_ENV] = os.environ[SIM_SDK_ENV]
    out.update(more)
    return out


class SimControl:
    """The simulated SDK's control functions (not part of the vendor API), on the library
    this process loaded. Each is looked up under its ``SimPOA_`` name, then its older
    ``FakePOA_`` one."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.lib = ctypes.CDLL(str(path or os.environ.get(SIM_SDK_ENV) or library()))
        self.set_fault = self._func("SetFault", [ctypes.c_int, ctypes.c_char_p, ctypes.c_int])
        self.get_frame_count = self._func("GetFrameCount", [ctypes.c_int, ctypes.POINTER(ctypes.c_int)])
        self.reset = self._func("Reset", [])
        self.reset.restype = None

    def _func(self, name: str, argtypes: list[Any]) -> Any:
        for prefix in ("SimPOA_", "FakePOA_"):
            func = getattr(self.lib, prefix + name, None)
            if func is not None:
                func.argtypes = argtypes
                return func
        raise AttributeError(f"the simulated SDK exports no SimPOA_{name}")

    def fault(self, camera_id: int, name: str, arg: int = 0) -> None:
        assert self.set_fault(camera_id, name.encode(), arg) == 0, (camera_id, name, arg)

    def frames(self, camera_id: int) -> int:
        n = ctypes.c_int()
        assert self.get_frame_count(camera_id, ctypes.byref(n)) == 0
        return n.value
