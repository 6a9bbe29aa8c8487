"""How a setBLOBVector's BLOBs are framed on the wire: inline (base64 text) or attached (memfds).

The transport (``transport.py``) decides which form a stream uses and owns the one writer thread;
this module only turns a message's ``oneBLOB`` elements into the bytes (and, attached, the file
descriptors) to write, and finds the AF_UNIX socket that attached BLOBs need.

* *inline*: base64 streamed in ~3 MiB chunks from the payload's memoryview, never the whole BLOB
  in memory (:func:`inline_pieces`);
* *attached*: ``<oneBLOB ... attached='true'/>`` with the payload's memfd passed next to it by
  SCM_RIGHTS, at most :data:`MAX_FDS_PER_SENDMSG` per sendmsg (:func:`attached_pieces`);
  indiserver base64-encodes for TCP clients itself.
"""

from __future__ import annotations

import binascii
import fcntl
import os
import socket
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .payload import SharedPayload
from .xmlout import quote_attr

__all__ = ["BlobItem", "B64_CHUNK", "MAX_FDS_PER_SENDMSG", "inline_pieces", "attached_pieces",
           "unix_socket"]

B64_CHUNK = 57 * 55188
"""Raw bytes per base64 chunk: 3,145,716 (~3 MiB).  A multiple of 3, so consecutive chunks
concatenate into one valid base64 text without inner padding.  Note: `binascii.b2a_base64` does
NOT wrap lines (multiples of 57 only gave 76-char lines with Python 2's line-limited encoder); each
chunk is one ~4 MiB line ended by a newline.  Measured: indiserver 1.9.9 and the pyindi-client 2.3.0
reader decode this byte-exact (tests/indi/test_transport_indiserver.py)."""

MAX_FDS_PER_SENDMSG = 16
"""libindi sends at most 16 fds per sendmsg; indiserver's receive buffer is sized for that."""


@dataclass
class BlobItem:
    """One ``oneBLOB`` element of a setBLOBVector."""

    name: str
    format: str
    payload: SharedPayload
    size: int | None = None
    """The ``size`` attribute: the uncompressed size (libindi semantics); default payload.size.
    For attached BLOBs indiserver 1.9.9 sends min(size, memfd length) bytes, so never make it
    smaller than the payload."""


def _blob_open(blob: BlobItem) -> str:
    size = blob.size if blob.size is not None else blob.payload.size
    return f"<oneBLOB name={quote_attr(blob.name)} size='{size}' format={quote_attr(blob.format)}"


def inline_pieces(header: bytes, blobs: Sequence[BlobItem]) -> Iterator[bytes | memoryview]:
    """The message in the order it is written, the base64 of each payload in ~3 MiB lines."""
    yield header
    for blob in blobs:
        yield (_blob_open(blob) + ">\n").encode("utf-8")
        view = blob.payload.view
        for off in range(0, len(view), B64_CHUNK):
            with view[off : off + B64_CHUNK] as part:
                yield binascii.b2a_base64(part)
        yield b"</oneBLOB>\n"
    yield b"</setBLOBVector>\n"


@contextmanager
def attached_pieces(header: bytes, blobs: Sequence[BlobItem]) -> Iterator[list[tuple[bytes, list[int]]]]:
    """The message as (bytes, fds) pieces, each one sendmsg: a new piece after every
    :data:`MAX_FDS_PER_SENDMSG` fds. A payload without a memfd (an anonymous mapping) is copied
    into a fresh one, closed when the ``with`` block ends; an empty payload goes in the
    state-only inline form (size 0, no data)."""
    pieces: list[tuple[bytes, list[int]]] = []
    text, fds = header.decode("utf-8"), []
    copies: list[SharedPayload] = []
    try:
        for blob in blobs:
            payload = blob.payload
            if payload.size == 0:
                text += _blob_open(blob) + "></oneBLOB>\n"
                continue
            fd = payload.fileno()
            if fd is None:  # anonymous mapping: copy into a fresh memfd
                copy = SharedPayload.allocate(payload.size)
                copies.append(copy)
                copy.view[:] = payload.view
                fd = copy.fileno()
                assert fd is not None
            if len(fds) == MAX_FDS_PER_SENDMSG:
                pieces.append((text.encode("utf-8"), fds))
                text, fds = "", []
            text += _blob_open(blob) + f" len='{payload.size}' attached='true'/>\n"
            fds.append(fd)
        pieces.append(((text + "</setBLOBVector>\n").encode("utf-8"), fds))
        yield pieces
    finally:
        for copy in copies:
            copy.close()


def unix_socket(fd: int) -> socket.socket | None:
    """A socket object on a dup of `fd` if `fd` is an AF_UNIX socket, else None.

    Never changes the flags of `fd`'s open file description: a socket object is created in
    non-blocking mode if `socket.setdefaulttimeout()` was called, so the original flags are put back.
    """
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return None
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        return None
    dup = os.dup(fd)
    try:
        sock = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return None
    if sock.gettimeout() is not None:
        sock.settimeout(None)
    if fcntl.fcntl(fd, fcntl.F_GETFL) != flags:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)
    domain = (
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) if hasattr(socket, "SO_DOMAIN") else sock.family
    )
    if domain != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
        sock.close()
        return None
    return sock
