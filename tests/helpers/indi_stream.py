"""Test-side INDI stream reader: a deliberately slow peer that plays indiserver's reading part.

Reads a pipe or an AF_UNIX socket in small, random-sized pieces with pauses, parses the byte stream
into top-level elements with `XMLPullParser` over a synthetic root, and collects SCM_RIGHTS file
descriptors in arrival order (indiserver pairs them in order with ``attached='true'`` elements).
"""

from __future__ import annotations

import binascii
import mmap
import os
import random
import socket
import threading
import time
import xml.etree.ElementTree as ET
from typing import Callable, Iterator


class TopLevelElements:
    """The complete top-level elements of an INDI byte stream fed in pieces of any size.

    The stream has no root element, so the parser reads it under a synthetic ``<stream>``; each
    element is detached from that root once complete, so a long session holds no tree.
    """

    def __init__(self) -> None:
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._parser.feed(b"<stream>")
        self._root: ET.Element | None = None
        self._depth = 0

    def feed(self, data: bytes) -> Iterator[ET.Element]:
        """The top-level elements that `data` completes, in stream order."""
        self._parser.feed(data)
        for event, elem in self._parser.read_events():
            if event == "start":
                self._root = elem if self._root is None else self._root
                self._depth += 1
                continue
            self._depth -= 1
            if self._depth == 1 and self._root is not None:
                self._root.remove(elem)
                yield elem

    def close(self) -> None:
        """End of the stream: a truncated element raises `ET.ParseError`."""
        self._parser.feed(b"</stream>")
        self._parser.close()


class SlowReader:
    """Reads `fd` (or `sock`) until EOF in a thread; `elements` are the top-level elements in order.

    `on_element(elem)` is called from the reader thread for each complete top-level element (e.g. to
    answer pingRequest).  `blobs[i]` holds the bytes of each oneBLOB of `elements[i]` (decoded
    base64, or the content of the received fd for attached ones); the base64 text is dropped.
    """

    def __init__(
        self,
        fd: int | None = None,
        sock: socket.socket | None = None,
        *,
        max_chunk: int = 65536,
        pause_every: int = 40,
        pause_s: float = 0.002,
        seed: int = 1,
        on_element: Callable[[ET.Element], None] | None = None,
    ) -> None:
        assert (fd is None) != (sock is None)
        self.fd, self.sock = fd, sock
        self.max_chunk, self.pause_every, self.pause_s = max_chunk, pause_every, pause_s
        self.rng = random.Random(seed)
        self.on_element = on_element
        self.elements: list[ET.Element] = []
        self.blobs: list[list[bytes]] = []
        self.nbytes = 0
        self.error: BaseException | None = None
        self.fds_received = 0
        self._fds: list[int] = []
        self._thread = threading.Thread(target=self._run, name="slow-reader", daemon=True)

    def start(self) -> "SlowReader":
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        """Wait for EOF; fails the test if the reader is still running after `timeout` s."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"reader did not reach EOF within {timeout} s"
        if self.error is not None:
            raise self.error

    def _read(self, n: int) -> bytes:
        if self.fd is not None:
            return os.read(self.fd, n)
        assert self.sock is not None
        data, fds, flags, _ = socket.recv_fds(self.sock, n, 64)
        assert not flags & socket.MSG_CTRUNC, "SCM_RIGHTS truncated"
        self._fds.extend(fds)
        self.fds_received += len(fds)
        return data

    def _attach(self, elem: ET.Element) -> list[bytes]:
        out = []
        for one in elem.iter("oneBLOB"):
            if one.get("attached") == "true":
                fd = self._fds.pop(0)
                try:
                    length = int(one.get("len", "0"))
                    assert os.fstat(fd).st_size >= length
                    with mmap.mmap(fd, length, prot=mmap.PROT_READ) as m:
                        out.append(bytes(m))
                finally:
                    os.close(fd)
            else:
                out.append(binascii.a2b_base64((one.text or "").encode()))
                one.text = None
        return out

    def _run(self) -> None:
        stream = TopLevelElements()
        count = 0
        try:
            while True:
                data = self._read(self.rng.randint(1, self.max_chunk))
                if not data:
                    break
                self.nbytes += len(data)
                count += 1
                if self.pause_every and count % self.pause_every == 0:
                    time.sleep(self.pause_s)
                for elem in stream.feed(data):
                    self.blobs.append(self._attach(elem))
                    self.elements.append(elem)
                    if self.on_element is not None:
                        self.on_element(elem)
            stream.close()
        except BaseException as exc:  # reported by join()
            self.error = exc
        finally:
            for fd in self._fds:
                os.close(fd)
            self._fds.clear()

    def tags(self) -> list[str]:
        """Tags of the top-level elements, in stream order."""
        return [e.tag for e in self.elements]
