"""A minimal INDI driver used only by the transport tests; it sends BLOBs through `Transport`.

Run by indiserver (through a wrapper script that names the venv's python) or directly by a test
that plays indiserver's part over one socketpair (fd 0 == fd 1) or two pipes.

Device: $BLOB_DRIVER_DEVICE (default "Blob Tester").  Properties:
* BLOB_REQUEST (number, rw): SIZE, SEED; writing it sends a BLOB of SIZE bytes of the
  `fill_pattern(seed)` content on BLOB_TEST.DATA, preceded by BLOB_REQUEST Busy (sent once the
  payload is filled, so a client can time the transport alone) and followed by BLOB_REQUEST Ok with
  LAST_WRITE_S = seconds from queuing the BLOB until `Transport.flush()` returned.
* BLOB_TEST (BLOB, ro): DATA.
* TRANSPORT_INFO (text, ro): MODE = "attached" | "inline", what the Transport chose.
The transport mode follows $INDI_PLAYERONE_BLOB_MODE (read by Transport itself).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import sys
import time
import xml.etree.ElementTree as ET
from typing import Iterator

try:
    from helpers.indi_stream import TopLevelElements
except ModuleNotFoundError:  # run as a script (by indiserver): this folder is sys.path[0]
    from indi_stream import TopLevelElements  # type: ignore[no-redef]

PATTERN_CHUNK = 1 << 20


def pattern_chunks(seed: int, size: int) -> Iterator[bytes]:
    """The known pseudo-random content: `size` bytes from random.Random(seed), 1 MiB at a time."""
    rng = random.Random(seed)
    for off in range(0, size, PATTERN_CHUNK):
        yield rng.randbytes(min(PATTERN_CHUNK, size - off))


def fill_pattern(view: memoryview, seed: int) -> None:
    """Write the pattern into `view` in place (no frame-sized temporary)."""
    off = 0
    for chunk in pattern_chunks(seed, len(view)):
        view[off : off + len(chunk)] = chunk
        off += len(chunk)


def pattern_digest(seed: int, size: int) -> str:
    """sha256 hex digest of the pattern, computed without holding it all in memory."""
    digest = hashlib.sha256()
    for chunk in pattern_chunks(seed, size):
        digest.update(chunk)
    return digest.hexdigest()


class BlobDriver:
    """Answers getProperties, BLOB_REQUEST and pingReply; everything goes out through one Transport."""

    def __init__(self, device: str) -> None:
        from indi_playerone.indi.transport import Transport

        self.device = device
        self.transport = Transport(1, ping_timeout=float(os.environ.get("BLOB_DRIVER_PING_TIMEOUT", "5")))
        self.size = 0
        self.seed = 0
        self.last_write_s = 0.0

    def _head(self, tag: str, name: str, state: str, extra: str = "") -> str:
        from indi_playerone.indi.transport import xml_attr

        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        return (
            f"<{tag} device={xml_attr(self.device)} name='{name}' state='{state}'{extra}"
            f" timeout='60' timestamp='{stamp}'>\n"
        )

    def _numbers(self, tag: str, one: str, state: str, extra: str = "") -> bytes:
        values = (("SIZE", self.size), ("SEED", self.seed), ("LAST_WRITE_S", self.last_write_s))
        body = "".join(
            (
                f"<{one} name='{n}' label='{n}' format='%.6f' min='0' max='4e9' step='1'>{v}</{one}>\n"
                if one == "defNumber"
                else f"<{one} name='{n}'>{v}</{one}>\n"
            )
            for n, v in values
        )
        return (self._head(tag, "BLOB_REQUEST", state, extra) + body + f"</{tag}>\n").encode()

    def define(self) -> None:
        mode = "attached" if self.transport.attached else "inline"
        group = " label='Blob' group='Main' perm='ro'"
        self.transport.send(
            (self._head("defBLOBVector", "BLOB_TEST", "Idle", group)
             + "<defBLOB name='DATA' label='Data'/>\n</defBLOBVector>\n").encode()
        )
        self.transport.send(
            (self._head("defTextVector", "TRANSPORT_INFO", "Ok", group)
             + f"<defText name='MODE' label='Mode'>{mode}</defText>\n</defTextVector>\n").encode()
        )
        self.transport.send(
            self._numbers("defNumberVector", "defNumber", "Idle", " label='Request' group='Main' perm='rw'")
        )

    def send_blob(self) -> None:
        from indi_playerone.indi.payload import SharedPayload
        from indi_playerone.indi.transport import BlobItem

        payload = SharedPayload.allocate(self.size)
        fill_pattern(payload.view, self.seed)
        self.transport.send(self._numbers("setNumberVector", "oneNumber", "Busy"))
        start = time.perf_counter()
        self.transport.send_blob_vector(self.device, "BLOB_TEST", "Ok", [BlobItem("DATA", ".bin", payload)])
        # flush() on the reader thread is fine here only because the tests ask for one BLOB at a
        # time: with a pingRequest still unanswered (its reply is read by this very thread) the
        # next BLOB would wait ping_timeout.  A real driver must not block its reader like this.
        self.transport.flush(120)
        self.last_write_s = time.perf_counter() - start
        self.transport.send(self._numbers("setNumberVector", "oneNumber", "Ok"))

    def handle(self, elem: ET.Element) -> None:
        if elem.tag == "getProperties" and elem.get("device") in (None, "", self.device):
            self.define()
        elif elem.tag == "pingReply":
            self.transport.ping_reply_received(elem.get("uid", ""))
        elif elem.tag == "newNumberVector" and elem.get("device") == self.device:
            for one in elem.iter("oneNumber"):
                if one.get("name") == "SIZE":
                    self.size = int(float((one.text or "0").strip()))
                elif one.get("name") == "SEED":
                    self.seed = int(float((one.text or "0").strip()))
            self.send_blob()

    def run(self) -> None:
        """Blocking reads of fd 0 (never O_NONBLOCK); returns at end of file (indiserver gone)."""
        self.transport.start()
        stream = TopLevelElements()
        try:
            while data := os.read(0, 65536):
                for elem in stream.feed(data):
                    self.handle(elem)
        finally:
            self.transport.close()


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="blob_driver %(levelname)s %(message)s")
    BlobDriver(os.environ.get("BLOB_DRIVER_DEVICE", "Blob Tester")).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
