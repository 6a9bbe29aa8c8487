"""The demo: the driver under a real indiserver with a simulated camera, frames to FITS.

`indi-playerone demo` starts Debian's indiserver with `indi_playerone_ccd` serving a
simulated camera (Ares-C PRO by default), connects a scripted INDI client over TCP,
takes a few exposures with a progress bar, writes each frame as a FITS file and
reads it back with astropy to show its size and headers.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .tools.camera_client import CameraClient, IndiError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def driver_path() -> str:
    """The `indi_playerone_ccd` beside this Python (a venv's bin), else the one on PATH."""
    here = Path(sys.executable).parent / "indi_playerone_ccd"
    if here.exists():
        return str(here)
    found = shutil.which("indi_playerone_ccd")
    if not found:
        raise SystemExit("indi_playerone_ccd is not installed (pip install indi-playerone)")
    return found


class DemoServer:
    """indiserver with our driver, in its own HOME so no user config is touched."""

    def __init__(self, model: str, workdir: Path) -> None:
        self.model, self.workdir = model, workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / "indiserver.log"

    def __enter__(self) -> "DemoServer":
        indiserver = shutil.which("indiserver")
        if indiserver is None:
            raise SystemExit("indiserver not found: install Debian's indi-bin "
                             "(sudo apt-get install indi-bin)")
        env = dict(os.environ, HOME=str(self.workdir), INDI_PLAYERONE_SIMULATE=self.model)
        # -u: a socket path of our own, so a running indiserver is not disturbed;
        # -m: let a slow client fall far behind before it is dropped (big frames).
        cmd = [indiserver, "-v", "-p", str(self.port), "-u", str(self.workdir / "indiserver.sock"),
               "-m", "1024", driver_path()]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def progress_bar(total: float, index: int, count: int) -> "callable":
    """A bar redrawn in place (carriage returns): for a terminal only."""
    def show(left: float) -> None:
        done = max(0.0, min(1.0, 1.0 - left / total)) if total > 0 else 1.0
        bar = "#" * int(done * 30)
        sys.stdout.write(f"\r  frame {index}/{count} [{bar:<30}] {left:5.1f} s left ")
        sys.stdout.flush()
    return show


def run(model: str, count: int, exposure: float, outdir: Path) -> int:
    from astropy.io import fits

    from .camera.models import find_model

    try:
        model = find_model(model).model
    except KeyError as exc:
        print(f"unknown model: {exc.args[0]}", file=sys.stderr)
        return 2
    device = f"PlayerOne CCD {model}"
    outdir.mkdir(parents=True, exist_ok=True)
    # On a terminal a bar counts each exposure down in place, and the frame's line replaces it;
    # in a log (stdout not a terminal) each frame gets its one line and no carriage return.
    bar = sys.stdout.isatty()
    line_start = "\r" if bar else ""
    with tempfile.TemporaryDirectory(prefix="playerone-demo-") as tmp, \
            DemoServer(model, Path(tmp)) as server:
        print(f"indiserver on 127.0.0.1:{server.port} with indi_playerone_ccd "
              f"(INDI_PLAYERONE_SIMULATE=\"{model}\")")
        try:
            with CameraClient("127.0.0.1", server.port).connect() as client:
                client.prop(device, "CONNECTION", timeout=15)
                print(f"device '{device}' found; connecting")
                client.connect_device(device)
                client.enable_blobs(device)
                info = client.prop(device, "CCD_INFO").values
                print(f"  sensor {int(info['CCD_MAX_X'])}x{int(info['CCD_MAX_Y'])}, "
                      f"{info['CCD_PIXEL_SIZE']:.2f} um pixels")
                for i in range(1, count + 1):
                    started = time.monotonic()
                    blob = client.expose(device, exposure, timeout=exposure + 60,
                                         progress=progress_bar(exposure, i, count) if bar else None)
                    path = outdir / f"demo_{i:03d}{blob.format}"
                    path.write_bytes(blob.data)
                    with fits.open(path) as hdul:
                        h = hdul[0].header
                        shape = hdul[0].data.shape
                    print(f"{line_start}  frame {i}/{count}: {path} {shape[1]}x{shape[0]} "
                          f"BITPIX={h['BITPIX']} EXPTIME={h['EXPTIME']} INSTRUME='{h['INSTRUME']}' "
                          f"BAYERPAT={h.get('BAYERPAT', '-')} ({time.monotonic() - started:.2f} s)")
                client.set_switch(device, "CONNECTION", ["DISCONNECT"])
        except IndiError as exc:
            if bar:
                sys.stdout.write("\n")
            print(f"demo failed: {exc}; indiserver log follows", file=sys.stderr)
            sys.stderr.write(server.log_path.read_text(errors="replace")[-4000:])
            return 1
    print(f"{count} FITS files written to {outdir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="indi-playerone demo", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args.model, args.count, args.exposure, args.output)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="Ares-C PRO", help="simulated camera model")
    parser.add_argument("--count", type=int, default=3, help="number of frames")
    parser.add_argument("--exposure", type=float, default=1.0, help="seconds per frame")
    parser.add_argument("--output", type=Path, default=Path("playerone-demo"),
                        help="directory for the FITS files")
