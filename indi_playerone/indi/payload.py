"""Shared, writable byte buffers for BLOB payloads.

A `SharedPayload` is the one buffer a BLOB lives in from the moment the FITS builder writes it until
the transport has sent it.  On Linux it is a memfd (``memfd_create(..., MFD_CLOEXEC)``) mapped
``MAP_SHARED``: the transport can hand the *file descriptor* to indiserver over SCM_RIGHTS
("attached" BLOB, no copy, no base64), or base64-encode straight out of `view` ("inline" BLOB).
Where memfd does not exist (macOS) it is an anonymous mmap and only the inline path is possible.

Ownership: whoever holds the payload closes it.  `Transport.send_blob_vector` takes ownership and
closes every payload after sending it (or on failure), so callers allocate a fresh payload per BLOB.
"""

from __future__ import annotations

import logging
import mmap
import os
import sys

__all__ = ["SharedPayload", "memfd_supported"]

_log = logging.getLogger(__name__)

# Python's mmap keeps its own dup() of the fd (for size()/resize()), so before 3.13 a payload holds
# two fds; 3.13's trackfd=False avoids the dup.  Both are closed by close().
_NO_DUP: dict[str, bool] = {"trackfd": False} if sys.version_info >= (3, 13) else {}
# linux/mman.h; the mmap module names it only from Python 3.13 on.
_MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)


def memfd_supported() -> bool:
    """True when this platform can create memfds (Linux >= 3.17 with Python's `os.memfd_create`)."""
    return hasattr(os, "memfd_create")


def _new_memfd(name: str) -> int:
    # MFD_CLOEXEC: the fd must not leak into child processes (indiserver gets its own copy by
    # SCM_RIGHTS, never by inheritance).
    return os.memfd_create(name, os.MFD_CLOEXEC)  # type: ignore[attr-defined]


class SharedPayload:
    """A writable byte buffer for one BLOB: a memfd (Linux, MFD_CLOEXEC) mapped MAP_SHARED, or an
    anonymous mmap where memfd does not exist (macOS).  The FITS builder writes the file into `view`
    in place; the transport sends it attached (the fd) or inline (base64 from `view`) and then closes
    it.

    The memfd is ``ftruncate``d to exactly `size` bytes, because indiserver 1.9.9 sends
    ``min(size attribute, fstat().st_size)`` bytes of an attached BLOB: a longer file would be
    harmless, a shorter one would truncate the BLOB.
    """

    size: int
    view: memoryview

    def __init__(self, size: int, fd: int | None, mapping: mmap.mmap | None) -> None:
        """Wrap an already created fd/mapping; use `allocate` or `from_bytes` instead."""
        self.size = size
        self._fd = fd
        self._mmap = mapping
        # size 0: mmap() refuses empty mappings ("cannot mmap an empty file"), so a zero-length
        # payload is an empty bytearray view (the memfd, if any, still exists and is 0 bytes long).
        self.view = memoryview(mapping) if mapping is not None else memoryview(bytearray())
        self._closed = False

    @classmethod
    def allocate(cls, size: int) -> "SharedPayload":
        """Allocate exactly `size` zero-filled bytes (``size == 0`` is allowed)."""
        if size < 0:
            raise ValueError(f"payload size must be >= 0, got {size}")
        if not memfd_supported():
            mapping = mmap.mmap(-1, size) if size else None
            return cls(size, None, mapping)
        fd = _new_memfd("indi-blob")
        try:
            os.ftruncate(fd, size)
            mapping = (
                mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE, **_NO_DUP)
                if size
                else None
            )
        except BaseException:
            os.close(fd)
            raise
        return cls(size, fd, mapping)

    def populate(self) -> bool:
        """Fault every page in without writing it (``MADV_POPULATE_WRITE``, Linux 5.14+), so
        a camera reading a frame into the buffer meanwhile is never overwritten (touching the
        pages by writing would be); False where the kernel cannot."""
        if self._mmap is None or not self.size:
            return False
        try:
            self._mmap.madvise(_MADV_POPULATE_WRITE)
        except (OSError, ValueError):
            return False
        return True

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "SharedPayload":
        """Copy `data` (any C-contiguous buffer) into a new payload; for small payloads and tests."""
        src = memoryview(data).cast("B")
        payload = cls.allocate(src.nbytes)
        try:
            payload.view[:] = src
        except BaseException:
            payload.close()
            raise
        return payload

    @property
    def closed(self) -> bool:
        """True after `close`."""
        return self._closed

    def fileno(self) -> int | None:
        """The memfd, or None for the anonymous-mmap fallback.  Raises ValueError once closed."""
        if self._closed:
            raise ValueError("I/O operation on a closed SharedPayload")
        return self._fd

    def close(self) -> None:
        """Release `view`, the mapping and the fd.  Idempotent.

        If a caller still holds a buffer exported from `view` (for example a numpy array made with
        ``np.frombuffer``), the mapping cannot be unmapped now (mmap raises BufferError); the fd is
        closed anyway and the mapping is freed when the last export goes away.
        """
        if self._closed:
            return
        self._closed = True
        try:
            self.view.release()
        except BufferError:
            _log.debug("SharedPayload view still exported; mapping freed when the export dies")
        if self._mmap is not None:
            try:
                self._mmap.close()
            except BufferError:
                _log.debug("SharedPayload mapping still exported; unmapped when the export dies")
            self._mmap = None
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> "SharedPayload":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"fd={self._fd}"
        return f"<SharedPayload size={self.size} {state}>"
