"""No data lost when the upload disk fills up (issue 8, part 5), through the real indiserver.

UPLOAD_BOTH into a small tmpfs (8 MiB, mounted here as root; the test skips, saying why, where
mounting is not permitted) holding a precious earlier image and a filler file. An Apollo-M MAX PRO
frame is a 3.55 MB FITS file: the first fits, the second does not. Then:

* CCD_FILE_PATH turns Alert with a message naming the reason (no space left);
* the frame still reaches the client, complete, and CCD_EXPOSURE ends Ok;
* every file that existed is unchanged (content hash) and no temporary file is left behind;
* after the filler is deleted, the next exposure is saved again, under the next free index.

Then the same in UPLOAD_LOCAL mode, where the frame has nowhere else to go: the exposure itself
must end Alert (the client is told that the image is lost) rather than Ok.
"""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from astropy.io import fits

from harness.client import IndiClient

pytestmark = pytest.mark.indiserver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
DEV = "PlayerOne CCD Apollo-M MAX PRO"
FITS_BYTES = 1608 * 1104 * 2 + 2 * 2880  # data + header, both rounded to 2880-byte blocks: ~3.55 MB


@pytest.fixture
def small_disk(tmp_path: Path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def expose_and_check_frame(client: IndiClient) -> None:
    blob = client.expose(DEV, 0.01, timeout=30)
    with fits.open(io.BytesIO(blob.data)) as hdul:
        assert hdul[0].data.shape == (1104, 1608)


def test_disk_full_alerts_keeps_the_frame_and_overwrites_nothing(indiserver_factory, small_disk: Path,
                                                                 tmp_path: Path) -> None:
    (small_disk / "P_001.fits").write_bytes(b"precious earlier image" * 3000)
    (small_disk / "filler").write_bytes(os.urandom(3 << 20))
    server = indiserver_factory([DRIVER], env={"INDI_PLAYERONE_SIMULATE": "Apollo-M MAX PRO"},
                                home=tmp_path / "home")
    with IndiClient(server.port) as client:
        client.connect_device(DEV, timeout=20)
        client.enable_blobs(DEV)
        client.set_text(DEV, "UPLOAD_SETTINGS", {"UPLOAD_DIR": str(small_disk), "UPLOAD_PREFIX": "P_XXX"})
        client.wait_state(DEV, "UPLOAD_SETTINGS", {"Ok"}, timeout=5)
        client.set_switch(DEV, "UPLOAD_MODE", ["UPLOAD_BOTH"])
        client.wait_property(DEV, "CCD_FILE_PATH", timeout=5)

        expose_and_check_frame(client)                      # fits: P_002.fits
        client.wait_until(DEV, "CCD_FILE_PATH", lambda s: s.values()["FILE_PATH"].endswith("P_002.fits"),
                          timeout=10)
        before = digest(small_disk)
        n_messages = len(client.messages(DEV))

        expose_and_check_frame(client)                      # does not fit: still reaches the client
        client.wait_state(DEV, "CCD_FILE_PATH", {"Alert"}, timeout=10)
        text = client.wait_message(DEV, "No space left on device", timeout=10, since=n_messages)
        assert "Saving the image failed" in text
        assert client.state(DEV, "CCD_EXPOSURE") == "Ok"
        assert digest(small_disk) == before                 # nothing overwritten, no leftovers
        assert not [p for p in os.listdir(small_disk) if ".tmp-" in p]

        (small_disk / "filler").unlink()                    # free space: the next one is saved
        expose_and_check_frame(client)
        path = client.wait_until(DEV, "CCD_FILE_PATH", lambda s: s.values()["FILE_PATH"].endswith("P_003.fits"),
                                 timeout=10)
        assert path.state == "Ok"
        with fits.open(small_disk / "P_003.fits") as hdul:
            assert hdul[0].data.shape == (1104, 1608)

        # Local only, with the disk nearly full again: 1 MiB left.
        st = os.statvfs(small_disk)
        free = st.f_bavail * st.f_frsize
        if free > 1 << 20:
            (small_disk / "filler2").write_bytes(b"\0" * (free - (1 << 20)))
        client.set_switch(DEV, "UPLOAD_MODE", ["UPLOAD_LOCAL"])
        client.wait_state(DEV, "UPLOAD_MODE", {"Ok"}, timeout=5)
        before = digest(small_disk)
        n_messages = len(client.messages(DEV))
        client.set_number(DEV, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.01})
        client.wait_state(DEV, "CCD_EXPOSURE", {"Alert"}, timeout=30)
        client.wait_message(DEV, "could not be saved", timeout=10, since=n_messages)
        assert digest(small_disk) == before
        assert not [p for p in os.listdir(small_disk) if ".tmp-" in p]
