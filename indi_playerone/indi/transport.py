"""The driver's outbound INDI stream: exactly one writer thread owns `out_fd`.

Why this module exists (the traps it avoids, all observed with indiserver 1.9.9):

* indiserver gives a driver ONE ``socketpair(AF_UNIX, SOCK_STREAM)`` end as both fd 0 and fd 1.
  O_NONBLOCK is a flag of the shared open file description, so making stdin non-blocking makes
  stdout non-blocking too; a pure-Python driver library that did so truncated a 122 MB BLOB to
  56-60 MB.  This module never sets O_NONBLOCK; if somebody else does, it waits with poll() and
  carries on instead of dropping bytes.
* Messages written by several threads interleave into a BLOB.  Here every message goes through one
  bounded FIFO queue and is written completely, by one thread, before the next one starts.
* indiserver 1.9.9 pre-sizes its buffer from ``enclen`` and swallows closing tags when the base64 is
  not wrapped the way libindi wraps it: ``enclen`` is never sent.

BLOBs go out either *attached* (the payload's memfd passed to indiserver by SCM_RIGHTS next to
``<oneBLOB ... attached='true'/>``; indiserver base64-encodes for TCP clients itself) or *inline*
(base64 streamed in ~3 MiB chunks from the payload's memoryview, never the whole BLOB in memory);
``blob_framing.py`` frames both.

Flow control (libindi's ``IDSetBLOB``): after each setBLOBVector the writer sends
``<pingRequest uid='SetBLOB/N'/>`` and, before the next BLOB, waits up to `ping_timeout` for
`ping_reply_received('SetBLOB/N')`.  Checked against the installed indiserver 1.9.9: it answers a
driver's pingRequest with ``<pingReply uid="SetBLOB/N"/>`` on the driver's stdin, so flow control
is ON by default.  The driver's reader thread must route pingReply to `ping_reply_received`;
otherwise every BLOB after the first waits `ping_timeout` (logged at debug level).
"""

from __future__ import annotations

import array
import collections
import logging
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Sequence

from .blob_framing import B64_CHUNK, BlobItem, attached_pieces, inline_pieces, unix_socket
from .payload import memfd_supported
from .xmlout import quote_attr

__all__ = ["BlobItem", "B64_CHUNK", "Transport", "TransportClosed", "ENV_BLOB_MODE", "BLOB_MODES"]

_log = logging.getLogger(__name__)

ENV_BLOB_MODE = "INDI_PLAYERONE_BLOB_MODE"
"""Environment variable that overrides the constructor's `blob_mode` (inline | attached | auto)."""

BLOB_MODES = ("auto", "inline", "attached")

_STATES = frozenset({"Idle", "Ok", "Busy", "Alert"})
_PEER_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class TransportClosed(Exception):
    """The transport was closed, or the peer (indiserver) went away; nothing more can be sent."""


def xml_attr(value: object) -> str:
    """Quote `value` as a single-quoted XML attribute: `xmlout.quote_attr`, the one escaping
    rule of the protocol package (newlines/tabs as character references, characters XML 1.0
    cannot hold as U+FFFD)."""
    return quote_attr(value)


def _timestamp() -> str:
    """INDI timestamp, UTC ``YYYY-MM-DDTHH:MM:SS`` (libindi's indi_timestamp format)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


@dataclass
class _Item:
    data: bytes = b""
    header: bytes | None = None  # set for a setBLOBVector: everything up to the first oneBLOB
    blobs: list[BlobItem] = field(default_factory=list)
    seq: int = 0

    def close_payloads(self) -> None:
        for blob in self.blobs:
            blob.payload.close()


class Transport:
    """Exactly one writer thread for the driver's stdout (or any `out_fd`), fed by a bounded FIFO.

    `send`/`send_blob_vector` block while `max_queue` messages are waiting (back-pressure: memory is
    bounded by the caller's payloads, never by an unbounded queue).  After `close()` or once the peer
    is gone (EPIPE/ECONNRESET) they raise `TransportClosed` and close any payloads handed to them.
    """

    def __init__(
        self,
        out_fd: int = 1,
        blob_mode: str = "auto",
        max_queue: int = 64,
        ping_timeout: float = 5.0,
        *,
        flow_control: bool = True,
    ) -> None:
        """`blob_mode` "auto": attached when `out_fd` is an AF_UNIX socket and memfd exists, else
        inline.  The environment variable INDI_PLAYERONE_BLOB_MODE overrides it when set (an
        unknown value there is logged and ignored, so a typo cannot stop a driver from starting).
        `flow_control`: pingRequest/pingReply pacing of BLOBs (see the module docstring)."""
        if blob_mode not in BLOB_MODES:
            raise ValueError(f"blob_mode must be one of {BLOB_MODES}, got {blob_mode!r}")
        if max_queue < 1:
            raise ValueError("max_queue must be >= 1")
        env = os.environ.get(ENV_BLOB_MODE, "").strip().lower()
        if env:
            if env in BLOB_MODES:
                blob_mode = env
            else:
                _log.warning("ignoring %s=%r (expected one of %s)", ENV_BLOB_MODE, env, BLOB_MODES)
        self._fd = out_fd
        self._max_queue = max_queue
        self._ping_timeout = ping_timeout
        self._flow_control = flow_control
        self._sock: socket.socket | None = None
        self.attached = False
        if blob_mode != "inline":
            sock = unix_socket(out_fd)
            usable = sock is not None and memfd_supported()
            if blob_mode == "attached" and not usable:
                _log.warning("attached BLOBs need an AF_UNIX out_fd and memfd; using inline BLOBs")
            if usable:
                self._sock, self.attached = sock, True
            elif sock is not None:
                sock.close()
        self._cond = threading.Condition()
        self._queue: collections.deque[_Item] = collections.deque()
        self._seq = 0  # last sequence number queued
        self._finished = 0  # last sequence number written or dropped
        self._first_failed: int | None = None  # first sequence number not written
        self._closing = False
        self._dead = False
        self._thread: threading.Thread | None = None
        self._ping_n = 0
        self._ping_pending: str | None = None
        self._ping_acked = False
        self._warned_nonblock = False

    # ----------------------------------------------------------------- public API
    @property
    def closed(self) -> bool:
        """True after close() or once the peer went away."""
        return self._closing or self._dead

    def start(self) -> None:
        """Start the writer thread (daemon).  Idempotent."""
        with self._cond:
            if self.closed:
                raise TransportClosed("transport is closed")
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="indi-transport-writer", daemon=True)
            self._thread.start()

    def send(self, xml: bytes) -> None:
        """Queue one whole message (its bytes are copied)."""
        self._put(_Item(data=bytes(xml)))

    def send_blob_vector(
        self,
        device: str,
        name: str,
        state: str,
        blobs: Sequence[BlobItem],
        timeout: float = 60,
        message: str | None = None,
    ) -> None:
        """Queue one setBLOBVector.  Takes ownership of the payloads: they are closed after sending,
        or right away if this raises (TransportClosed, or ValueError for a bad `state`)."""
        items = list(blobs)
        try:
            if state not in _STATES:
                raise ValueError(f"state must be one of {sorted(_STATES)}, got {state!r}")
            head = (
                f"<setBLOBVector device={xml_attr(device)} name={xml_attr(name)} state={xml_attr(state)}"
                f" timeout='{float(timeout):g}' timestamp='{_timestamp()}'"
            )
            if message is not None:
                head += f" message={xml_attr(message)}"
            self._put(_Item(header=(head + ">\n").encode("utf-8"), blobs=items))
        except BaseException:
            for blob in items:
                blob.payload.close()
            raise

    def ping_reply_received(self, uid: str) -> None:
        """Called by the reader thread for every ``<pingReply uid=…/>`` from indiserver."""
        with self._cond:
            if uid == self._ping_pending:
                self._ping_acked = True
                self._cond.notify_all()
            else:
                _log.debug("pingReply %r does not match the pending %r", uid, self._ping_pending)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is written.  True when it was; False on timeout, when
        something was dropped (peer gone), or at once when the writer was never started."""
        with self._cond:
            target = self._seq
            if self._thread is not None:
                self._cond.wait_for(lambda: self._finished >= target or self._dead, timeout)
            failed = self._first_failed is not None and self._first_failed <= target
            return self._finished >= target and not failed

    def close(self, timeout: float = 5.0) -> None:
        """Drain the queue (up to `timeout` s), stop the writer, close what is left.  Idempotent.

        Ping waits are skipped while closing.  If the writer is still blocked in a write after
        `timeout` (peer not reading), the queued messages are dropped and the daemon thread is left
        to finish or fail that one write."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                _log.warning("writer still blocked after %.1f s; dropping queued messages", timeout)
        with self._cond:
            self._drop_queue_locked()
            if thread is None and self._sock is not None:
                self._sock.close()
                self._sock = None

    def __enter__(self) -> "Transport":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ----------------------------------------------------------------- queue
    def _put(self, item: _Item) -> None:
        with self._cond:
            # The writer thread may log, and a logging->INDI bridge may call send() from it: it must
            # never wait for itself, so it may exceed the bound.
            if threading.current_thread() is not self._thread:
                self._cond.wait_for(lambda: len(self._queue) < self._max_queue or self.closed)
            if self.closed:
                item.close_payloads()
                raise TransportClosed("transport is closed" if self._closing else "peer went away")
            self._seq += 1
            item.seq = self._seq
            self._queue.append(item)
            self._cond.notify_all()

    def _drop_queue_locked(self) -> None:
        if self._queue:
            _log.debug("dropping %d queued message(s)", len(self._queue))
            if self._first_failed is None:
                self._first_failed = self._queue[0].seq
        while self._queue:
            item = self._queue.popleft()
            item.close_payloads()
            self._finished = max(self._finished, item.seq)
        self._cond.notify_all()

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._queue or self._closing or self._dead)
                    if not self._queue or self._dead:
                        break
                    item = self._queue.popleft()
                    self._cond.notify_all()
                ok = False
                try:
                    self._write_item(item)
                    ok = True
                except _PEER_GONE as exc:
                    _log.warning("INDI peer went away (%s); transport closed", exc)
                except OSError as exc:
                    _log.error("writing to fd %d failed (%s); transport closed", self._fd, exc)
                except Exception:
                    _log.exception("unexpected error while writing a message; transport closed")
                finally:
                    item.close_payloads()
                with self._cond:
                    if not ok:
                        # Part of the message may be written: the XML framing is lost for good.
                        self._dead = True
                        if self._first_failed is None:
                            self._first_failed = item.seq
                    self._finished = max(self._finished, item.seq)
                    self._cond.notify_all()
        finally:
            with self._cond:
                if self._dead:
                    self._drop_queue_locked()
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None

    # ----------------------------------------------------------------- writing
    def _write_item(self, item: _Item) -> None:
        if item.header is None:
            self._write_all(item.data)
            return
        if any(b.payload.closed for b in item.blobs):
            # Checked before the first byte so the stream stays well-formed.
            _log.error("setBLOBVector %r dropped: a payload was closed before sending", item.header[:80])
            return
        self._wait_ping()
        if self.attached:
            self._write_attached(item)
        else:
            self._write_inline(item)
        if self._flow_control:
            with self._cond:
                self._ping_n += 1
                self._ping_pending = f"SetBLOB/{self._ping_n}"
                self._ping_acked = False
                uid = self._ping_pending
            self._write_all(f"<pingRequest uid='{uid}'/>\n".encode())

    def _wait_ping(self) -> None:
        if not self._flow_control:
            return
        with self._cond:
            uid = self._ping_pending
            if uid is None:
                return
            acked = self._cond.wait_for(lambda: self._ping_acked or self.closed, self._ping_timeout)
            self._ping_pending = None
        if not acked:
            _log.debug("no pingReply for %s within %.1f s; proceeding", uid, self._ping_timeout)

    def _write_inline(self, item: _Item) -> None:
        assert item.header is not None
        for piece in inline_pieces(item.header, item.blobs):
            self._write_all(piece)

    def _write_attached(self, item: _Item) -> None:
        assert item.header is not None
        with attached_pieces(item.header, item.blobs) as pieces:
            for data, fds in pieces:
                self._sendmsg_all(data, fds)

    def _sendmsg_all(self, data: bytes, fds: list[int]) -> None:
        """One sendmsg carrying all `fds` (SCM_RIGHTS); the rest of a partial write goes without."""
        if not fds:
            self._write_all(data)
            return
        assert self._sock is not None
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        while True:
            try:
                sent = self._sock.sendmsg([data], ancillary)
                break
            except BlockingIOError:
                self._wait_writable()
        self._write_all(memoryview(data)[sent:])

    def _write_all(self, data: bytes | memoryview) -> None:
        """Blocking write of every byte: loops over partial writes; EINTR is retried by Python."""
        with memoryview(data) as view:
            off, total = 0, len(view)
            while off < total:
                try:
                    off += os.write(self._fd, view[off:])
                except BlockingIOError:
                    self._wait_writable()

    def _wait_writable(self) -> None:
        """Someone else set O_NONBLOCK on the shared description: wait instead of dropping bytes."""
        if not self._warned_nonblock:
            self._warned_nonblock = True
            _log.warning("fd %d is non-blocking (set by someone else); waiting with poll()", self._fd)
        poller = select.poll()
        poller.register(self._fd, select.POLLOUT)
        poller.poll(1000)

