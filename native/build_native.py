"""cffi (API mode) build of the C readout core into `indi_playerone._native`.

The C sources are every `native/src/*.c`. The declarations Python may call are generated
here, at build time, from the C side's own public headers: the ones `include/poa_core.h`
includes, in that order (`cdefs()`). The headers are the one source of truth; a new
function or constant is declared once, in its header. What the generator does to a
header (`header_cdef`):

* drops comments, `#include`s, the include guard and `_Static_assert`s;
* turns every constant macro (`#define POA_X <expression>`) into `#define POA_X ...`, so
  the C compiler itself evaluates the expression when the module is built (cffi's API
  mode): nothing is converted by hand, `((size_t)512 << 20)` included;
* refuses what cffi cannot take and a header of the API should not hold (conditional
  blocks, function-like macros, inline functions), naming the header and line.

Build flags: -O3 with vectorisation (the performance budget measured portable -O2 builds
1.3-2.4x slower); CFLAGS from the environment are appended, so a sanitizer build is
`CFLAGS="-fsanitize=address,undefined" pip install -e .`. `make_ffi()` builds the same
module with other flags (the ASan soak test).
"""
from __future__ import annotations

import glob
import os
import re
import sys
from typing import Optional

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
INCLUDE = os.path.join(HERE, "include")
UMBRELLA = "poa_core.h"

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_STATIC_ASSERT = re.compile(r"\b_Static_assert\s*\([^;]*\)\s*;", re.S)
_INCLUDE_LOCAL = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
_DEFINE = re.compile(r"#\s*define\s+(\w+)(\(?)\s*(.*)")


def public_headers(include_dir: str = INCLUDE, umbrella: str = UMBRELLA) -> list[str]:
    """The headers the umbrella header includes, in its order (later ones use earlier types)."""
    with open(os.path.join(include_dir, umbrella), encoding="utf-8") as f:
        names = _INCLUDE_LOCAL.findall(f.read())
    return [os.path.join(include_dir, n) for n in names]


def header_cdef(text: str, name: str = "<header>") -> str:
    """One header as cffi declarations (see the module docstring for the rules)."""
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n") or " ", text)
    text = _STATIC_ASSERT.sub("", text.replace("\\\n", " "))
    guard: Optional[str] = None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped.startswith("#"):
            if re.search(r"\binline\b", stripped):
                raise ValueError(f"{name}:{number}: inline function in a public header")
            out.append(line.rstrip())
            continue
        directive = stripped[1:].lstrip()
        if directive.startswith("include") or directive.startswith("endif"):
            continue
        if directive.startswith("ifndef") and guard is None:
            guard = directive.split()[1]
            continue
        if directive.startswith("define"):
            macro, paren, value = _DEFINE.match("#" + directive).groups()
            if macro == guard and not value:
                continue
            if paren:
                raise ValueError(f"{name}:{number}: function-like macro {macro}")
            if not value:
                raise ValueError(f"{name}:{number}: macro {macro} without a value")
            out.append(f"#define {macro} ...")
            continue
        raise ValueError(f"{name}:{number}: cffi cannot take '#{directive.split()[0]}'")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def cdefs(include_dir: str = INCLUDE, umbrella: str = UMBRELLA) -> str:
    """Every public header's declarations, concatenated in the umbrella header's order."""
    parts = []
    for path in public_headers(include_dir, umbrella):
        with open(path, encoding="utf-8") as f:
            parts.append(f"/* {os.path.basename(path)} */\n" + header_cdef(f.read(), path))
    return "\n".join(parts)


def _sources(absolute: bool) -> list[str]:
    paths = sorted(glob.glob(os.path.join(HERE, "src", "*.c")))
    # Relative paths by default: setuptools refuses absolute source paths in wheels.
    return paths if absolute else [os.path.relpath(p, ROOT) for p in paths]


COMPILE_ARGS = ["-std=c11", "-O3", "-Wall", "-Wextra", "-fno-strict-aliasing"]
if sys.platform.startswith("linux"):
    # _FILE_OFFSET_BITS=64: a 64-bit off_t on 32-bit ARM (armhf) too, where glibc's default is
    # 32 bits and a SER recording stops with EFBIG at 2 GiB (17 frames of a Zeus 455). The
    # module's other sources do not include Python.h, whose pyconfig.h would set it.
    COMPILE_ARGS += ["-D_GNU_SOURCE", "-D_FILE_OFFSET_BITS=64"]


def make_ffi(compile_args: Optional[list[str]] = None, link_args: Optional[list[str]] = None,
             absolute: bool = False) -> FFI:
    """The module's FFI with these compiler flags (default: the release build's);
    `absolute` source paths for a build run from another directory."""
    ffi = FFI()
    ffi.cdef(cdefs())
    include = INCLUDE if absolute else os.path.relpath(INCLUDE, ROOT)
    ffi.set_source(
        "indi_playerone._native",
        f'#include "{UMBRELLA}"\n',
        sources=_sources(absolute),
        include_dirs=[include],
        extra_compile_args=COMPILE_ARGS if compile_args is None else compile_args,
        extra_link_args=link_args or [],
        libraries=["pthread", "dl"] if sys.platform.startswith("linux") else [],
    )
    return ffi


ffibuilder = make_ffi()

if __name__ == "__main__":
    if sys.argv[1:] == ["--cdefs"]:
        print(cdefs(), end="")
    else:
        # cffi compiles from inside tmpdir: the sources need absolute paths here.
        make_ffi(absolute=True).compile(tmpdir=os.path.join(HERE, "build"), verbose=True)
