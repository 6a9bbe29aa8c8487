"""FITS_HEADER from a client of each generation, through the real indiserver of each generation.

* A libindi 2.x client (pyindi-client bundles libindiclient 2.x) writes records the way Ekos 3.7
  does: the whole vector, elements 0..2 set, one record per write, several in a row.
* A libindi 1.9.9 client (KStars 3.6) is reproduced with raw XML over TCP: the whole vector, with
  FITS_OBSERVER and FITS_OBJECT set and the other elements as the driver showed them.

Both must land in the FITS the driver sends, and no error may be logged.
"""
from __future__ import annotations

import io
import socket
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from astropy.io import fits

from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = [pytest.mark.indiserver, pytest.mark.generations]

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
CAMERA = "PlayerOne CCD Uranus-C PRO"  # a small sensor keeps the frames quick


@pytest.fixture
def uranus(tmp_path: Path):
    with IndiServer([DRIVER], env={"INDI_PLAYERONE_SIMULATE": "Uranus-C PRO"}, home=tmp_path / "home") as server, \
            IndiClient(server.port) as client:
        client.connect_device(CAMERA, timeout=15)
        client.enable_blobs(CAMERA)
        client.set_number(CAMERA, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2})
        client.wait_state(CAMERA, "CCD_BINNING", {"Ok"}, timeout=5)
        yield server, client


def header(client: IndiClient) -> fits.Header:
    blob = client.expose(CAMERA, 0.01, timeout=30)
    with fits.open(io.BytesIO(blob.data)) as hdul:
        return hdul[0].header.copy()


def assert_no_error_logged(server: IndiServer) -> None:
    bad = [line for line in server.log_text().splitlines() if "ERROR" in line or "refused" in line]
    assert not bad, bad


class OldClient:
    """A libindi 1.9.9-era client as raw XML: what KStars 3.6's ISD::Camera::setFITSHeader sends."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.sock.sendall(f"<getProperties version='1.7' device={quoteattr(CAMERA)} name='FITS_HEADER'/>\n".encode())

    def close(self) -> None:
        self.sock.close()

    def set_fits_header(self, shown: dict[str, str], **changed: str) -> None:
        """The whole vector: ``shown`` (the driver's last values) with ``changed`` elements set."""
        values = {**shown, **changed}
        body = "".join(f"  <oneText name={quoteattr(k)}>{escape(v)}</oneText>\n" for k, v in values.items())
        self.sock.sendall(f"<newTextVector device={quoteattr(CAMERA)} name='FITS_HEADER'>\n{body}"
                          f"</newTextVector>\n".encode())

    def wait_for(self, needle: bytes, timeout: float = 10) -> bytes:
        deadline = time.monotonic() + timeout
        while needle not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{needle!r} not received; got {self.buf[-2000:]!r}")
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(needle)
        return head


def test_a_1_9_9_client_sets_observer_and_object(uranus) -> None:
    server, client = uranus
    shown = client.text(CAMERA, "FITS_HEADER")
    assert list(shown) == ["KEYWORD_NAME", "KEYWORD_VALUE", "KEYWORD_COMMENT", "FITS_OBSERVER", "FITS_OBJECT"]
    old = OldClient(server.port)
    try:
        old.wait_for(b"defTextVector")
        old.set_fits_header(shown, FITS_OBSERVER="Ann Observer", FITS_OBJECT="M 42")
        answer = old.wait_for(b"</setTextVector>")
        assert b"state=\"Ok\"" in answer or b"state='Ok'" in answer, answer
    finally:
        old.close()
    client.wait_until(CAMERA, "FITS_HEADER", lambda s: s.values()["FITS_OBJECT"] == "M 42", timeout=5)
    h = header(client)
    assert h["OBSERVER"] == "Ann Observer" and h.comments["OBSERVER"] == "Observer name"
    assert h["OBJECT"] == "M 42" and h.comments["OBJECT"] == "Object name"
    assert client.state(CAMERA, "FITS_HEADER") == "Ok"
    assert_no_error_logged(server)


def test_a_2x_client_adds_records_clears_them_and_adds_a_comment(uranus) -> None:
    server, client = uranus
    # Ekos 3.7 sends its records back to back, each as the whole vector.
    for name, value, comment in (("OBSERVER", "Ann Observer", "Observer name"), ("OBJECT", "M 31", "Object name"),
                                 ("FOCUSPOS", "12345", "Focuser position"), ("", "", "through both servers")):
        client.set_text(CAMERA, "FITS_HEADER", {"KEYWORD_NAME": name, "KEYWORD_VALUE": value,
                                                "KEYWORD_COMMENT": comment})
    client.wait_until(CAMERA, "FITS_HEADER", lambda s: s.values()["FITS_OBJECT"] == "M 31", timeout=5)
    time.sleep(0.3)  # the last record's answer
    h = header(client)
    assert h["OBSERVER"] == "Ann Observer" and h["OBJECT"] == "M 31"
    assert h["FOCUSPOS"] == 12345
    assert "through both servers" in [str(c) for c in h["COMMENT"]]
    assert client.text(CAMERA, "FITS_HEADER")["FITS_OBSERVER"] == "Ann Observer"

    client.set_text(CAMERA, "FITS_HEADER", {"KEYWORD_NAME": "INDI_CLEAR", "KEYWORD_VALUE": "", "KEYWORD_COMMENT": ""})
    client.wait_until(CAMERA, "FITS_HEADER", lambda s: s.values()["FITS_OBSERVER"] == "", timeout=5)
    h = header(client)
    assert "OBSERVER" not in h and "OBJECT" not in h and "FOCUSPOS" not in h
    assert "through both servers" not in [str(c) for c in h.get("COMMENT", [])]
    assert_no_error_logged(server)
