"""FITS built around a frame read into its own payload (ccd/fits_inplace.py), read back by astropy."""
from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from astropy.io import fits as afits

from indi_playerone.ccd.fits import FITS_BLOCK, write_fits
from indi_playerone.ccd.fits_inplace import fits_layout, write_fits_in_place
from indi_playerone.indi.payload import SharedPayload

CARDS = [("EXPTIME", 1.5, "Total Exposure Time (s)"), ("INSTRUME", "PlayerOne CCD Zeus", "CCD Name")]


def frame_in_payload(shape, dtype, cards):
    bits = np.dtype(dtype).itemsize * 8
    hlen, total = fits_layout(shape, bits, cards)
    payload = SharedPayload.allocate(total)
    data = np.frombuffer(payload.view, dtype=dtype, count=int(np.prod(shape)), offset=hlen).reshape(shape)
    return payload, hlen, data


def read(raw: bytes) -> afits.PrimaryHDU:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hdul = afits.open(io.BytesIO(raw))
        hdul.verify("exception")
    return hdul[0]


@pytest.mark.parametrize("dtype", [np.uint16, np.uint8])
def test_in_place_file_reads_back_like_a_copied_one(dtype) -> None:
    shape = (97, 131)
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)
    payload, hlen, data = frame_in_payload(shape, dtype, CARDS)
    with payload:
        data[...] = pixels  # what the camera's readout does
        later = CARDS + [("CCD-TEMP", -10.0, "CCD Temperature (Celsius)")] * 20  # more keywords by now
        write_fits_in_place(payload.view, hlen, data, later)
        del data
        raw = bytes(payload.view)
    assert len(raw) % FITS_BLOCK == 0
    hdu = read(raw)
    assert np.array_equal(hdu.data, pixels)
    assert hdu.header["EXPTIME"] == 1.5 and hdu.header["CCD-TEMP"] == -10.0
    copied = write_fits(pixels, later)
    with copied:
        ref = read(bytes(copied.view))
    assert [(c.keyword, c.value) for c in ref.header.cards] == \
        [(c.keyword, c.value) for c in hdu.header.cards if c.keyword]


def test_header_that_outgrew_its_room_is_refused_and_the_frame_kept() -> None:
    shape = (16, 16)
    payload, hlen, data = frame_in_payload(shape, np.uint16, CARDS)
    with payload:
        data[...] = 1234
        too_many = CARDS + [("HISTORY", f"line {i}", "") for i in range(80)]  # > 36 extra cards
        with pytest.raises(ValueError, match="reserved"):
            write_fits_in_place(payload.view, hlen, data, too_many)
        assert np.all(data == 1234)
        del data


def test_frame_elsewhere_is_refused() -> None:
    payload, hlen, _ = frame_in_payload((8, 8), np.uint16, CARDS)
    with payload:
        with pytest.raises(ValueError, match="not where"):
            write_fits_in_place(payload.view, hlen, np.zeros((8, 8), np.uint16), CARDS)
