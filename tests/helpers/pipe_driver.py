"""The driver process on pipes, without indiserver: what a test writes to its stdin and reads
from its stdout is the whole conversation. stdout and stderr are collected by threads."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MiB = 1 << 20


class PipeDriver:
    """``indi_playerone_ccd`` serving simulated ``models``, HOME at ``home``, BLOBs inline."""

    def __init__(self, home: Path, models: str = "Ares-C PRO", umask: int = -1) -> None:
        env = dict(os.environ, HOME=str(home), INDI_PLAYERONE_SIMULATE=models,
                   INDI_PLAYERONE_BLOB_MODE="inline")
        self.proc = subprocess.Popen([DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, umask=umask)
        self.out = bytearray()
        self.err = bytearray()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self._threads:
            t.start()
        self.pings = 0

    def _read(self, stream: IO[bytes], into: bytearray) -> None:
        while chunk := stream.read1(MiB):  # type: ignore[attr-defined]
            with self._lock:
                into += chunk

    def send(self, data: bytes | str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data.encode() if isinstance(data, str) else data)
        self.proc.stdin.flush()

    def _seen(self, needle: bytes) -> bool:
        with self._lock:
            return needle in self.out

    def wait_for(self, needle: bytes, timeout: float = 20) -> None:
        """Until ``needle`` is in stdout; AssertionError at once if the driver exited without
        it (after its last output was read), TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._seen(needle):
                return
            if self.proc.poll() is not None:
                self._threads[0].join(5)
                if self._seen(needle):
                    return
                raise AssertionError(f"driver exited ({self.proc.returncode}) without {needle!r}: "
                                     f"{bytes(self.err[-2000:])!r}")
            time.sleep(0.02)
        raise TimeoutError(f"{needle!r} not seen; got {bytes(self.out[-2000:])!r}")

    def wait_count(self, needle: bytes, count: int, timeout: float = 20) -> None:
        """Wait until stdout holds ``needle`` at least ``count`` times."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self.out.count(needle) >= count:
                    return
            assert time.monotonic() < deadline, f"{needle!r} not {count} times: {bytes(self.out[-1500:])!r}"
            time.sleep(0.02)

    def alive(self) -> None:
        """The driver still reads and answers: a pingRequest comes back as pingReply."""
        self.pings += 1
        uid = f"alive-{self.pings}"
        self.send(f"<pingRequest uid='{uid}'/>")
        self.wait_for(f"<pingReply uid='{uid}'".encode())

    def close(self, timeout: float = 15) -> int:
        """Close stdin (the driver's signal to exit) and return its exit code; killed if it
        does not exit within ``timeout`` (the TimeoutExpired is raised)."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            for t in self._threads:
                t.join(5)

    def elements(self) -> list[ET.Element]:
        """Every top-level element written so far (the stream must be well-formed)."""
        root = ET.fromstring(b"<root>" + bytes(self.out) + b"</root>")
        return list(root)


def connected_driver(home: Path, model: str = "Apollo-M MAX PRO", umask: int = -1) -> PipeDriver:
    """A driver with ``model`` connected and answering."""
    driver = PipeDriver(home, model, umask)
    driver.send("<getProperties version='1.7'/>"
                f"<newSwitchVector device='PlayerOne CCD {model}' name='CONNECTION'>"
                "<oneSwitch name='CONNECT'>On</oneSwitch></newSwitchVector>")
    driver.wait_for(b"name='CONNECTION' state='Ok'")
    driver.alive()
    return driver


def expose(driver: PipeDriver, device: str, seconds: float = 0.01, timeout: float = 30) -> None:
    """One exposure, waited for until its BLOB is out."""
    before = driver.out.count(b"<setBLOBVector")
    driver.send(f"<newNumberVector device='{device}' name='CCD_EXPOSURE'><oneNumber name='CCD_EXPOSURE_VALUE'>"
                f"{seconds}</oneNumber></newNumberVector>")
    deadline = time.monotonic() + timeout
    while driver.out.count(b"<setBLOBVector") < before + 1:
        assert time.monotonic() < deadline, "no frame after an exposure"
        time.sleep(0.05)
