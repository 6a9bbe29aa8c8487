"""cffi (API mode) build of the C readout core into `indi_playerone._native`.

The C sources are every `native/src/*.c`; the declarations Python may call are
every `native/cdef/*.h` (plain C declarations, concatenated in name order and
given to `ffibuilder.cdef`). Adding a kernel means adding one .c and one .h
file: this script does not change. Headers under `native/include/` are the C
side's own API and are included by the sources.

Build flags: -O3 with vectorisation (the performance budget measured portable
-O2 builds 1.3-2.4x slower); CFLAGS from the environment are appended, so a
sanitizer build is `CFLAGS="-fsanitize=address,undefined" pip install -e .`.
"""
from __future__ import annotations

import glob
import os
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))


def _read_cdefs() -> str:
    parts = []
    for path in sorted(glob.glob(os.path.join(HERE, "cdef", "*.h"))):
        with open(path, encoding="utf-8") as f:
            parts.append(f.read())
    return "\n".join(parts)


def _sources() -> list[str]:
    # Relative paths: setuptools refuses absolute source paths in wheels.
    root = os.path.dirname(HERE)
    return sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(HERE, "src", "*.c")))


ffibuilder = FFI()
ffibuilder.cdef(_read_cdefs())

_extra_compile = ["-std=c11", "-O3", "-Wall", "-Wextra", "-fno-strict-aliasing"]
if sys.platform.startswith("linux"):
    _extra_compile.append("-D_GNU_SOURCE")

ffibuilder.set_source(
    "indi_playerone._native",
    '#include "poa_core.h"\n',
    sources=_sources(),
    include_dirs=[os.path.relpath(os.path.join(HERE, "include"), os.path.dirname(HERE))],
    extra_compile_args=_extra_compile,
    libraries=["pthread", "dl"] if sys.platform.startswith("linux") else [],
)

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=os.path.join(HERE, "build"), verbose=True)
