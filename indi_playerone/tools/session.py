"""What the offset, tilt and check tools share: a camera on any indiserver, frames as arrays.

Uses libindi's standard property names only (and ``CCD_CONTROLS`` elements ``Gain``/``Offset``/
``FanPower`` as the Player One drivers name them), like ``capture``. A tool opens
:func:`camera_session`, which connects the device when it was not connected and disconnects it
again at the end, so a tool leaves the camera as it found it.
"""
from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import numpy as np

from .camera_client import CameraClient, IndiError
from . import exits
from .capture import CONTROLS, CaptureFailed, connected_device

__all__ = ["ToolFailed", "add_server_arguments", "camera_session", "expose_array", "set_controls",
           "request_ok"]

#: The tools' failure: message + exit code (the same class as capture's, so run() maps both).
ToolFailed = CaptureFailed


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="localhost", help="indiserver host (default localhost)")
    parser.add_argument("--port", "-p", type=int, default=7624, help="indiserver port (default 7624)")
    parser.add_argument("--device", "-d", help="INDI device name (default: the first camera)")
    parser.add_argument("--wait", type=float, default=5.0,
                        help="seconds to wait for the server and the device to appear (default 5)")


@contextmanager
def camera_session(args: argparse.Namespace, err: TextIO) -> Iterator[tuple[CameraClient, str]]:
    """(client, device) with the device connected; raises ToolFailed with the exit code."""
    client = CameraClient(args.host, args.port)
    try:
        client.connect(timeout=args.wait)
    except IndiError as exc:
        raise ToolFailed(str(exc), exits.NO_SERVER) from None
    with client, connected_device(client, args.device, args.wait, err) as device:
        yield client, device


def request_ok(client: CameraClient, device: str, name: str, values: dict[str, object],
               what: str, timeout: float = 10.0) -> None:
    """Set a property and require the driver's answer to be Ok/Idle (Alert -> ToolFailed)."""
    try:
        answer = client.request(device, name, values, timeout=timeout)
    except IndiError as exc:
        raise ToolFailed(f"{what}: {exc}") from None
    if answer.state == "Alert":
        raise ToolFailed(f"{device} refused {what}: {answer.message or 'Alert'}")


def set_controls(client: CameraClient, device: str, wanted: dict[str, float]) -> None:
    """Set elements of CCD_CONTROLS (the whole vector is sent, as Ekos does)."""
    controls = client.props.get((device, CONTROLS))
    if controls is None:
        raise ToolFailed(f"{device} has no {CONTROLS} property: cannot set "
                         f"{', '.join(wanted)}")
    missing = [k for k in wanted if k not in controls.values]
    if missing:
        raise ToolFailed(f"{CONTROLS} of {device} has no {', '.join(missing)}")
    values: dict[str, object] = dict(controls.values)
    values.update(wanted)
    request_ok(client, device, CONTROLS, values, ", ".join(f"{k} {v:g}" for k, v in wanted.items()))


def expose_array(client: CameraClient, device: str, seconds: float,
                 timeout: float = 60.0) -> np.ndarray:
    """One exposure, the image as a 2-D array of ADU (FITS BZERO applied; colour stays raw)."""
    from astropy.io import fits

    try:
        blob = client.expose(device, seconds, timeout=seconds + timeout)
    except IndiError as exc:
        raise ToolFailed(f"exposure of {seconds:g} s: {exc}") from None
    finally:
        client.discard_blobs(device)
    if not blob.format.startswith(".fits"):
        raise ToolFailed(f"{device} sent a {blob.format!r} image: set CCD_TRANSFER_FORMAT to FITS")
    with fits.open(io.BytesIO(blob.data)) as hdul:
        hdu = next(h for h in hdul if h.data is not None)
        return np.asarray(hdu.data)
