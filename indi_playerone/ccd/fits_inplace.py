"""A FITS file built around a frame the camera read straight into the payload it is sent from.

One frame buffer per exposure: before the exposure starts, the image's payload (a
`SharedPayload`: the memfd the BLOB is sent from and the local file is written from) is
allocated with room for the header in front, and the camera reads the frame into the rest
(``CameraBackend.start_exposure(seconds, into=...)``). When the frame is there, the header is
written in front of it and the pixels are converted where they lie (16-bit: `native.fits_be16`
into its own bytes, big-endian with BZERO 32768; 8-bit: nothing to do). No second frame-sized
buffer exists at any moment (tests/test_memory_frame.py bounds the driver's peak memory).

The header is planned before the frame exists, from the settings of the moment, with
``SLACK_BLOCKS`` spare blocks: keywords that appear by the time the frame arrives (a mount
snooped meanwhile, a longer FITS_HEADER record) still fit. The header is then exactly the
reserved size: blank keyword records (80 spaces, commentary cards of the FITS standard,
section 4.4.2.4) fill the room before END. A header that no longer fits makes
`write_fits_in_place` refuse (ValueError); the caller then copies into a new payload.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from indi_playerone import native

from .fits import CARD_LEN, FITS_BLOCK, Card, _bits_of, _data_size, build_header

__all__ = ["SLACK_BLOCKS", "fits_layout", "frame_is_at", "header_of_size",
           "write_fits_in_place"]

#: Spare header blocks reserved in front of the frame: 36 keywords each.
SLACK_BLOCKS = 1
_END = b"END".ljust(CARD_LEN)
_BLANK = b" " * CARD_LEN


def frame_is_at(view: memoryview, offset: int, data: np.ndarray) -> bool:
    """True when ``data``'s pixels are ``view``'s bytes from ``offset`` on, all of them (the
    camera read the frame there)."""
    body = np.frombuffer(view, dtype=np.uint8)
    try:
        start = data.__array_interface__["data"][0] - body.__array_interface__["data"][0]
    finally:
        del body  # drop the export before the caller closes the payload
    return start == offset and data.flags.c_contiguous and offset + data.nbytes <= len(view)


def fits_layout(shape: Sequence[int], bits: int, cards: Iterable[Card]) -> tuple[int, int]:
    """(header bytes, total bytes) of the in-place file for a frame of ``shape`` and ``bits``
    with ``cards`` (as planned now): the frame goes at offset header bytes."""
    hlen = len(build_header(shape, bits, cards)) + SLACK_BLOCKS * FITS_BLOCK
    return hlen, hlen + _data_size(shape, bits)


def header_of_size(shape: Sequence[int], bits: int, cards: Iterable[Card], size: int) -> bytes:
    """The header for ``cards``, exactly ``size`` bytes (a multiple of 2880): blank records
    before END fill what the cards leave. ValueError if they need more."""
    text = build_header(shape, bits, cards)
    if size % FITS_BLOCK or len(text) > size:
        raise ValueError(f"the header needs {len(text)} bytes, {size} were reserved")
    records = [text[i:i + CARD_LEN] for i in range(0, len(text), CARD_LEN)]
    end = records.index(_END)
    body = b"".join(records[:end])
    return body + _BLANK * (size // CARD_LEN - 1 - end) + _END


def write_fits_in_place(view: memoryview, header_len: int, data: np.ndarray,
                        cards: Iterable[Card]) -> None:
    """Make ``view`` (the whole payload) a FITS file around ``data``, the frame the camera read
    into ``view[header_len:]``: header in front, pixels converted where they are, the last
    block padded with zeros. Nothing is written (ValueError) if ``data`` is not there, the file
    does not fit the view or the header does not fit."""
    bits = _bits_of(data, "FITS in place")
    nbytes = data.nbytes
    total = header_len + _data_size(data.shape, bits)
    if not frame_is_at(view, header_len, data):
        raise ValueError("the frame is not where the payload's data go")
    if len(view) < total:
        raise ValueError(f"the payload holds {len(view)} bytes, the file needs {total}")
    header = header_of_size(data.shape, bits, cards, header_len)
    body = np.frombuffer(view, dtype=np.uint8)
    try:
        body[:header_len] = np.frombuffer(header, dtype=np.uint8)
        if bits == 16:
            native.fits_be16(data, body[header_len:header_len + nbytes])  # in place
        body[header_len + nbytes:total] = 0  # FITS pads the data with zeros
    finally:
        del body  # drop the export before the caller closes the payload
