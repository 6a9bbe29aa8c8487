#!/usr/bin/env python3
"""The simulated camera's own CPU cost while streaming: every model at its table rate, 8-bit.

The simulated SDK (``libPlayerOneCameraSim.so``, ``native/simsdk``) renders each frame in its
camera's thread ``simcam-<id>`` when the host reads it. This bench loads the library alone (no
driver), streams each model in video mode (RAW8, full frame, 0.1 ms exposure: the frame rate is
the sensor's, the manual's table fps) and reads every frame with ``POAGetImageData`` into one
reused buffer, as the driver's reader does, for ``--seconds`` per model. Per model:

* ``sim_camera_cores``: CPU time of the ``simcam-<id>`` thread (``/proc/self/task/<tid>/schedstat``,
  nanoseconds) ÷ wall time: the simulated camera's cost, the figure issue 14 bounds at 0.1 core;
* ``reader_cores``: the reading thread's CPU time ÷ wall time (ctypes, the call, waiting);
* ``wall_fps_ratio``: frames read ÷ wall time from the first frame's arrival to the last ÷ the
  table fps (the receiving end's clock; nothing the library says about itself);
* ``dropped``: ``POAGetDroppedImagesCount`` at the end (frames the camera's buffer lost);
* ``mb_per_s``: bytes read per second;
* ``memcpy_ratio``: the simcam thread's CPU time ÷ the time this process takes to copy the same
  bytes once with ``numpy.copyto`` (measured in the same run): a frame costs about one write of
  its bytes, like the vendor SDK's own copy into the caller's buffer.

Usage: ``python bench/simcam.py [--json] [--seconds 4] [--models "A,B"] [--library PATH]``.
Print the machine's load average beside the figures: on a shared 2-core machine they move.
"""
from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import os
import struct
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RAW8, EXP, FRAME_LIMIT = 0, 31, 26
MODELS = {  # the manual's table: width, height, fps
    "Zeus 455M PRO": (9576, 6388, 6.5), "Zeus 455C PRO": (9576, 6388, 6.5),
    "Poseidon-M PRO": (6252, 4176, 15), "Poseidon-C PRO": (6252, 4176, 15),
    "Artemis-M PRO": (8288, 5648, 8), "Artemis-C PRO": (4144, 2824, 33),
    "Ares-M PRO": (3008, 3008, 43), "Ares-C PRO": (3008, 3008, 43),
    "Uranus-M PRO": (3856, 2180, 47), "Uranus-C PRO": (3856, 2180, 47),
    "Apollo-428M MAX PRO": (3216, 2208, 51), "Apollo-M MAX PRO": (1608, 1104, 126),
}


def build_library() -> Path:
    spec = importlib.util.spec_from_file_location("build_simsdk", REPO / "native" / "build_simsdk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(REPO / "build" / "simsdk-bench")


def thread_ns(name: str) -> dict[int, int]:
    """CPU nanoseconds of this process's threads called ``name``, by thread id."""
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == name:
                out[int(task.name)] = int((task / "schedstat").read_text().split()[0])
        except OSError:
            continue
    return out


def own_thread_ns() -> int:
    return int(Path(f"/proc/self/task/{ctypes.CDLL(None).gettid()}/schedstat").read_text().split()[0])


def memcpy_s_per_byte() -> float:
    """Seconds per byte of one numpy.copyto of a 64 MB array (best of 5)."""
    src = np.random.default_rng(1).integers(0, 255, 64 << 20, dtype=np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = min(_timed(lambda: np.copyto(dst, src)) for _ in range(5))
    return best / src.nbytes


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def stream(lib: ctypes.CDLL, model: str, seconds: float, per_byte: float) -> dict[str, Any]:
    os.environ["INDI_PLAYERONE_SIMULATE"] = model
    lib.SimPOA_Reset()
    assert lib.POAGetCameraCount() == 1
    cid = 100
    assert lib.POAOpenCamera(cid) == 0 and lib.POAInitCamera(cid) == 0
    w, h, fps = MODELS[model]
    try:
        assert lib.POASetImageFormat(cid, RAW8) == 0
        assert lib.POASetConfig(cid, EXP, struct.unpack("<q", struct.pack("<d", 1e-4))[0], 0) == 0
        size = ctypes.c_int(), ctypes.c_int()
        lib.POAGetImageSize(cid, ctypes.byref(size[0]), ctypes.byref(size[1]))
        nbytes = size[0].value * size[1].value
        buf = np.ones(nbytes, dtype=np.uint8)  # touched: the pages exist, as a reused ring slot's
        ptr = buf.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte))
        assert lib.POAStartExposure(cid, 0) == 0
        name = f"simcam-{cid}"
        frames, first = 0, None
        end = time.monotonic() + seconds
        sim0, own0 = None, 0
        while time.monotonic() < end:
            rc = lib.POAGetImageData(cid, ptr, nbytes, 2000)
            if rc != 0:
                raise RuntimeError(f"{model}: POAGetImageData returned {rc}")
            now = time.monotonic()
            if first is None:  # from the first arrival: the pipeline's start-up is not counted
                first, sim0, own0 = now, thread_ns(name), own_thread_ns()
            frames += 1
            last = now
        sim1, own1 = thread_ns(name), own_thread_ns()
        dropped = ctypes.c_int()
        lib.POAGetDroppedImagesCount(cid, ctypes.byref(dropped))
        lib.POAStopExposure(cid)
    finally:
        lib.POACloseCamera(cid)
    wall = last - first
    sim_s = sum(sim1.get(t, 0) - v for t, v in (sim0 or {}).items()) / 1e9
    n = frames - 1
    return {
        "model": model, "frame_mb": round(nbytes / 1e6, 2), "spec_fps": fps, "frames": frames,
        "wall_fps_ratio": round(n / wall / fps, 3), "dropped": dropped.value,
        "mb_per_s": round(n * nbytes / wall / 1e6, 1),
        "sim_camera_cores": round(sim_s / wall, 4), "reader_cores": round((own1 - own0) / 1e9 / wall, 4),
        "memcpy_ratio": round(sim_s / (n * nbytes * per_byte), 2) if n else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--library", type=Path, default=None)
    args = ap.parse_args(argv)
    path = args.library or build_library()
    for var in ("INDI_PLAYERONE_SIM_OPTIONS", "INDI_PLAYERONE_SIM_FAULT_FILE"):
        os.environ.pop(var, None)
    lib = ctypes.CDLL(str(path))
    lib.SimPOA_Reset.restype = None
    lib.POASetConfig.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int]
    lib.POAGetImageData.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_long, ctypes.c_int]
    per_byte = memcpy_s_per_byte()
    rows = [stream(lib, m.strip(), args.seconds, per_byte) for m in args.models.split(",") if m.strip()]
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"library": str(path), "loadavg_1min": load, "memcpy_gb_per_s": round(1e-9 / per_byte, 2),
                          "models": rows}, indent=1))
    else:
        print(f"library {path}; memcpy {1e-9 / per_byte:.1f} GB/s; load average {load:.2f}")
        print(f"{'model':22} {'MB':>6} {'fps':>6} {'ratio':>6} {'drop':>5} {'MB/s':>6} {'simcam':>7} "
              f"{'reader':>7} {'xmemcpy':>7}")
        for r in rows:
            print(f"{r['model']:22} {r['frame_mb']:6.1f} {r['spec_fps']:6.1f} {r['wall_fps_ratio']:6.3f} "
                  f"{r['dropped']:5d} {r['mb_per_s']:6.0f} {r['sim_camera_cores']:7.3f} {r['reader_cores']:7.3f} "
                  f"{r['memcpy_ratio']:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
