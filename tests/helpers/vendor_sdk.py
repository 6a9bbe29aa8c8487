"""The vendor's own camera SDK (a test peer, never shipped) and what our binding asks of it.

Where it is: ``INDI_PLAYERONE_VENDOR_SDK`` names this machine's ``libPlayerOneCamera.so.3``;
unset, the path ``.ci/setup`` wrote to ``build/vendor-sdk`` is used. The SDK folder
(``vendor/playerone-sdk/`` of the test peers, ``bash .ci/peers-dir``) holds the vendor's
``PlayerOneCamera.h`` beside ``linux-x86_64/`` and ``linux-arm64/``.

What the binding resolves: the ``POA_SDK_FUNCS`` list of ``native/src/sdk_internal.h`` (the C
layer dlsyms exactly those), read from the header so a function added there is checked too.
Exported symbols are read with binutils' ``readelf``, which reads an ELF file of any
architecture.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR_ENV = "INDI_PLAYERONE_VENDOR_SDK"
#: Written by .ci/setup: this machine's vendor library.
RECORD = ROOT / "build" / "vendor-sdk"
INTERNAL_HEADER = ROOT / "native" / "src" / "sdk_internal.h"
SIM_HEADER = ROOT / "native" / "simsdk" / "PlayerOneCamera.h"
#: The vendor's library folders, by the name the SDK archive gives them.
ARCHES = ("linux-x86_64", "linux-arm64")
_SKIP = (f"needs a Player One camera SDK from the vendor: set {VENDOR_ENV} to its "
         "libPlayerOneCamera.so.3 (bash .ci/setup finds the test peers' copy)")


def _named() -> str:
    """The vendor library ``INDI_PLAYERONE_VENDOR_SDK`` or ``.ci/setup``'s record names, or ""."""
    return os.environ.get(VENDOR_ENV, "") or (RECORD.read_text().strip() if RECORD.is_file() else "")


def library() -> str:
    """This machine's vendor library (skips without one; strict CI turns that into a failure)."""
    path = _named()
    if not path or not os.path.isfile(path):
        pytest.skip(_SKIP)
    return path


def sdk_dir() -> Path:
    """The vendor's SDK folder: the library's grandparent (``<sdk>/linux-x86_64/lib...``), else
    the test peers' ``vendor/playerone-sdk``."""
    path = _named()
    if path and (Path(path).parent.parent / "PlayerOneCamera.h").is_file():
        return Path(path).parent.parent
    peers = subprocess.run(["bash", str(ROOT / ".ci" / "peers-dir")], capture_output=True,
                           text=True)
    folder = Path(peers.stdout.strip()) / "vendor" / "playerone-sdk"
    if peers.returncode != 0 or not (folder / "PlayerOneCamera.h").is_file():
        pytest.skip(_SKIP)
    return folder


def header() -> Path:
    """The vendor's ``PlayerOneCamera.h`` (as shipped with the libraries)."""
    return sdk_dir() / "PlayerOneCamera.h"


def arch_library(arch: str) -> Path:
    """The vendor's library for ``arch`` (one of :data:`ARCHES`)."""
    path = sdk_dir() / arch / "libPlayerOneCamera.so.3"
    if not path.is_file():
        pytest.skip(f"{_SKIP}; {path} is missing")
    return path


def exported_functions(path: Path | str) -> set[str]:
    """The functions ``path`` defines in its dynamic symbol table (``readelf --dyn-syms``)."""
    if shutil.which("readelf") is None:
        pytest.skip("readelf not installed (binutils)")
    out = subprocess.run(["readelf", "--dyn-syms", "--wide", str(path)], capture_output=True,
                         text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        # Num: Value Size Type Bind Vis Ndx Name
        cols = line.split()
        if len(cols) >= 8 and cols[3] == "FUNC" and cols[4] in ("GLOBAL", "WEAK") and cols[6] != "UND":
            names.add(cols[7].split("@")[0])
    return names


def exported_poa(path: Path | str) -> set[str]:
    """The SDK's C API among :func:`exported_functions`: the ``POA*`` names."""
    return {n for n in exported_functions(path) if n.startswith("POA")}


@dataclass(frozen=True)
class BoundFunction:
    """One entry of ``POA_SDK_FUNCS``: the function our C layer resolves with dlsym."""

    name: str
    required: bool
    returns: str
    params: tuple[str, ...]  # C types, as written there ("int *", "POACameraProperties *")


_X_ENTRY = re.compile(r"X\(\s*([01])\s*,\s*(\w+)\s*,\s*([^,]+?)\s*,\s*\(([^()]*)\)\s*\)")


def bound_functions(internal_header: Path = INTERNAL_HEADER) -> list[BoundFunction]:
    """Every function of the ``POA_SDK_FUNCS`` X-macro list, in its order."""
    text = internal_header.read_text()
    block = text[text.index("#define POA_SDK_FUNCS"):]
    block = block[: block.index("\n\n")].replace("\\\n", " ")
    found = []
    for req, name, ret, args in _X_ENTRY.findall(block):
        params = tuple(a.strip() for a in args.split(",") if a.strip() and a.strip() != "void")
        found.append(BoundFunction(name, req == "1", ret.strip(), params))
    assert found, f"no POA_SDK_FUNCS entries found in {internal_header}"
    return found
