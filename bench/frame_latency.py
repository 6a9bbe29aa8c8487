#!/usr/bin/env python3
"""Frame latency: time from exposure end to the client holding a big frame, ours vs. libindi.

Runs, in one process and one run, the same Debian indiserver (1.9.9) and the same pyindi-client
(2.3.0) against

* the reference: Debian's ``indi_simulator_ccd`` at its largest frame (SIMULATOR_SETTINGS
  SIM_XRES=8192, SIM_YRES=6388; 16-bit; POLLING_PERIOD 50 ms, since it completes exposures on that
  timer), and
* ours: ``indi_playerone_ccd`` with ``INDI_PLAYERONE_SIMULATE="Zeus 455M PRO"`` (device
  "PlayerOne CCD Zeus 455M PRO", 9576x6388, 16-bit).

Definitions (client-side ``time.monotonic()``):

* exposure end := the moment the client first saw CCD_EXPOSURE Busy after the request, plus the
  exposure duration;
* BLOB arrival := entry of pyindi-client's updateProperty callback for CCD1 (libindiclient has
  received and base64-decoded the whole BLOB; our copy has not started);
* each exposure waits, like libindi clients, for both the BLOB and CCD_EXPOSURE Ok.

Measured: indi_simulator_ccd 1.9.9 reports Busy only 0.8-1.4 s after a 8192x6388 request (0.06 s
at 1280x1024; apparently it renders the frame first), so for the reference "exposure end -> BLOB"
is mostly the transport path, while for ours it includes everything after the exposure.  Compare
both rows.

Usage: ``python bench/frame_latency.py [--reps 5] [--exposure 0.1] [--ours-only | --reference-only]
[--driver PATH] [--transport tcp|unix] [--json]``.  Prints a table with medians and the ratio
ours/reference (lower is better for ours), or one JSON object with ``--json``.  Exit status 1 if a
requested half failed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from harness import IndiClient, IndiServer  # noqa: E402

REF_DEVICE = "CCD Simulator"
REF_SIZE = (8192, 6388)  # the simulator's SIM_XRES maximum is 8192
OURS_MODEL = "Zeus 455M PRO"
OURS_DEVICE = f"PlayerOne CCD {OURS_MODEL}"
DEFINITION = ("exposure end = first CCD_EXPOSURE Busy seen by the client + exposure duration; "
              "BLOB arrival = pyindi-client callback entry (whole BLOB received and decoded)")
METRICS = (
    ("end_to_blob", "exposure end -> BLOB"),
    ("request_to_blob", "request -> BLOB"),
    ("request_to_busy", "request -> Busy seen"),
    ("blob_to_ok", "BLOB -> CCD_EXPOSURE Ok"),
)


def _default_driver() -> str:
    venv = REPO / ".venv" / "bin" / "indi_playerone_ccd"
    return str(venv) if venv.exists() else (shutil.which("indi_playerone_ccd") or str(venv))


def _setup_reference(client: IndiClient) -> None:
    client.wait_property(REF_DEVICE, "SIMULATOR_SETTINGS")
    client.set_number(REF_DEVICE, "SIMULATOR_SETTINGS", {"SIM_XRES": REF_SIZE[0], "SIM_YRES": REF_SIZE[1]})
    client.wait_until(REF_DEVICE, "SIMULATOR_SETTINGS",
                      lambda s: (s.values()["SIM_XRES"], s.values()["SIM_YRES"]) == REF_SIZE, timeout=10)
    client.connect_device(REF_DEVICE, timeout=30)
    client.set_number(REF_DEVICE, "POLLING_PERIOD", {"PERIOD_MS": 50})
    client.wait_until(REF_DEVICE, "POLLING_PERIOD", lambda s: s.values()["PERIOD_MS"] == 50, timeout=10)


def _setup_ours(client: IndiClient) -> None:
    client.connect_device(OURS_DEVICE, timeout=60)
    client.wait_property(OURS_DEVICE, "CCD_EXPOSURE", timeout=30)
    try:  # 16-bit frames if the driver offers the choice (the C++ default is RAW16 too)
        formats = client.switch(OURS_DEVICE, "CCD_CAPTURE_FORMAT")
    except KeyError:
        return
    if "POA_RAW16" in formats and not formats["POA_RAW16"]:
        client.set_switch(OURS_DEVICE, "CCD_CAPTURE_FORMAT", ["POA_RAW16"])
        client.wait_until(OURS_DEVICE, "CCD_CAPTURE_FORMAT", lambda s: bool(s.values()["POA_RAW16"]), timeout=10)


def measure(label: str, driver: str, device: str, env: dict[str, str], setup: Callable[[IndiClient], None],
            reps: int, exposure: float, transport: str, warmup: int) -> dict[str, Any]:
    """Start a server with ``driver``, run ``warmup + reps`` exposures, return the figures."""
    with tempfile.TemporaryDirectory(prefix="frame-latency-") as tmp:
        server = IndiServer([driver], env=env, workdir=Path(tmp), max_mb=1024)
        try:
            server.start()
            host = server.local_host if transport == "unix" else "127.0.0.1"
            with IndiClient(server.port, host=host, blob_queue=2) as client:
                client.wait_device(device, timeout=30)
                setup(client)
                client.enable_blobs(device)
                info = client.number(device, "CCD_INFO")
                frame = client.number(device, "CCD_FRAME")
                runs: list[dict[str, float]] = []
                blob_bytes = 0
                for i in range(warmup + reps):
                    blob = client.expose(device, exposure, timeout=120 + 3 * exposure)
                    tl = client.last_exposure
                    assert tl is not None and tl.busy is not None and tl.ok is not None
                    blob_bytes, blob_format = len(blob.data), blob.format
                    del blob
                    if i >= warmup:
                        runs.append({
                            "end_to_blob": tl.blob - tl.exposure_end,  # type: ignore[operator]
                            "request_to_blob": tl.blob - tl.requested,  # type: ignore[operator]
                            "request_to_busy": tl.busy - tl.requested,
                            "blob_to_ok": tl.ok - tl.blob,  # type: ignore[operator]
                        })
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"label": label, "driver": driver, "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(), "log_tail": server.log_text()[-3000:]}
        finally:
            server.stop()
    return {
        "label": label, "driver": driver, "device": device,
        "frame": {"width": int(frame["WIDTH"]), "height": int(frame["HEIGHT"]),
                  "bits": int(info.get("CCD_BITSPERPIXEL", 0)), "blob_bytes": blob_bytes, "format": blob_format},
        "median": {k: statistics.median(r[k] for r in runs) for k, _ in METRICS},
        "runs": runs,
    }


def _fmt_frame(res: dict[str, Any]) -> str:
    f = res["frame"]
    return f"{f['width']}x{f['height']} {f['bits']}-bit {f['blob_bytes'] / 1e6:.1f} MB {f['format']}"


def print_table(out: dict[str, Any]) -> None:
    ref, ours = out.get("reference"), out.get("ours")
    cols = [c for c in (ref, ours) if c is not None]
    print(f"Frame latency, {out['reps']} reps (+{out['warmup']} warm-up), exposure {out['exposure_s']} s, "
          f"client over {out['transport']}")
    print(f"  {DEFINITION}")
    width, first = 34, 34
    print(f"{'':{first}}" + "".join(f"{c['label']:<{width}}" for c in cols) + ("ours/ref" if ref and ours else ""))
    print(f"{'frame':{first}}" + "".join(f"{(_fmt_frame(c) if 'frame' in c else 'FAILED'):<{width}}" for c in cols))
    for key, title in METRICS:
        row = f"{title + ' (median)':{first}}"
        for c in cols:
            row += f"{(format(c['median'][key], '.3f') + ' s') if 'median' in c else '-':<{width}}"
        if key in out.get("ratio", {}):
            row += f"{out['ratio'][key]:.2f}"
        print(row)
    if ref and "median" in ref and ref["median"]["request_to_busy"] > 0.2:
        print(f"  note: indi_simulator_ccd reports Busy {ref['median']['request_to_busy']:.2f} s after the request "
              "(apparently it renders the frame first), so its 'exposure end -> BLOB' is mostly transport; "
              "'request -> BLOB' is the end-to-end comparison")
    for c in cols:
        if "error" in c:
            print(f"\n{c['label']} failed: {c['error']}\n{c['log_tail']}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="exposures before the measured ones (default 1)")
    ap.add_argument("--exposure", type=float, default=0.1, help="seconds (default 0.1)")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--ours-only", action="store_true")
    only.add_argument("--reference-only", action="store_true")
    ap.add_argument("--driver", default=_default_driver(), help="our driver executable")
    ap.add_argument("--transport", choices=("tcp", "unix"), default="tcp",
                    help="client connection to indiserver (default tcp, as the reference figures)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)

    out: dict[str, Any] = {"definition": DEFINITION, "exposure_s": args.exposure, "reps": args.reps,
                           "warmup": args.warmup, "transport": args.transport}
    failed = False
    if not args.ours_only:
        out["reference"] = measure("reference (indi_simulator_ccd)", "indi_simulator_ccd", REF_DEVICE, {},
                                   _setup_reference, args.reps, args.exposure, args.transport, args.warmup)
        failed |= "error" in out["reference"]
    if not args.reference_only:
        if not Path(args.driver).exists() and shutil.which(args.driver) is None:
            out["ours"] = {"label": "ours (indi_playerone_ccd)", "driver": args.driver,
                           "error": f"driver not found: {args.driver}", "log_tail": ""}
        else:
            out["ours"] = measure("ours (indi_playerone_ccd)", args.driver, OURS_DEVICE,
                                  {"INDI_PLAYERONE_SIMULATE": OURS_MODEL}, _setup_ours,
                                  args.reps, args.exposure, args.transport, args.warmup)
        failed |= "error" in out["ours"]
    ref, ours = out.get("reference"), out.get("ours")
    if ref and ours and "median" in ref and "median" in ours:
        out["ratio"] = {k: ours["median"][k] / ref["median"][k] for k in ("end_to_blob", "request_to_blob")}
    if args.json:
        for res in (ref, ours):
            if res:
                res.pop("traceback", None)
        print(json.dumps(out, indent=None))
    else:
        print_table(out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
