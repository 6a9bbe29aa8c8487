"""The simulated camera's writable settings (``CCD_CONTROLS``), as the fake SDK reports them.

Names, descriptions, ranges, defaults, auto support and order are the fake SDK's
(``native/fake_sdk/fake_config.c``, POAConfig order), minus what the interface keeps out of the
controls (exposure, cooler on/off, target temperature, flips, read-only values), so the driver
sees the same ``CCD_CONTROLS`` on both backends. Colour-only controls (WB_R/G/B, MonoBin) exist on
colour models only. Defaults from the manual: fan 70 % (aluminium) / 50 % (carbon fibre), window
heater 10 %.

What each does in the simulator: Gain and Offset (the frame model); FanPower and LensHeaterPower
(the thermal model); USBBandWidthLimit (the readout time); PixelBinSum (binned pixels summed
instead of averaged); FrameRateLimit (video: the frame period is at least 1/limit). HardwareBin,
WB_*, MonoBin and the AutoExp* settings are stored and read back only: the simulator does not
model them. Auto is stored where supported (Gain, WB_*) and accepted and ignored elsewhere, like
the fake; no auto behaviour is simulated.
"""
from __future__ import annotations

from .interface import CameraError, Control
from .models import GAIN_RANGE, OFFSET_RANGE, ModelSpec
from .sim_sensor import gain_presets

__all__ = ["control_table", "ControlValues"]


def control_table(spec: ModelSpec) -> tuple[Control, ...]:
    """The controls of a simulated camera of this model, in the fake SDK's order."""
    hcg = gain_presets(spec)[1]
    fan = 70.0 if spec.body == "aluminium" else 50.0
    rows: list[tuple[str, str, float, float, float, bool, bool, bool]] = [
        # name, description, min, max, default, bool, auto, colour only
        ("Gain", "Analog gain", GAIN_RANGE[0], GAIN_RANGE[1], hcg.gain, False, True, False),
        ("HardwareBin", "Bin in the sensor", 0, 1, 0, True, False, False),
        ("WB_R", "White balance, red", -1200, 1200, 0, False, True, True),
        ("WB_G", "White balance, green", -1200, 1200, 0, False, True, True),
        ("WB_B", "White balance, blue", -1200, 1200, 0, False, True, True),
        ("Offset", "Black level offset", OFFSET_RANGE[0], OFFSET_RANGE[1], hcg.offset, False,
         False, False),
        ("AutoExpMaxGain", "Highest gain of auto exposure", 0, 600, 300, False, False, False),
        ("AutoExpMaxExpMS", "Longest auto exposure (ms)", 1, 60000, 100, False, False, False),
        ("AutoExpTargetBrightness", "Auto exposure target", 50, 200, 100, False, False, False),
        ("LensHeaterPower", "Window heater power (%)", 0, 100, 10, False, False, False),
        ("FanPower", "Fan power (%)", 0, 100, fan, False, False, False),
        ("FrameRateLimit", "Frame rate limit (fps), 0 = none", 0, 2000, 0, False, False, False),
        ("USBBandWidthLimit", "USB bandwidth limit (%)", 35, 100, 100, False, False, False),
        ("PixelBinSum", "Sum binned pixels (else average)", 0, 1, 0, True, False, False),
        ("MonoBin", "Binning mixes colours into mono", 0, 1, 0, True, False, True),
    ]
    return tuple(Control(name, desc, float(lo), float(hi), float(default), is_bool, auto)
                 for name, desc, lo, hi, default, is_bool, auto, colour in rows
                 if spec.is_color or not colour)


class ControlValues:
    """Values and auto flags of the controls other than Gain/Offset (the camera keeps those).
    Not thread-safe: the camera calls it under its lock."""

    def __init__(self, spec: ModelSpec) -> None:
        self.table = {c.name: c for c in control_table(spec)}
        self.values = {c.name: c.default for c in self.table.values()}
        self.autos = {c.name: False for c in self.table.values()}

    def control(self, name: str, model: str) -> Control:
        try:
            return self.table[name]
        except KeyError:
            raise CameraError(f"{model} has no setting {name!r} (it has: "
                              f"{', '.join(self.table)})") from None

    def check(self, name: str, value: float, model: str) -> float:
        """The value to store, or :class:`CameraError` (range, bools 0/1, NaN)."""
        c = self.control(name, model)
        v = float(value)
        if not c.minimum <= v <= c.maximum:  # NaN fails too
            raise CameraError(f"{name} {value} outside {c.minimum:g}..{c.maximum:g}")
        if c.is_bool and v not in (0.0, 1.0):
            raise CameraError(f"{name} takes 0 or 1, not {value}")
        return v if c.is_bool else float(round(v))

    def store(self, name: str, value: float, auto: bool) -> None:
        self.values[name] = value
        if self.table[name].supports_auto:
            self.autos[name] = bool(auto)

    def get(self, name: str) -> tuple[float, bool]:
        return self.values[name], self.autos[name]
