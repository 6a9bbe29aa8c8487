"""Memory of a full-frame exposure: one frame buffer, not two (issue 19).

The driver's peak resident memory while it takes a 16-bit full frame of the largest model
(Zeus 455M PRO, 122 MB) and delivers it everywhere at once (UPLOAD_BOTH: FITS to the client
and to a local file) may exceed its idle memory by at most 1.25 frames: the SDK reads into one
buffer, and the FITS, the upload and the local file use it in place. A second full-frame copy
anywhere on that path (a ring slot and a FITS payload, a ``tobytes()``, a converted array)
makes it 2 frames or more. After the exposure the driver's memory must come back near idle.

Measured from the driver process itself, under a real indiserver: VmRSS when connected and
quiet, then ``/proc/<pid>/clear_refs`` 5 (VmHWM := VmRSS), the exposures, VmHWM. A bound on
memory, not a timed test.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(next(p for p in Path(__file__).resolve().parents if (p / "bench").is_dir())
                        / "bench"))

from memory import LARGEST, measure  # noqa: E402

pytestmark = pytest.mark.indiserver


def test_full_frame_exposure_holds_one_frame_buffer(tmp_path: Path) -> None:
    try:
        r = measure(LARGEST, exposures=2, local_root=tmp_path)
    except PermissionError as exc:  # clear_refs needs the driver's owner or root
        pytest.skip(f"cannot reset the driver's peak RSS: {exc}")
    assert r["peak_ratio"] <= 1.25, r
    assert r["after_ratio"] <= 0.25, r
