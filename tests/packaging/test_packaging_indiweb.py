"""INDI Web Manager (`indiweb` 1.2.0 from PyPI, installed by .ci/setup) lists and starts our driver.

indiweb reads every ``*.xml`` in its ``--xmldir`` (``/usr/share/indi`` by default, where the
.deb puts ours). The test gives it a directory holding only the committed driver XML, then
uses its REST API as its web page does: the driver list, a profile with our driver, start the
profile (indiweb runs ``indiserver -f FIFO`` and writes ``start indi_playerone_ccd`` into the
FIFO, without ``-n`` because the entry is mdpd), and a real INDI client then sees the camera
and takes a frame. indiweb finds ``indi_playerone_ccd`` and ``indiserver`` on PATH.

Measured behaviour of indiweb 1.2.0 worth knowing: it sends indiserver's output to the fixed
file ``/tmp/indiserver.log`` (shell redirection; not configurable), and its stop kills the
indiserver whose ``-p`` is the profile's port (psutil), so it never touches other servers.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from helpers.processes import terminate
from indi_playerone.tools.camera_client import CameraClient

pytestmark = pytest.mark.indiserver

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INDIWEB = BIN / "indi-web"
ARES = "PlayerOne CCD Ares-C PRO"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, method: str, path: str, body: object | None = None, timeout: float = 30) -> object:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def wait_http(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            api(base, "GET", "/api/info/version", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def indiserver_pids(port: int) -> list[int]:
    """indiserver processes listening with `-p port` (found in /proc, not by name-killing)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"indiserver") and b"-p" in argv:
            if argv[argv.index(b"-p") + 1] == str(port).encode():
                pids.append(int(entry))
    return pids


def test_indiweb_lists_our_driver_and_starts_it(tmp_path: Path) -> None:
    if not INDIWEB.exists():
        pytest.skip("indiweb is not installed in this environment (.ci/setup installs indiweb==1.2.0)")
    xmldir = tmp_path / "indi"
    xmldir.mkdir()
    shutil.copy(ROOT / "xml" / "indi_playerone.xml", xmldir)
    conf, home = tmp_path / "conf", tmp_path / "home"
    conf.mkdir()
    home.mkdir()
    web_port, indi_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    env = dict(os.environ, HOME=str(home), PATH=f"{BIN}:{os.environ['PATH']}",
               INDI_PLAYERONE_SIMULATE="Ares-C PRO")
    log = open(tmp_path / "indiweb.log", "wb")
    web = subprocess.Popen([str(INDIWEB), "--host", "127.0.0.1", "--port", str(web_port),
                            "--xmldir", str(xmldir), "--conf", str(conf), "--fifo", str(tmp_path / "fifo"),
                            "--indi-port", str(indi_port), "--verbose"],
                           env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_http(base, web, timeout=60)
        drivers = api(base, "GET", "/api/drivers")
        ours = [d for d in drivers if d["binary"] == "indi_playerone_ccd"]  # type: ignore[union-attr]
        assert len(ours) == 1, drivers
        assert ours[0]["label"] == "PlayerOne CCD" and ours[0]["name"] == "PlayerOne CCD"
        assert ours[0]["family"] == "CCDs" and ours[0]["mdpd"] is True and ours[0]["version"] == "0.1"
        assert "CCDs" in api(base, "GET", "/api/drivers/groups")  # type: ignore[operator]

        api(base, "POST", "/api/profiles/playerone")
        api(base, "PUT", "/api/profiles/playerone", {"port": indi_port, "autostart": 0, "autoconnect": 0})
        api(base, "POST", "/api/profiles/playerone/drivers", [{"label": "PlayerOne CCD"}])
        api(base, "POST", "/api/server/start/playerone")

        with CameraClient("127.0.0.1", indi_port).connect(timeout=20) as client:
            client.prop(ARES, "CONNECTION", timeout=20)
            client.connect_device(ARES)
            client.enable_blobs(ARES)
            blob = client.expose(ARES, 0.1, timeout=60)
            assert blob.format == ".fits" and blob.data[:6] == b"SIMPLE"
        running = api(base, "GET", "/api/server/drivers")
        assert [d["binary"] for d in running] == ["indi_playerone_ccd"]  # type: ignore[union-attr]
        assert api(base, "GET", "/api/server/status")[0]["status"] == "True"  # type: ignore[index]
        api(base, "POST", "/api/server/stop")
        deadline = time.monotonic() + 10
        while indiserver_pids(indi_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert indiserver_pids(indi_port) == []
    except BaseException:
        log.flush()
        print((tmp_path / "indiweb.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        for pid in indiserver_pids(indi_port):  # only the server on our port
            os.kill(pid, signal.SIGTERM)
        terminate(web, 15)
        log.close()
