"""The two INDI generations our users run, as test peers: which programs make up each.

* ``indi1``: libindi 1.9.9 as Debian 12 and Raspberry Pi OS "bookworm" ship it (``indi-bin``):
  ``indiserver``, ``indi_getprop``/``indi_setprop``/``indi_eval`` and the simulators, on ``PATH``.
* ``indi2``: libindi 2.2.4.2 built from the upstream release by ``.ci/libindi2`` (the INDI PPA,
  StellarMate and KStars 3.7+ run 2.x); the folder of its programs is found, in this order, from
  ``$INDI_PLAYERONE_LIBINDI2_BIN``, the file ``build/libindi2-bin`` that ``.ci/libindi2`` writes,
  and the build's default cache folder.

A test server runs the generation it is given, else the one in ``$INDI_TEST_GENERATION`` (set by
the ``indi_generation`` fixture for the tests parametrised by generation, or by hand to run any
other test under the other generation: ``INDI_TEST_GENERATION=indi2 pytest ...``), else ``indi1``.
It is an environment variable, not a module global, because this package is imported under two
names (``harness`` and ``tests.harness``) and both must agree.  Drivers the server starts by bare
name (``indi_simulator_ccd``) come from the same generation: its folder goes first on ``PATH``.

The differences between the generations, and what the driver does about each, are in
``docs/indi-generations.md``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GENERATIONS", "ENV", "Generation", "current", "get", "libindi2_bindir"]

GENERATIONS = ("indi1", "indi2")
ENV = "INDI_TEST_GENERATION"
_REPO = Path(__file__).resolve().parents[2]
_VERSIONS = {"indi1": "1.9.9", "indi2": "2.2.4"}  # as `indiserver --help` prints "INDI Library: x"


def libindi2_bindir() -> Path | None:
    """The folder holding libindi 2.2.4.2's programs, or None when it was never built here."""
    candidates: list[Path] = []
    if os.environ.get("INDI_PLAYERONE_LIBINDI2_BIN"):
        candidates.append(Path(os.environ["INDI_PLAYERONE_LIBINDI2_BIN"]))
    record = _REPO / "build" / "libindi2-bin"
    if record.is_file():
        candidates.append(Path(record.read_text().strip()))
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    candidates.append(cache / "libindi-2.2.4.2" / "bin")
    for folder in candidates:
        if (folder / "indiserver").is_file() and os.access(folder / "indiserver", os.X_OK):
            return folder
    return None


@dataclass(frozen=True)
class Generation:
    """One generation's programs: ``bindir`` None means "from PATH" (Debian's packages)."""

    name: str
    version: str
    bindir: Path | None

    @property
    def id(self) -> str:
        return self.name

    def program(self, name: str) -> str:
        """Absolute path of ``name`` (indiserver, indi_getprop, ...) in this generation."""
        if self.bindir is not None:
            path = self.bindir / name
            if not path.is_file():
                raise FileNotFoundError(f"{name} is not part of the {self.name} build in {self.bindir}")
            return str(path)
        found = shutil.which(name, path=_path_without_libindi2())
        if found is None:
            raise FileNotFoundError(f"{name} not found on PATH (apt-get install indi-bin)")
        return found

    def path_env(self, base: str | None = None) -> str:
        """A PATH on which bare driver names resolve to this generation's programs."""
        rest = _path_without_libindi2(base)
        return f"{self.bindir}{os.pathsep}{rest}" if self.bindir is not None else rest

    def unavailable(self) -> str | None:
        """Why this generation cannot run here, or None."""
        if self.name == "indi2" and self.bindir is None:
            return "libindi 2.2.4.2 is not built here (run .ci/libindi2)"
        try:
            self.program("indiserver")
        except FileNotFoundError as exc:
            return str(exc)
        return None

    def server_version(self) -> str:
        """The version indiserver itself reports ("INDI Library: x.y.z" in its usage text)."""
        return _reported_version(self.program("indiserver"))


def _path_without_libindi2(base: str | None = None) -> str:
    base = os.environ.get("PATH", os.defpath) if base is None else base
    two = libindi2_bindir()
    parts = [p for p in base.split(os.pathsep) if p and (two is None or Path(p) != two)]
    return os.pathsep.join(parts)


@functools.lru_cache(maxsize=None)
def _reported_version(indiserver: str) -> str:
    res = subprocess.run([indiserver, "--help"], capture_output=True, text=True, timeout=10)
    for line in (res.stdout + res.stderr).splitlines():
        if line.startswith("INDI Library:"):
            return line.split(":", 1)[1].strip()
    return ""


def current() -> str:
    """The generation a test server runs when none is given."""
    name = os.environ.get(ENV, "indi1") or "indi1"
    if name not in GENERATIONS:
        raise ValueError(f"{ENV}={name!r}: expected one of {GENERATIONS}")
    return name


def get(name: str | None = None) -> Generation:
    name = current() if name is None else name
    if name not in GENERATIONS:
        raise ValueError(f"unknown INDI generation {name!r}; expected one of {GENERATIONS}")
    bindir = libindi2_bindir() if name == "indi2" else None
    return Generation(name, _VERSIONS[name], bindir)
