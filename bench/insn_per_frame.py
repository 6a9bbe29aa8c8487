"""Instructions per full frame of each stage of the C core's frame path, on the x86_64, arm64
(Raspberry Pi OS 64-bit) and armhf (32-bit) builds: the figure that compares across
architectures when only one of them is at hand. Emulated CPU time says nothing about a Pi's;
the number of instructions a build executes does, and shows whether an architecture falls off
a fast path (a loop that vectorises on one and stays scalar on another).

    python bench/insn_per_frame.py            # table of ratios
    python bench/insn_per_frame.py --json     # one JSON object
    python bench/insn_per_frame.py --no-valgrind

How: `bench/insn/frame_stages.c` runs one stage once on a 9576 x 6388 16-bit frame (Zeus 455),
with the same set-up whatever the stage; it is built static for each architecture with the
compiler flags of the driver's module (`native/build_native.py`) by Debian's gcc 12 and its
cross compilers (the compilers of Debian 12, which Raspberry Pi OS 12 is built from). Each build
runs under qemu-user with the counting plugin `bench/insn/insn_count.c` (Debian's qemu-user 7.2
is built with plugin support but ships no plugin); a stage's count is its run's minus the run
of stage "none". The x86_64 counts are checked against valgrind's (callgrind, real CPU
semantics) for one stage. x86_64 runs twice: with the AVX2 kernels (qemu's CPU offers AVX2) and
with the plain-C loops (POA_SIMD=0), the ones the ARM builds have; armhf runs with the NEON copy
of the loops and without it (POA_SIMD=0: Debian's armhf baseline, no NEON).

Needs: gcc, gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf (with their C libraries), qemu-user,
and valgrind for the check. Not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
INSN = os.path.join(HERE, "insn")
BUILD = os.path.join(INSN, "build")
NATIVE_SOURCES = ["native/src/fits.c", "native/src/stats.c", "native/src/ring.c",
                  "native/src/ser.c", "native/src/simd.c", "bench/kernels/bin.c",
                  "bench/kernels/conv.c"]

#: name -> (compiler, qemu, environment of the run)
TARGETS = {
    "x86_64": ("gcc", "qemu-x86_64", {}),
    "x86_64-c": ("gcc", "qemu-x86_64", {"POA_SIMD": "0"}),
    "arm64": ("aarch64-linux-gnu-gcc", "qemu-aarch64", {}),
    "armhf": ("arm-linux-gnueabihf-gcc", "qemu-arm", {}),
    "armhf-c": ("arm-linux-gnueabihf-gcc", "qemu-arm", {"POA_SIMD": "0"}),
}
LABELS = {"x86_64": "x86_64 AVX2", "x86_64-c": "x86_64 C", "arm64": "arm64",
          "armhf": "armhf NEON", "armhf-c": "armhf no NEON"}
#: stage -> (what it is, in the driver)
STAGES = {
    "copy": ("frame into a ring slot (memcpy)", True),
    "fits": ("16-bit FITS data (poa_fits_be16)", True),
    "ser": ("SER frame write", True),
    "stats": ("statistics (poa_stats_u16)", True),
    "bin2": ("2x2 binning, sum *", False),
    "unpack12": ("12-bit unpack *", False),
}


def compile_args() -> list[str]:
    spec = importlib.util.spec_from_file_location("build_native", os.path.join(ROOT, "native", "build_native.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.COMPILE_ARGS)


def build() -> dict[str, str]:
    """The plugin and one static frame_stages per compiler; returns {compiler: path}."""
    os.makedirs(BUILD, exist_ok=True)
    plugin = os.path.join(BUILD, "insn_count.so")
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra",
                    "-o", plugin, os.path.join(INSN, "insn_count.c")], check=True)
    flags = compile_args() + ["-I" + os.path.join(ROOT, "native", "include"),
                              "-I" + os.path.join(ROOT, "bench", "kernels")]
    sources = [os.path.join(INSN, "frame_stages.c")] + [os.path.join(ROOT, s) for s in NATIVE_SOURCES]
    programs = {}
    for cc in sorted({t[0] for t in TARGETS.values()}):
        out = os.path.join(BUILD, f"frame_stages-{cc.replace('-gcc', '') or 'host'}")
        subprocess.run([cc, *flags, "-static", "-pthread", "-o", out, *sources, "-lm"], check=True)
        programs[cc] = out
    programs["plugin"] = plugin
    return programs


def run_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without a POA_SIMD of its own, plus the target's."""
    env = {k: v for k, v in os.environ.items() if k != "POA_SIMD"}
    env.update(extra)
    return env


def qemu_count(qemu: str, plugin: str, program: str, stage: str, env: dict[str, str],
               size: tuple[int, int]) -> int:
    r = subprocess.run([qemu, "-plugin", plugin, program, stage, str(size[0]), str(size[1])],
                       capture_output=True, text=True, env=run_env(env), check=True)
    m = re.search(r"insn-count: (\d+)", r.stderr)
    if not m:
        raise RuntimeError(f"{qemu} {stage}: no count in {r.stderr!r}")
    return int(m.group(1))


def valgrind_count(program: str, stage: str, env: dict[str, str], size: tuple[int, int]) -> int:
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", program,
                        stage, str(size[0]), str(size[1])], capture_output=True, check=True,
                       env=run_env(env))
        with open(out) as f:
            m = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
    assert m, "callgrind wrote no total"
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object only")
    ap.add_argument("--width", type=int, default=9576)
    ap.add_argument("--height", type=int, default=6388)
    ap.add_argument("--no-valgrind", action="store_true", help="skip the check against valgrind")
    a = ap.parse_args()
    size = (a.width, a.height)
    pixels = a.width * a.height
    missing = [t for t in ["gcc", "aarch64-linux-gnu-gcc", "arm-linux-gnueabihf-gcc", "qemu-x86_64",
                           "qemu-aarch64", "qemu-arm"] if shutil.which(t) is None]
    if missing:
        print("insn_per_frame: missing " + ", ".join(missing) + " (apt-get install gcc "
              "gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user valgrind)", file=sys.stderr)
        return 2
    programs = build()
    counts: dict[str, dict[str, int]] = {}
    for name, (cc, qemu, env) in TARGETS.items():
        base = qemu_count(qemu, programs["plugin"], programs[cc], "none", env, size)
        counts[name] = {stage: qemu_count(qemu, programs["plugin"], programs[cc], stage, env, size) - base
                        for stage in STAGES}
    check = None
    if not a.no_valgrind and shutil.which("valgrind"):
        prog = programs["gcc"]
        vg = {n: valgrind_count(prog, "fits", env, size) - valgrind_count(prog, "none", env, size)
              for n, env in (("x86_64", {}), ("x86_64-c", {"POA_SIMD": "0"}))}
        check = {n: {"valgrind": vg[n], "qemu": counts[n]["fits"]} for n in vg}

    result = {
        "frame": {"width": a.width, "height": a.height, "pixels": pixels},
        "insn_per_pixel": {n: {s: round(c / pixels, 3) for s, c in cs.items()} for n, cs in counts.items()},
        "ratio": {
            f"{n}/x86_64": {s: (round(counts[n][s] / counts["x86_64"][s], 2)
                                if counts["x86_64"][s] > pixels // 1000 else None) for s in STAGES}
            for n in TARGETS if n != "x86_64"},
        "ratio_to_plain_x86_64": {
            f"{n}/x86_64-c": {s: (round(counts[n][s] / counts["x86_64-c"][s], 2)
                                  if counts["x86_64-c"][s] > pixels // 1000 else None) for s in STAGES}
            for n in ("arm64", "armhf", "armhf-c")},
        "valgrind_check_fits": check,
    }
    if a.json:
        print(json.dumps(result, indent=1))
        return 0
    names = list(TARGETS)
    print(f"C core, instructions per pixel of a {a.width}x{a.height} 16-bit frame "
          f"({pixels / 1e6:.1f} MP), counted under qemu-user:")
    print(f"{'stage':<10}{'':<34}" + "".join(f"{LABELS[n]:>14}" for n in names))
    for s, (what, _) in STAGES.items():
        print(f"{s:<10}{what:<34}" + "".join(f"{counts[n][s] / pixels:>14.3f}" for n in names))
    print("* bench/kernels, not called by the driver")
    print()
    print("ratios of instructions per frame, to x86_64 AVX2 and to x86_64 plain C:")
    heads = [f"{LABELS[n]}/x86" for n in names[1:]] + [f"{LABELS[n]}/x86 C" for n in ("arm64", "armhf")]
    print(f"{'stage':<10}" + "".join(f"{h:>19}" for h in heads))
    for s in STAGES:
        cells = [result["ratio"][f"{n}/x86_64"][s] for n in names[1:]]
        cells += [result["ratio_to_plain_x86_64"][f"{n}/x86_64-c"][s] for n in ("arm64", "armhf")]
        print(f"{s:<10}" + "".join(f"{'-' if c is None else c:>19}" for c in cells))
    print("(-: under 0.001 instructions per pixel: the SER write is the kernel's work, write(2))")
    if check:
        print()
        print("counter check, fits stage on x86_64: "
              + "; ".join(f"{LABELS[n]} valgrind {v['valgrind']:,} qemu {v['qemu']:,} "
                          f"({v['qemu'] / v['valgrind']:.3f})" for n, v in check.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
