"""Every INDI property the camera driver defines, as data, in one place.

Names, element names, labels, groups, perms, rules and timeouts are interface facts:
they match libindi's DefaultDevice and INDI::CCD classes (``libs/indibase/defaultdevice.cpp``,
``indiccd.cpp``, ``stream/streammanager.cpp``) and the Player One C++ driver
(indi-3rdparty ``indi-playerone/playerone_ccd.cpp``), so Ekos, PHD2 and indi-allsky find
what they look for. Values that depend on the camera (frame limits, pixel size, formats)
are filled in by the components when they build the vectors; the specs here hold libindi's
defaults. libindi's DefaultDevice properties are shared with every driver of the package
(:mod:`indi_playerone.indi.names`) and re-exported here.

Nothing else in the camera driver spells a property name as a string literal: code refers
to the constants below (`P.CCD_EXPOSURE`, ...).
"""
from __future__ import annotations

from ..indi.names import (  # noqa: F401  (re-exported: the camera's code reads one module)
    CONFIG_PROCESS, CONNECTION, DEBUG, DRIVER_INFO, GENERAL_INFO, INTERFACE_CCD, INTERFACE_GUIDER,
    MAIN_CONTROL, OPTIONS, POLLING_PERIOD, SIMULATION,
)
from ..indi.spec import BlobSpec, NumberSpec, PropertySpec, SwitchSpec, TextSpec  # noqa: F401
from ..indi.spec import num as _num

# Groups (tabs in the clients) beyond DefaultDevice's.
IMAGE_SETTINGS = "Image Settings"
IMAGE_INFO = "Image Info"
CONTROLS = "Controls"

DRIVER_NAME = "PlayerOne CCD"
DRIVER_EXEC = "indi_playerone_ccd"
DEVICE_PREFIX = "PlayerOne CCD "


# --- INDI::CCD's, defined before connection -----------------------------------------------

ACTIVE_DEVICES = PropertySpec(
    "Text", "ACTIVE_DEVICES", "Snoop devices", OPTIONS, "rw", 60,
    (TextSpec("ACTIVE_TELESCOPE", "Telescope", "Telescope Simulator"),
     TextSpec("ACTIVE_ROTATOR", "Rotator", "Rotator Simulator"),
     TextSpec("ACTIVE_FOCUSER", "Focuser", "Focuser Simulator"),
     TextSpec("ACTIVE_FILTER", "Filter", "CCD Simulator"),
     TextSpec("ACTIVE_SKYQUALITY", "Sky Quality", "SQM")),
    saved=True,
)

ALWAYS = (CONNECTION, DRIVER_INFO, DEBUG, SIMULATION, CONFIG_PROCESS, POLLING_PERIOD, ACTIVE_DEVICES)

# --- INDI::CCD: defined while connected ------------------------------------------------

CCD_EXPOSURE = PropertySpec(
    "Number", "CCD_EXPOSURE", "Expose", MAIN_CONTROL, "rw", 60,
    (_num("CCD_EXPOSURE_VALUE", "Duration (s)", "%5.2f", 0.01, 3600, 1, 1),),
)
CCD_ABORT_EXPOSURE = PropertySpec(
    "Switch", "CCD_ABORT_EXPOSURE", "Abort", MAIN_CONTROL, "rw", 60,
    (SwitchSpec("ABORT", "Abort"),), rule="AtMostOne",
)
CCD_FRAME = PropertySpec(
    "Number", "CCD_FRAME", "Frame", IMAGE_SETTINGS, "rw", 60,
    (_num("X", "Left ", "%4.0f", 0, 0, 0, 0), _num("Y", "Top", "%4.0f", 0, 0, 0, 0),
     _num("WIDTH", "Width", "%4.0f", 0, 0, 0, 0), _num("HEIGHT", "Height", "%4.0f", 0, 0, 0, 0)),
    saved=True,
)
CCD_FRAME_RESET = PropertySpec(
    "Switch", "CCD_FRAME_RESET", "Frame Values", IMAGE_SETTINGS, "wo", 0,
    (SwitchSpec("RESET", "Reset"),), rule="OneOfMany",
)
CCD_BINNING = PropertySpec(
    "Number", "CCD_BINNING", "Binning", IMAGE_SETTINGS, "rw", 60,
    (_num("HOR_BIN", "X", "%2.0f", 1, 4, 1, 1), _num("VER_BIN", "Y", "%2.0f", 1, 4, 1, 1)),
    saved=True,
)
FITS_HEADER = PropertySpec(
    "Text", "FITS_HEADER", "FITS Header", GENERAL_INFO, "rw", 60,
    (TextSpec("KEYWORD_NAME", "Name"), TextSpec("KEYWORD_VALUE", "Value"),
     TextSpec("KEYWORD_COMMENT", "Comment"),
     TextSpec("FITS_OBSERVER", "Observer"), TextSpec("FITS_OBJECT", "Object")),
    notes="both generations' shapes: libindi 2.x's record elements first, then 1.9.9's; rw as "
          "1.9.9 (2.x: wo). fits_header.py reads either dialect; docs/indi-generations.md",
)
CCD_TEMPERATURE = PropertySpec(
    "Number", "CCD_TEMPERATURE", "Temperature", MAIN_CONTROL, "rw", 60,
    (_num("CCD_TEMPERATURE_VALUE", "Temperature (C)", "%5.2f", -50, 50, 0, 0),),
    notes="rw with a cooler, ro without (the Player One driver defines it ro itself)",
)
CCD_TEMP_RAMP = PropertySpec(
    "Number", "CCD_TEMP_RAMP", "Temp. Ramp", MAIN_CONTROL, "rw", 60,
    (_num("RAMP_SLOPE", "Max. dT (C/min)", "%.f", 0, 30, 1, 0),
     _num("RAMP_THRESHOLD", "Threshold (C)", "%.1f", 0.1, 2, 0.1, 0.2)),
    saved=True,
)
CCD_CAPTURE_FORMAT = PropertySpec(
    "Switch", "CCD_CAPTURE_FORMAT", "Format", IMAGE_SETTINGS, "rw", 60,
    (SwitchSpec("POA_RAW8", "Raw 8 bit"), SwitchSpec("POA_RAW16", "Raw 16 bit", True)),
    rule="OneOfMany", saved=True,
)
CCD_TRANSFER_FORMAT = PropertySpec(
    "Switch", "CCD_TRANSFER_FORMAT", "Encode", IMAGE_SETTINGS, "rw", 60,
    (SwitchSpec("FORMAT_FITS", "FITS", True), SwitchSpec("FORMAT_NATIVE", "Native")),
    rule="OneOfMany", saved=True,
)
CCD_INFO = PropertySpec(
    "Number", "CCD_INFO", "CCD Information", IMAGE_INFO, "ro", 60,
    (_num("CCD_MAX_X", "Max. Width", "%.f", 1, 16000, 0, 0),
     _num("CCD_MAX_Y", "Max. Height", "%.f", 1, 16000, 0, 0),
     _num("CCD_PIXEL_SIZE", "Pixel size (um)", "%.2f", 1, 40, 0, 0),
     _num("CCD_PIXEL_SIZE_X", "Pixel size X", "%.2f", 1, 40, 0, 0),
     _num("CCD_PIXEL_SIZE_Y", "Pixel size Y", "%.2f", 1, 40, 0, 0),
     _num("CCD_BITSPERPIXEL", "Bits per pixel", "%.f", 8, 64, 0, 0)),
)
CCD_COMPRESSION = PropertySpec(
    "Switch", "CCD_COMPRESSION", "Compression", IMAGE_SETTINGS, "rw", 60,
    (SwitchSpec("INDI_ENABLED", "Enabled"), SwitchSpec("INDI_DISABLED", "Disabled", True)),
    rule="OneOfMany", saved=True,
)
CCD1 = PropertySpec(
    "BLOB", "CCD1", "Image Data", IMAGE_INFO, "ro", 60, (BlobSpec("CCD1", "Image"),),
)
CCD_FRAME_TYPE = PropertySpec(
    "Switch", "CCD_FRAME_TYPE", "Type", IMAGE_SETTINGS, "rw", 60,
    (SwitchSpec("FRAME_LIGHT", "Light", True), SwitchSpec("FRAME_BIAS", "Bias"),
     SwitchSpec("FRAME_DARK", "Dark"), SwitchSpec("FRAME_FLAT", "Flat")),
    rule="OneOfMany",
)
CCD_CFA = PropertySpec(
    "Text", "CCD_CFA", "Bayer Info", IMAGE_INFO, "rw", 60,
    (TextSpec("CFA_OFFSET_X", "X Offset", "0"), TextSpec("CFA_OFFSET_Y", "Y Offset", "0"),
     TextSpec("CFA_TYPE", "Filter")),
    saved=True,
)
SCOPE_INFO = PropertySpec(
    "Number", "SCOPE_INFO", "Scope", OPTIONS, "rw", 60,
    (_num("FOCAL_LENGTH", "Focal Length (mm)", "%g", 0, 10000, 1, 0),
     _num("APERTURE", "Aperture (mm)", "%g", 0, 3000, 1, 0)),
    saved=True,
)
WCS_CONTROL = PropertySpec(
    "Switch", "WCS_CONTROL", "WCS", "WCS", "rw", 0,
    (SwitchSpec("WCS_ENABLE", "Enable"), SwitchSpec("WCS_DISABLE", "Disable", True)),
    rule="OneOfMany",
)
CCD_ROTATION = PropertySpec(
    "Number", "CCD_ROTATION", "Orientation", "WCS", "rw", 60,
    (_num("CCD_ROTATION_VALUE", "Angle", "%.2f", -360, 360, 1, 0),),
)
UPLOAD_MODE = PropertySpec(
    "Switch", "UPLOAD_MODE", "Upload", OPTIONS, "rw", 0,
    (SwitchSpec("UPLOAD_CLIENT", "Client", True), SwitchSpec("UPLOAD_LOCAL", "Local"),
     SwitchSpec("UPLOAD_BOTH", "Both")),
    rule="OneOfMany", saved=True,
)
UPLOAD_SETTINGS = PropertySpec(
    "Text", "UPLOAD_SETTINGS", "Upload Settings", OPTIONS, "rw", 60,
    (TextSpec("UPLOAD_DIR", "Dir"), TextSpec("UPLOAD_PREFIX", "Prefix", "IMAGE_XXX")),
    saved=True,
)
CCD_FILE_PATH = PropertySpec(
    "Text", "CCD_FILE_PATH", "Filename", IMAGE_INFO, "ro", 60, (TextSpec("FILE_PATH", "Path"),),
)
CCD_FAST_TOGGLE = PropertySpec(
    "Switch", "CCD_FAST_TOGGLE", "Fast Exposure", OPTIONS, "rw", 0,
    (SwitchSpec("INDI_ENABLED", "Enabled"), SwitchSpec("INDI_DISABLED", "Disabled", True)),
    rule="OneOfMany", saved=True,
)
CCD_FAST_COUNT = PropertySpec(
    "Number", "CCD_FAST_COUNT", "Fast Count", OPTIONS, "rw", 0,
    (_num("FRAMES", "Frames", "%.f", 0, 100000, 1, 1),),
)

# --- The Player One C++ driver's own (indi-playerone/playerone_base.cpp) ------------------

CCD_COOLER = PropertySpec(
    "Switch", "CCD_COOLER", "Cooler", MAIN_CONTROL, "wo", 0,
    (SwitchSpec("COOLER_ON", "ON"), SwitchSpec("COOLER_OFF", "OFF", True)),
    rule="OneOfMany", saved=True,
)
CCD_COOLER_POWER = PropertySpec(
    "Number", "CCD_COOLER_POWER", "Cooling Power", MAIN_CONTROL, "ro", 60,
    (_num("CCD_COOLER_VALUE", "Cooling Power (%)", "%+06.2f", 0, 100, 1, 0),),
    notes="the C++ driver's min/max come from a wrong POAConfig index; 0..100 here",
)

# --- Warm-up on disconnect (ours), ST4 guiding (libindi's GuiderInterface) ------------------

#: Warm-up on disconnect: not in libindi nor the C++ driver (which cuts the cooler at once);
#: off by default as there. Saved, so a user who wants it sets it once.
CCD_WARMUP = PropertySpec(
    "Switch", "CCD_WARMUP_ON_DISCONNECT", "Warm up on disconnect", MAIN_CONTROL, "rw", 0,
    (SwitchSpec("INDI_ENABLED", "Enabled"), SwitchSpec("INDI_DISABLED", "Disabled", True)),
    rule="OneOfMany", saved=True,
    notes="ours: ramp the setpoint towards ambient before the cooler goes off",
)
CCD_WARMUP_SETTINGS = PropertySpec(
    "Number", "CCD_WARMUP_SETTINGS", "Warm-up", MAIN_CONTROL, "rw", 0,
    (_num("WARMUP_RATE", "Rate (C/min)", "%.1f", 0.5, 30, 0.5, 5),
     _num("WARMUP_MAX_MIN", "Longest (min)", "%.1f", 0.1, 15, 0.5, 10)),
    saved=True,
    notes="ours: the warm-up ends at ambient or after WARMUP_MAX_MIN, whichever comes first",
)
#: Ours: what the driver does when the camera stops answering (the watchdog gave up on a frame,
#: or SDK calls time out): close it, reset its USB device, reopen it, restore its settings and
#: take the exposure again (ccd/recovery.py). On by default; saved, so a user who wants to see
#: the failure as it is turns it off once.
CCD_USB_RESET = PropertySpec(
    "Switch", "CCD_USB_RESET", "Reset USB when hung", OPTIONS, "rw", 0,
    (SwitchSpec("INDI_ENABLED", "Enabled", True), SwitchSpec("INDI_DISABLED", "Disabled")),
    rule="OneOfMany", saved=True,
    notes="ours: close, USB device reset (usbdevfs through pyusb), reopen, restore settings",
)
GUIDER_GROUP = "Guider Control"
TELESCOPE_TIMED_GUIDE_NS = PropertySpec(
    "Number", "TELESCOPE_TIMED_GUIDE_NS", "Guide N/S", GUIDER_GROUP, "rw", 60,
    (_num("TIMED_GUIDE_N", "North (ms)", "%.f", 0, 60000, 100, 0),
     _num("TIMED_GUIDE_S", "South (ms)", "%.f", 0, 60000, 100, 0)),
)
TELESCOPE_TIMED_GUIDE_WE = PropertySpec(
    "Number", "TELESCOPE_TIMED_GUIDE_WE", "Guide E/W", GUIDER_GROUP, "rw", 60,
    (_num("TIMED_GUIDE_W", "West (ms)", "%.f", 0, 60000, 100, 0),
     _num("TIMED_GUIDE_E", "East (ms)", "%.f", 0, 60000, 100, 0)),
)

# --- Streaming (libindi's libs/indibase/stream/streammanager.cpp) -------------------------

STREAMING = "Streaming"
CCD_VIDEO_STREAM = PropertySpec(
    "Switch", "CCD_VIDEO_STREAM", "Video Stream", STREAMING, "rw", 0,
    (SwitchSpec("STREAM_ON", "Stream On"), SwitchSpec("STREAM_OFF", "Stream Off", True)),
    rule="OneOfMany",
)
STREAM_FULL_DEPTH = PropertySpec(
    "Switch", "STREAM_FULL_DEPTH", "Stream Depth", STREAMING, "rw", 0,
    (SwitchSpec("FULL_DEPTH_8BIT", "8-bit", True), SwitchSpec("FULL_DEPTH_16BIT", "16-bit")),
    rule="OneOfMany", saved=True,
    notes="ours: the camera streams in 8-bit (full frame rate) or 16-bit frames",
)
STREAM_DELAY = PropertySpec(
    "Number", "STREAM_DELAY", "Video Stream Delay", STREAMING, "ro", 0,
    (_num("STREAM_DELAY_TIME", "Delay (s)", "%.3f", 0, 60, 0.001, 0),),
)
STREAMING_EXPOSURE = PropertySpec(
    "Number", "STREAMING_EXPOSURE", "Expose", STREAMING, "rw", 60,
    (_num("STREAMING_EXPOSURE_VALUE", "Duration (s)", "%.6f", 1e-6, 60, 0.1, 0.1),
     _num("STREAMING_DIVISOR_VALUE", "Divisor", "%.f", 1, 15, 1, 1)),
)
FPS = PropertySpec(
    "Number", "FPS", "FPS", STREAMING, "ro", 60,
    (_num("EST_FPS", "Instant.", "%.2f", 0, 999, 0, 0),
     _num("AVG_FPS", "Average (1 sec.)", "%.2f", 0, 999, 0, 0)),
)
RECORD_STREAM = PropertySpec(
    "Switch", "RECORD_STREAM", "Video Record", STREAMING, "rw", 0,
    (SwitchSpec("RECORD_ON", "Record On"), SwitchSpec("RECORD_DURATION_ON", "Record (Duration)"),
     SwitchSpec("RECORD_FRAME_ON", "Record (Frames)"), SwitchSpec("RECORD_OFF", "Record Off", True)),
    rule="OneOfMany",
)
RECORD_FILE = PropertySpec(
    "Text", "RECORD_FILE", "Record File", STREAMING, "rw", 0,
    (TextSpec("RECORD_FILE_DIR", "Dir.", "$HOME/Videos/indi__D_"),
     TextSpec("RECORD_FILE_NAME", "Name", "indi_record__T_")),
    saved=True,
)
RECORD_OPTIONS = PropertySpec(
    "Number", "RECORD_OPTIONS", "Record Options", STREAMING, "rw", 60,
    (_num("RECORD_DURATION", "Duration (sec)", "%.3f", 0.001, 999999, 0, 1),
     _num("RECORD_FRAME_TOTAL", "Frames", "%.f", 1, 999999999, 1, 30)),
    saved=True,
)
CCD_STREAM_FRAME = PropertySpec(
    "Number", "CCD_STREAM_FRAME", "Frame", STREAMING, "rw", 60,
    (_num("X", "Left", "%.f", 0, 0, 0, 0), _num("Y", "Top", "%.f", 0, 0, 0, 0),
     _num("WIDTH", "Width", "%.f", 0, 0, 0, 0), _num("HEIGHT", "Height", "%.f", 0, 0, 0, 0)),
)
CCD_STREAM_ENCODER = PropertySpec(
    "Switch", "CCD_STREAM_ENCODER", "Encoder", STREAMING, "rw", 0,
    (SwitchSpec("RAW", "RAW", True), SwitchSpec("MJPEG", "MJPEG")),
    rule="OneOfMany", saved=True, notes="MJPEG is listed (clients expect it) but refused",
)
CCD_STREAM_RECORDER = PropertySpec(
    "Switch", "CCD_STREAM_RECORDER", "Recorder", STREAMING, "rw", 0,
    (SwitchSpec("SER", "SER", True),), rule="OneOfMany", saved=True,
    notes="OGV exists in libindi only when built with theora; not here",
)
LIMITS = PropertySpec(
    "Number", "LIMITS", "Limits", STREAMING, "rw", 0,
    (_num("LIMITS_BUFFER_MAX", "Maximum Buffer Size (MB)", "%.0f", 1, 65536, 1, 512),
     _num("LIMITS_PREVIEW_FPS", "Maximum Preview FPS", "%.0f", 1, 120, 1, 10)),
    saved=True,
)
STREAM_SPECS = (CCD_VIDEO_STREAM, STREAM_FULL_DEPTH, STREAM_DELAY, STREAMING_EXPOSURE, FPS,
                RECORD_STREAM, RECORD_FILE, RECORD_OPTIONS, CCD_STREAM_FRAME, CCD_STREAM_ENCODER,
                CCD_STREAM_RECORDER, LIMITS)

# --- Controls, presets, formats, flip, identity (the C++ driver's playerone_base.cpp) -------
# Elements of CCD_CONTROLS, CCD_CONTROLS_MODE, SENSOR_MODE, CCD_VIDEO_FORMAT and the preset
# labels depend on the opened camera: the components build them at connect from these specs.

CCD_CONTROLS = PropertySpec(
    "Number", "CCD_CONTROLS", "Controls", CONTROLS, "rw", 60, (), saved=True,
    notes="one element per camera control, name = label = the SDK's szConfName",
)
CCD_CONTROLS_MODE = PropertySpec(
    "Switch", "CCD_CONTROLS_MODE", "Set Auto", CONTROLS, "rw", 60, (), rule="AnyOfMany",
    saved=True, notes="AUTO_<name> for each control that supports auto",
)
#: Ours (the C++ driver has none; INDIGO calls its version X_PRESETS): the manual's four
#: recommended gain/offset pairs, and Manual. Element -> key of camera.interface.PRESET_KEYS.
CCD_GAIN_PRESET = PropertySpec(
    "Switch", "CCD_GAIN_PRESET", "Gain Preset", CONTROLS, "rw", 60,
    (SwitchSpec("PRESET_HIGHEST_DR", "Highest Dynamic Range"), SwitchSpec("PRESET_HCG", "HCG"),
     SwitchSpec("PRESET_UNITY", "Unity"), SwitchSpec("PRESET_LOWEST_RN", "Lowest Read Noise"),
     SwitchSpec("PRESET_MANUAL", "Manual", True)),
    rule="OneOfMany", saved=True,
)
GAIN_PRESET_KEYS = {"PRESET_HIGHEST_DR": "highest_dr", "PRESET_HCG": "hcg",
                    "PRESET_UNITY": "unity", "PRESET_LOWEST_RN": "lowest_rn"}
GAIN_PRESET_MANUAL = "PRESET_MANUAL"
FLIP = PropertySpec(
    "Switch", "FLIP", "Flip", CONTROLS, "rw", 60,
    (SwitchSpec("FLIP_HORIZONTAL", "Horizontal"), SwitchSpec("FLIP_VERTICAL", "Vertical")),
    rule="AnyOfMany", saved=True,
)
#: Ours: the SDK's dead pixel suppression (POASetEnableDPS, PlayerOneCamera.h of SDK 3.7.0): the
#: camera corrects the pixels its flash lists. The SDK's POAInitCamera turns it on and has no
#: getter, so after connect it shows On with state Idle (the SDK's setting, not one made here).
DEAD_PIXEL_SUPPRESSION = PropertySpec(
    "Switch", "DEAD_PIXEL_SUPPRESSION", "Dead Pixels", CONTROLS, "rw", 60,
    (SwitchSpec("INDI_ENABLED", "Suppress", True), SwitchSpec("INDI_DISABLED", "Keep")),
    rule="OneOfMany", saved=True, notes="defined only when the SDK exports POASetEnableDPS",
)
CCD_VIDEO_FORMAT = PropertySpec(
    "Switch", "CCD_VIDEO_FORMAT", "Format", CONTROLS, "rw", 60,
    (SwitchSpec("POA_RAW8", "Raw 8 bit"), SwitchSpec("POA_RAW16", "Raw 16 bit", True)),
    rule="OneOfMany", saved=True, notes="the camera's formats; in step with CCD_CAPTURE_FORMAT",
)
BLINK = PropertySpec(
    "Number", "BLINK", "Blink", CONTROLS, "rw", 60,
    (_num("BLINK_COUNT", "Blinks before exposure", "%2.0f", 0, 100, 1, 0),
     _num("BLINK_DURATION", "Blink duration", "%2.3f", 0, 60, 0.001, 0)),
    saved=True,
)
ADC_DEPTH = PropertySpec(
    "Number", "ADC_DEPTH", "ADC Depth", IMAGE_INFO, "ro", 60,
    (_num("BITS", "Bits", "%2.0f", 0, 32, 1, 0),),
)
SDK = PropertySpec(
    "Text", "SDK", "SDK", GENERAL_INFO, "ro", 60, (TextSpec("VERSION", "Version"),),
)
SERIAL_NUMBER = PropertySpec(
    "Text", "Serial Number", "Serial Number", GENERAL_INFO, "ro", 60, (TextSpec("SN#", "SN#"),),
    notes="the name holds a space, as the C++ driver's",
)
NICKNAME = PropertySpec(
    "Text", "NICKNAME", "Nickname", GENERAL_INFO, "rw", 60, (TextSpec("nickname", "nickname"),),
    notes="kept in ~/.indi/PlayerOneNicknames.xml by serial number; the device name at next start",
)
SENSOR_MODE = PropertySpec(
    "Switch", "SENSOR_MODE", "Sensor Mode", CONTROLS, "rw", 60, (), rule="OneOfMany", saved=True,
    notes="MODE_0 ... MODE_<n-1>, labels = the camera's mode names",
)
#: Ours: the SDK's user custom ID (POASetUserCustomID, 16 bytes in the camera's flash). The SDK
#: shows it in cameraModelName as "Model [ID]", which is the device name both drivers give it at
#: their next start, on any computer (INDIGO calls its version X_CUSTOM_SUFFIX); a nickname for
#: the serial (NICKNAME) still wins.
USER_CUSTOM_ID = PropertySpec(
    "Text", "USER_CUSTOM_ID", "Name in camera", GENERAL_INFO, "rw", 60,
    (TextSpec("ID", "Name (16 bytes)"),),
    notes="defined only when the SDK has POASetUserCustomID",
)
#: Ours: the manual's check for slow downloads ("check if connection is USB3.0").
USB_LINK = PropertySpec(
    "Text", "USB_LINK", "USB Link", GENERAL_INFO, "ro", 60, (TextSpec("USB_LINK_SPEED", "Speed"),),
)

# Frame types: switch element -> (FITS FRAME value, FITS IMAGETYP value)
FRAME_TYPES = {
    "FRAME_LIGHT": ("Light", "Light Frame"),
    "FRAME_BIAS": ("Bias", "Bias Frame"),
    "FRAME_DARK": ("Dark", "Dark Frame"),
    "FRAME_FLAT": ("Flat", "Flat Frame"),
}

# Capture formats: switch element -> bits per pixel of the delivered data.
CAPTURE_FORMAT_BITS = {"POA_RAW8": 8, "POA_RAW16": 16}


# Saved properties that are NOT applied when a camera connects: the client sets the
# frame and binning it wants for each capture (libindi does not load them either).
NOT_LOADED_AT_CONNECT = frozenset({CCD_FRAME.name, CCD_BINNING.name})

#: Built at each connect from what the opened camera reports (present or not, by camera), and
#: defined after the connected_specs() set in this order, as the C++ driver defines them.
BUILT_AT_CONNECT = (CCD_CONTROLS, CCD_CONTROLS_MODE, CCD_GAIN_PRESET, FLIP, DEAD_PIXEL_SUPPRESSION,
                    CCD_VIDEO_FORMAT, BLINK, ADC_DEPTH, SDK, SERIAL_NUMBER, NICKNAME,
                    USER_CUSTOM_ID, USB_LINK, SENSOR_MODE)

#: Defined while a setting asks for them: CCD_FILE_PATH while UPLOAD_MODE saves to disk,
#: CCD_ROTATION while WCS_CONTROL is enabled (as libindi).
ON_DEMAND = (CCD_FILE_PATH, CCD_ROTATION)


def connected_specs(*, has_cooler: bool, is_color: bool, has_st4: bool = False,
                    streaming: bool = True) -> list[PropertySpec]:
    """The connected-only properties, in libindi's order of definition, for these capabilities.

    CCD_TEMPERATURE is always present (ro without a cooler, as the Player One
    driver does); CCD_TEMP_RAMP needs a cooler; CCD_CFA needs a colour sensor.
    CCD_FILE_PATH and CCD_ROTATION are not listed: they exist only while UPLOAD_MODE is
    Local or Both, and while WCS_CONTROL is enabled.
    """
    specs = [CCD_EXPOSURE, CCD_ABORT_EXPOSURE, CCD_FRAME, CCD_FRAME_RESET, CCD_BINNING,
             FITS_HEADER, CCD_TEMPERATURE]
    if has_cooler:
        specs.append(CCD_TEMP_RAMP)
    specs += [CCD_CAPTURE_FORMAT, CCD_TRANSFER_FORMAT, CCD_INFO, CCD_COMPRESSION, CCD1,
              CCD_FRAME_TYPE]
    if is_color:
        specs.append(CCD_CFA)
    specs += [SCOPE_INFO, WCS_CONTROL, UPLOAD_MODE, UPLOAD_SETTINGS, CCD_FAST_TOGGLE,
              CCD_FAST_COUNT]
    if streaming:  # libindi's StreamManager defines its family right after INDI::CCD's
        specs += list(STREAM_SPECS)
    if has_cooler:
        specs += [CCD_COOLER_POWER, CCD_COOLER, CCD_WARMUP, CCD_WARMUP_SETTINGS]
    if has_st4:  # libindi's GuiderInterface, defined with the camera's ST4 port
        specs += [TELESCOPE_TIMED_GUIDE_NS, TELESCOPE_TIMED_GUIDE_WE]
    specs.append(CCD_USB_RESET)
    return specs
