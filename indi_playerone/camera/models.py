"""Catalog of the twelve Player One PRO cooled cameras.

Written by the project from the specification table of the vendor's "Professional Cooled Camera
Manual V1.3" (chapter 1, "Cooled Camera Specification"; summarised with its uncertain cells in
``docs/upstream-facts.md`` section 4). Values are facts from that table; cells the scan garbled or
marked uncertain are kept as read and explained in ``source_note``.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ModelSpec",
    "MODELS",
    "find_model",
    "GAIN_RANGE",
    "OFFSET_RANGE",
    "EXPOSURE_RANGE_S",
]

#: Ranges the manual gives for the whole line (ASCOM/native driver settings section).
GAIN_RANGE: tuple[int, int] = (0, 600)
OFFSET_RANGE: tuple[int, int] = (0, 1500)
#: "All models: exposure range 32 µs – 2000 s".
EXPOSURE_RANGE_S: tuple[float, float] = (32e-6, 2000.0)

_BFL_NOTE = "BFL 17.5 mm: the scan prints it only for the first row (Zeus 455M PRO); assumed for all."
_QE_NOTE = "QE and full well are approximate ('≈') in the manual."


@dataclass(frozen=True)
class ModelSpec:
    """One row of the manual's specification table."""

    model: str  # exact product name, e.g. "Ares-C PRO"
    sensor: str  # "IMX533"
    is_color: bool  # mono/colour column
    format_mm: tuple[float, float]  # sensor size (width, height) in mm
    format_class: str | None  # optical format as printed: "APS-C", '4/3"', '1"', ... or None
    width: int  # resolution, pixels
    height: int
    megapixels: float
    pixel_size_um: float
    #: Read noise in e-, in the table's order: (at lowest gain, at highest gain). The table header
    #: says "high→low"; the larger value is the low-gain end, as on every IMX sensor.
    read_noise_e: tuple[float, float]
    qe_peak: float  # fraction, e.g. 0.91 for "≈91%"
    full_well_e: int  # electrons
    #: Cooling ΔT below ambient in °C as (low, high): "−35 °C ±2" -> (35, 35) with tolerance 2,
    #: "−35…−40 °C" -> (35, 40) without tolerance.
    delta_t_c: tuple[float, float]
    delta_t_tolerance_c: float | None
    adc_bits: int
    max_fps: float
    bayer: str | None  # "RGGB" or None (mono)
    shutter: str  # "rolling" | "global"
    body: str  # "aluminium" | "carbon fibre"
    weight_g: int
    bfl_mm: float  # back focal length
    source_note: str = ""  # what is uncertain in this row and why

    @property
    def cooling_delta_c(self) -> float:
        """The ΔT the camera is sure to reach: the lower end of the table's range."""
        return self.delta_t_c[0]


def _row(
    model: str,
    sensor: str,
    color: bool,
    fmt: tuple[float, float],
    fmt_class: str | None,
    res: tuple[int, int],
    mp: float,
    pixel: float,
    rn: tuple[float, float],
    qe: float,
    fw: int,
    dt: tuple[float, float],
    dt_tol: float | None,
    adc: int,
    fps: float,
    shutter: str,
    body: str,
    weight: int,
    note: str,
) -> ModelSpec:
    """Build a row; BFL is 17.5 mm and the Bayer pattern RGGB for every colour model."""
    return ModelSpec(
        model=model, sensor=sensor, is_color=color, format_mm=fmt, format_class=fmt_class,
        width=res[0], height=res[1], megapixels=mp, pixel_size_um=pixel, read_noise_e=rn,
        qe_peak=qe, full_well_e=fw, delta_t_c=dt, delta_t_tolerance_c=dt_tol, adc_bits=adc,
        max_fps=fps, bayer="RGGB" if color else None, shutter=shutter, body=body,
        weight_g=weight, bfl_mm=17.5, source_note=" ".join(filter(None, (note, _QE_NOTE))),
    )


_ALU, _CF = "aluminium", "carbon fibre"
_FIRST_ROW = "First row of the table; BFL 17.5 mm printed here."
_RCCB = ("Bayer read 'RCCB' in the scan: not a pattern the SDK can report (RG/BG/GR/GB) and the "
         "sensor is an RGGB part, so RGGB.")
_ARES_FW = "Full well 73 ke read from the scan, marked '(?)' there."
_ALL_ROWS = (
    _row("Zeus 455M PRO", "IMX455", False, (36.0, 24.0), None, (9576, 6388), 61, 3.76,
         (4.2, 1.27), 0.91, 71_600, (35, 35), 2, 16, 6.5, "rolling", _ALU, 650, _FIRST_ROW),
    _row("Zeus 455C PRO", "IMX455", True, (36.0, 24.0), None, (9576, 6388), 61, 3.76,
         (4.2, 1.27), 0.80, 71_600, (35, 35), 2, 16, 6.5, "rolling", _ALU, 650, _BFL_NOTE),
    _row("Poseidon-M PRO", "IMX571", False, (23.5, 15.7), "APS-C", (6252, 4176), 26, 3.76,
         (3.9, 1.0), 0.91, 71_700, (40, 40), 2, 16, 15, "rolling", _ALU, 650, _BFL_NOTE),
    _row("Poseidon-C PRO", "IMX571", True, (23.5, 15.7), "APS-C", (6252, 4176), 26, 3.76,
         (3.9, 1.0), 0.80, 71_700, (40, 40), 2, 16, 15, "rolling", _ALU, 650, _BFL_NOTE),
    _row("Artemis-M PRO", "IMX492", False, (19.2, 13.0), '4/3"', (8288, 5648), 47, 2.3,
         (7.7, 1.46), 0.90, 18_600, (40, 40), 2, 12, 8, "rolling", _ALU, 650, _BFL_NOTE),
    _row("Artemis-C PRO", "IMX294", True, (19.2, 13.0), '4/3"', (4144, 2824), 11.7, 4.63,
         (7.8, 1.2), 0.75, 65_800, (40, 40), 2, 14, 33, "rolling", _ALU, 650, _BFL_NOTE),
    _row("Ares-M PRO", "IMX533", False, (11.31, 11.31), '1"', (3008, 3008), 9, 3.76,
         (4.46, 1.0), 0.91, 73_000, (35, 40), None, 14, 43, "rolling", _CF, 420,
         f"{_ARES_FW} {_BFL_NOTE}"),
    _row("Ares-C PRO", "IMX533", True, (11.31, 11.31), '1"', (3008, 3008), 9, 3.76,
         (4.46, 1.0), 0.80, 73_000, (35, 40), None, 14, 43, "rolling", _CF, 420,
         f"{_ARES_FW} {_RCCB} {_BFL_NOTE}"),
    _row("Uranus-M PRO", "IMX585", False, (11.2, 6.3), '1/1.2"', (3856, 2180), 8.3, 2.9,
         (6.5, 0.7), 0.91, 47_000, (35, 40), None, 12, 47, "rolling", _CF, 420, _BFL_NOTE),
    _row("Uranus-C PRO", "IMX585", True, (11.2, 6.3), '1/1.2"', (3856, 2180), 8.3, 2.9,
         (6.5, 0.7), 0.91, 47_000, (35, 40), None, 12, 47, "rolling", _CF, 420,
         f"{_RCCB} QE ≈91% as printed (the other colour rows read ≈75–80%). {_BFL_NOTE}"),
    _row("Apollo-428M MAX PRO", "IMX428", False, (14.5, 9.9), '1.1"', (3216, 2208), 7.1, 4.5,
         (5.5, 1.4), 0.79, 25_300, (35, 40), None, 12, 51, "global", _CF, 420, _BFL_NOTE),
    _row("Apollo-M MAX PRO", "IMX432", False, (14.5, 9.9), '1.1"', (1608, 1104), 1.7, 9.0,
         (22.9, 2.6), 0.79, 100_000, (35, 40), None, 12, 126, "global", _CF, 420, _BFL_NOTE),
)

#: All twelve models keyed by their exact name.
MODELS: dict[str, ModelSpec] = {spec.model: spec for spec in _ALL_ROWS}


def find_model(name: str) -> ModelSpec:
    """Look a model up: exact name first, then case-insensitively (surrounding spaces ignored).

    Raises ``KeyError`` whose message lists the valid names.
    """
    spec = MODELS.get(name)
    if spec is not None:
        return spec
    wanted = name.strip().casefold()
    for key, spec in MODELS.items():
        if key.casefold() == wanted:
            return spec
    raise KeyError(f"unknown camera model {name!r}; valid models: {', '.join(MODELS)}")
