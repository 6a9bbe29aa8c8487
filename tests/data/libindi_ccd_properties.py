"""The properties a libindi CCD driver exposes, as data: the oracle for the driver's property set.

Transcribed from ``/work/shared/reference/indi-and-sdk-facts.md`` §4.1 (DefaultDevice), §4.2
(INDI::CCD, GuiderInterface), §4.3 (StreamManager) — libindi 2.2.4 — and §3.4 (the Player One C++
driver's own properties).  Independent of the driver code: nothing here is imported from
``indi_playerone``.

Conventions:

* ``kind``: "Number" | "Switch" | "Text" | "Light" | "BLOB"; ``perm``: "ro" | "wo" | "rw";
  ``rule`` (switches only): "OneOfMany" | "AtMostOne" | "AnyOfMany"; ``timeout`` in seconds.
* ``label`` (of a vector) is not given by the facts file; where filled in it was read from Debian's
  libindi 1.9.9 ``indi_simulator_ccd`` (what KStars shows), otherwise None.  Vector labels are
  therefore *not* validated by ``test_harness_reference.py``.  Element labels come from the facts.
  An element label of None means the facts file does not state it.
* Element ``default``: float (Number), True/False = On/Off (Switch), str (Text); None = not stated or
  set by the driver at run time (camera size, driver name...).  ``min``/``max``/``step``/``format``
  likewise (None = camera dependent or not stated).
* ``elements_mode``: "exact" — these elements in this order; "subset" — a camera-dependent subset of
  these (Player One: from the SDK's format list); "superset" — these first, the driver may add
  more (e.g. DBG_EXTRA_n; CCD_CONTROLS always has Gain and Offset, plus other SDK configs);
  "dynamic" — names are generated at run time (see ``note``).
* ``when``: the condition under which the vector is defined, as a disjunction of conjunctions of
  flags; a flag written "!x" means x is absent.  ``ALWAYS`` = defined on getProperties, before
  connection.  Flags:

  ========================  ===================================================================
  ``connected``             CONNECTION.CONNECT is On
  ``can_abort``             CCD_CAN_ABORT (Player One: always)
  ``can_bin``               CCD_CAN_BIN (Player One: max bin > 1)
  ``can_subframe``          CCD_CAN_SUBFRAME (Player One: always)
  ``cooler``                CCD_HAS_COOLER
  ``bayer``                 CCD_HAS_BAYER (colour camera)
  ``st4``                   CCD_HAS_ST4_PORT
  ``streaming``             CCD_HAS_STREAMING (Player One: always)
  ``guide_head``            CCD_HAS_GUIDE_HEAD (never for Player One)
  ``debug_enabled``         DEBUG.ENABLE is On
  ``upload_local``          UPLOAD_MODE is UPLOAD_LOCAL or UPLOAD_BOTH
  ``wcs_enabled``           WCS_CONTROL.WCS_ENABLE is On
  ``simulation_control``    the driver defines SIMULATION (addAuxControls; Player One does)
  ``nickname_control``      the driver calls DefaultDevice::addNicknameControl
  ``playerone``             the device is the Player One driver (§3.4 extras)
  ``sn_known``              the camera reported a non-empty serial number
  ``controls``              at least one writable SDK config for CCD_CONTROLS
  ``controls_auto``         at least one config supports auto mode
  ``flip``                  the camera lists POA_FLIP_BOTH among its configs
  ``sensor_modes``          POAGetSensorModeCount() > 0
  ``single_driver``         ``indi_playerone_single_ccd`` (not the multi-camera driver)
  ========================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ElementSpec", "PropertySpec", "When", "ALWAYS", "when", "any_of", "holds",
    "PROPERTIES", "NOT_DEFINED_BY_PLAYERONE", "FLAGS",
    "expected_properties", "spec_for", "specs_named", "playerone_flags",
]

When = tuple[tuple[str, ...], ...]
ALWAYS: When = ((),)

FLAGS = frozenset({
    "connected", "can_abort", "can_bin", "can_subframe", "cooler", "bayer", "st4", "streaming",
    "guide_head", "debug_enabled", "upload_local", "wcs_enabled", "simulation_control",
    "nickname_control", "playerone", "sn_known", "controls", "controls_auto", "flip", "sensor_modes",
    "single_driver",
})


def when(*flags: str) -> When:
    """All of ``flags`` ("!x" = not x)."""
    for f in flags:
        if f.lstrip("!") not in FLAGS:
            raise ValueError(f"unknown flag {f!r}")
    return (tuple(flags),)


def any_of(*conditions: When) -> When:
    return tuple(term for c in conditions for term in c)


def holds(condition: When, flags: Iterable[str]) -> bool:
    have = set(flags)
    return any(all((f[1:] not in have) if f.startswith("!") else (f in have) for f in term) for term in condition)


@dataclass(frozen=True)
class ElementSpec:
    name: str
    label: str | None
    default: float | bool | str | None = None
    format: str | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    optional: str | None = None  # build feature the element depends on ("xisf", "theora")


@dataclass(frozen=True)
class PropertySpec:
    name: str
    kind: str
    group: str
    perm: str
    rule: str | None
    timeout: float
    elements: tuple[ElementSpec, ...]
    when: When
    origin: str  # DefaultDevice | INDI::CCD | GuiderInterface | StreamManager | PlayerOne
    label: str | None = None
    elements_mode: str = "exact"
    note: str = ""

    @property
    def element_names(self) -> list[str]:
        return [e.name for e in self.elements]

    @property
    def playerone_extra(self) -> bool:
        """True for the Player One C++ driver's own properties (§3.4), not libindi's."""
        return self.origin == "PlayerOne"


E = ElementSpec
_ON, _OFF = True, False
_CONN = when("connected")
_STREAM = when("connected", "streaming")
_P1 = ("connected", "playerone")


def _num(name: str, label: str | None, fmt: str | None, lo: float | None, hi: float | None,
         step: float | None = None, default: float | None = None) -> ElementSpec:
    return E(name, label, default, fmt, lo, hi, step)


PROPERTIES: tuple[PropertySpec, ...] = (
    # ------------------------------------------------------------------ §4.1 DefaultDevice (before connect)
    PropertySpec("CONNECTION", "Switch", "Main Control", "rw", "OneOfMany", 60,
                 (E("CONNECT", "Connect", _OFF), E("DISCONNECT", "Disconnect", _ON)),
                 ALWAYS, "DefaultDevice", "Connection"),
    PropertySpec("DRIVER_INFO", "Text", "General Info", "ro", None, 60,
                 (E("DRIVER_NAME", "Name"), E("DRIVER_EXEC", "Exec"), E("DRIVER_VERSION", "Version"),
                  E("DRIVER_INTERFACE", "Interface")),
                 ALWAYS, "DefaultDevice", "Driver Info",
                 note='group "Connection" for devices with connection plugins; CCD drivers: "General Info". '
                      'DRIVER_INTERFACE is the decimal bitmask (CCD=2, GUIDER=4: "6")'),
    PropertySpec("DEBUG", "Switch", "Options", "rw", "OneOfMany", 0,
                 (E("ENABLE", "Enable", _OFF), E("DISABLE", "Disable", _ON)),
                 ALWAYS, "DefaultDevice", "Debug"),
    PropertySpec("SIMULATION", "Switch", "Options", "rw", "OneOfMany", 0,
                 (E("ENABLE", None, _OFF), E("DISABLE", None, _ON)),
                 when("simulation_control"), "DefaultDevice"),
    PropertySpec("CONFIG_PROCESS", "Switch", "Options", "rw", "AtMostOne", 0,
                 (E("CONFIG_LOAD", "Load", _OFF), E("CONFIG_SAVE", "Save", _OFF),
                  E("CONFIG_DEFAULT", "Default", _OFF), E("CONFIG_PURGE", "Purge", _OFF)),
                 ALWAYS, "DefaultDevice", "Configuration",
                 note="switch reset after the action; state Ok/Alert"),
    PropertySpec("POLLING_PERIOD", "Number", "Options", "rw", None, 0,
                 (_num("PERIOD_MS", "Period (ms)", "%.f", 10, 600000, 1000, 1000),),
                 ALWAYS, "DefaultDevice", "Polling"),
    PropertySpec("DEBUG_LEVEL", "Switch", "Options", "rw", "AnyOfMany", 0,
                 (E("DBG_ERROR", "Errors", _ON), E("DBG_WARNING", "Warnings", _ON),
                  E("DBG_SESSION", "Messages", _ON), E("DBG_DEBUG", "Driver Debug", _OFF)),
                 when("debug_enabled"), "DefaultDevice", "Debug Levels", "superset",
                 note="drivers may append DBG_EXTRA_n"),
    PropertySpec("LOGGING_LEVEL", "Switch", "Options", "rw", "AnyOfMany", 0,
                 (E("LOG_ERROR", None, _ON), E("LOG_WARNING", None, _ON), E("LOG_SESSION", None, _ON),
                  E("LOG_DEBUG", None, _OFF)),
                 when("debug_enabled"), "DefaultDevice", "Logging Levels", "superset"),
    PropertySpec("LOG_OUTPUT", "Switch", "Options", "rw", "AnyOfMany", 0,
                 (E("CLIENT_DEBUG", "To Client", _ON), E("FILE_DEBUG", "To Log File", _OFF)),
                 when("debug_enabled"), "DefaultDevice", "Log Output"),
    PropertySpec("NICKNAME", "Text", "General Info", "rw", None, 60,
                 (E("nickname", "nickname"),),
                 when("nickname_control", "!playerone"), "DefaultDevice",
                 note="generic DefaultDevice version; Player One defines its own (same name/element) below"),
    # ------------------------------------------------------------------ §4.2 INDI::CCD
    PropertySpec("ACTIVE_DEVICES", "Text", "Options", "rw", None, 60,
                 (E("ACTIVE_TELESCOPE", "Telescope", "Telescope Simulator"),
                  E("ACTIVE_ROTATOR", "Rotator", "Rotator Simulator"),
                  E("ACTIVE_FOCUSER", "Focuser", "Focuser Simulator"),
                  E("ACTIVE_FILTER", "Filter", "CCD Simulator"),
                  E("ACTIVE_SKYQUALITY", "Sky Quality", "SQM")),
                 ALWAYS, "INDI::CCD", "Snoop devices", note="values loaded from config"),
    PropertySpec("CCD_EXPOSURE", "Number", "Main Control", "rw", None, 60,
                 (_num("CCD_EXPOSURE_VALUE", "Duration (s)", "%5.2f", 0.01, 3600, 1, 1),),
                 _CONN, "INDI::CCD", "Expose",
                 note="Player One: min/max/step re-sent after connect from POA_EXP (typically 1e-5..7200)"),
    PropertySpec("CCD_ABORT_EXPOSURE", "Switch", "Main Control", "rw", "AtMostOne", 60,
                 (E("ABORT", "Abort", _OFF),),
                 when("connected", "can_abort"), "INDI::CCD", "Abort"),
    PropertySpec("CCD_FRAME", "Number", "Image Settings", "rw", None, 60,
                 (_num("X", "Left ", "%4.0f", 0, None), _num("Y", "Top", "%4.0f", 0, None),
                  _num("WIDTH", "Width", "%4.0f", 1, None), _num("HEIGHT", "Height", "%4.0f", 1, None)),
                 when("connected", "can_subframe"), "INDI::CCD", "Frame",
                 note='label of X is "Left " with a trailing space; max X = W-1, Y = H-1, WIDTH = W, HEIGHT = H'),
    PropertySpec("CCD_FRAME", "Number", "Image Settings", "ro", None, 60,
                 (_num("X", "Left ", "%4.0f", 0, None), _num("Y", "Top", "%4.0f", 0, None),
                  _num("WIDTH", "Width", "%4.0f", 1, None), _num("HEIGHT", "Height", "%4.0f", 1, None)),
                 when("connected", "!can_subframe"), "INDI::CCD", "Frame"),
    PropertySpec("CCD_FRAME_RESET", "Switch", "Image Settings", "wo", "OneOfMany", 0,
                 (E("RESET", "Reset"),),
                 any_of(when("connected", "can_bin"), when("connected", "can_subframe")), "INDI::CCD",
                 "Frame Values"),
    PropertySpec("CCD_BINNING", "Number", "Image Settings", "rw", None, 60,
                 (_num("HOR_BIN", "X", "%2.0f", 1, 4, 1, 1), _num("VER_BIN", "Y", "%2.0f", 1, 4, 1, 1)),
                 when("connected", "can_bin"), "INDI::CCD", "Binning",
                 note="Player One: max = largest entry of bins[]"),
    PropertySpec("FITS_HEADER", "Text", "General Info", "wo", None, 60,
                 (E("KEYWORD_NAME", "Name"), E("KEYWORD_VALUE", "Value"), E("KEYWORD_COMMENT", "Comment")),
                 _CONN, "INDI::CCD", "FITS Header",
                 note="KEYWORD_NAME INDI_CLEAR clears custom keywords; Ekos uses it only with >= 3 elements"),
    PropertySpec("CCD_TEMPERATURE", "Number", "Main Control", "rw", None, 60,
                 (_num("CCD_TEMPERATURE_VALUE", "Temperature (C)", "%5.2f", -50, 50, 0, 0),),
                 when("connected", "cooler"), "INDI::CCD", "Temperature"),
    PropertySpec("CCD_TEMP_RAMP", "Number", "Main Control", "rw", None, 60,
                 (_num("RAMP_SLOPE", "Max. dT (C/min)", "%.f", 0, 30, 1, 0),
                  _num("RAMP_THRESHOLD", "Threshold (C)", "%.1f", 0.1, 2, 0.1, 0.2)),
                 when("connected", "cooler"), "INDI::CCD", "Temp. Ramp"),
    PropertySpec("CCD_CAPTURE_FORMAT", "Switch", "Image Settings", "rw", "OneOfMany", 60,
                 (E("POA_RAW8", "Raw 8 bit"), E("POA_RAW16", "Raw 16 bit"), E("POA_RGB24", "RGB 24"),
                  E("POA_MONO8", "Luma")),
                 _CONN, "INDI::CCD", "Format", "subset",
                 note="elements are driver-provided; listed are Player One's (camera-dependent subset); "
                      "initial On = saved config, else the driver's default (Player One: RAW16)"),
    PropertySpec("CCD_TRANSFER_FORMAT", "Switch", "Image Settings", "rw", "OneOfMany", 60,
                 (E("FORMAT_FITS", "FITS", _ON), E("FORMAT_NATIVE", "Native", _OFF),
                  E("FORMAT_XISF", "XISF", _OFF, optional="xisf")),
                 _CONN, "INDI::CCD", "Encode", note="FORMAT_XISF only when libindi is built with libxisf"),
    PropertySpec("CCD_INFO", "Number", "Image Info", "ro", None, 60,
                 (_num("CCD_MAX_X", "Max. Width", "%.f", 1, 16000), _num("CCD_MAX_Y", "Max. Height", "%.f", 1, 16000),
                  _num("CCD_PIXEL_SIZE", "Pixel size (um)", "%.2f", 1, 40),
                  _num("CCD_PIXEL_SIZE_X", "Pixel size X", "%.2f", 1, 40),
                  _num("CCD_PIXEL_SIZE_Y", "Pixel size Y", "%.2f", 1, 40),
                  _num("CCD_BITSPERPIXEL", "Bits per pixel", "%.f", 8, 64)),
                 _CONN, "INDI::CCD", "CCD Information",
                 note="Ekos reads the elements by index: [0] max x, [1] max y, [2] pixel, [3] px x, [4] px y, [5] bpp"),
    PropertySpec("CCD_COMPRESSION", "Switch", "Image Settings", "rw", "OneOfMany", 60,
                 (E("INDI_ENABLED", "Enabled", _OFF), E("INDI_DISABLED", "Disabled", _ON)),
                 _CONN, "INDI::CCD", "Compression"),
    PropertySpec("CCD1", "BLOB", "Image Info", "ro", None, 60,
                 (E("CCD1", "Image"),),
                 _CONN, "INDI::CCD", "Image Data"),
    PropertySpec("TELESCOPE_TIMED_GUIDE_NS", "Number", "Guider Control", "rw", None, 60,
                 (_num("TIMED_GUIDE_N", "North (ms)", "%.f", 0, 60000, 100, 0),
                  _num("TIMED_GUIDE_S", "South (ms)", "%.f", 0, 60000, 100, 0)),
                 when("connected", "st4"), "GuiderInterface", "Guide N/S"),
    PropertySpec("TELESCOPE_TIMED_GUIDE_WE", "Number", "Guider Control", "rw", None, 60,
                 (_num("TIMED_GUIDE_W", "West (ms)", "%.f", 0, 60000, 100, 0),
                  _num("TIMED_GUIDE_E", "East (ms)", "%.f", 0, 60000, 100, 0)),
                 when("connected", "st4"), "GuiderInterface", "Guide E/W"),
    PropertySpec("CCD_FRAME_TYPE", "Switch", "Image Settings", "rw", "OneOfMany", 60,
                 (E("FRAME_LIGHT", "Light", _ON), E("FRAME_BIAS", "Bias", _OFF), E("FRAME_DARK", "Dark", _OFF),
                  E("FRAME_FLAT", "Flat", _OFF)),
                 _CONN, "INDI::CCD", "Type"),
    PropertySpec("CCD_CFA", "Text", "Image Info", "rw", None, 60,
                 (E("CFA_OFFSET_X", "X Offset", "0"), E("CFA_OFFSET_Y", "Y Offset", "0"), E("CFA_TYPE", "Filter")),
                 when("connected", "bayer"), "INDI::CCD", "Bayer Info",
                 note="Player One: CFA_TYPE from bayerPattern (RGGB/BGGR/GRBG/GBRG), compensated for FLIP"),
    PropertySpec("SCOPE_INFO", "Number", "Options", "rw", None, 60,
                 (_num("FOCAL_LENGTH", "Focal Length (mm)", "%g", 0, 10000, 1, 0),
                  _num("APERTURE", "Aperture (mm)", "%g", 0, 3000, 1, 0)),
                 _CONN, "INDI::CCD", "Scope"),
    PropertySpec("WCS_CONTROL", "Switch", "WCS", "rw", "OneOfMany", 0,
                 (E("WCS_ENABLE", "Enable", _OFF), E("WCS_DISABLE", "Disable", _ON)),
                 _CONN, "INDI::CCD", "WCS"),
    PropertySpec("CCD_ROTATION", "Number", "WCS", "rw", None, 60,
                 (_num("CCD_ROTATION_VALUE", "Angle", "%.2f", -360, 360, 1, 0),),
                 when("connected", "wcs_enabled"), "INDI::CCD", "CCD FOV"),
    PropertySpec("UPLOAD_MODE", "Switch", "Options", "rw", "OneOfMany", 0,
                 (E("UPLOAD_CLIENT", "Client", _ON), E("UPLOAD_LOCAL", "Local", _OFF), E("UPLOAD_BOTH", "Both", _OFF)),
                 _CONN, "INDI::CCD", "Upload"),
    PropertySpec("UPLOAD_SETTINGS", "Text", "Options", "rw", None, 60,
                 (E("UPLOAD_DIR", "Dir"), E("UPLOAD_PREFIX", "Prefix", "IMAGE_XXX")),
                 _CONN, "INDI::CCD", "Upload Settings",
                 note="UPLOAD_DIR: $HOME when empty, _HOME_ expanded; prefix XXX → 3-digit index, ISO8601 → time"),
    PropertySpec("CCD_FILE_PATH", "Text", "Image Info", "ro", None, 60,
                 (E("FILE_PATH", "Path"),),
                 when("connected", "upload_local"), "INDI::CCD", "Filename"),
    PropertySpec("CCD_FAST_TOGGLE", "Switch", "Options", "rw", "OneOfMany", 0,
                 (E("INDI_ENABLED", "Enabled", _OFF), E("INDI_DISABLED", "Disabled", _ON)),
                 _CONN, "INDI::CCD", "Fast Exposure"),
    PropertySpec("CCD_FAST_COUNT", "Number", "Options", "rw", None, 0,
                 (_num("FRAMES", "Frames", "%.f", 0, 100000, 1, 1),),
                 _CONN, "INDI::CCD", "Fast Count"),
    # ------------------------------------------------------------------ §4.3 StreamManager
    PropertySpec("CCD_VIDEO_STREAM", "Switch", "Streaming", "rw", "OneOfMany", 0,
                 (E("STREAM_ON", "Stream On", _OFF), E("STREAM_OFF", "Stream Off", _ON)),
                 _STREAM, "StreamManager", "Video Stream"),
    PropertySpec("STREAM_FULL_DEPTH", "Switch", "Streaming", "rw", "OneOfMany", 0,
                 (E("FULL_DEPTH_8BIT", "8-bit", _ON), E("FULL_DEPTH_16BIT", "16-bit", _OFF)),
                 _STREAM, "StreamManager", note="newer than libindi 1.9.9"),
    PropertySpec("STREAM_DELAY", "Number", "Streaming", "ro", None, 0,
                 (_num("STREAM_DELAY_TIME", "Delay (s)", "%.3f", 0, 60, 0.001),),
                 _STREAM, "StreamManager", "Video Stream Delay"),
    PropertySpec("STREAMING_EXPOSURE", "Number", "Streaming", "rw", None, 60,
                 (_num("STREAMING_EXPOSURE_VALUE", "Duration (s)", "%.6f", 1e-6, 60, 0.1, 0.1),
                  _num("STREAMING_DIVISOR_VALUE", "Divisor", "%.f", 1, 15, 1, 1)),
                 _STREAM, "StreamManager", "Expose"),
    PropertySpec("FPS", "Number", "Streaming", "ro", None, 60,
                 (_num("EST_FPS", "Instant.", "%.2f", 0, 999), _num("AVG_FPS", "Average (1 sec.)", "%.2f", 0, 999)),
                 _STREAM, "StreamManager", "FPS"),
    PropertySpec("RECORD_STREAM", "Switch", "Streaming", "rw", "OneOfMany", 0,
                 (E("RECORD_ON", "Record On", _OFF), E("RECORD_DURATION_ON", "Record (Duration)", _OFF),
                  E("RECORD_FRAME_ON", "Record (Frames)", _OFF), E("RECORD_OFF", "Record Off", _ON)),
                 _STREAM, "StreamManager", "Video Record"),
    PropertySpec("RECORD_FILE", "Text", "Streaming", "rw", None, 0,
                 (E("RECORD_FILE_DIR", "Dir.", "$HOME/Videos/indi__D_"),
                  E("RECORD_FILE_NAME", "Name", "indi_record__T_")),
                 _STREAM, "StreamManager", "Record File", note="libindi 1.9.9's default dir is $HOME/indi__D_"),
    PropertySpec("RECORD_OPTIONS", "Number", "Streaming", "rw", None, 60,
                 (_num("RECORD_DURATION", "Duration (sec)", "%.3f", 0.001, 999999, None, 1),
                  _num("RECORD_FRAME_TOTAL", "Frames", "%.f", 1, 999999999, 1, 30)),
                 _STREAM, "StreamManager", "Record Options"),
    PropertySpec("CCD_STREAM_FRAME", "Number", "Streaming", "rw", None, 60,
                 (_num("X", "Left", "%.f", None, None), _num("Y", "Top", "%.f", None, None),
                  _num("WIDTH", "Width", "%.f", None, None), _num("HEIGHT", "Height", "%.f", None, None)),
                 _STREAM, "StreamManager", "Frame", note='"Left" here has no trailing space (unlike CCD_FRAME)'),
    PropertySpec("CCD_STREAM_ENCODER", "Switch", "Streaming", "rw", "OneOfMany", 0,
                 (E("RAW", "RAW", _ON), E("MJPEG", "MJPEG", _OFF)),
                 _STREAM, "StreamManager", "Encoder"),
    PropertySpec("CCD_STREAM_RECORDER", "Switch", "Streaming", "rw", "OneOfMany", 0,
                 (E("SER", "SER", _ON), E("OGV", "OGV", _OFF, optional="theora")),
                 _STREAM, "StreamManager", "Recorder", note="OGV only when built with theora"),
    PropertySpec("LIMITS", "Number", "Streaming", "rw", None, 0,
                 (_num("LIMITS_BUFFER_MAX", "Maximum Buffer Size (MB)", "%.0f", 1, 65536, 1, 512),
                  _num("LIMITS_PREVIEW_FPS", "Maximum Preview FPS", "%.0f", 1, 120, 1, 10)),
                 _STREAM, "StreamManager", "Limits"),
    # ------------------------------------------------------------------ §3.4 Player One C++ driver extras
    PropertySpec("CCD_COOLER_POWER", "Number", "Main Control", "ro", None, 60,
                 (_num("CCD_COOLER_VALUE", "Cooling Power (%)", "%+06.2f", None, None, 0.2, 0),),
                 when(*_P1, "cooler"), "PlayerOne",
                 note="C++ sets min 0 max 1, later overwritten by a bug (attributes of config index 17)"),
    PropertySpec("CCD_COOLER", "Switch", "Main Control", "wo", "OneOfMany", 0,
                 (E("COOLER_ON", "ON", _OFF), E("COOLER_OFF", "OFF", _ON)),
                 when(*_P1, "cooler"), "PlayerOne",
                 note="write-only yet its state is sent with setSwitchVector; Ekos reads COOLER_ON (index 0)"),
    PropertySpec("CCD_TEMPERATURE", "Number", "Main Control", "ro", None, 60,
                 (_num("CCD_TEMPERATURE_VALUE", "Temperature (C)", "%5.2f", -50, 50, 0, 0),),
                 when(*_P1, "!cooler"), "PlayerOne",
                 note="without a cooler the driver defines CCD_TEMPERATURE itself, read-only"),
    PropertySpec("CCD_CONTROLS", "Number", "Controls", "rw", None, 60,
                 (E("Gain", "Gain", format="%g"), E("Offset", "Offset", format="%g")),
                 when(*_P1, "controls"), "PlayerOne", elements_mode="superset",
                 note="one element per writable SDK config, name = label = szConfName, format %g, "
                      "step (max-min)/100 if max-min > 1 else 1; names may contain spaces"),
    PropertySpec("CCD_CONTROLS_MODE", "Switch", "Controls", "rw", "AnyOfMany", 60,
                 (),
                 when(*_P1, "controls_auto"), "PlayerOne", elements_mode="dynamic",
                 note="AUTO_<szConfName> labelled szConfName, state = the config's auto flag"),
    PropertySpec("FLIP", "Switch", "Controls", "rw", "AnyOfMany", 60,
                 (E("FLIP_HORIZONTAL", "Horizontal", _OFF), E("FLIP_VERTICAL", "Vertical", _OFF)),
                 when(*_P1, "flip"), "PlayerOne"),
    PropertySpec("CCD_VIDEO_FORMAT", "Switch", "Controls", "rw", "OneOfMany", 60,
                 (E("POA_RAW8", "Raw 8 bit"), E("POA_RAW16", "Raw 16 bit"), E("POA_RGB24", "RGB 24"),
                  E("POA_MONO8", "Luma")),
                 when(*_P1), "PlayerOne", elements_mode="subset",
                 note="one per imgFormats[] entry; same names as CCD_CAPTURE_FORMAT; default RAW16"),
    PropertySpec("BLINK", "Number", "Controls", "rw", None, 60,
                 (_num("BLINK_COUNT", "Blinks before exposure", "%2.0f", 0, 100, 1, 0),
                  _num("BLINK_DURATION", "Blink duration", "%2.3f", 0, 60, 0.001, 0)),
                 when(*_P1), "PlayerOne"),
    PropertySpec("ADC_DEPTH", "Number", "Image Info", "ro", None, 60,
                 (_num("BITS", "Bits", "%2.0f", 0, 32, 1),),
                 when(*_P1), "PlayerOne", note="value = bitDepth of the sensor"),
    PropertySpec("SDK", "Text", "General Info", "ro", None, 60,
                 (E("VERSION", "Version"),),
                 when(*_P1), "PlayerOne", note="POAGetSDKVersion()"),
    PropertySpec("Serial Number", "Text", "General Info", "ro", None, 60,
                 (E("SN#", "SN#"),),
                 when(*_P1, "sn_known"), "PlayerOne", note="the name contains a space"),
    PropertySpec("NICKNAME", "Text", "General Info", "rw", None, 60,
                 (E("nickname", "nickname"),),
                 when(*_P1, "sn_known"), "PlayerOne",
                 note="writes go to ~/.indi/PlayerOneNicknames.xml; effective after a driver restart"),
    PropertySpec("SENSOR_MODE", "Switch", "Controls", "rw", "OneOfMany", 60,
                 (),
                 when(*_P1, "sensor_modes"), "PlayerOne", elements_mode="dynamic",
                 note="MODE_0 … MODE_{n-1}, labels = POASensorModeInfo.name"),
    PropertySpec("CAMERAS_LIST", "Switch", "Main Control", "rw", "OneOfMany", 60,
                 (),
                 when("playerone", "single_driver"), "PlayerOne", elements_mode="dynamic",
                 note="single-camera driver only, defined on getProperties; one element per camera model"),
)

# Names a Player One camera device must not define: the guide-head family (CCD_HAS_GUIDE_HEAD),
# the CCD_GAIN/CCD_OFFSET convention of simulator/QHY-style drivers (Player One uses CCD_CONTROLS
# elements Gain/Offset), and DSLR-only vectors.
NOT_DEFINED_BY_PLAYERONE: tuple[str, ...] = (
    "GUIDER_EXPOSURE", "GUIDER_ABORT_EXPOSURE", "GUIDER_FRAME", "GUIDER_BINNING", "GUIDER_INFO",
    "GUIDER_FRAME_TYPE", "GUIDER_COMPRESSION", "CCD2",
    "CCD_GAIN", "CCD_OFFSET", "CCD_EXPOSURE_PRESETS", "CCD_ISO",
)


def specs_named(name: str) -> list[PropertySpec]:
    """Every variant of ``name`` (CCD_FRAME, CCD_TEMPERATURE and NICKNAME have two)."""
    return [p for p in PROPERTIES if p.name == name]


def expected_properties(flags: Iterable[str]) -> list[PropertySpec]:
    """The vectors defined under ``flags``, in libindi's order of definition (at most one per name)."""
    have = set(flags)
    unknown = {f for f in have if f not in FLAGS}
    if unknown:
        raise ValueError(f"unknown flags {sorted(unknown)}")
    out: list[PropertySpec] = []
    seen: set[str] = set()
    for spec in PROPERTIES:
        if spec.name not in seen and holds(spec.when, have):
            out.append(spec)
            seen.add(spec.name)
    return out


def spec_for(name: str, flags: Iterable[str]) -> PropertySpec | None:
    """The variant of ``name`` defined under ``flags``, or None if it is not defined then."""
    return next((p for p in expected_properties(flags) if p.name == name), None)


def playerone_flags(*, connected: bool = True, cooler: bool = True, color: bool = False, st4: bool = False,
                    can_bin: bool = True, sn_known: bool = True, flip: bool = True, sensor_modes: bool = False,
                    controls_auto: bool = True, single_driver: bool = False) -> frozenset[str]:
    """Flags for a Player One camera device as the C++ driver sets them (§3.4 "Capabilities")."""
    flags = {"playerone", "simulation_control", "can_abort", "can_subframe", "streaming", "controls"}
    for flag, on in (("connected", connected), ("cooler", cooler), ("bayer", color), ("st4", st4),
                     ("can_bin", can_bin), ("sn_known", sn_known), ("flip", flip),
                     ("sensor_modes", sensor_modes), ("controls_auto", controls_auto),
                     ("single_driver", single_driver)):
        if on:
            flags.add(flag)
    return frozenset(flags)
