#!/usr/bin/env python3
"""Memory of a 16-bit full-frame exposure: the driver's peak and after-exposure RSS.

For the largest (Zeus 455M PRO, 122 MB a 16-bit frame) and the smallest (Apollo-M MAX PRO,
3.5 MB) simulated model: a fresh Debian indiserver with ``indi_playerone_ccd``, a pyindi-client
with BLOBs enabled over TCP, UPLOAD_BOTH (the FITS goes to the client and to a local file, so
every consumer of the frame runs), 16-bit, full frame, a 10 ms exposure, ``--exposures`` times.
First one warm-up exposure of a 64 x 64 region: the interpreter's one-time costs (modules
imported on first use, allocator pools) are paid without touching a frame-sized buffer, so
they do not count as the frame's while a frame buffer left behind still shows. Then
CCD_FRAME_RESET, and the driver's RSS is read (``idle``: connected, quiet) and its peak is
reset (``/proc/<pid>/clear_refs`` 5 sets VmHWM to the current RSS; needs root or the
driver's owner); after the last, VmHWM is the peak over all of them, and the RSS a second later
is ``after``.

Per model: ``frame_mb`` (16-bit frame bytes), ``idle_mb``, ``peak_mb``, ``after_mb``, and the
figures the issue bounds, as ratios to the frame's bytes: ``peak_ratio`` = (peak − idle) ÷
frame (at most 1.25: one frame buffer that the SDK reads into and that the FITS, the upload and
the local file all use), ``after_ratio`` = (after − idle) ÷ frame (near 0: the buffer is
given back when no exposure follows). For the smallest model the frame (3.5 MB) is small
beside the interpreter's own noise (about a MB), so its ratios are loose; the largest is the
one that shows a second copy.

Usage: ``python bench/memory.py [--json] [--exposures 3] [--models "A,B"] [--local-dir DIR]``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from harness import IndiClient, IndiServer  # noqa: E402

from indi_playerone.camera.models import MODELS  # noqa: E402
from streaming import driver_pid  # noqa: E402  (bench/ is on sys.path as this script's folder)

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
LARGEST, SMALLEST = "Zeus 455M PRO", "Apollo-M MAX PRO"
EXPOSURE_S = 0.01


def status_kb(pid: int) -> dict[str, int]:
    """The kB figures of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, RssShmem, ...)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0])
    return out


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def measure(model: str, exposures: int, local_root: Path, settle_s: float = 1.0) -> dict[str, Any]:
    spec = MODELS[model]
    frame = spec.width * spec.height * 2
    device = f"PlayerOne CCD {model}"
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp, \
            tempfile.TemporaryDirectory(prefix="bench-mem-up-", dir=local_root) as updir:
        server = IndiServer([DRIVER], env={"INDI_PLAYERONE_SIMULATE": model}, workdir=Path(tmp),
                            max_mb=1024)
        try:
            server.start()
            with IndiClient(server.port, blob_queue=1) as client:
                client.connect_device(device, timeout=30)
                client.enable_blobs(device)
                client.set_switch(device, "CCD_CAPTURE_FORMAT", ["POA_RAW16"])
                client.set_switch(device, "UPLOAD_MODE", ["UPLOAD_BOTH"])
                client.set_text(device, "UPLOAD_SETTINGS", {"UPLOAD_DIR": updir, "UPLOAD_PREFIX": "mem_XXX"})
                client.set_number(device, "CCD_FRAME", {"X": 0, "Y": 0, "WIDTH": 64, "HEIGHT": 64})
                client.wait_quiet(device, quiet=settle_s, timeout=30)
                client.expose(device, EXPOSURE_S, timeout=60)  # warm-up, 64 x 64
                client.clear_blobs(device)
                client.set_switch(device, "CCD_FRAME_RESET", ["RESET"])
                client.wait_until(device, "CCD_FRAME", lambda s: s.values()["WIDTH"] == spec.width,
                                  timeout=10)
                client.wait_quiet(device, quiet=settle_s, timeout=30)
                for f in Path(updir).iterdir():
                    f.unlink()
                pid = driver_pid(server)
                idle = status_kb(pid)
                reset_peak(pid)
                for _ in range(exposures):
                    blob = client.expose(device, EXPOSURE_S, timeout=120)
                    if blob.size < frame:
                        raise RuntimeError(f"the image has {blob.size} bytes, less than a frame")
                    del blob
                    client.clear_blobs(device)
                    for f in Path(updir).iterdir():  # keep the disk free; the driver closed it
                        f.unlink()
                peak = status_kb(pid)["VmHWM"]
                client.wait_quiet(device, quiet=settle_s, timeout=30)
                after = status_kb(pid)
        finally:
            server.stop()
    mb = 1024 / 1e6  # kB -> MB
    return {
        "frame_mb": round(frame / 1e6, 2),
        "idle_mb": round(idle["VmRSS"] * mb, 1),
        "peak_mb": round(peak * mb, 1),
        "after_mb": round(after["VmRSS"] * mb, 1),
        "peak_ratio": round((peak - idle["VmRSS"]) * 1024 / frame, 3),
        "after_ratio": round((after["VmRSS"] - idle["VmRSS"]) * 1024 / frame, 3),
        "after_shmem_mb": round(after.get("RssShmem", 0) * mb, 1),
        "exposures": exposures,
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--exposures", type=int, default=3)
    ap.add_argument("--models", default=f"{LARGEST},{SMALLEST}")
    ap.add_argument("--local-dir", default=tempfile.gettempdir(),
                    help="where the local copies of the images go (then deleted)")
    args = ap.parse_args(argv)
    results = {}
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        results[model] = r = measure(model, args.exposures, Path(args.local_dir))
        if not args.json:
            print(f"{model:20s} frame {r['frame_mb']:7.2f} MB  idle {r['idle_mb']:6.1f}  "
                  f"peak {r['peak_mb']:6.1f} (idle + {r['peak_ratio']:.3f} x frame)  "
                  f"after {r['after_mb']:6.1f} (idle + {r['after_ratio']:.3f} x frame)  "
                  f"load {r['loadavg_1min']}", flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
