"""`indi-playerone capture`: take frames from a camera on any indiserver and save them.

A plain INDI client (:class:`~indi_playerone.tools.camera_client.CameraClient`, over TCP), so it
works with this driver, the C++ one, or any INDI camera: it uses libindi's standard property
names only. Sequence, as Ekos does it: connect the device if it is not connected, ask for
BLOBs, set binning, frame type and gain/offset, then expose ``--count`` times, waiting each time
for the image and for CCD_EXPOSURE to go Ok.

For scripts: stdout gets exactly one line per saved frame, its path; everything meant for a
person (progress bar, notes, errors) goes to stderr. The bar, redrawn in place with carriage
returns, is drawn only when stderr is a terminal (or with ``--progress``); in a log, stderr
gets one plain line per frame instead. Exit codes are those of :mod:`.exits`.
Files are ``<prefix>_<NNN><ext>`` in the output directory (``ext`` from the BLOB's format,
e.g. ``.fits``); an existing file is never overwritten, the number moves on instead.

Gain and offset are elements ``Gain``/``Offset`` of CCD_CONTROLS, as the C++ Player One driver
names them. A device without CCD_CONTROLS (this driver does not have it yet) gets a note on
stderr and the capture goes on without them.
"""
from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, TextIO

from .camera_client import CameraClient, IndiError, ReceivedBlob
from . import exits

# libindi's standard names (INDI::CCD), which every camera driver uses.
CONNECTION, EXPOSURE, ABORT, BINNING = "CONNECTION", "CCD_EXPOSURE", "CCD_ABORT_EXPOSURE", "CCD_BINNING"
FRAME_TYPE, CONTROLS, UPLOAD_MODE, DRIVER_INFO = "CCD_FRAME_TYPE", "CCD_CONTROLS", "UPLOAD_MODE", "DRIVER_INFO"
#: DRIVER_INTERFACE bit of a camera (INDI::BaseDevice::CCD_INTERFACE).
CCD_INTERFACE = 1 << 1
FRAME_TYPES = {"light": "FRAME_LIGHT", "dark": "FRAME_DARK", "flat": "FRAME_FLAT", "bias": "FRAME_BIAS"}


class CaptureFailed(Exception):
    """Stop the capture with this message and exit code."""

    def __init__(self, message: str, code: int = exits.FAILURE) -> None:
        super().__init__(message)
        self.code = code


def _positive_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="localhost", help="indiserver host (default localhost)")
    parser.add_argument("--port", "-p", type=int, default=7624, help="indiserver port (default 7624)")
    parser.add_argument("--device", "-d", help="INDI device name, e.g. \"PlayerOne CCD Ares-C PRO\" "
                        "(default: the first camera on the server)")
    parser.add_argument("--exposure", "-e", type=_positive_float, default=1.0, help="seconds per frame")
    parser.add_argument("--count", "-n", type=_count, default=1, help="number of frames")
    parser.add_argument("--bin", "-b", type=int, help="binning, the same both ways (default: leave)")
    parser.add_argument("--gain", "-g", type=float, help="sensor gain (CCD_CONTROLS Gain)")
    parser.add_argument("--offset", type=float, help="black level (CCD_CONTROLS Offset)")
    parser.add_argument("--frame-type", "-t", choices=sorted(FRAME_TYPES), default="light",
                        help="frame type written to the FITS header (default light)")
    parser.add_argument("--output", "-o", type=Path, default=Path("."), help="directory for the files")
    parser.add_argument("--prefix", help="file name prefix (default: the frame type)")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always draw the progress bar (default: when stderr is a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    parser.add_argument("--wait", type=float, default=5.0,
                        help="seconds to wait for the server and the device to appear (default 5)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds allowed beyond the exposure for readout and download (default 60)")


def progress_bar(err: TextIO, total: float, index: int, count: int) -> Callable[[float], None]:
    """A one-line bar redrawn in place with the CCD_EXPOSURE countdown the driver sends."""
    def show(left: float) -> None:
        done = max(0.0, min(1.0, 1.0 - left / total)) if total > 0 else 1.0
        bar = "#" * int(done * 30)
        what = f"{left:6.1f} s left" if left > 0 else "reading out"
        err.write(f"\rframe {index}/{count} [{bar:<30}] {what} ")
        err.flush()
    return show


def find_camera(client: CameraClient, device: str | None, wait: float) -> str:
    """The named device, or the first device whose DRIVER_INTERFACE says camera."""
    def cameras() -> list[str]:
        found = []
        for (dev, name), prop in list(client.props.items()):
            if name == DRIVER_INFO:
                try:
                    if int(str(prop.values.get("DRIVER_INTERFACE", "0"))) & CCD_INTERFACE:
                        found.append(dev)
                except ValueError:
                    pass
        return sorted(found)

    try:
        if device is not None:
            client.prop(device, CONNECTION, timeout=wait)
            return device
        first = client.wait_for(cameras, wait, "a camera")
    except IndiError:
        seen = ", ".join(client.devices()) or "none"
        what = f"device {device!r}" if device is not None else "no camera"
        raise CaptureFailed(f"{what} not found on the server (devices: {seen})",
                            exits.NO_DEVICE) from None
    time.sleep(0.2)  # another camera's definitions follow within milliseconds: take the first by name
    return (cameras() or first)[0]  # type: ignore[index]


def _answer(client: CameraClient, device: str, name: str, values: dict[str, object], what: str) -> None:
    answer = client.request(device, name, values, timeout=10)
    if answer.state == "Alert":
        raise CaptureFailed(f"{device} refused {what}: {answer.message or 'Alert'}")


def configure(client: CameraClient, device: str, args: argparse.Namespace, err: TextIO) -> None:
    """Upload mode, binning, frame type, gain/offset; each answered Alert stops the capture."""
    upload = client.props.get((device, UPLOAD_MODE))
    if upload is not None and upload.values.get("UPLOAD_LOCAL"):
        err.write(f"note: {device} saved images only on the server (UPLOAD_MODE Local); "
                  "switching it to Client\n")
        _answer(client, device, UPLOAD_MODE, {"UPLOAD_CLIENT": True}, "upload mode Client")
    if args.bin is not None:
        _answer(client, device, BINNING, {"HOR_BIN": args.bin, "VER_BIN": args.bin}, f"binning {args.bin}")
    if (device, FRAME_TYPE) in client.props:
        _answer(client, device, FRAME_TYPE, {FRAME_TYPES[args.frame_type]: True},
                f"frame type {args.frame_type}")
    wanted = {k: v for k, v in (("Gain", args.gain), ("Offset", args.offset)) if v is not None}
    if wanted:
        controls = client.props.get((device, CONTROLS))
        if controls is None:
            err.write(f"note: {device} has no {CONTROLS} property: "
                      f"{' and '.join(k.lower() for k in wanted)} not set, capturing without\n")
            return
        missing = [k for k in wanted if k not in controls.values]
        if missing:
            err.write(f"note: {CONTROLS} of {device} has no {', '.join(missing)}: not set\n")
        # Send the whole vector, as Ekos does; only changed elements are applied by the driver.
        values = {k: v for k, v in controls.values.items()}
        values.update({k: v for k, v in wanted.items() if k not in missing})
        _answer(client, device, CONTROLS, values, "gain/offset")  # type: ignore[arg-type]


def save(blob: ReceivedBlob, outdir: Path, prefix: str, start: int) -> tuple[Path, int]:
    """Write under the first free ``<prefix>_<NNN><ext>`` from ``start`` (never overwriting)."""
    ext = blob.format if re.fullmatch(r"\.[A-Za-z0-9_.]{1,16}", blob.format or "") else ".bin"
    index = start
    while True:
        path = outdir / f"{prefix}_{index:03d}{ext}"
        try:
            with open(path, "xb") as f:
                f.write(blob.data)
            return path, index + 1
        except FileExistsError:
            index += 1


@contextmanager
def connected_device(client: CameraClient, wanted: str | None, wait: float,
                     err: TextIO) -> Iterator[str]:
    """The camera's device name, connected (and BLOBs enabled) for the ``with`` body.

    A device that was not connected is disconnected again at the end, so a tool leaves the
    camera as it found it. :class:`CaptureFailed` when it cannot be found or connected."""
    device = find_camera(client, wanted, wait)
    err.write(f"using {device}\n")
    was_connected = bool(client.props[(device, CONNECTION)].values.get("CONNECT"))
    if not was_connected:
        try:
            client.connect_device(device, timeout=30)
        except IndiError as exc:
            raise CaptureFailed(f"cannot connect {device}: {exc}") from None
    try:
        client.enable_blobs(device)
        yield device
    finally:
        if not was_connected and not client.closed:
            client.set_switch(device, CONNECTION, ["DISCONNECT"])


def capture(client: CameraClient, args: argparse.Namespace, out: TextIO, err: TextIO,
            cancel: threading.Event | None = None) -> int:
    with connected_device(client, args.device, args.wait, err) as device:
        configure(client, device, args, err)
        args.output.mkdir(parents=True, exist_ok=True)
        prefix = args.prefix or args.frame_type
        show_bar = err.isatty() if args.progress is None else args.progress
        index = 1
        for i in range(1, args.count + 1):
            bar = progress_bar(err, args.exposure, i, args.count) if show_bar else None
            try:
                blob = client.expose(device, args.exposure, timeout=args.exposure + args.timeout,
                                     progress=bar, cancel=cancel)
            except (KeyboardInterrupt, IndiError) as exc:
                if bar is not None:
                    err.write("\n")  # ends the bar's line before the message
                if isinstance(exc, IndiError):
                    raise CaptureFailed(f"frame {i}: {exc}") from None
                client.set_switch(device, ABORT, ["ABORT"])
                err.write(f"interrupted: exposure {i} of {args.count} aborted\n")
                return exits.INTERRUPTED
            if bar is not None:
                err.write("\n")
            try:
                path, index = save(blob, args.output, prefix, index)
            except OSError as exc:
                raise CaptureFailed(f"cannot write frame {i} to {args.output}: {exc}") from None
            client.discard_blobs(device)
            out.write(f"{path}\n")
            out.flush()
            if bar is None:  # a log: one line per frame instead of the bar
                err.write(f"frame {i}/{args.count}: {args.exposure:g} s, saved {path}\n")
                err.flush()
        err.write(f"{args.count} frame(s) of {args.exposure:g} s saved in {args.output}\n")
        return exits.OK


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if args.bin is not None and args.bin < 1:
        err.write("indi-playerone capture: error: --bin must be at least 1\n")
        return exits.USAGE
    client = CameraClient(args.host, args.port)
    try:
        client.connect(timeout=args.wait)
    except IndiError as exc:
        err.write(f"{exc}\n")
        return exits.NO_SERVER
    # Ctrl-C during an exposure sets an event the exposure wait checks (see
    # CameraClient.expose); a second Ctrl-C interrupts at once wherever it lands.
    cancel = threading.Event()
    previous = _catch_sigint(cancel)
    try:
        with client:
            return capture(client, args, out, err, cancel)
    except CaptureFailed as exc:
        err.write(f"capture failed: {exc}\n")
        return exc.code
    except KeyboardInterrupt:
        err.write("\ninterrupted\n")
        return exits.INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _catch_sigint(cancel: threading.Event) -> object:
    """SIGINT sets ``cancel`` (the exposure wait raises KeyboardInterrupt at a safe point); a
    second SIGINT raises at once. The previous handler, or None off the main thread."""
    def on_sigint(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, on_sigint)
