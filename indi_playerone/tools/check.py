"""`indi-playerone check`: the manual's first-run check (chapter 4), against any indiserver.

The manual's steps, each reported PASS / FAIL / WARN / SKIP:

1. **connect**: the camera answers and connects (the model is read from the device name, or
   ``--model``);
2. **frame rate** against the model's specification ("if FPS shows a normal value such like the
   fps in camera specification, the camera can transmit data normally"): with video streaming
   (``CCD_VIDEO_STREAM``), the driver's ``FPS`` AVG_FPS while streaming the shortest exposures in
   RAW8 (the table's FPS figures are 8-bit full-frame rates: e.g. 9 MP × 43 fps ≈ 390 MB/s, the
   USB 3 limit); PASS at ``--fps-fraction`` (default 0.7) of the specification or more. Without
   streaming, single exposures of the minimum length are timed: that includes INDI's per-frame
   round trip and a full FITS transfer, so it is reported, with the figure, as WARN, never FAIL;
3. **cooler**: cooler on, setpoint 0 °C (``--setpoint``), then within ``--cool-time`` seconds the
   temperature must fall (by ``--min-fall`` °C, or reach the setpoint) and the cooler power rise
   above 1 %; a driver message about the 12 V supply is quoted. The cooler is put back as found
   (switched off again if it was off);
4. **fan**: ``CCD_CONTROLS`` has ``FanPower`` (``FanPowerPerc`` on SDK 3.7.0) and a new value
   is accepted and read back; the old value is restored.

Exit code 0 when nothing FAILed, 1 otherwise (2/3/4 as every subcommand: :mod:`.exits`).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from typing import TextIO

from ..camera.models import EXPOSURE_RANGE_S, ModelSpec, find_model
from ..indi.client import IndiError, SimpleIndiClient
from . import exits
from .capture import CONTROLS
from .session import ToolFailed, add_server_arguments, camera_session, expose_array, request_ok, \
    set_controls

PASS, FAIL, WARN, SKIP = "PASS", "FAIL", "WARN", "SKIP"
POWER_ON_PCT = 1.0  # the driver's own "no power" line (ccd/temperature.py)


@dataclass
class Result:
    name: str
    verdict: str
    detail: str


def model_of(device: str, given: str | None) -> ModelSpec | None:
    """``PlayerOne CCD Ares-C PRO 1`` -> the Ares-C PRO row (None for a nickname we cannot read)."""
    if given:
        return find_model(given)
    name = re.sub(r"^PlayerOne CCD\s+", "", device)
    name = re.sub(r"\s+\d+$", "", name)
    try:
        return find_model(name)
    except KeyError:
        return None


def check_fps_stream(client: SimpleIndiClient, device: str, spec: ModelSpec | None,
                     fraction: float, seconds: float) -> Result:
    fmt = client.props.get((device, "CCD_VIDEO_FORMAT")) or client.props.get((device, "CCD_CAPTURE_FORMAT"))
    old_fmt = [k for k, v in fmt.values.items() if v] if fmt is not None else []
    stream_exp = client.props.get((device, "STREAMING_EXPOSURE"))
    old_exp = stream_exp.values.get("STREAMING_EXPOSURE_VALUE") if stream_exp is not None else None
    try:
        if fmt is not None and "POA_RAW8" in fmt.values:
            request_ok(client, device, fmt.name, {"POA_RAW8": True}, "format RAW8")
        if (device, "STREAMING_EXPOSURE") in client.props:
            request_ok(client, device, "STREAMING_EXPOSURE",
                       {"STREAMING_EXPOSURE_VALUE": max(EXPOSURE_RANGE_S[0], 1e-5)}, "stream exposure")
        client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_ON"])
        client.wait_for(lambda: client.props[(device, "CCD_VIDEO_STREAM")].values.get("STREAM_ON"),
                        10, "the stream to start")
        samples: list[float] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.25)
            fps = client.props.get((device, "FPS"))
            if fps is not None:
                samples.append(float(fps.values.get("AVG_FPS", 0.0) or 0.0))
        client.discard_blobs(device)
    except IndiError as exc:
        return Result("frame rate", FAIL, f"streaming did not run: {exc}")
    finally:
        client.set_switch(device, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
        client.discard_blobs(device)
        if old_exp is not None:  # leave the stream settings as found
            client.set_number(device, "STREAMING_EXPOSURE",
                              {"STREAMING_EXPOSURE_VALUE": float(old_exp)})  # type: ignore[arg-type]
        if fmt is not None and old_fmt and old_fmt != ["POA_RAW8"]:
            try:
                stream = (device, "CCD_VIDEO_STREAM")
                client.wait_for(lambda: not client.props[stream].values.get("STREAM_ON"), 10,
                                "the stream to stop")
                request_ok(client, device, fmt.name, {old_fmt[0]: True}, f"format {old_fmt[0]}")
            except (IndiError, ToolFailed):
                pass
    measured = max(samples[len(samples) // 2:], default=0.0)  # settled half of the run
    if spec is None:
        return Result("frame rate", WARN, f"{measured:.1f} fps streaming (model unknown: no specification)")
    verdict = PASS if measured >= fraction * spec.max_fps else FAIL
    return Result("frame rate", verdict, f"{measured:.1f} fps streaming RAW8 full frame; specification "
                  f"{spec.max_fps:g} fps (pass at {fraction:.0%} or more)")


def check_fps_exposures(client: SimpleIndiClient, device: str, spec: ModelSpec | None,
                        count: int) -> Result:
    expose_array(client, device, EXPOSURE_RANGE_S[0])  # first frame pays set-up costs
    start = time.monotonic()
    for _ in range(count):
        expose_array(client, device, EXPOSURE_RANGE_S[0])
    fps = count / (time.monotonic() - start)
    spec_text = f"; specification {spec.max_fps:g} fps streaming" if spec is not None else ""
    return Result("frame rate", WARN, f"{fps:.2f} frames/s as single {EXPOSURE_RANGE_S[0] * 1e6:g} µs "
                  f"exposures over INDI (each a full FITS round trip; no video stream on this "
                  f"device to measure the camera's own rate){spec_text}")


def _number(client: SimpleIndiClient, device: str, name: str, element: str) -> float:
    value = client.props[(device, name)].values.get(element)
    return float(value) if isinstance(value, float) else 0.0


def check_cooler(client: SimpleIndiClient, device: str, setpoint: float, seconds: float,
                 min_fall: float) -> Result:
    if (device, "CCD_COOLER") not in client.props:
        return Result("cooler", SKIP, "no CCD_COOLER: this camera has no cooler")
    temp = client.prop(device, "CCD_TEMPERATURE")
    power = client.props.get((device, "CCD_COOLER_POWER"))
    start_t = float(temp.values["CCD_TEMPERATURE_VALUE"])  # type: ignore[arg-type]
    messages_before = len(client.messages)
    client.set_switch(device, "CCD_COOLER", ["COOLER_ON"])
    client.set_number(device, "CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": setpoint})
    lowest, max_power = start_t, 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.5)
        lowest = min(lowest, _number(client, device, "CCD_TEMPERATURE", "CCD_TEMPERATURE_VALUE"))
        if power is not None:
            max_power = max(max_power, _number(client, device, "CCD_COOLER_POWER", "CCD_COOLER_VALUE"))
        if start_t - lowest >= min_fall and max_power > POWER_ON_PCT and seconds > 0:
            break
    said = [m for m in client.messages[messages_before:] if "12 V" in m or "cannot" in m.lower()]
    fell = start_t - lowest
    detail = (f"from {start_t:.1f} °C to {lowest:.1f} °C (setpoint {setpoint:g} °C) in "
              f"{seconds - max(0.0, end - time.monotonic()):.0f} s, cooler power up to {max_power:.0f} %")
    if said:
        detail += f"; the driver says: {said[-1]}"
    reached = lowest <= setpoint + 1.0
    if (fell >= min_fall or reached) and (power is None or max_power > POWER_ON_PCT):
        return Result("cooler", PASS, detail)
    if power is not None and max_power <= POWER_ON_PCT and not any("12 V" in m for m in said):
        detail += ("; no cooler power at all: is the 12 V supply plugged in? (the camera images "
                   "without it but cannot cool)")
    return Result("cooler", FAIL, detail)


#: The names POA_FAN_POWER has in CCD_CONTROLS (the camera's szConfName): SDK 3.7.0 writes
#: FanPowerPerc, SDK 3.10.0 FanPower (docs/upstream-facts.md section 2.5). A client sees only names.
FAN_NAMES = ("FanPower", "FanPowerPerc")


def check_fan(client: SimpleIndiClient, device: str) -> Result:
    controls = client.props.get((device, CONTROLS))
    name = next((n for n in FAN_NAMES if controls is not None and n in controls.values), None)
    if controls is None or name is None:
        return Result("fan", FAIL if controls is not None else SKIP,
                      f"CCD_CONTROLS has no {' or '.join(FAN_NAMES)}" if controls is not None else
                      "no CCD_CONTROLS on this device: the fan cannot be checked")
    old = float(controls.values[name])  # type: ignore[arg-type]
    new = old - 10 if old >= 60 else old + 10
    try:
        set_controls(client, device, {name: new})
        got = float(client.props[(device, CONTROLS)].values[name])  # type: ignore[arg-type]
        set_controls(client, device, {name: old})
    except ToolFailed as exc:
        return Result("fan", FAIL, str(exc))
    if abs(got - new) > 0.5:
        return Result("fan", FAIL, f"{name} set to {new:g} % but reads {got:g} %")
    return Result("fan", PASS, f"{name} {old:g} % -> {new:g} % accepted and read back, restored "
                  f"(listen: the fan should run; the manual's default is 50 % on carbon-fibre, "
                  f"70 % on aluminium bodies)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_server_arguments(parser)
    parser.add_argument("--model", help="camera model, when the device name does not say it")
    parser.add_argument("--setpoint", type=float, default=0.0, help="cooler setpoint, °C (default 0)")
    parser.add_argument("--cool-time", type=float, default=120.0,
                        help="seconds to watch the cooler (default 120)")
    parser.add_argument("--min-fall", type=float, default=2.0,
                        help="°C the sensor must fall within --cool-time (default 2)")
    parser.add_argument("--fps-time", type=float, default=5.0,
                        help="seconds of streaming to time (default 5)")
    parser.add_argument("--fps-fraction", type=float, default=0.7,
                        help="fraction of the specified FPS that passes (default 0.7)")
    parser.add_argument("--frames", type=int, default=5,
                        help="single exposures to time when the device cannot stream (default 5)")
    parser.add_argument("--skip", action="append", default=[], choices=("fps", "cooler", "fan"),
                        help="leave a step out (repeatable)")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    results: list[Result] = []

    def show(r: Result) -> None:
        results.append(r)
        out.write(f"{r.verdict:4}  {r.name}: {r.detail}\n")
        out.flush()

    try:
        with camera_session(args, err) as (client, device):
            spec = model_of(device, args.model)
            show(Result("connect", PASS, f"{device} connected"
                        + (f" ({spec.model}, {spec.sensor})" if spec else " (model unknown)")))
            if "fps" not in args.skip:
                if (device, "CCD_VIDEO_STREAM") in client.props:
                    show(check_fps_stream(client, device, spec, args.fps_fraction, args.fps_time))
                else:
                    show(check_fps_exposures(client, device, spec, args.frames))
            if "cooler" not in args.skip:
                was_on = (device, "CCD_COOLER") in client.props and \
                    bool(client.props[(device, "CCD_COOLER")].values.get("COOLER_ON"))
                try:
                    show(check_cooler(client, device, args.setpoint, args.cool_time, args.min_fall))
                finally:
                    if (device, "CCD_COOLER") in client.props and not was_on:
                        client.set_switch(device, "CCD_COOLER", ["COOLER_OFF"])
            if "fan" not in args.skip:
                show(check_fan(client, device))
    except ToolFailed as exc:
        code = exc.code if not results else exits.FAILURE  # before connecting: 3 / 4 as `capture`
        show(Result("connect" if not results else "check", FAIL, str(exc)))
        return code
    except KeyboardInterrupt:
        err.write("\ninterrupted\n")
        return exits.INTERRUPTED
    failed = [r.name for r in results if r.verdict == FAIL]
    out.write(f"{'FAILED: ' + ', '.join(failed) if failed else 'all checks passed'} "
              f"({sum(r.verdict == PASS for r in results)} passed, {len(failed)} failed, "
              f"{sum(r.verdict == WARN for r in results)} warnings, "
              f"{sum(r.verdict == SKIP for r in results)} skipped)\n")
    return exits.FAILURE if failed else exits.OK
