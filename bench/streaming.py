#!/usr/bin/env python3
"""Streaming: every model at its specification frame rate, recorded to SER, previews to a client.

For each of the twelve simulated models (issue 6): a fresh Debian indiserver (1.9.9) with
``indi_playerone_ccd`` serving that one model, a pyindi-client (2.3.0) connected over TCP with
BLOBs enabled (it receives and decodes the ``.stream`` previews, at most LIMITS_PREVIEW_FPS = 10
a second), the stream started in 8-bit (STREAM_FULL_DEPTH 8-bit: in 16-bit every model's table
rate exceeds USB 3's ~400 MB/s, see performance-budget.md) with a 0.1 ms STREAMING_EXPOSURE, so
the frame rate is the model's table rate; then RECORD_FRAME_ON with RECORD_FRAME_TOTAL frames
(1,000, fewer where 1,000 frames would exceed ``--max-gb`` of disk; the row says how many).

Per model:

* ``fps_ratio``: achieved fps ÷ the table's fps, where achieved fps = (frames recorded − 1) ÷
  (last − first frame timestamp in the SER trailer): the rate of the frames that reached the file.
  A frame lost anywhere leaves a gap in the timestamps and lowers it. ``wall_fps_ratio`` cross-checks
  with the client's clock: frames recorded ÷ (time from the recording's first message to its
  "Recording ended" message) ÷ table fps.
* ``dropped``: frames lost while streaming (camera + host buffer + recorder, from the driver's
  "Video stream stopped" summary), or the frames missing from the SER timestamps, if more.
* ``cpu_cores``: the driver process's CPU time (user + system, /proc) over the recording ÷ its
  wall time. The simulated camera that makes the frames (the simulated SDK library, loaded by the
  driver's SDK backend as a real camera's SDK is) runs inside the driver process and is included;
  ``sim_camera_cores`` is its render thread alone (OS thread name "simcam-<camera id>"), so the
  driver's own share is the difference.
* ``bits``: 8.
* extra keys: ``frames`` recorded, ``frame_mb``, ``spec_fps``, ``wall_fps_ratio``,
  ``dropped_camera_host_recorder`` (the split), ``loadavg_1min`` (the machine's load: the
  figures are only meaningful next to it on a shared machine).

Usage: ``python bench/streaming.py [--json] [--frames 1000] [--max-gb 20] [--models "A,B"]
[--record-dir DIR]``. The SER files are deleted after each model. Exit status 1 if a model failed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from harness import IndiClient, IndiServer  # noqa: E402

from indi_playerone.camera.models import MODELS  # noqa: E402

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
EXPOSURE_S = 1e-4
BITS = 8
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def sim_thread_cpu(pid: int) -> float:
    """CPU seconds of the simulated camera's render threads (named "simcam-<camera id>")."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip().startswith("simcam-"):
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except OSError:
            pass
    return total


def driver_pid(server: IndiServer) -> int:
    procs = [p for p in server.processes() if p.name.startswith("indi_playerone") and p.is_alive()]
    if len(procs) != 1:
        raise RuntimeError(f"expected one driver process, found {procs}")
    return procs[0].pid


def ser_summary(path: Path) -> tuple[int, int, list[int]]:
    """(frame count, frame bytes, timestamps) read from the file's header and trailer only."""
    with open(path, "rb") as f:
        head = f.read(178)
        _lu, color, _le, w, h, depth, count = struct.unpack_from("<7i", head, 14)
        fb = w * h * (1 if depth <= 8 else 2) * (3 if color >= 100 else 1)
        size = os.fstat(f.fileno()).st_size
        if size != 178 + count * fb + 8 * count:
            raise RuntimeError(f"{path}: {size} bytes does not hold {count} frames and a trailer")
        f.seek(178 + count * fb)
        ts = list(struct.unpack(f"<{count}q", f.read(8 * count)))
    return count, fb, ts


def summary_drops(text: str) -> tuple[int, int, int]:
    """(camera, host buffer, recorder) drops from the driver's "Video stream stopped" message."""
    m = re.search(r"dropped (\d+) in the camera, (\d+) in the host buffer, (\d+) by the recorder", text)
    return (int(m[1]), int(m[2]), int(m[3])) if m else (-1, -1, -1)


def run_model(model: str, frames: int, record_root: Path) -> dict[str, Any]:
    spec = MODELS[model]
    device = f"PlayerOne CCD {model}"
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        server = IndiServer([DRIVER], env={"INDI_PLAYERONE_SIMULATE": model}, workdir=Path(tmp),
                            max_mb=1024)
        rec_dir = Path(tempfile.mkdtemp(prefix="ser-", dir=record_root))
        try:
            server.start()
            with IndiClient(server.port, blob_queue=2) as client:
                client.connect_device(device, timeout=30)
                client.enable_blobs(device)
                client.set_text(device, "RECORD_FILE", {"RECORD_FILE_DIR": str(rec_dir),
                                                        "RECORD_FILE_NAME": "bench"})
                client.set_number(device, "STREAMING_EXPOSURE", {"STREAMING_EXPOSURE_VALUE": EXPOSURE_S,
                                                                 "STREAMING_DIVISOR_VALUE": 1})
                client.set_number(device, "RECORD_OPTIONS", {"RECORD_DURATION": 1,
                                                             "RECORD_FRAME_TOTAL": frames})
                client.set_switch(device, "STREAM_FULL_DEPTH", ["FULL_DEPTH_8BIT"])
                client.wait_quiet(device, quiet=0.3, timeout=10)
                client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_ON"])
                client.wait_until(device, "FPS", lambda s: s.values()["AVG_FPS"] > 0, timeout=30)
                pid = driver_pid(server)
                since = len(client.messages(device))
                cpu0, sim0, t0 = cpu_seconds(pid), sim_thread_cpu(pid), time.monotonic()
                client.set_switch(device, "RECORD_STREAM", ["RECORD_FRAME_ON"])
                client.wait_message(device, "Recording ", timeout=30, since=since)
                t_start = time.monotonic()
                ended = client.wait_message(device, "Recording ended", timeout=frames / spec.max_fps * 3 + 60,
                                            since=since)
                t_end = time.monotonic()
                cpu1, sim1 = cpu_seconds(pid), sim_thread_cpu(pid)
                client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
                summary = client.wait_message(device, "Video stream stopped", timeout=30, since=since)
            files = sorted(rec_dir.glob("*.ser"))
            if len(files) != 1:
                raise RuntimeError(f"expected one SER file, found {files}; {ended}")
            count, fb, ts = ser_summary(files[0])
        finally:
            server.stop()
            shutil.rmtree(rec_dir, ignore_errors=True)
    span = (ts[-1] - ts[0]) / 1e7 if count > 1 else 0.0
    fps = (count - 1) / span if span > 0 else 0.0
    period = 1.0 / spec.max_fps
    missing = max(0, round(span / period) + 1 - count) if span > 0 else 0
    split = summary_drops(summary)
    dropped = max(sum(split), missing)
    return {
        "fps_ratio": round(fps / spec.max_fps, 4),
        "dropped": dropped,
        "cpu_cores": round((cpu1 - cpu0) / (t_end - t0), 3),
        "sim_camera_cores": round((sim1 - sim0) / (t_end - t0), 3),
        "bits": BITS,
        "frames": count,
        "frame_mb": round(fb / 1e6, 2),
        "spec_fps": spec.max_fps,
        "wall_fps_ratio": round(count / (t_end - t_start) / spec.max_fps, 4),
        "dropped_camera_host_recorder": list(split),
        "loadavg_1min": round(os.getloadavg()[0], 2),  # the machine's load during the run
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object keyed by model")
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--max-gb", type=float, default=20.0,
                    help="fewer frames for models whose recording would exceed this (default 20)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    ap.add_argument("--record-dir", default=str(REPO / "build"),
                    help="where the SER files are written (then deleted)")
    args = ap.parse_args(argv)
    root = Path(args.record_dir)
    root.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    failed = False
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        spec = MODELS[model]
        frame_bytes = spec.width * spec.height
        frames = max(2, min(args.frames, int(args.max_gb * 1e9 // frame_bytes)))
        try:
            results[model] = run_model(model, frames, root)
        except Exception as exc:  # report and carry on with the next model
            failed = True
            results[model] = {"error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc(file=sys.stderr)
        if not args.json:
            r = results[model]
            if "error" in r:
                print(f"{model:22s} FAILED: {r['error']}", flush=True)
            else:
                print(f"{model:22s} {r['frames']:5d} frames x {r['frame_mb']:6.2f} MB  "
                      f"fps {r['fps_ratio']:.4f}x of {r['spec_fps']:g} (wall {r['wall_fps_ratio']:.4f}x)  "
                      f"dropped {r['dropped']} {tuple(r['dropped_camera_host_recorder'])}  cpu {r['cpu_cores']:.2f} cores  "
                      f"(camera sim {r['sim_camera_cores']:.2f})  {r['bits']}-bit  (load {r['loadavg_1min']})",
                      flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
