"""The protocol package as a driver under Debian's real indiserver (lilxml on the other side).

The driver is a few lines built from our Device/DriverLoop with a minimal
synchronous stdout sender standing in for the transport module (written
elsewhere). indiserver parses everything we send with lilxml and restarts a
driver whose XML it cannot parse, so a clean run is evidence of well-formed output.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers.processes import terminate

pytestmark = [
    pytest.mark.indiserver,
    pytest.mark.skipif(shutil.which("indiserver") is None, reason="indiserver not installed"),
]

DRIVER = textwrap.dedent('''\
    import os, threading, logging
    from indi_playerone.indi.device import Device
    from indi_playerone.indi.driver import DriverLoop
    from indi_playerone.indi.logbridge import setup_logging
    from indi_playerone.indi.properties import *

    class StdoutSender:
        """Whole messages to fd 1 with blocking writes (test stand-in for Transport)."""
        def __init__(self):
            self.lock = threading.Lock()
        def send(self, xml):
            with self.lock:
                view = memoryview(xml)
                while view:
                    view = view[os.write(1, view):]
        def send_blob_vector(self, *a, **k):
            raise NotImplementedError
        def ping_reply_received(self, uid):
            pass

    open(os.environ["PIDFILE"], "w").write(str(os.getpid()))
    t = StdoutSender()
    setup_logging(t)
    d = Device("Tést Cam", t)
    d.define(NumberVector(d.name, "NUM", "Numbers <&> \\'q\\'", "Main", elements=[
        Number("RA", "Right ascension", "%010.6m", 0, 24, 0, 1.5),
        Number("GAIN", "Gain", "%.f", 0, 600, 1, 100)]))
    d.define(TextVector(d.name, "TXT", "Text", "Main", elements=[Text("T", "t", "a <b> & \\'c\\' \\"d\\" ü")]))
    d.define(SwitchVector(d.name, "SW", "Switch", "Main", elements=[Switch("A", "a", True), Switch("B", "b")]))
    d.define(LightVector(d.name, "LT", "Light", "Main", elements=[Light("L", "l", State.BUSY)]))
    def on_text(vector, values):
        vector.apply(values)
        vector.state = State.OK
        d.update(vector)
        d.log("control chars \\x00\\x1b ok")
        logging.getLogger("indi_playerone.testdriver").info("logged %s", values["T"])
    d.get("TXT").handler = on_text
    loop = DriverLoop(t)
    loop.add_device(d)
    loop.run()
''')

DEV = "Tést Cam"   # indi_getprop/indi_setprop do not escape device names they send


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    script = tmp_path / "driver.py"
    script.write_text(f"#!{sys.executable}\n" + DRIVER)
    script.chmod(0o755)
    port = _free_port()
    env = dict(os.environ, HOME=str(tmp_path), PIDFILE=str(tmp_path / "pid"))
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(["indiserver", "-p", str(port), "-u", str(tmp_path / "sock"), "-r", "0",
                             str(script)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "pid").exists() or not (tmp_path / "pid").read_text():
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "driver did not start"
            time.sleep(0.05)
        yield port, proc, tmp_path
    finally:
        if proc.poll() is None:
            terminate(proc, 5)
        log.close()


def getprop(port: int, what: str) -> dict[str, str]:
    out = subprocess.run(["indi_getprop", "-p", str(port), "-t", "1", what], capture_output=True, text=True,
                         timeout=20).stdout
    result = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        result[key] = value
    return result


def getprop_until(port: int, what: str, check, timeout: float = 15) -> dict[str, str]:
    """``getprop`` again until ``check(props)`` holds: indi_setprop exits once it has sent, and
    indiserver may serve the next client's getProperties before it passed that message on."""
    deadline = time.monotonic() + timeout
    while True:
        props = getprop(port, what)
        if check(props):
            return props
        assert time.monotonic() < deadline, props
        time.sleep(0.05)


def setprop(port: int, what: str) -> None:
    subprocess.run(["indi_setprop", "-p", str(port), "-t", "3", what], check=True, timeout=20,
                   capture_output=True)


def test_driver_under_indiserver(server) -> None:
    port, proc, tmp = server
    # The driver wrote its pid first; its definitions follow once its imports are done.
    props = getprop_until(port, "*.*.*", lambda p: f"{DEV}.LT.L" in p)
    assert float(props[f"{DEV}.NUM.RA"]) == 1.5              # lilxml read our defs
    assert props[f"{DEV}.NUM.GAIN"] == "100"
    assert props[f"{DEV}.TXT.T"] == "a <b> & 'c' \"d\" ü"
    assert props[f"{DEV}.SW.A"] == "On" and props[f"{DEV}.LT.L"] == "Busy"

    # One request at a time, each awaited: the order they reach the driver is then fixed.
    setprop(port, f"{DEV}.NUM.RA;GAIN=12:30:00;250")       # sexagesimal from a C client
    getprop_until(port, f"{DEV}.NUM.GAIN", lambda p: p.get(f"{DEV}.NUM.GAIN") == "250")
    setprop(port, f"{DEV}.NUM.GAIN=700")                   # refused: out of range
    getprop_until(port, f"{DEV}.NUM._STATE", lambda p: p.get(f"{DEV}.NUM._STATE") == "Alert")
    setprop(port, f"{DEV}.TXT.T=hello world")   # indi_setprop sends text unescaped
    getprop_until(port, f"{DEV}.TXT.T", lambda p: p.get(f"{DEV}.TXT.T") == "hello world")
    setprop(port, f"{DEV}.SW.B=On")
    props = getprop_until(port, "*.*.*", lambda p: p.get(f"{DEV}.SW.B") == "On")
    assert float(props[f"{DEV}.NUM.RA"]) == 12.5
    assert props[f"{DEV}.NUM.GAIN"] == "250"
    assert props[f"{DEV}.TXT.T"] == "hello world"
    assert props[f"{DEV}.SW.A"] == "Off" and props[f"{DEV}.SW.B"] == "On"
    assert getprop(port, "*.NUM._STATE")[f"{DEV}.NUM._STATE"] == "Alert"

    log = (tmp / "server.log").read_text()
    assert "restart" not in log and "XML" not in log, log
    assert "logged hello world" in log                    # stderr half of the log bridge

    # indiserver gone -> stdin EOF -> the driver exits on its own.
    pid = int((tmp / "pid").read_text())
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z":
        assert time.monotonic() < deadline, "driver survived its server"
        time.sleep(0.05)
