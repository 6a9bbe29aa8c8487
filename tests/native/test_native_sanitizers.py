"""The C core's own test programs (native/tests/*.c, and bench/kernels/test_kernels.c for the
benchmark's kernels with the core's FITS and statistics kernels) under AddressSanitizer +
UndefinedBehaviorSanitizer, ThreadSanitizer and valgrind memcheck, plus build checks
for clang and the Raspberry Pi cross compilers (64- and 32-bit ARM).

Each program links the sources directly (no Python), exits non-zero on any failed
check, and the sanitizers are built with -fno-sanitize-recover so any report fails.
Tools that are missing skip their test with the reason.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
KERNELS = ROOT / "bench" / "kernels"
SOURCES = sorted(glob.glob(str(NATIVE / "src" / "*.c")))
BENCH_SOURCES = sorted(glob.glob(str(KERNELS / "*.c")))
#: -D_FILE_OFFSET_BITS=64 as native/build_native.py: ser.c refuses a 32-bit off_t (32-bit ARM).
BASE = ["-std=c11", "-D_GNU_SOURCE", "-D_FILE_OFFSET_BITS=64", f"-I{NATIVE / 'include'}",
        f"-I{NATIVE / 'tests'}", f"-I{KERNELS}"]
#: Each test program: its file and the sources it links beside the core's.
PROGRAMS = {
    "test_kernels": (KERNELS / "test_kernels.c", [p for p in BENCH_SOURCES if not p.endswith("test_kernels.c")]),
    "test_ring": (NATIVE / "tests" / "test_ring.c", []),
    "test_ser": (NATIVE / "tests" / "test_ser.c", []),
}
ASAN = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")


def build(cc: str, flags: list[str], test: str, out: Path) -> Path:
    program, extra = PROGRAMS[test]
    cmd = [cc, *BASE, *flags, *SOURCES, *extra, str(program), "-o", str(out), "-lpthread", "-lm", "-ldl"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
    return out


def run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


@pytest.mark.parametrize("test,args", [("test_kernels", []), ("test_ring", ["2000"]), ("test_ser", None)])
def test_asan_ubsan(tmp_path: Path, test: str, args: list[str] | None) -> None:
    exe = build("gcc", ASAN, test, tmp_path / test)
    r = run([str(exe), *(args if args is not None else [str(tmp_path / "t.ser")])])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all passed" in r.stdout
    assert "runtime error" not in r.stderr  # UBSan findings


def test_ring_under_thread_sanitizer(tmp_path: Path) -> None:
    try:
        exe = build("gcc", ["-O1", "-g", "-fsanitize=thread"], "test_ring", tmp_path / "ring_tsan")
    except AssertionError as e:  # pragma: no cover (toolchains without libtsan)
        pytest.skip(f"ThreadSanitizer build not available: {e}")
    r = run([str(exe), "500"])
    assert r.returncode == 0 and "WARNING: ThreadSanitizer" not in r.stderr, r.stderr


def test_ring_stress_clean_under_valgrind_and_allocation_free_per_frame(tmp_path: Path) -> None:
    """memcheck finds no error and no leak; and the heap allocation count does not grow
    with the number of frames (slots are allocated once, never per frame)."""
    valgrind = need("valgrind")
    exe = build("gcc", ["-O1", "-g"], "test_ring", tmp_path / "ring_vg")
    allocs = []
    for frames in ("100", "600"):
        r = run([valgrind, "--error-exitcode=1", "--leak-check=full",
                 "--errors-for-leak-kinds=definite,indirect", str(exe), frames], timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "ERROR SUMMARY: 0 errors" in r.stderr
        m = re.search(r"total heap usage: ([\d,]+) allocs", r.stderr)
        assert m, r.stderr
        allocs.append(int(m.group(1).replace(",", "")))
    assert allocs[0] == allocs[1], f"allocations grow with frames: {allocs}"


def test_plain_c_build_without_x86_simd(tmp_path: Path) -> None:
    """The build-time fallback: with the x86 paths compiled out the kernels still pass."""
    exe = build("gcc", ["-O3", "-DPOA_NO_X86_SIMD", "-Wall", "-Wextra", "-Werror"], "test_kernels", tmp_path / "k")
    r = run([str(exe)])
    assert r.returncode == 0 and "all passed" in r.stdout, r.stderr


def test_gcc_warning_free(tmp_path: Path) -> None:
    for src in [*SOURCES, *BENCH_SOURCES]:
        r = subprocess.run(["gcc", *BASE, "-O3", "-Wall", "-Wextra", "-Werror", "-c", src, "-o",
                            str(tmp_path / "x.o")], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr


def test_clang_builds_and_passes(tmp_path: Path) -> None:
    need("clang")
    exe = build("clang", ["-O3", "-Wall", "-Wextra", "-Werror"], "test_kernels", tmp_path / "k_clang")
    r = run([str(exe)])
    assert r.returncode == 0 and "all passed" in r.stdout, r.stderr


@pytest.mark.parametrize("cc", ["aarch64-linux-gnu-gcc", "arm-linux-gnueabihf-gcc"])
def test_cross_compiles_for_raspberry_pi(tmp_path: Path, cc: str) -> None:
    """Compile-only: 64-bit and 32-bit ARM (size_t is 32 bits on the latter)."""
    need(cc)
    for src in [*SOURCES, *BENCH_SOURCES, str(NATIVE / "tests" / "test_ring.c")]:
        r = subprocess.run([cc, *BASE, "-O3", "-Wall", "-Wextra", "-Werror", "-c", src, "-o",
                            str(tmp_path / "x.o")], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"{cc} {src}\n{r.stderr}"
