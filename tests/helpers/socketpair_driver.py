"""The driver on one socketpair, as indiserver runs it: output parsed element by element,
pings answered, attached BLOBs' file descriptors received and closed; and the process
figures (RSS, fds, threads) the soak tests compare."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
DEV = "PlayerOne CCD Apollo-M MAX PRO"


class SocketpairDriver:
    """The driver on one socketpair; a reader parses its output element by element."""

    def __init__(self, home: Path) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ, HOME=str(home), INDI_PLAYERONE_SIMULATE="Apollo-M MAX PRO")
        env.pop("INDI_PLAYERONE_BLOB_MODE", None)
        self.proc = subprocess.Popen([DRIVER], stdin=theirs.fileno(), stdout=theirs.fileno(),
                                     stderr=subprocess.DEVNULL, env=env)
        theirs.close()
        self.sock.settimeout(30)
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.parser.feed(b"<root>")
        self.depth = 0
        self.fds_received = 0
        self.blobs = 0

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def pump(self, until, timeout: float = 30) -> None:
        """Read and parse until ``until(element)`` is true for a top-level element."""
        deadline = time.monotonic() + timeout
        while True:
            for event, el in self.parser.read_events():
                if event == "start":
                    self.depth += 1
                    continue
                self.depth -= 1
                if self.depth != 1:
                    continue
                if el.tag == "pingRequest":
                    self.send(f"<pingReply uid='{el.get('uid')}'/>")
                if el.tag == "setBLOBVector":
                    self.blobs += 1
                done = until(el)
                el.clear()
                if done:
                    return
            assert time.monotonic() < deadline, "driver went quiet"
            data, anc, _flags, _addr = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(16 * 4))
            assert data, "driver closed its output"
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    for fd in memoryview(payload).cast("i")[: len(payload) // 4]:
                        os.close(fd)
                        self.fds_received += 1
            self.parser.feed(data)

    def vector_state(self, name: str, state: str):
        return lambda el: el.get("name") == name and el.tag.startswith("set") and el.get("state") == state

    def connect(self) -> None:
        self.send(f"<newSwitchVector device='{DEV}' name='CONNECTION'><oneSwitch name='CONNECT'>On</oneSwitch>"
                  "</newSwitchVector>")
        self.pump(self.vector_state("CONNECTION", "Ok"))
        self.small_frame()

    def small_frame(self) -> None:
        self.send(f"<newNumberVector device='{DEV}' name='CCD_FRAME'><oneNumber name='X'>100</oneNumber>"
                  "<oneNumber name='Y'>100</oneNumber><oneNumber name='WIDTH'>128</oneNumber>"
                  "<oneNumber name='HEIGHT'>128</oneNumber></newNumberVector>")
        self.pump(self.vector_state("CCD_FRAME", "Ok"))

    def full_frame(self) -> None:
        self.send(f"<newSwitchVector device='{DEV}' name='CCD_FRAME_RESET'><oneSwitch name='RESET'>On"
                  "</oneSwitch></newSwitchVector>")
        self.pump(self.vector_state("CCD_FRAME_RESET", "Ok"))

    def disconnect(self) -> None:
        self.send(f"<newSwitchVector device='{DEV}' name='CONNECTION'><oneSwitch name='DISCONNECT'>On"
                  "</oneSwitch></newSwitchVector>")
        self.pump(self.vector_state("CONNECTION", "Idle"))

    def expose(self) -> None:
        blobs = self.blobs
        self.send(f"<newNumberVector device='{DEV}' name='CCD_EXPOSURE'><oneNumber name='CCD_EXPOSURE_VALUE'>"
                  "0.001</oneNumber></newNumberVector>")
        self.pump(lambda el: self.blobs > blobs and el.get("name") == "CCD_EXPOSURE" and el.get("state") == "Ok"
                  or (el.get("name") == "CCD_EXPOSURE" and el.get("state") == "Alert" and
                      (_ for _ in ()).throw(AssertionError(el.get("message")))))

    def close(self) -> int:
        self.sock.shutdown(socket.SHUT_WR)
        try:
            return self.proc.wait(15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            self.sock.close()


@contextmanager
def connected_driver(home: Path) -> Iterator[SocketpairDriver]:
    """A :class:`SocketpairDriver` that has sent its properties and connected the camera; closed
    at the end unless the block closed it (a test checks that exit code itself)."""
    driver = SocketpairDriver(home)
    try:
        driver.send("<getProperties version='1.7'/>")
        driver.connect()
        yield driver
    finally:
        if driver.proc.poll() is None:
            driver.close()


def figures(pid: int) -> tuple[int, int, int]:
    """(VmRSS kB, open fds, threads) at a quiet moment: the least of a few samples 20 ms apart,
    so a memfd still being closed by the writer thread is not counted as a leak."""
    samples = []
    for _ in range(5):
        status = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))
        threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
        samples.append((rss, len(os.listdir(f"/proc/{pid}/fd")), threads))
        time.sleep(0.02)
    return min(s[0] for s in samples), min(s[1] for s in samples), min(s[2] for s in samples)



def growth_line(base: tuple[int, int, int], end: tuple[int, int, int]) -> str:
    """RSS, fds and threads from ``base`` to ``end`` (two :func:`figures`), as the soaks print them."""
    growth = (end[0] - base[0]) / base[0]
    return (f"RSS {base[0] / 1024:.1f} -> {end[0] / 1024:.1f} MB ({growth:+.2%}); fds {base[1]} -> {end[1]}; "
            f"threads {base[2]} -> {end[2]}")


def assert_no_growth(base: tuple[int, int, int], end: tuple[int, int, int]) -> None:
    """RSS grew less than 5 %; no file descriptor and no thread more than at ``base``."""
    assert (end[0] - base[0]) / base[0] < 0.05
    assert end[1] <= base[1], "file descriptors leaked"
    assert end[2] <= base[2], "threads leaked"
