"""Streaming and SER recording through a real indiserver and client, on simulated cameras.

The SER files are read back by the small numpy reader below, written from the published
format description (178-byte header, frames, optional trailer of int64 UTC ticks), not by our C
writer's code: frame count, size, depth, colour and timestamps are checked independently.
"""
from __future__ import annotations

import os
import signal
import struct
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from tests.harness.client import IndiClient
from tests.harness.server import IndiServer
from helpers.driver_server import DRIVER, backend_env
from helpers.waiting import steady_period

pytestmark = pytest.mark.indiserver

APOLLO = "Apollo-M MAX PRO"  # 1608x1104, 126 fps in the manual's table: a fast, small stream
DEVICE = f"PlayerOne CCD {APOLLO}"
TICKS_AT_UNIX_EPOCH = 621_355_968_000_000_000


def start_server(tmp_path: Path, models: str, extra_env: dict[str, str] | None = None) -> IndiServer:
    server = IndiServer([DRIVER], env={**backend_env(models), **(extra_env or {})},
                        home=tmp_path / "home")
    server.start()
    return server


@dataclass
class SerFile:
    color_id: int
    width: int
    height: int
    depth: int
    frame_count: int
    frames: np.ndarray  # (n, h, w)
    timestamps: np.ndarray | None  # int64 ticks, or None without a trailer
    size: int


def read_ser(path: Path) -> SerFile:
    """An independent SER v3 reader; asserts the file's size agrees with its header."""
    raw = path.read_bytes()
    assert raw[:14] == b"LUCAM-RECORDER"
    _lu, color, _le, width, height, depth, count = struct.unpack_from("<7i", raw, 14)
    bpp = 1 if depth <= 8 else 2
    planes = 3 if color >= 100 else 1
    fb = width * height * bpp * planes
    body = len(raw) - 178
    assert body in (count * fb, count * fb + 8 * count), (
        f"{path}: {len(raw)} bytes is neither {count} frames nor {count} frames + trailer")
    frames = np.frombuffer(raw, dtype=np.uint8 if bpp == 1 else "<u2", count=count * fb // bpp,
                           offset=178).reshape(count, height, width)
    ts = None
    if body == count * fb + 8 * count:
        ts = np.frombuffer(raw, dtype="<i8", count=count, offset=178 + count * fb)
    return SerFile(color, width, height, depth, count, frames, ts, len(raw))


def ticks_to_datetime(t: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=(t - TICKS_AT_UNIX_EPOCH) / 10)


def connect(tmp_path: Path, model: str = APOLLO, stall_s: float = 0.0):
    server = start_server(tmp_path, model, extra_env={"INDI_PLAYERONE_TEST_STREAM_STALL_S": str(stall_s)}
                          if stall_s else None)
    client = IndiClient(server.port)
    client.__enter__()
    device = f"PlayerOne CCD {model}"
    client.connect_device(device, timeout=20)
    client.wait_property(device, "CCD_VIDEO_STREAM", timeout=10)
    rec_dir = tmp_path / "videos"
    client.set_text(device, "RECORD_FILE", {"RECORD_FILE_DIR": str(rec_dir),
                                            "RECORD_FILE_NAME": "rec"})
    client.wait_state(device, "RECORD_FILE", {"Ok"}, timeout=5)
    client.set_number(device, "STREAMING_EXPOSURE", {"STREAMING_EXPOSURE_VALUE": 0.001,
                                                     "STREAMING_DIVISOR_VALUE": 1})
    client.wait_state(device, "STREAMING_EXPOSURE", {"Ok"}, timeout=5)
    return server, client, device, rec_dir


@pytest.fixture
def apollo(tmp_path: Path):
    server, client, device, rec_dir = connect(tmp_path)
    try:
        yield server, client, device, rec_dir
    finally:
        client.__exit__(None, None, None)
        server.stop()


def wait_record_off(client: IndiClient, device: str, timeout: float) -> None:
    client.wait_until(device, "RECORD_STREAM",
                      lambda s: s.state in ("Ok", "Alert") and s.values()["RECORD_OFF"], timeout)


def wait_frames_on_disk(rec_dir: Path, exclude: Path | None, frames: int, frame_bytes: int,
                        timeout: float) -> Path:
    """Wait until a SER file in ``rec_dir`` (other than ``exclude``) holds ``frames`` frames
    (its size says so: 178-byte header, then the frames), so a test stops a recording once it
    has something to check rather than after a guess at how long that takes."""
    deadline = time.monotonic() + timeout
    while True:
        for path in rec_dir.glob("*.ser"):
            if path != exclude and path.stat().st_size >= 178 + frames * frame_bytes:
                return path
        assert time.monotonic() < deadline, [(p.name, p.stat().st_size) for p in rec_dir.glob("*.ser")]
        time.sleep(0.02)


def only_ser(rec_dir: Path) -> Path:
    files = sorted(rec_dir.glob("*.ser"))
    assert len(files) == 1, files
    return files[0]


STREAM_FAMILY = ["CCD_VIDEO_STREAM", "STREAM_FULL_DEPTH", "STREAM_DELAY", "STREAMING_EXPOSURE",
                 "FPS", "RECORD_STREAM", "RECORD_FILE", "RECORD_OPTIONS", "CCD_STREAM_FRAME",
                 "CCD_STREAM_ENCODER", "CCD_STREAM_RECORDER", "LIMITS"]


def recorded_period(client: IndiClient, device: str, rec_dir: Path, frames: int) -> float:
    """Record ``frames`` frames of the running stream; their period from their timestamps.

    On the SDK backend a timestamp is when the reader got the frame, late by however long the
    reader waited for a core: :func:`steady_period` is robust to such frames."""
    before = set(rec_dir.glob("*.ser"))
    client.set_number(device, "RECORD_OPTIONS", {"RECORD_DURATION": 1, "RECORD_FRAME_TOTAL": frames})
    client.wait_state(device, "RECORD_OPTIONS", {"Ok"}, timeout=5)
    client.set_switch(device, "RECORD_STREAM", ["RECORD_FRAME_ON"])
    wait_record_off(client, device, timeout=20)
    (path,) = set(rec_dir.glob("*.ser")) - before
    ser = read_ser(path)
    assert ser.frame_count == frames and ser.timestamps is not None
    return steady_period(list(ser.timestamps.astype(np.int64) / 1e7))


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
def test_stream_on_previews_capped_and_off(apollo) -> None:
    _, client, device, rec_dir = apollo
    # libindi's order: INDI::CCD's properties, then StreamManager's family, then the driver's.
    names = client.property_names(device)
    at = [names.index(n) for n in STREAM_FAMILY]
    assert at == list(range(at[0], at[0] + len(at))), names
    assert names[at[0] - 1] == "CCD_FAST_COUNT"
    client.enable_blobs(device)
    # Streaming is refused while an exposure runs, with a message.
    client.set_number(device, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 30})
    client.wait_state(device, "CCD_EXPOSURE", {"Busy"}, timeout=5)
    client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_ON"])
    client.wait_message(device, "Cannot start streaming while an exposure is running", timeout=5)
    assert client.switch(device, "CCD_VIDEO_STREAM")["STREAM_OFF"]
    client.abort(device)
    client.wait_state(device, "CCD_EXPOSURE", {"Idle"}, timeout=5)
    client.set_number(device, "LIMITS", {"LIMITS_BUFFER_MAX": 512, "LIMITS_PREVIEW_FPS": 5})
    client.wait_state(device, "LIMITS", {"Ok"}, timeout=5)
    stream_on = time.monotonic()
    client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_ON"])
    first = client.wait_blob(device, timeout=15)
    assert first.format == ".stream"
    assert len(first.data) == 1608 * 1104  # 8-bit frames by default (STREAM_FULL_DEPTH)
    for _ in range(3):
        client.wait_blob(device, timeout=5)
    # FPS is the driver's count of frames that reached it in the last second (libindi's way):
    # frames queued during a stall arrive together and lift it above the camera's rate for a
    # moment, so wait for a second that shows the camera's rate rather than judging one update.
    client.wait_until(device, "FPS", lambda s: 50 < s.values()["AVG_FPS"] <= 126 * 1.2, timeout=10)
    # STREAMING_EXPOSURE applies live: 50 ms frames, 20 fps at most. The camera's rate from the
    # frames' own timestamps (a short recording), the FPS figure once it shows it.
    client.set_number(device, "STREAMING_EXPOSURE", {"STREAMING_EXPOSURE_VALUE": 0.05,
                                                     "STREAMING_DIVISOR_VALUE": 1})
    client.wait_state(device, "STREAMING_EXPOSURE", {"Ok"}, timeout=5)
    period = recorded_period(client, device, rec_dir, frames=21)
    assert 0.05 * 0.95 <= period <= 0.1, period
    client.wait_until(device, "FPS", lambda s: 10 <= s.values()["AVG_FPS"] <= 21, timeout=10)
    # Exposures are refused while streaming, with a message.
    client.set_number(device, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1})
    client.wait_state(device, "CCD_EXPOSURE", {"Alert"}, timeout=5)
    client.wait_message(device, "while the video stream is on", timeout=5)
    client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
    client.wait_until(device, "CCD_VIDEO_STREAM",
                      lambda s: s.state == "Idle" and s.values()["STREAM_OFF"], timeout=10)
    summary = client.wait_message(device, "Video stream stopped", timeout=10)
    streamed = time.monotonic() - stream_on
    # Previews are at least 1/LIMITS_PREVIEW_FPS apart on the driver's clock, and the driver
    # streamed within [stream_on, now]: whatever the delays between it and this client.
    previews = int(summary.split(" previews")[0].rsplit(" ", 1)[1])
    assert 4 <= previews <= 5 * streamed + 1, (previews, streamed, summary)
    # The camera is back to single frames: 16-bit full frame.
    client.clear_blobs(device)
    blob = client.expose(device, 0.01, timeout=30)
    assert blob.format == ".fits"


@pytest.mark.generations  # also under libindi 2.2.4.2 (docs/indi-generations.md)
def test_record_by_frames_reads_back(apollo) -> None:
    _, client, device, rec_dir = apollo
    client.set_number(device, "RECORD_OPTIONS", {"RECORD_DURATION": 1, "RECORD_FRAME_TOTAL": 150})
    client.wait_state(device, "RECORD_OPTIONS", {"Ok"}, timeout=5)
    # 16-bit frames: at 1 ms the 8-bit frames of a dark simulated sky are all 0.
    client.set_switch(device, "STREAM_FULL_DEPTH", ["FULL_DEPTH_16BIT"])
    client.wait_state(device, "STREAM_FULL_DEPTH", {"Ok"}, timeout=5)
    before = datetime.now(timezone.utc)
    client.set_switch(device, "RECORD_STREAM", ["RECORD_FRAME_ON"])  # starts the stream too
    wait_record_off(client, device, timeout=20)
    after = datetime.now(timezone.utc)
    assert client.state(device, "RECORD_STREAM") == "Ok"
    ser = read_ser(only_ser(rec_dir))
    assert ser.frame_count == 150
    assert (ser.width, ser.height, ser.depth, ser.color_id) == (1608, 1104, 16, 0)
    assert ser.timestamps is not None
    when = [ticks_to_datetime(int(t)) for t in ser.timestamps]
    assert before - timedelta(seconds=1) <= when[0] <= when[-1] <= after
    steps = np.diff(ser.timestamps) / 1e7
    assert np.all(steps > 0)
    # Never faster than the table's 126 fps, and the simulated camera keeps its rate (the
    # 16-bit frame's USB 3 time makes it 112 fps).
    assert float(np.median(steps)) >= 0.97 / 126
    assert float(np.median(steps)) <= 1 / 100
    assert np.std(ser.frames[0].astype(float)) > 0  # real pixels, not a blank buffer
    assert not np.array_equal(ser.frames[0], ser.frames[1])  # a new frame each time
    # The stream keeps running after the recording; stop it.
    assert client.switch(device, "CCD_VIDEO_STREAM")["STREAM_ON"]
    client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
    client.wait_state(device, "CCD_VIDEO_STREAM", {"Idle"}, timeout=10)


def test_record_by_duration_and_until_stopped(apollo) -> None:
    _, client, device, rec_dir = apollo
    client.set_number(device, "RECORD_OPTIONS", {"RECORD_DURATION": 1.0, "RECORD_FRAME_TOTAL": 30})
    client.wait_state(device, "RECORD_OPTIONS", {"Ok"}, timeout=5)
    client.set_switch(device, "RECORD_STREAM", ["RECORD_DURATION_ON"])
    wait_record_off(client, device, timeout=20)
    ser = read_ser(only_ser(rec_dir))
    # The recording ends with the first frame whose own timestamp is a whole second after the
    # first frame's: exactly so, however late frames reached the recorder.
    spans = [int(t) - int(ser.timestamps[0]) for t in ser.timestamps]
    assert spans[-2] < 10_000_000 <= spans[-1], spans[-3:]
    assert ser.frame_count <= 1.2 * 126  # never more than the table's rate allows
    assert ser.frame_count >= 100
    first = only_ser(rec_dir)
    # Until stopped: RECORD_ON, then RECORD_OFF; a second file, the first untouched.
    size_before = first.stat().st_size
    client.set_switch(device, "RECORD_STREAM", ["RECORD_ON"])
    client.wait_state(device, "RECORD_STREAM", {"Busy"}, timeout=5)
    wait_frames_on_disk(rec_dir, exclude=first, frames=21, frame_bytes=1608 * 1104, timeout=20)
    client.set_switch(device, "RECORD_STREAM", ["RECORD_OFF"])
    client.wait_message(device, "Recording stopped", timeout=10)
    files = sorted(rec_dir.glob("*.ser"))
    assert len(files) == 2 and first.stat().st_size == size_before
    second = read_ser(next(f for f in files if f != first))
    assert second.frame_count > 20 and second.timestamps is not None


def test_stalled_consumer_drops_are_counted_and_recording_valid(tmp_path: Path) -> None:
    """The consumer stalls for 1.5 s (INDI_PLAYERONE_TEST_STREAM_STALL_S: the stream worker
    sleeps once, after its 20th frame) while the camera keeps sending: the host buffer
    overflows, the drops are reported, and the recording holds only whole frames, with the
    frames lost missing from it rather than faked."""
    server, client, device, rec_dir = connect(tmp_path, stall_s=1.5)
    try:
        # A 20 MB host buffer: 11 Apollo frames, full within 0.2 s of stalling.
        client.set_number(device, "LIMITS", {"LIMITS_BUFFER_MAX": 20, "LIMITS_PREVIEW_FPS": 10})
        client.wait_state(device, "LIMITS", {"Ok"}, timeout=5)
        client.set_switch(device, "RECORD_STREAM", ["RECORD_ON"])
        client.wait_state(device, "RECORD_STREAM", {"Busy"}, timeout=10)
        text = client.wait_message(device, "Frames dropped so far", timeout=15)
        assert "in the host buffer" in text
        client.set_switch(device, "RECORD_STREAM", ["RECORD_OFF"])
        client.wait_message(device, "Recording stopped", timeout=10)
        ser = read_ser(only_ser(rec_dir))
        assert ser.frame_count > 20 and ser.timestamps is not None
        gaps = np.diff(ser.timestamps) / 1e7
        assert gaps.max() > 0.2, gaps.max()
        client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
        summary = client.wait_message(device, "Video stream stopped", timeout=10)
        host = int(summary.split(" in the host buffer")[0].rsplit(" ", 1)[1])
        assert host > 0, summary
    finally:
        client.__exit__(None, None, None)
        server.stop()


def test_divisor_records_one_frame_in_n(apollo) -> None:
    """STREAMING_DIVISOR_VALUE 4: the recording and the previews get 1 frame in 4; the others
    are counted as skipped, not lost; the camera keeps its rate."""
    _, client, device, rec_dir = apollo
    client.set_number(device, "STREAMING_EXPOSURE", {"STREAMING_EXPOSURE_VALUE": 0.001,
                                                     "STREAMING_DIVISOR_VALUE": 4})
    client.wait_state(device, "STREAMING_EXPOSURE", {"Ok"}, timeout=5)
    client.set_number(device, "RECORD_OPTIONS", {"RECORD_DURATION": 1, "RECORD_FRAME_TOTAL": 30})
    client.wait_state(device, "RECORD_OPTIONS", {"Ok"}, timeout=5)
    client.set_switch(device, "RECORD_STREAM", ["RECORD_FRAME_ON"])
    ended = client.wait_message(device, "Recording ended", timeout=20)
    ser = read_ser(only_ser(rec_dir))
    assert ser.frame_count == 30
    assert "1 frame in 4" in ended, ended
    first, last = (int(x) for x in ended.split("sequence ")[1].split(",")[0].split("-"))
    assert last - first == 4 * 29, ended  # every 4th of the camera's frames, none lost
    steps = np.diff(ser.timestamps) / 1e7
    assert 3.5 / 126 <= float(np.median(steps)) <= 4.5 / 112
    client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
    summary = client.wait_message(device, "Video stream stopped", timeout=10)
    assert "skipped: 1 frame in N kept" in summary, summary


def test_slow_disk_is_reported_before_frames_drop(tmp_path: Path) -> None:
    """A disk that takes 40 MB/s (INDI_PLAYERONE_TEST_DISK_MBPS) under a 224 MB/s stream: the
    driver says so, with both rates, while no frame is lost yet; then the host buffer
    overflows, whole frames are dropped and counted, and the file holds whole frames only.
    With STREAMING_DIVISOR_VALUE 8 (28 MB/s) the same disk keeps up."""
    server = start_server(tmp_path, APOLLO, extra_env={"INDI_PLAYERONE_TEST_DISK_MBPS": "40"})
    client = IndiClient(server.port)
    client.__enter__()
    try:
        client.connect_device(DEVICE, timeout=20)
        rec_dir = tmp_path / "videos"
        client.set_text(DEVICE, "RECORD_FILE", {"RECORD_FILE_DIR": str(rec_dir), "RECORD_FILE_NAME": "rec"})
        client.set_number(DEVICE, "STREAMING_EXPOSURE", {"STREAMING_EXPOSURE_VALUE": 0.001,
                                                         "STREAMING_DIVISOR_VALUE": 1})
        # 128 MB: 75 frames of 1.78 MB, full about 0.4 s after the recording falls behind.
        client.set_number(DEVICE, "LIMITS", {"LIMITS_BUFFER_MAX": 128, "LIMITS_PREVIEW_FPS": 10})
        client.set_number(DEVICE, "RECORD_OPTIONS", {"RECORD_DURATION": 1, "RECORD_FRAME_TOTAL": 60})
        client.wait_quiet(DEVICE, quiet=0.3, timeout=10)
        # The stream runs first, as a user starts it before recording: its first frames come
        # in a burst (the camera's buffer filled while video started), not at the camera's rate.
        client.set_switch(DEVICE, "CCD_VIDEO_STREAM", ["STREAM_ON"])
        client.wait_until(DEVICE, "FPS", lambda s: s.values()["AVG_FPS"] > 0, timeout=10)
        time.sleep(0.5)
        client.set_switch(DEVICE, "RECORD_STREAM", ["RECORD_FRAME_ON"])
        warning = client.wait_message(DEVICE, "cannot keep up", timeout=20)
        assert "no frame lost yet" in warning, warning
        disk = float(warning.split("the disk takes ")[1].split(" MB/s")[0])
        need = float(warning.split("the stream needs ")[1].split(" MB/s")[0])
        assert 20 <= disk <= 45 and 150 <= need <= 260, warning
        assert "STREAMING_DIVISOR_VALUE" in warning and "CCD_STREAM_FRAME" in warning
        ended = client.wait_message(DEVICE, "Recording ended", timeout=30)
        assert "frames lost (the disk took" in ended, ended
        texts = client.messages(DEVICE)
        drops = [i for i, t in enumerate(texts) if "Frames dropped so far" in t]
        assert drops and texts.index(warning) < drops[0]
        ser = read_ser(only_ser(rec_dir))  # asserts whole frames + trailer
        assert ser.frame_count == 60
        client.set_switch(DEVICE, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
        summary = client.wait_message(DEVICE, "Video stream stopped", timeout=10)
        host = int(summary.split(" in the host buffer")[0].rsplit(" ", 1)[1])
        assert host > 0, summary
        # Choosing what to lose: 1 frame in 8 fits the 40 MB/s disk.
        since = len(client.messages(DEVICE))
        client.set_number(DEVICE, "STREAMING_EXPOSURE", {"STREAMING_EXPOSURE_VALUE": 0.001,
                                                         "STREAMING_DIVISOR_VALUE": 8})
        client.set_number(DEVICE, "RECORD_OPTIONS", {"RECORD_DURATION": 1, "RECORD_FRAME_TOTAL": 25})
        client.set_switch(DEVICE, "CCD_VIDEO_STREAM", ["STREAM_ON"])
        client.wait_until(DEVICE, "FPS", lambda s: s.values()["AVG_FPS"] > 0, timeout=10)
        time.sleep(0.5)
        client.set_switch(DEVICE, "RECORD_STREAM", ["RECORD_FRAME_ON"])
        ended = client.wait_message(DEVICE, "Recording ended", timeout=30, since=since)
        client.set_switch(DEVICE, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
        summary = client.wait_message(DEVICE, "Video stream stopped", timeout=10, since=since)
        assert "lost" not in ended, (ended, summary)
        assert not any("cannot keep up" in t for t in client.messages(DEVICE)[since:])
    finally:
        client.__exit__(None, None, None)
        server.stop()


def driver_process(server):
    procs = [p for p in server.processes() if p.name.startswith("indi_playerone") and p.is_alive()]
    assert len(procs) == 1, procs
    return procs[0]


def test_driver_killed_mid_recording_leaves_valid_ser(tmp_path: Path) -> None:
    server, client, device, rec_dir = connect(tmp_path, "Ares-M PRO")  # 9 MB frames
    try:
        client.set_switch(device, "RECORD_STREAM", ["RECORD_ON"])
        client.wait_state(device, "RECORD_STREAM", {"Busy"}, timeout=10)
        wait_frames_on_disk(rec_dir, exclude=None, frames=5, frame_bytes=3008 * 3008, timeout=20)
        driver_process(server).signal(signal.SIGKILL)
        path = only_ser(rec_dir)
        deadline = time.monotonic() + 10
        while True:  # the guard process cuts a half-written frame off once the driver is gone
            try:
                ser = read_ser(path)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert ser.frame_count > 3
        assert ser.timestamps is None  # no trailer after a kill: allowed by the format
        assert (ser.width, ser.height, ser.depth) == (3008, 3008, 8)
    finally:
        client.__exit__(None, None, None)
        server.stop()


def test_disconnect_closes_recording(apollo) -> None:
    _, client, device, rec_dir = apollo
    client.set_switch(device, "RECORD_STREAM", ["RECORD_ON"])
    client.wait_state(device, "RECORD_STREAM", {"Busy"}, timeout=10)
    wait_frames_on_disk(rec_dir, exclude=None, frames=2, frame_bytes=1608 * 1104, timeout=20)
    client.disconnect_device(device, timeout=15)
    ser = read_ser(only_ser(rec_dir))
    assert ser.frame_count > 0 and ser.timestamps is not None
    assert os.path.getsize(only_ser(rec_dir)) == ser.size


_WRITER = r"""
import sys
import numpy as np
from indi_playerone.native import SerWriter
w = SerWriter(sys.argv[1], 1000, 1000, depth=8, guard=sys.argv[2] == "1")
frame = np.zeros(1000 * 1000, np.uint8)
print("ready", flush=True)
while True:
    w.write(frame)
"""


@pytest.mark.parametrize("run", range(3))
def test_ser_guard_cuts_a_half_written_frame_after_sigkill(tmp_path: Path, run: int) -> None:
    """The recorder killed while it writes frames back to back (so almost always inside a
    write): the watcher process leaves exactly the frames the header counts."""
    import subprocess
    path = tmp_path / "killed.ser"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), "1"], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        # Killed once a few frames are on disk (a different number each run), not after a
        # guessed time: a writer that got no CPU yet would have written nothing to count.
        wait_frames_on_disk(tmp_path, exclude=None, frames=2 + 3 * run, frame_bytes=1_000_000,
                            timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while True:
        size = path.stat().st_size
        count = struct.unpack_from("<i", path.read_bytes()[:42], 38)[0]
        if size == 178 + count * 1_000_000 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert count > 0
    assert size == 178 + count * 1_000_000, (size, count)


def test_frame_rate_limit_control_caps_the_stream(apollo) -> None:
    """CCD_CONTROLS.FrameLimit (the SDK's POA_FRAME_LIMIT) caps the video rate."""
    _, client, device, rec_dir = apollo
    client.wait_property(device, "CCD_CONTROLS", timeout=10)
    client.set_number(device, "CCD_CONTROLS", {"FrameLimit": 20}, partial=True)
    client.wait_state(device, "CCD_CONTROLS", {"Ok"}, timeout=5)
    client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_ON"])
    client.wait_state(device, "CCD_VIDEO_STREAM", {"Busy", "Ok"}, timeout=10)
    # The camera's rate from the frames' own timestamps; the FPS figure once a whole second of
    # capped frames reached the driver (it counts arrivals, see the test above).
    period = recorded_period(client, device, rec_dir, frames=21)
    assert 0.05 * 0.95 <= period <= 0.1, period
    client.wait_until(device, "FPS", lambda s: 10 <= s.values()["AVG_FPS"] <= 21, timeout=10)
    client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
    client.wait_state(device, "CCD_VIDEO_STREAM", {"Idle"}, timeout=10)
