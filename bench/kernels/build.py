"""cffi (API mode) build of the benchmark's kernels into a module of their own,
`_poa_bench_kernels`: `conv.c`, `bin.c`, `geom.c` here, with the C core's `simd.c` for the
run-time SIMD choice (its own copy of that state: switch it through this module).

The declarations come from `poa_common.h` and `poa_kernels.h` by the same generator as
the driver's module (`native/build_native.py`), with the same compiler flags. Built on
first use into `bench/kernels/build/` (or the directory given), then rebuilt only when a
source changed.
"""
from __future__ import annotations

import importlib.util
import os
from types import ModuleType
from typing import Optional

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
NATIVE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "native")
MODULE = "_poa_bench_kernels"
SOURCES = ["conv.c", "bin.c", "geom.c"]


def _build_native() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_native", os.path.join(NATIVE, "build_native.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines the FFIs; compiles nothing on import
    return module


def make_ffi(compile_args: Optional[list[str]] = None) -> FFI:
    bn = _build_native()
    headers = [os.path.join(NATIVE, "include", "poa_common.h"), os.path.join(HERE, "poa_kernels.h")]
    cdef = []
    for path in headers:
        with open(path, encoding="utf-8") as f:
            cdef.append(bn.header_cdef(f.read(), path))
    ffi = FFI()
    ffi.cdef("\n".join(cdef))
    ffi.set_source(MODULE, '#include "poa_common.h"\n#include "poa_kernels.h"\n',
                   sources=[os.path.join(HERE, s) for s in SOURCES]
                   + [os.path.join(NATIVE, "src", "simd.c")],
                   include_dirs=[os.path.join(NATIVE, "include"), HERE],
                   extra_compile_args=bn.COMPILE_ARGS if compile_args is None else compile_args)
    return ffi


def load(build_dir: Optional[str] = None) -> ModuleType:
    """The compiled module (built into `build_dir` first if needed)."""
    path = make_ffi().compile(tmpdir=build_dir or os.path.join(HERE, "build"))
    spec = importlib.util.spec_from_file_location(MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
