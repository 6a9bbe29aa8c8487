#!/usr/bin/env python3
"""Streaming: every model at its table frame rate, recorded to SER, previews to a client.

What a user gets, measured at the receiving end. For each of the twelve simulated models: a
fresh Debian indiserver (1.9.9) with ``indi_playerone_ccd`` serving that one model, a
pyindi-client (2.3.0) connected over TCP with BLOBs enabled (it receives and decodes the
``.stream`` previews, at most LIMITS_PREVIEW_FPS a second), the stream started in 8-bit
(STREAM_FULL_DEPTH 8-bit: the manual's table fps are full 8-bit frames, 400 MB/s for every
model, USB 3's practical rate) with a 0.1 ms STREAMING_EXPOSURE, so the camera runs at its
table rate; after one second of streaming, RECORD_FRAME_ON with RECORD_FRAME_TOTAL frames
(1,000, or 30 s worth where 1,000 frames take longer; ``--frames``, ``--seconds``) into
``--record-dir`` (default /dev/shm).

While it records, this process watches the SER file itself: its header's FrameCount (the driver
patches it after every whole frame) is read every ``POLL_S`` with ``pread``, and the monotonic
time of each change is kept. The frames already counted are hole-punched out of the file
(``fallocate(PUNCH_HOLE)``, all but the last two) so a 30 s Zeus recording (12 GB) does not
fill the machine's memory; the driver's writes are untouched (every byte still goes into the
tmpfs file), only what was written earlier is freed.

Per model (JSON keys):

* ``wall_fps_ratio`` (the headline): frames that reached the file ÷ the wall time from the
  first frame's arrival in the file to the last's ÷ the table fps. Precisely (N_last − N_first)
  ÷ (t_last − t_first), N and t the FrameCount and the time it was first seen: intervals, so a
  1,000-frame recording is not flattered by 1/1,000. The simulator's own timestamps (the SER
  trailer) are not used.
* ``dropped``: frames lost while the stream ran, from the camera's sequence numbers: the SDK's
  dropped count (``POAGetDroppedImagesCount``: the camera's buffer), the gaps in the sequence
  numbers the driver received (the host buffer), and frames the recorder could not write;
  the driver's "Video stream stopped" summary gives them. The recording's own sequence span
  ("Recording ended" message: ``sequence a-b``) must hold exactly its frame count.
* ``driver_cores``: CPU time of the driver process (``/proc/<pid>/stat``) minus its simulated
  camera's threads (``simcam-*``, ``/proc/<pid>/task/*/schedstat``), ÷ wall time of the
  recording; ``sim_camera_cores``: those threads alone. The simulated SDK library runs inside
  the driver process, as a real camera's SDK does; its threads stand for the camera.
* ``frames`` (recorded), ``frame_mb``; extra: ``spec_fps``, ``previews`` (received by the
  client during the recording), ``max_stall_s`` (the longest wait for the file's next frame:
  the host buffer bridged it; a stall just before the first frame, caught up afterwards,
  lifts the headline a little above 1), ``indiserver_cores`` (base64 of the previews for the TCP
  client is indiserver's work), ``camera_host_recorder`` (the drop split), ``loadavg_1min``.

Usage: ``python bench/streaming.py [--json] [--frames 1000] [--seconds 30] [--models "A,B"]
[--record-dir /dev/shm] [--perf DIR] [--py-spy DIR] [--trace DIR]``. ``--perf``/``--py-spy`` also profile
the driver process during each recording (perf record -g, py-spy record --native) into DIR.
The SER files are deleted after each model. Exit status 1 if a model failed.

Figures on a shared 2-core machine move with the load: the load average is printed with them.
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
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
SER_HEADER = 178
SER_COUNT_AT = 38
POLL_S = 0.002
WARMUP_S = 1.0
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 0x01, 0x02

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a whole process, its ended threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def threads_cpu_s(pid: int, prefix: str) -> float:
    """CPU seconds of the process's live threads whose name starts with ``prefix``."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip().startswith(prefix):
                total += int((task / "schedstat").read_text().split()[0])
        except OSError:
            pass
    return total / 1e9


def driver_pid(server: IndiServer) -> int:
    procs = [p for p in server.processes() if p.name.startswith("indi_playerone") and p.is_alive()]
    if len(procs) != 1:
        raise RuntimeError(f"expected one driver process, found {procs}")
    return procs[0].pid


def indiserver_pid(server: IndiServer) -> int:
    procs = [p for p in server.processes() if p.name == "indiserver" and p.is_alive()]
    return procs[0].pid if procs else 0


@dataclass
class FileWatch:
    """Watches a recording's SER file from this process (a thread): FrameCount changes with
    their monotonic times, and frees the frames already counted."""

    directory: Path
    frame_bytes: int
    stop: threading.Event = field(default_factory=threading.Event)
    seen: list[tuple[int, float]] = field(default_factory=list)  # (count, first time seen)
    error: str = ""

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="ser-watch")
        self._thread.start()

    def _run(self) -> None:
        try:
            self._watch()
        except Exception as exc:  # reported with the model's result
            self.error = f"{type(exc).__name__}: {exc}"

    def _watch(self) -> None:
        fd = -1
        while fd < 0 and not self.stop.is_set():
            files = list(self.directory.glob("*.ser"))
            if files:
                fd = os.open(files[0], os.O_RDWR)
            else:
                time.sleep(POLL_S)
        freed = 0
        last = 0
        try:
            while not self.stop.is_set():
                raw = os.pread(fd, 4, SER_COUNT_AT)
                now = time.monotonic()
                count = struct.unpack("<I", raw)[0] if len(raw) == 4 else 0
                if count != last:
                    self.seen.append((count, now))
                    last = count
                    keep_from = SER_HEADER + max(0, count - 2) * self.frame_bytes
                    if keep_from - freed >= 64 << 20:
                        if _libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                           freed or SER_HEADER, keep_from - (freed or SER_HEADER)):
                            raise OSError(ctypes.get_errno(), "fallocate(PUNCH_HOLE)")
                        freed = keep_from
                time.sleep(POLL_S)
        finally:
            if fd >= 0:
                os.close(fd)

    def finish(self) -> None:
        self.stop.set()
        self._thread.join(5)


def check_ser(path: Path, frame_bytes: int) -> int:
    """The file's frame count, after checking its size holds exactly those frames and a trailer."""
    with open(path, "rb") as f:
        head = f.read(SER_HEADER)
        _lu, color, _le, w, h, depth, count = struct.unpack_from("<7i", head, 14)
        fb = w * h * (1 if depth <= 8 else 2) * (3 if color >= 100 else 1)
        size = os.fstat(f.fileno()).st_size
    if fb != frame_bytes:
        raise RuntimeError(f"{path}: frames of {fb} bytes, expected {frame_bytes}")
    if size != SER_HEADER + count * fb + 8 * count:
        raise RuntimeError(f"{path}: {size} bytes does not hold {count} whole frames and a trailer")
    return count


def summary_drops(text: str) -> tuple[int, int, int]:
    """(camera, host buffer, recorder) drops from the driver's "Video stream stopped" message."""
    m = re.search(r"dropped (\d+) in the camera, (\d+) in the host buffer, (\d+) by the recorder", text)
    if not m:
        raise RuntimeError(f"no drop counts in the stream summary: {text!r}")
    return int(m[1]), int(m[2]), int(m[3])


def sequence_span(text: str) -> tuple[int, int] | None:
    m = re.search(r"sequence (\d+)-(\d+)", text)
    return (int(m[1]), int(m[2])) if m else None


class Profiler:
    """perf / py-spy attached to the driver during one recording (optional)."""

    def __init__(self, pid: int, out: Path | None, tool: str, label: str) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        if out is None:
            return
        out.mkdir(parents=True, exist_ok=True)
        stem = out / re.sub(r"[^A-Za-z0-9]+", "_", label)
        if tool == "perf":
            cmd = ["perf", "record", "-q", "-g", "-F", "499", "-p", str(pid), "-o", f"{stem}.perf.data"]
        else:
            cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "--native",
                   "-r", "97", "--format", "raw", "-p", str(pid), "-o", f"{stem}.pyspy.txt"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run_model(model: str, frames: int, record_root: Path, perf: Path | None,
              pyspy: Path | None, trace: Path | None = None) -> dict[str, Any]:
    spec = MODELS[model]
    frame_bytes = spec.width * spec.height  # 8-bit, full frame
    device = f"PlayerOne CCD {model}"
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        server = IndiServer([DRIVER], env={"INDI_PLAYERONE_SIMULATE": model}, workdir=Path(tmp),
                            max_mb=1024)
        rec_dir = Path(tempfile.mkdtemp(prefix="ser-", dir=record_root))
        watch: FileWatch | None = None
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
                time.sleep(WARMUP_S)
                pid, spid = driver_pid(server), indiserver_pid(server)
                since = len(client.messages(device))
                client.clear_blobs(device)
                blobs0 = client.blobs_dropped
                watch = FileWatch(rec_dir, frame_bytes)
                profilers = [Profiler(pid, perf, "perf", model), Profiler(pid, pyspy, "py-spy", model)]
                cpu0, sim0, srv0 = process_cpu_s(pid), threads_cpu_s(pid, "simcam-"), process_cpu_s(spid)
                t0 = time.monotonic()
                client.set_switch(device, "RECORD_STREAM", ["RECORD_FRAME_ON"])
                ended = client.wait_message(device, "Recording ended",
                                            timeout=frames / spec.max_fps * 3 + 60, since=since)
                t1 = time.monotonic()
                cpu1, sim1, srv1 = process_cpu_s(pid), threads_cpu_s(pid, "simcam-"), process_cpu_s(spid)
                for p in profilers:
                    p.stop()
                previews = client.blobs_dropped - blobs0 + client.clear_blobs(device)
                watch.finish()
                client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
                summary = client.wait_message(device, "Video stream stopped", timeout=30, since=since)
            files = sorted(rec_dir.glob("*.ser"))
            if len(files) != 1:
                raise RuntimeError(f"expected one SER file, found {files}; {ended}")
            count = check_ser(files[0], frame_bytes)
        finally:
            if watch is not None:
                watch.finish()
            server.stop()
            shutil.rmtree(rec_dir, ignore_errors=True)
    if watch.error:
        raise RuntimeError(f"watching the SER file: {watch.error}")
    seen = [(n, t) for n, t in watch.seen if n > 0]
    if trace is not None:  # the file's FrameCount over time, for a closer look
        trace.mkdir(parents=True, exist_ok=True)
        (trace / (re.sub(r"[^A-Za-z0-9]+", "_", model) + ".txt")).write_text(
            "".join(f"{t - seen[0][1]:.4f} {n}\n" for n, t in seen) if seen else "")
    if len(seen) < 2 or seen[-1][0] != count:
        raise RuntimeError(f"the file's FrameCount went {seen[:3]}...{seen[-3:]}, the file holds {count}")
    (n_first, t_first), (n_last, t_last) = seen[0], seen[-1]
    fps = (n_last - n_first) / (t_last - t_first)
    split = summary_drops(summary)
    span = sequence_span(ended)
    gaps = (span[1] - span[0] + 1 - count) if span else 0
    wall = t1 - t0
    return {
        "wall_fps_ratio": round(fps / spec.max_fps, 4),
        "dropped": sum(split) + max(0, gaps - split[1]),
        "driver_cores": round((cpu1 - cpu0 - (sim1 - sim0)) / wall, 3),
        "sim_camera_cores": round((sim1 - sim0) / wall, 3),
        "frames": count,
        "frame_mb": round(frame_bytes / 1e6, 2),
        "spec_fps": spec.max_fps,
        "mb_per_s": round(fps * frame_bytes / 1e6, 1),
        "previews": previews,
        "max_stall_s": round(max(b[1] - a[1] for a, b in zip(seen, seen[1:])), 3),
        "indiserver_cores": round((srv1 - srv0) / wall, 3) if spid else None,
        "camera_host_recorder": list(split),
        "recording_sequence": list(span) if span else None,
        "loadavg_1min": round((load0 + os.getloadavg()[0]) / 2, 2),
    }


def frames_for(model: str, frames: int, seconds: float) -> int:
    return max(2, min(frames, round(seconds * MODELS[model].max_fps)))


def verdict(r: dict[str, Any]) -> bool:
    return r["wall_fps_ratio"] >= 0.99 and r["dropped"] == 0 and r["driver_cores"] <= 0.25


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object keyed by model")
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=30.0,
                    help="fewer frames where --frames would take longer than this (default 30)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    ap.add_argument("--record-dir", default="/dev/shm",
                    help="where the SER files are written (then deleted; default /dev/shm)")
    ap.add_argument("--perf", type=Path, help="profile the driver with perf record -g into this folder")
    ap.add_argument("--py-spy", type=Path, help="profile the driver with py-spy --native into this folder")
    ap.add_argument("--trace", type=Path, help="write each model's FrameCount-over-time into this folder")
    args = ap.parse_args(argv)
    root = Path(args.record_dir)
    root.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    failed = False
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        try:
            results[model] = run_model(model, frames_for(model, args.frames, args.seconds), root,
                                       args.perf, args.py_spy, args.trace)
        except Exception as exc:  # report and carry on with the next model
            failed = True
            results[model] = {"error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc(file=sys.stderr)
        r = results[model]
        if args.json:
            continue
        if "error" in r:
            print(f"{model:20s} FAILED: {r['error']}", flush=True)
        else:
            print(f"{model:20s} {r['frames']:5d} x {r['frame_mb']:5.2f} MB  wall fps {r['wall_fps_ratio']:.4f}x "
                  f"of {r['spec_fps']:g} ({r['mb_per_s']:.0f} MB/s)  dropped {r['dropped']} "
                  f"{tuple(r['camera_host_recorder'])}  driver {r['driver_cores']:.3f} cores  "
                  f"camera {r['sim_camera_cores']:.3f}  indiserver {r['indiserver_cores']}  "
                  f"previews {r['previews']}  stall {r['max_stall_s']:.2f} s  load {r['loadavg_1min']}  "
                  f"{'ok' if verdict(r) else 'NOT MET'}", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
