"""Server and client faults through Debian's real indiserver 1.9.9 (issue 8, part 3).

* A client that enables BLOBs and drops its TCP connection in the middle of a 122 MB
  (Zeus 455M PRO, 61 MP) frame: indiserver closes that client; the driver and the other client
  (pyindi-client) carry on, and the other client gets the whole frame.
* A slow client (a raw socket with a small receive buffer, read a little at a time) that enabled
  BLOBs: indiserver queues for it, so the driver is not held up: the pyindi client still gets its
  frames and CCD_TEMPERATURE updates keep arriving while the slow client lags.
* indiserver restarting the driver: the driver is SIGKILLed with restarts allowed (``-r 1``); a
  new driver process comes up, defines its device again and takes a frame.

Raw clients speak INDI over TCP on 127.0.0.1 only; every loop here is bounded in time.
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.client import IndiClient
from harness.server import IndiServer

pytestmark = pytest.mark.indiserver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
ZEUS = "PlayerOne CCD Zeus 455M PRO"
APOLLO = "PlayerOne CCD Apollo-M MAX PRO"
ZEUS_FITS_BYTES = 9576 * 6388 * 2  # pixel data alone; the FITS file is a little larger


def raw_client(port: int, device: str, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"<getProperties version='1.7'/><enableBLOB device='{device}'>Also</enableBLOB>".encode())
    return sock


def driver_pids(server: IndiServer) -> set[int]:
    return {r.pid for r in server.processes() if r.name.startswith("indi_playerone") and r.is_alive()}


def next_temperature_updates(client: IndiClient, device: str, n: int, timeout: float) -> list[float]:
    """Wait for ``n`` successive changes of CCD_TEMPERATURE (each within ``timeout``)."""
    seen = []
    last = client.number(device, "CCD_TEMPERATURE")["CCD_TEMPERATURE_VALUE"]
    for _ in range(n):
        snap = client.wait_until(device, "CCD_TEMPERATURE",
                                 lambda s, v=last: s.values()["CCD_TEMPERATURE_VALUE"] != v, timeout=timeout)
        last = snap.values()["CCD_TEMPERATURE_VALUE"]
        seen.append(last)
    return seen


@pytest.fixture
def zeus(indiserver_factory, tmp_path: Path):
    server = indiserver_factory([DRIVER], env={"INDI_PLAYERONE_SIMULATE": "Zeus 455M PRO"},
                                home=tmp_path / "home")
    with IndiClient(server.port) as client:
        client.connect_device(ZEUS, timeout=20)
        client.enable_blobs(ZEUS)
        yield server, client


def test_client_dropping_mid_blob_does_not_disturb_the_driver(zeus) -> None:
    server, client = zeus
    pids = driver_pids(server)
    assert len(pids) == 1
    dropper = raw_client(server.port, ZEUS)
    got = bytearray()
    try:
        client.set_number(ZEUS, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1})
        deadline = time.monotonic() + 60
        # Read until the BLOB has started and a few MB of it are in, then vanish (RST, no goodbye).
        while True:
            assert time.monotonic() < deadline, "the dropping client never saw the BLOB start"
            chunk = dropper.recv(1 << 20)
            assert chunk, "indiserver closed the raw client early"
            got += chunk
            start = got.find(b"<setBLOBVector")
            if start >= 0 and len(got) - start > 4 << 20:
                break
    finally:
        dropper.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        dropper.close()
    blob = client.wait_blob(ZEUS, timeout=60)
    assert blob.format == ".fits" and len(blob.data) > ZEUS_FITS_BYTES
    client.wait_state(ZEUS, "CCD_EXPOSURE", {"Ok"}, timeout=30)
    # The driver is the same process and takes the next frame.
    assert driver_pids(server) == pids
    second = client.expose(ZEUS, 0.1, timeout=90)
    assert len(second.data) == len(blob.data)
    assert driver_pids(server) == pids


def test_slow_client_does_not_stall_the_driver(zeus) -> None:
    server, client = zeus
    client.set_number(ZEUS, "CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": -20})
    slow = raw_client(server.port, ZEUS, rcvbuf=4096)
    received = [0]
    stop = threading.Event()

    def crawl() -> None:
        """4 KiB every 20 ms: ~200 KB/s, 800 times slower than one frame a second."""
        while not stop.is_set():
            try:
                data = slow.recv(4096)
            except OSError:
                return
            if not data:
                return
            received[0] += len(data)
            stop.wait(0.02)

    reader = threading.Thread(target=crawl, daemon=True)
    reader.start()
    try:
        temps_before = next_temperature_updates(client, ZEUS, 2, timeout=10)
        for _ in range(2):
            blob = client.expose(ZEUS, 0.1, timeout=90)
            assert len(blob.data) > ZEUS_FITS_BYTES
        temps_during = next_temperature_updates(client, ZEUS, 3, timeout=10)
        assert received[0] > 0, "the slow client got nothing at all"
        assert reader.is_alive(), "indiserver dropped the slow client"  # 2 frames < its -m 1024 MB
    finally:
        stop.set()
        slow.close()
        reader.join(5)
    print(f"\nslow client read {received[0] / 1e6:.1f} MB meanwhile; temperatures {temps_before + temps_during}")
    assert temps_during[-1] < temps_before[0]  # still cooling, still reported


def test_indiserver_restarts_a_killed_driver(indiserver_factory, tmp_path: Path) -> None:
    server = indiserver_factory([DRIVER], env={"INDI_PLAYERONE_SIMULATE": "Apollo-M MAX PRO"},
                                home=tmp_path / "home", restarts=1)
    with IndiClient(server.port) as client:
        client.connect_device(APOLLO, timeout=20)
        (old,) = driver_pids(server)
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while True:
            new = driver_pids(server) - {old}
            if new:
                break
            assert time.monotonic() < deadline, f"no new driver; log:\n{server.log_text()[-3000:]}"
            time.sleep(0.1)
        # The new driver starts disconnected (a fresh process); a client connects it again.
        client.wait_until(APOLLO, "CONNECTION", lambda s: bool(s.values().get("DISCONNECT")), timeout=20)
        client.connect_device(APOLLO, timeout=20)
        client.enable_blobs(APOLLO)
        blob = client.expose(APOLLO, 0.05, timeout=30)
        assert len(blob.data) > 1608 * 1104 * 2
    assert "restart" in server.log_text().lower()
