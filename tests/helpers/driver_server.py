"""Our driver under Debian's real indiserver, serving simulated cameras."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.client import IndiClient
from harness.server import IndiServer
from helpers import simsdk

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
ARES = "PlayerOne CCD Ares-C PRO"


def backend_env(models: str) -> dict[str, str]:
    """The driver's environment for simulated cameras ``models`` (the simulated SDK library,
    through the same SDK backend a real camera uses)."""
    return simsdk.env(models)


def start_server(tmp_path: Path, models: str, blob_mode: str = "auto") -> IndiServer:
    """A started indiserver (HOME under tmp_path) with the driver serving ``models``."""
    server = IndiServer([DRIVER], env={**backend_env(models),
                                       "INDI_PLAYERONE_BLOB_MODE": blob_mode},
                        home=tmp_path / "home")
    server.start()
    return server


@contextmanager
def connected_ares(tmp_path: Path) -> Iterator[tuple[IndiServer, IndiClient]]:
    """indiserver + driver with one simulated Ares-C PRO, and a pyindi-client connected to it
    with BLOBs on."""
    with start_server(tmp_path, "Ares-C PRO") as server, IndiClient(server.port) as client:
        client.connect_device(ARES, timeout=15)
        client.enable_blobs(ARES)
        yield server, client
