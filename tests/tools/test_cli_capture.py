"""`indi-playerone capture` against our driver under Debian's real indiserver.

One server with two simulated cameras serves the module; each test runs the command as a user
does (the console script, a real process) and checks its exit code, its stdout (one saved path
per line) and the files with astropy. The device state is read back with the real C++ client
library (pyindi-client), not with the client the command itself uses.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from astropy.io import fits

from indi_playerone.tools import exits
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

CLI = str(Path(sys.executable).parent / "indi-playerone")
DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
ARES = "PlayerOne CCD Ares-C PRO"
URANUS = "PlayerOne CCD Uranus-C PRO"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndiServer]:
    work = tmp_path_factory.mktemp("capture-server")
    with IndiServer([DRIVER], env={"INDI_PLAYERONE_SIMULATE": "Uranus-C PRO,Ares-C PRO"},
                    workdir=work) as srv:
        yield srv


def capture(server: IndiServer | None, *args: str, port: int | None = None) -> subprocess.CompletedProcess[str]:
    port = server.port if server is not None else port
    return subprocess.run([CLI, "capture", "--host", "127.0.0.1", "--port", str(port), *args],
                          capture_output=True, text=True, timeout=120)


def test_frames_are_saved_with_binning_and_frame_type(server: IndiServer, tmp_path: Path) -> None:
    out = tmp_path / "darks"
    result = capture(server, "--device", ARES, "-e", "0.2", "-n", "2", "--bin", "2",
                     "--frame-type", "dark", "-o", str(out))
    assert result.returncode == exits.OK, result.stdout + result.stderr
    paths = result.stdout.splitlines()
    assert paths == [str(out / "dark_001.fits"), str(out / "dark_002.fits")]
    # stderr is a pipe here, as in a log: one line per frame, no bar redrawn with carriage returns.
    assert "\r" not in result.stderr and "[" not in result.stderr, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("frame ")] == [
        f"frame 1/2: 0.2 s, saved {paths[0]}", f"frame 2/2: 0.2 s, saved {paths[1]}"]
    for p in paths:
        with fits.open(p) as hdul:
            h = hdul[0].header
            assert hdul[0].data.shape == (1504, 1504)
            assert h["XBINNING"] == 2 and h["IMAGETYP"] == "Dark Frame"
            assert h["EXPTIME"] == pytest.approx(0.2) and h["INSTRUME"] == ARES
    # The camera was disconnected before; the command leaves it so.
    with IndiClient(server.port) as client:
        client.wait_until(ARES, "CONNECTION", lambda s: s.values()["DISCONNECT"], timeout=10)

    # Again into the same directory: nothing is overwritten, numbering moves on.
    again = capture(server, "--device", ARES, "-e", "0.1", "--frame-type", "dark", "-o", str(out))
    assert again.returncode == exits.OK, again.stderr
    assert again.stdout.splitlines() == [str(out / "dark_003.fits")]
    assert sorted(f.name for f in out.iterdir()) == ["dark_001.fits", "dark_002.fits", "dark_003.fits"]


def test_first_camera_is_used_when_none_is_named_and_gain_is_noted(server: IndiServer, tmp_path: Path) -> None:
    result = capture(server, "-e", "0.1", "--gain", "120", "--prefix", "m42", "--progress",
                     "-o", str(tmp_path))
    assert result.returncode == exits.OK, result.stderr
    assert f"using {ARES}" in result.stderr  # sorted by name: Ares before Uranus
    assert "no CCD_CONTROLS property" not in result.stderr  # the gain went to CCD_CONTROLS
    assert "frame 1/1 [" in result.stderr  # the progress bar
    (path,) = result.stdout.splitlines()
    assert Path(path).name == "m42_001.fits"
    with fits.open(path) as hdul:
        assert hdul[0].header["INSTRUME"] == ARES and hdul[0].header["IMAGETYP"] == "Light Frame"
        assert hdul[0].header["GAIN"] == 120


def test_progress_bar_on_a_terminal(server: IndiServer, tmp_path: Path) -> None:
    """stderr a terminal (a pseudo-terminal here), no --progress: the bar is drawn in place."""
    import os
    import pty

    leader, follower = pty.openpty()
    shown = b""
    try:
        proc = subprocess.Popen([CLI, "capture", "--host", "127.0.0.1", "--port", str(server.port),
                                 "-d", ARES, "-e", "0.5", "-o", str(tmp_path)],
                                stdout=subprocess.PIPE, stderr=follower)
        os.close(follower)  # the command holds the only other end: EOF (EIO) when it exits
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(leader)
    assert proc.returncode == exits.OK, shown
    assert out.decode().splitlines() == [str(tmp_path / "light_001.fits")]
    assert b"\rframe 1/1 [" in shown, shown
    assert b"frame 1/1: " not in shown, shown  # the log's line is for logs only


def test_second_camera_by_name(server: IndiServer, tmp_path: Path) -> None:
    result = capture(server, "-d", URANUS, "-e", "0.1", "--bin", "4", "-o", str(tmp_path))
    assert result.returncode == exits.OK, result.stderr
    with fits.open(result.stdout.strip()) as hdul:
        assert hdul[0].header["INSTRUME"] == URANUS
        # 2180/4 = 545 rows, rounded down to an even height as the SDK does.
        assert hdul[0].data.shape == (544, 964)


def test_refused_settings_and_exposures_exit_1(server: IndiServer, tmp_path: Path) -> None:
    result = capture(server, "-d", ARES, "--bin", "9", "-o", str(tmp_path))
    assert result.returncode == exits.FAILURE
    assert "refused binning 9" in result.stderr
    result = capture(server, "-d", ARES, "-e", "5000", "-o", str(tmp_path))  # longest is 2000 s
    assert result.returncode == exits.FAILURE
    assert "frame 1: exposure failed" in result.stderr
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_ctrl_c_aborts_the_exposure_and_exits_130(server: IndiServer, tmp_path: Path) -> None:
    """SIGINT during a 30 s exposure: the command aborts it on the camera and says so.

    The camera is connected beforehand (by pyindi-client), so the command leaves it connected
    and the abort can be watched on CCD_EXPOSURE.
    """
    with IndiClient(server.port) as client:
        client.connect_device(URANUS, timeout=15)
        try:
            proc = subprocess.Popen([CLI, "capture", "--port", str(server.port), "--host", "127.0.0.1",
                                     "-d", URANUS, "-e", "30", "-o", str(tmp_path)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                client.wait_state(URANUS, "CCD_EXPOSURE", {"Busy"}, timeout=20)
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=20)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
            assert proc.returncode == exits.INTERRUPTED, err
            assert "interrupted: exposure 1 of 1 aborted" in err and out == ""
            client.wait_state(URANUS, "CCD_EXPOSURE", {"Idle"}, timeout=5)  # aborted, not finished
            assert client.state(URANUS, "CCD_ABORT_EXPOSURE") == "Ok"
        finally:
            client.set_switch(URANUS, "CONNECTION", ["DISCONNECT"])
            client.wait_until(URANUS, "CONNECTION", lambda s: s.values()["DISCONNECT"], timeout=10)


def test_unknown_device_exits_4(server: IndiServer, tmp_path: Path) -> None:
    result = capture(server, "-d", "PlayerOne CCD Neptune", "--wait", "1", "-o", str(tmp_path))
    assert result.returncode == exits.NO_DEVICE
    assert "'PlayerOne CCD Neptune' not found" in result.stderr and ARES in result.stderr


def test_no_server_exits_3(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = capture(None, "--wait", "0.5", "-o", str(tmp_path), port=port)
    assert result.returncode == exits.NO_SERVER
    assert f"cannot connect to indiserver at 127.0.0.1:{port}" in result.stderr


@pytest.mark.parametrize("args", [["--count", "0"], ["--exposure", "-1"], ["--frame-type", "sky"],
                                  ["--bin", "0"]])
def test_bad_arguments_exit_2(args: list[str], tmp_path: Path) -> None:
    result = capture(None, *args, "-o", str(tmp_path), port=1)
    assert result.returncode == exits.USAGE, result.stderr
