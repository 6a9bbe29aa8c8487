"""Build the fake Player One SDK: ``libPlayerOneCamera.so.3`` from the project's own C.

The fake (sources in ``native/fake_sdk/``, behaviour and faults in its ``README.md``) is a real
shared library with the vendor SDK's C API and SONAME, so the SDK backend can be tested end to end
without a camera: point ``INDI_PLAYERONE_SDK`` at the file this returns. It is deliberately NOT
part of the cffi ``_native`` module, and is built on demand with the system C compiler (one
``cc`` call for all sources, about 1 s with gcc on the project VM).

One command::

    python -m indi_playerone.camera.fake_sdk_build build/fake-sdk

prints the path of the library. Linux only (``-Wl,-soname``, ``CLOCK_MONOTONIC`` condition
variables); it needs the repository checkout, as the C sources are not installed with the package.
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

__all__ = ["SONAME", "SOURCE_DIR", "CFLAGS", "FakeSdkBuildError", "build_fake_sdk", "compile_command"]

SONAME = "libPlayerOneCamera.so.3"
#: ``native/fake_sdk`` of the checkout this module sits in.
SOURCE_DIR = Path(__file__).resolve().parents[2] / "native" / "fake_sdk"
#: -fvisibility=hidden: only the functions the header marks POACAMERA_API are exported, like the
#: vendor's library; -O2 keeps the frame renderer fast enough for real-time exposures.
CFLAGS: tuple[str, ...] = (
    "-std=c11", "-O2", "-g", "-fPIC", "-shared", "-fvisibility=hidden",
    "-Wall", "-Wextra", "-Wpedantic", "-D_GNU_SOURCE",
)


class FakeSdkBuildError(RuntimeError):
    """The compiler is missing or failed; the message holds its command line and output."""


def _sources(source_dir: Path) -> list[Path]:
    sources = sorted(source_dir.glob("*.c"))
    if not sources:
        raise FakeSdkBuildError(f"no fake SDK sources in {source_dir} (is this a repository checkout?)")
    return sources


def compile_command(output: Path, cc: str | None = None, extra_cflags: Sequence[str] = (),
                    source_dir: Path = SOURCE_DIR) -> list[str]:
    """The compiler command line that writes the library to ``output``.

    ``cc`` defaults to ``$CC``, then ``cc``; it may hold arguments (``CC="ccache gcc"``).
    """
    compiler = shlex.split(cc or os.environ.get("CC") or "cc")
    return [*compiler, *CFLAGS, *extra_cflags, f"-Wl,-soname,{SONAME}", "-o", str(output),
            *map(str, _sources(source_dir)), "-lpthread", "-lm"]


def build_fake_sdk(out_dir: str | os.PathLike[str], *, cc: str | None = None,
                   extra_cflags: Sequence[str] = (), force: bool = False,
                   source_dir: Path = SOURCE_DIR) -> Path:
    """Compile the fake SDK into ``out_dir`` and return the path of ``libPlayerOneCamera.so.3``.

    A ``libPlayerOneCamera.so`` symlink is made beside it (the development name loaders look for).
    The library is written under a temporary name and renamed, so a process that has the old file
    loaded keeps a valid mapping. Unless ``force``, an existing library newer than every source and
    built by the same command line is reused (the command is kept in a ``.cmd`` file beside it).
    Compiler warnings do not fail the build; they are in the ``.log`` file beside the library.
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    lib = out / SONAME
    stamp = out / f"{SONAME}.cmd"
    cmd_text = " ".join(map(shlex.quote, compile_command(lib, cc, extra_cflags, source_dir)))
    if not force and _up_to_date(lib, stamp, cmd_text, source_dir):
        return lib
    fd, tmp_name = tempfile.mkstemp(prefix=f".{SONAME}.", dir=out)
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = compile_command(tmp, cc, extra_cflags, source_dir)
    if shutil.which(cmd[0]) is None:
        tmp.unlink()
        raise FakeSdkBuildError(f"C compiler {cmd[0]!r} not found (install gcc, or set CC)")
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise FakeSdkBuildError(f"{shlex.join(cmd)}\n{result.stdout}{result.stderr}")
        _replace_file(out / f"{SONAME}.log", result.stdout + result.stderr)
        tmp.chmod(0o755)  # mkstemp made it 0600-based; a library is world-readable
        os.replace(tmp, lib)
    finally:
        if tmp.exists():
            tmp.unlink()
    _replace_file(stamp, cmd_text)
    # The development name, swapped in atomically: test processes may build into one directory.
    tmp_link = out / f".libPlayerOneCamera.so.{os.getpid()}"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(SONAME)
    os.replace(tmp_link, out / "libPlayerOneCamera.so")
    return lib


def _replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (readers never see half)."""
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m indi_playerone.camera.fake_sdk_build [OUT_DIR] [--force]``: print the path."""
    args = list(sys.argv[1:] if argv is None else argv)
    force = "--force" in args
    rest = [a for a in args if a != "--force"]
    if len(rest) > 1 or any(a.startswith("-") for a in rest):
        sys.stderr.write("usage: python -m indi_playerone.camera.fake_sdk_build [OUT_DIR] [--force]\n")
        return 2
    try:
        lib = build_fake_sdk(rest[0] if rest else "build/fake-sdk", force=force)
    except FakeSdkBuildError as e:
        sys.stderr.write(f"{e}\n")
        return 1
    sys.stdout.write(f"{lib}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
