"""The driver process on its own, stdin/stdout as pipes or as one socketpair (as indiserver
gives it): only XML on stdout, malformed input survived, exit when stdin closes."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from helpers.pipe_driver import PipeDriver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
ARES = "PlayerOne CCD Ares-C PRO"


def parse_stream(data: bytes) -> list[ET.Element]:
    """Everything the driver wrote must be a sequence of well-formed top-level elements."""
    parser = ET.XMLPullParser(events=("end",))
    parser.feed(b"<root>")
    parser.feed(data)
    parser.feed(b"</root>")
    root = None
    for _, el in parser.read_events():
        root = el
    assert root is not None and root.tag == "root"
    return list(root)


CONNECT = (f"<newSwitchVector device='{ARES}' name='CONNECTION'>"
           "<oneSwitch name='CONNECT'>On</oneSwitch></newSwitchVector>")


def expose(seconds: float) -> str:
    return (f"<newNumberVector device='{ARES}' name='CCD_EXPOSURE'>"
            f"<oneNumber name='CCD_EXPOSURE_VALUE'>{seconds}</oneNumber></newNumberVector>")


def test_malformed_input_is_reported_and_the_driver_carries_on(tmp_path: Path) -> None:
    driver = PipeDriver(tmp_path)
    try:
        driver.send("<getProperties version='1.7'/>")
        driver.wait_for(b"name='ACTIVE_DEVICES'")
        hostile = [
            "<newNumberVector device='x' name='y'><oneNumber name='z'>1</oneNumber>",  # cut off
            "<!DOCTYPE lol [<!ENTITY a 'aaaa'>]><getProperties/>",
            "&&&<<<>>>",
            f"<newNumberVector device='{ARES}' name='NO_SUCH'><oneNumber name='A'>1</oneNumber></newNumberVector>",
            f"<newNumberVector device='{ARES}' name='POLLING_PERIOD'><oneNumber name='PERIOD_MS'>nan</oneNumber></newNumberVector>",
            f"<newTextVector device='{ARES}' name='DRIVER_INFO'><oneText name='DRIVER_NAME'>x</oneText></newTextVector>",
            "\xff\xfe garbage \x00",
        ]
        for text in hostile:
            driver.send(text)
        driver.send(CONNECT)
        driver.send(expose(0.1))
        driver.wait_for(b"<setBLOBVector", timeout=20)
        driver.wait_for(b"name='CCD_EXPOSURE' state='Ok'", timeout=20)
        assert driver.close() == 0
    finally:
        if driver.proc.poll() is None:
            driver.proc.kill()
    elements = parse_stream(bytes(driver.out))
    texts = " ".join(el.get("message", "") for el in elements)
    assert "NO_SUCH is not defined" in texts
    assert "read-only" in texts
    states = {(el.get("name"), el.get("state")) for el in elements if el.tag.startswith("set")}
    assert ("POLLING_PERIOD", "Alert") in states and ("DRIVER_INFO", "Alert") in states
    blob = next(el for el in elements if el.tag == "setBLOBVector")
    assert blob[0].get("format") == ".fits" and int(blob[0].get("size")) > 3008 * 3008 * 2


def test_an_unknown_simulated_model_is_said_to_the_client_once(tmp_path: Path) -> None:
    driver = PipeDriver(tmp_path, models="Bogus Cam")
    try:
        driver.send("<getProperties version='1.7'/>")
        driver.wait_for(b"unknown camera model")
        time.sleep(0.5)  # a second copy would follow at once
        assert driver.close() == 0
    finally:
        if driver.proc.poll() is None:
            driver.proc.kill()
    texts = [el.get("message", "") for el in parse_stream(bytes(driver.out))]
    assert sum("unknown camera model 'Bogus Cam'" in t for t in texts) == 1, texts


def test_driver_exits_when_stdin_closes_even_mid_exposure(tmp_path: Path) -> None:
    driver = PipeDriver(tmp_path)
    try:
        driver.send("<getProperties version='1.7'/>" + CONNECT + expose(30))
        driver.wait_for(b"name='CCD_EXPOSURE' state='Busy'", timeout=15)
        started = time.monotonic()
        assert driver.close(timeout=10) == 0
        assert time.monotonic() - started < 5
    finally:
        if driver.proc.poll() is None:
            driver.proc.kill()
    parse_stream(bytes(driver.out))


def test_under_one_socketpair_as_indiserver_runs_it(tmp_path: Path) -> None:
    """indiserver dups one AF_UNIX socket onto fd 0 and fd 1; in auto mode the driver then
    sends attached BLOBs (the fd of a memfd over SCM_RIGHTS) and stays blocking."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = dict(os.environ, HOME=str(tmp_path), INDI_PLAYERONE_SIMULATE="Ares-C PRO")
    env.pop("INDI_PLAYERONE_BLOB_MODE", None)
    proc = subprocess.Popen([DRIVER], stdin=theirs.fileno(), stdout=theirs.fileno(),
                            stderr=subprocess.DEVNULL, env=env)
    theirs.close()
    data, fds = bytearray(), []
    try:
        ours.sendall(("<getProperties version='1.7'/>" + CONNECT + expose(0.1)).encode())
        ours.settimeout(20)
        while b"name='CCD_EXPOSURE' state='Ok'" not in data:
            msg, anc, _flags, _ = ours.recvmsg(1 << 20, socket.CMSG_SPACE(16 * 4))
            if not msg:
                break
            data += msg
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds += list(memoryview(payload).cast("i"))
        ours.shutdown(socket.SHUT_WR)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        ours.close()
    elements = parse_stream(bytes(data))
    blob = next(el for el in elements if el.tag == "setBLOBVector")[0]
    assert blob.get("attached") == "true" and len(fds) == 1
    size = int(blob.get("size"))
    with os.fdopen(fds[0], "rb") as f:
        content = f.read()
    assert len(content) >= size and content[:6] == b"SIMPLE"


def test_simulated_cameras_are_the_simulated_sdk_library_in_the_driver(tmp_path: Path) -> None:
    """One camera path: the driver serving INDI_PLAYERONE_SIMULATE has the simulated SDK library
    mapped (it came through the SDK backend) and no Python simulator exists in the package."""
    import indi_playerone
    from indi_playerone.camera.sdk_loader import SIM_LIBRARY

    package = Path(indi_playerone.__file__).parent
    assert not list(package.glob("camera/sim*.py")), "a Python simulator is back in the package"
    driver = PipeDriver(tmp_path)
    try:
        driver.send("<getProperties version='1.7'/>" + CONNECT + expose(0.01))
        driver.wait_for(b"name='CCD_EXPOSURE' state='Ok'", timeout=20)
        with open(f"/proc/{driver.proc.pid}/maps") as f:
            mapped = {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}
        assert str(SIM_LIBRARY) in mapped, sorted(m for m in mapped if "PlayerOne" in m)
        assert driver.close() == 0
    finally:
        if driver.proc.poll() is None:
            driver.proc.kill()


def test_the_driver_start_and_the_listing_search_the_vendor_sdk_once(tmp_path: Path) -> None:
    """The driver's start (discovery, start-up report, hot-plug watcher) and `indi-playerone
    list` each try every candidate of the vendor SDK's search once, found or not."""
    count = ("import collections, sys\n"
             "from indi_playerone.camera import sdk_loader\n"
             "tried = collections.Counter()\n"
             "make = sdk_loader._libraries._make\n"
             "def counted(path):\n"
             "    tried[path] += 1\n"
             "    return make(path)\n"
             "sdk_loader._libraries._make = counted\n"
             "try:\n"
             "    {run}\n"
             "finally:\n"
             "    print(dict(tried), file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if k != "INDI_PLAYERONE_SDK"}
    env.update(HOME=str(tmp_path), INDI_PLAYERONE_SIMULATE="Ares-C PRO")
    for run in ("from indi_playerone.ccd.main import main; main([])",
                "from indi_playerone.cli import main; main(['list'])"):
        r = subprocess.run([sys.executable, "-c", count.format(run=run)], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        tried = eval(r.stderr.strip().splitlines()[-1])  # the dict printed last
        assert tried.get("libPlayerOneCamera.so.3") == 1, (run, r.stderr)
        assert set(tried.values()) == {1}, (run, tried)
