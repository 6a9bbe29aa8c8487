"""Build of the simulated Player One SDK, ``libPlayerOneCameraSim.so`` (sources: ``native/simsdk/``).

The library has the vendor SDK's C API, so the driver loads it through the same SDK backend as
``libPlayerOneCamera.so.3``; it is installed in the package's own directory
(``indi_playerone/simsdk/``), never on the dynamic loader's path, so it never stands in for a
real SDK and both can be loaded in one process.

Two ways to build it, one set of flags:

* with the package: :func:`build_ext_class` is the ``build_ext`` command of
  ``build_backend.py`` and compiles :func:`extension` like any extension module, into the wheel,
  in place for an editable install, and into the .deb (pybuild runs the same backend);
* on demand, for the test suite's sanitizer and compiler checks: :func:`build` (one ``cc`` call,
  about 1 s with gcc) into a directory of the caller's choice, e.g. with ASan flags.

Linux only: the sources use ``CLOCK_MONOTONIC`` condition variables and ``-Wl,-soname``.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SONAME", "PACKAGE_PATH", "SOURCE_DIR", "CFLAGS", "LDFLAGS", "BuildError",
           "supported", "extension", "build_ext_class", "compile_command", "build"]

SONAME = "libPlayerOneCameraSim.so"
#: Where the library sits inside the installed package (see camera/sdk_loader.py).
PACKAGE_PATH = f"indi_playerone/simsdk/{SONAME}"
_EXT_NAME = "indi_playerone.simsdk.libPlayerOneCameraSim"
SOURCE_DIR = Path(__file__).resolve().parent / "simsdk"
#: -fvisibility=hidden: only what the header marks POACAMERA_API is exported, as the vendor's
#: library; -O2 keeps the renderer fast enough for real-time exposures. _FILE_OFFSET_BITS=64:
#: on 32-bit ARM stat() of the fault file would fail with EOVERFLOW on a file system with
#: 64-bit inode numbers.
CFLAGS: tuple[str, ...] = ("-std=c11", "-O2", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra",
                           "-Wpedantic", "-D_GNU_SOURCE", "-D_FILE_OFFSET_BITS=64")
#: -Bsymbolic: the library's calls of its own exported functions stay inside it, whatever else
#: the process has loaded (the vendor's library exports the same names).
LDFLAGS: tuple[str, ...] = (f"-Wl,-soname,{SONAME}", "-Wl,-Bsymbolic")
LIBS: tuple[str, ...] = ("pthread", "m")


class BuildError(RuntimeError):
    """The compiler is missing or failed; the message holds its command line and output."""


def supported() -> bool:
    return sys.platform.startswith("linux")


def _sources(source_dir: Path = SOURCE_DIR) -> list[Path]:
    sources = sorted(source_dir.glob("*.c"))
    if not sources:
        raise BuildError(f"no simulated SDK sources in {source_dir}")
    return sources


def extension():  # -> setuptools.Extension
    """The library as a setuptools extension (sources relative to the project root, as
    setuptools wants them in wheels)."""
    from setuptools import Extension

    root = SOURCE_DIR.parents[1]
    return Extension(_EXT_NAME, sources=[os.path.relpath(p, root) for p in _sources()],
                     extra_compile_args=[c for c in CFLAGS if c != "-fPIC"],
                     extra_link_args=list(LDFLAGS), libraries=list(LIBS))


def build_ext_class() -> type:
    """setuptools' ``build_ext``, naming the simulated SDK ``libPlayerOneCameraSim.so`` (no
    Python ABI suffix: it is a C library that the SDK backend dlopens, not a module). Made on
    call, so the on-demand build does not need setuptools."""
    from setuptools.command.build_ext import build_ext

    class SimSdkBuildExt(build_ext):
        def get_ext_filename(self, fullname: str) -> str:
            # Asked with the full dotted name (setuptools) and with its last part (distutils'
            # get_ext_fullpath, which adds the directories itself).
            if fullname == _EXT_NAME:
                return PACKAGE_PATH
            if fullname == _EXT_NAME.rsplit(".", 1)[1]:
                return SONAME
            return super().get_ext_filename(fullname)

        def copy_extensions_to_source(self) -> None:
            # Editable installs: the package has no simsdk/ directory of its own in git.
            os.makedirs(os.path.dirname(PACKAGE_PATH), exist_ok=True)
            super().copy_extensions_to_source()

        def get_export_symbols(self, ext):  # noqa: ANN001 - setuptools' signature
            if ext.name == _EXT_NAME:
                return []  # no PyInit_: the exports are the header's
            return super().get_export_symbols(ext)

    return SimSdkBuildExt


def compile_command(output: Path, cc: str | None = None, extra_cflags: Sequence[str] = (),
                    source_dir: Path = SOURCE_DIR) -> list[str]:
    """The one compiler call that writes the library to ``output``. ``cc`` defaults to ``$CC``,
    then ``cc``, and may hold arguments (``CC="ccache gcc"``)."""
    compiler = shlex.split(cc or os.environ.get("CC") or "cc")
    return [*compiler, *CFLAGS, "-g", "-shared", *extra_cflags, *LDFLAGS, "-o", str(output),
            *map(str, _sources(source_dir)), *(f"-l{lib}" for lib in LIBS)]


def build(out_dir: str | os.PathLike[str], *, cc: str | None = None,
          extra_cflags: Sequence[str] = (), force: bool = False,
          source_dir: Path = SOURCE_DIR) -> Path:
    """Compile the library into ``out_dir`` and return its path (``out_dir/libPlayerOneCameraSim.so``).

    Written under a temporary name and renamed, so a process that has the old file loaded keeps
    a valid mapping. Unless ``force``, a library newer than every source and built by the same
    command line is reused (the command is kept in a ``.cmd`` file beside it). Compiler warnings
    do not fail the build; they are in the ``.log`` file beside the library.
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    lib = out / SONAME
    stamp = out / f"{SONAME}.cmd"
    cmd_text = shlex.join(compile_command(lib, cc, extra_cflags, source_dir))
    if not force and _up_to_date(lib, stamp, cmd_text, source_dir):
        return lib
    fd, tmp_name = tempfile.mkstemp(prefix=f".{SONAME}.", dir=out)
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = compile_command(tmp, cc, extra_cflags, source_dir)
    if shutil.which(cmd[0]) is None:
        tmp.unlink()
        raise BuildError(f"C compiler {cmd[0]!r} not found (install gcc, or set CC)")
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise BuildError(f"{shlex.join(cmd)}\n{result.stdout}{result.stderr}")
        _replace_file(out / f"{SONAME}.log", result.stdout + result.stderr)
        tmp.chmod(0o755)
        os.replace(tmp, lib)
    finally:
        if tmp.exists():
            tmp.unlink()
    _replace_file(stamp, cmd_text)
    return lib


def _replace_file(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _up_to_date(lib: Path, stamp: Path, cmd_text: str, source_dir: Path) -> bool:
    try:
        if stamp.read_text(encoding="utf-8") != cmd_text:
            return False
        built = lib.stat().st_mtime
    except OSError:
        return False
    inputs = [*source_dir.glob("*.c"), *source_dir.glob("*.h")]
    return all(p.stat().st_mtime < built for p in inputs)


if __name__ == "__main__":
    # python native/build_simsdk.py [OUT_DIR]: build on demand and print the path.
    try:
        print(build(sys.argv[1] if len(sys.argv) > 1 else "build/simsdk"))
    except BuildError as e:
        sys.exit(str(e))
