"""SIGTERM ends both drivers as a closed stdin does: every device is disconnected, the process
exits with status 0 at once.

systemd stopping the indi-playerone service (``packaging/systemd/indi-playerone.service``, the
default ``KillMode=control-group``) sends SIGTERM to indiserver and to every driver at the same
moment; before, the default action killed a camera driver in the middle of an exposure with the
camera open. Here the camera driver gets SIGTERM 0.3 s into a 30 s exposure of a simulated
camera, the wheel driver with a simulated wheel connected.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from helpers.pipe_driver import connected_driver
from helpers.wheel import W7, WHEEL_DRIVER, wheel_env

CAMERA = "PlayerOne CCD Apollo-M MAX PRO"


def test_sigterm_mid_exposure_stops_the_camera_and_exits_0(tmp_path: Path) -> None:
    driver = connected_driver(tmp_path)
    try:
        driver.send(f"<newNumberVector device='{CAMERA}' name='CCD_EXPOSURE'>"
                    "<oneNumber name='CCD_EXPOSURE_VALUE'>30</oneNumber></newNumberVector>")
        driver.wait_for(b"name='CCD_EXPOSURE' state='Busy'")
        time.sleep(0.3)
        started = time.monotonic()
        driver.proc.send_signal(signal.SIGTERM)
        rc = driver.proc.wait(10)
        took = time.monotonic() - started
    finally:
        driver.close(timeout=5)
    err = bytes(driver.err).decode(errors="replace")
    assert rc == 0, (rc, err[-2000:])
    assert took < 5, f"{took:.2f} s"  # ~0.1 s on an idle machine
    assert "Traceback" not in err
    # The device was disconnected on the way out: its connected-only vectors were deleted.
    out = bytes(driver.out)
    assert f"<delProperty device='{CAMERA}' name='CCD_EXPOSURE'".encode() in out, out[-1500:]


def test_sigterm_ends_the_wheel_driver_with_status_0(tmp_path: Path) -> None:
    env = {**os.environ, **wheel_env(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.Popen([WHEEL_DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"<getProperties version='1.7'/><newSwitchVector device='{W7}' "
                         "name='CONNECTION'><oneSwitch name='CONNECT'>On</oneSwitch>"
                         "</newSwitchVector>".encode())
        proc.stdin.flush()
        seen = b""
        deadline = time.monotonic() + 20
        while b"name='CONNECTION' state='Ok'" not in seen:
            assert time.monotonic() < deadline, seen[-1500:]
            seen += os.read(proc.stdout.fileno(), 65536)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert took < 5 and b"Traceback" not in err
