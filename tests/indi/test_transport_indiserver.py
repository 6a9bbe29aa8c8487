"""Transport against Debian's real indiserver 1.9.9 and a real pyindi-client (TCP).

One indiserver runs two copies of `helpers/blob_driver.py` (through generated wrapper scripts that
name this venv's python): device "Blob Attached" with INDI_PLAYERONE_BLOB_MODE=attached and device
"Blob Inline" with INDI_PLAYERONE_BLOB_MODE=inline.  The client asks for BLOBs of known
pseudo-random content and checks them byte for byte.  Harness traps handled here (see
docs/upstream-facts.md section 6, "indiserver options"): own -p port AND own -u socket path,
-m 1024 for big BLOBs, own HOME, -r 0 so a crashing driver is not silently restarted, teardown
always stops the server, every wait has a timeout.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from helpers.blob_driver import pattern_digest

PyIndi = pytest.importorskip("PyIndi")
INDISERVER = "/usr/bin/indiserver"
pytestmark = [
    pytest.mark.indiserver,
    pytest.mark.skipif(not os.access(INDISERVER, os.X_OK), reason="indiserver not installed"),
]

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
DEVICES = {"attached": "Blob Attached", "inline": "Blob Inline"}
WAIT_S = 60.0


class BlobClient(PyIndi.BaseClient):
    """Records, per device, the time BLOB_REQUEST turned Busy (sent by the driver right before the
    BLOB), the BLOB bytes and their arrival time, and LAST_WRITE_S from the final Ok."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = threading.Condition()
        self.busy_at: dict[str, float] = {}
        self.blob: dict[str, tuple[float, bytes, str]] = {}
        self.write_s: dict[str, float] = {}
        self.errors: list[BaseException] = []

    def newDevice(self, device) -> None:  # noqa: N802 (PyIndi callback names)
        with self.cond:
            self.cond.notify_all()

    def newProperty(self, prop) -> None:  # noqa: N802
        with self.cond:
            self.cond.notify_all()

    def updateProperty(self, prop) -> None:  # noqa: N802
        try:
            now = time.perf_counter()
            dev = prop.getDeviceName()
            if prop.getType() == PyIndi.INDI_BLOB:
                one = PyIndi.PropertyBlob(prop)[0]
                data = bytes(one.getblobdata())
                with self.cond:
                    self.blob[dev] = (now, data, one.getFormat())
                    self.cond.notify_all()
            elif prop.getType() == PyIndi.INDI_NUMBER and prop.getName() == "BLOB_REQUEST":
                vec = PyIndi.PropertyNumber(prop)
                with self.cond:
                    if vec.getState() == PyIndi.IPS_BUSY:
                        self.busy_at[dev] = now
                    elif vec.getState() == PyIndi.IPS_OK:
                        self.write_s[dev] = vec[2].getValue()
                    self.cond.notify_all()
        except BaseException as exc:  # never raise into the C++ listener thread
            self.errors.append(exc)

    def wait(self, predicate, timeout: float = WAIT_S) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), "timed out waiting for the INDI server"

    def request(self, device: str, size: int, seed: int) -> tuple[bytes, float, float]:
        """Ask for a BLOB; return (data, seconds from Busy to BLOB at the client, driver write s)."""
        with self.cond:
            self.busy_at.pop(device, None)
            self.blob.pop(device, None)
            self.write_s.pop(device, None)
        prop = self.getDevice(device).getNumber("BLOB_REQUEST")
        prop[0].setValue(size)
        prop[1].setValue(seed)
        self.sendNewProperty(prop)
        self.wait(lambda: device in self.blob and device in self.write_s and device in self.busy_at)
        assert not self.errors, self.errors
        at, data, fmt = self.blob[device]
        assert fmt == ".bin"
        return data, at - self.busy_at[device], self.write_s[device]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wrapper(tmp: Path, mode: str) -> Path:
    path = tmp / f"blob_driver_{mode}.sh"
    path.write_text(
        "#!/bin/sh\n"
        f"export INDI_PLAYERONE_BLOB_MODE={mode}\n"
        f"export BLOB_DRIVER_DEVICE={shlex.quote(DEVICES[mode])}\n"
        f"exec {shlex.quote(sys.executable)} {shlex.quote(str(HELPERS / 'blob_driver.py'))} \"$@\"\n"
    )
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, BlobClient]]:
    tmp = tmp_path_factory.mktemp("indiserver")
    (tmp / "home").mkdir()
    port = _free_port()
    log = open(tmp / "indiserver.log", "wb")
    cmd = [INDISERVER, "-p", str(port), "-u", f"/tmp/indi-transport-{uuid.uuid4().hex[:12]}",
           "-m", "1024", "-r", "0", "-v", str(_wrapper(tmp, "attached")), str(_wrapper(tmp, "inline"))]
    env = dict(os.environ, HOME=str(tmp / "home"))
    env.pop("INDI_PLAYERONE_BLOB_MODE", None)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    client = BlobClient()
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, (tmp / "indiserver.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "indiserver did not listen"
                time.sleep(0.05)
        client.setServer("localhost", port)
        assert client.connectServer()

        def ready() -> bool:
            for name in DEVICES.values():
                dev = client.getDevice(name)
                if not dev or not dev.getNumber("BLOB_REQUEST") or not dev.getText("TRANSPORT_INFO"):
                    return False
            return True

        client.wait(ready, 20)
        for mode, name in DEVICES.items():
            # The driver reports what its Transport chose: proves the attached path is really taken.
            assert client.getDevice(name).getText("TRANSPORT_INFO")[0].getText() == mode
            client.setBLOBMode(PyIndi.B_ALSO, name, None)
        yield port, client
    finally:
        client.disconnectServer()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        try:  # drivers exit at end of file on stdin; make sure nothing we started is left
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        log.close()


def test_indi_getprop_lists_the_number_property(server: tuple[int, BlobClient]) -> None:
    port, _ = server
    getprop = shutil.which("indi_getprop") or "/usr/bin/indi_getprop"
    out = subprocess.run(
        [getprop, "-p", str(port), "-t", "5", "Blob Attached.BLOB_REQUEST.*", "Blob Inline.BLOB_REQUEST.*"],
        capture_output=True, text=True, timeout=30,
    ).stdout
    for name in DEVICES.values():
        assert f"{name}.BLOB_REQUEST.SIZE=" in out, out


@pytest.mark.parametrize("size", [1_000_003, 64 * 1024 * 1024 + 7], ids=["1MB", "64MB"])
@pytest.mark.parametrize("mode", ["attached", "inline"])
def test_blob_arrives_byte_exact(server: tuple[int, BlobClient], mode: str, size: int) -> None:
    _, client = server
    seed = size % 1000 + len(mode)
    data, _, _ = client.request(DEVICES[mode], size, seed)
    assert len(data) == size
    assert hashlib.sha256(data).hexdigest() == pattern_digest(seed, size)


def test_measure_122mb(server: tuple[int, BlobClient], capsys: pytest.CaptureFixture[str]) -> None:
    """Prints (does not assert) the time of a 122 MB BLOB in each mode: from the client seeing
    BLOB_REQUEST Busy (queued right before the BLOB) to the BLOB decoded at the client, and the
    driver's own write time (queue -> flush)."""
    _, client = server
    size = 9576 * 6388 * 2  # the reference 61 MP 16-bit frame: 122,342,976 bytes
    lines = []
    for mode in ("attached", "inline"):
        data, at_client, write_s = client.request(DEVICES[mode], size, 5)
        assert len(data) == size and hashlib.sha256(data).hexdigest() == pattern_digest(5, size)
        lines.append(
            f"122 MB {mode:8s}: Busy->BLOB at client {at_client:.3f} s, driver write {write_s:.3f} s"
        )
        del data
    with capsys.disabled():
        print("\n" + "\n".join(lines))
