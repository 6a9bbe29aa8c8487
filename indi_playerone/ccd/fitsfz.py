"""Rice-compressed FITS (`.fits.fz`, the fpack layout) for CCD_COMPRESSION.

An empty primary HDU and the image in a tile-compressed extension (RICE_1, lossless),
which cfitsio (Ekos, Siril, PixInsight) and astropy open as the image. astropy does the
compression: about 0.85 s for a 61 MP frame on these machines (performance budget),
against 0.01 s for the uncompressed file, so this pays off only over slow links;
measured ratio 3.6 on bias + noise frames. Unlike `fits.write_fits`, this makes one
compressed copy in Python memory (compression needs a new buffer anyway).
"""
from __future__ import annotations

import io
from typing import Iterable

import numpy as np
from astropy.io import fits as afits

from ..indi.payload import SharedPayload
from .fits import Card


def write_fits_rice(data: np.ndarray, cards: Iterable[Card]) -> SharedPayload:
    header = afits.Header()
    for key, value, comment in cards:
        header.append((key, value, comment), end=True)
    hdus = afits.HDUList([afits.PrimaryHDU(),
                          afits.CompImageHDU(data=data, header=header, compression_type="RICE_1")])
    buffer = io.BytesIO()
    hdus.writeto(buffer)
    return SharedPayload.from_bytes(buffer.getbuffer())
