"""What a frame is: its region and binning, the capture format, the sensor's data and its
Bayer pattern (CCD_FRAME, CCD_FRAME_RESET, CCD_BINNING, CCD_CAPTURE_FORMAT, CCD_VIDEO_FORMAT,
CCD_INFO, CCD_CFA).

CCD_FRAME is in unbinned pixels, as libindi's; the camera takes the region in binned pixels
and may round it, so what it applied is read back into CCD_FRAME. Binning is square, as the
camera does it. CCD_VIDEO_FORMAT (the C++ driver's) has the same elements as
CCD_CAPTURE_FORMAT and follows it both ways. The streaming component borrows the camera's
region while it streams and puts this one back (:meth:`FrameSettings.push_roi`).
"""
from __future__ import annotations

from typing import Any

from ..camera.interface import CameraBackend, CameraError
from ..indi.component import Component, IfPresent, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from . import names as P
from .activity import CameraActivity

_REGION = ("X", "Y", "WIDTH", "HEIGHT")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def flipped_bayer(pattern: str, horizontal: bool, vertical: bool) -> str:
    """The 2x2 CFA pattern after a flip, as the C++ driver compensates it
    (playerone_base.cpp): H swaps the columns (s1 s0 s3 s2), V the rows (s2 s3 s0 s1), both
    reverse it. Exact for even frame sizes, which the SDK enforces."""
    s = pattern
    if horizontal:
        s = s[1] + s[0] + s[3] + s[2]
    if vertical:
        s = s[2] + s[3] + s[0] + s[1]
    return s


def limit_region(vector: Any, width: int, height: int) -> None:
    """Element limits of a region vector (CCD_FRAME, CCD_STREAM_FRAME) for the sensor."""
    for elem, low, top in (("X", 0, width - 1), ("Y", 0, height - 1), ("WIDTH", 1, width),
                           ("HEIGHT", 1, height)):
        vector.set_limits(elem, low, top, 1)


class FrameSettings(Component):
    vector_table = {"frame": P.CCD_FRAME, "reset": P.CCD_FRAME_RESET, "binning": P.CCD_BINNING,
                    "capture": P.CCD_CAPTURE_FORMAT, "info": P.CCD_INFO,
                    "cfa": IfPresent(P.CCD_CFA)}

    def __init__(self, device: DefaultDevice, camera: CameraBackend,
                 activity: CameraActivity) -> None:
        super().__init__(device, camera=camera, activity=activity)
        info = camera.info
        self.video_format: Any = None  # built at connect from the camera's formats
        limit_region(self.frame, info.width, info.height)
        self.frame["WIDTH"].value, self.frame["HEIGHT"].value = info.width, info.height
        for elem in ("HOR_BIN", "VER_BIN"):
            self.binning.set_limits(elem, self.binning[elem].min, max(info.bins))
        for elem, value in (("CCD_MAX_X", info.width), ("CCD_MAX_Y", info.height),
                            ("CCD_PIXEL_SIZE", info.pixel_size_um),
                            ("CCD_PIXEL_SIZE_X", info.pixel_size_um),
                            ("CCD_PIXEL_SIZE_Y", info.pixel_size_um),
                            ("CCD_BITSPERPIXEL", 16)):
            self.info[elem].value = value
        if self.cfa is not None:
            self.cfa["CFA_TYPE"].value = info.bayer or "RGGB"

    def connect(self) -> None:
        """Send the region, binning and format to the opened camera; CCD_VIDEO_FORMAT from
        the formats it has."""
        self.push_roi()
        self.camera.set_format(self.capture_bits())
        formats = [s for s in self.capture if P.CAPTURE_FORMAT_BITS[s.name] in self.camera.info.formats]
        self.video_format = self.build(P.CCD_VIDEO_FORMAT,
                                       [P.SwitchSpec(s.name, s.label, s.on) for s in formats])
        self.video_format.state = State.OK

    # --- for the other components -------------------------------------------------------

    def bin(self) -> int:
        return int(self.binning["HOR_BIN"].value)

    def capture_bits(self) -> int:
        return P.CAPTURE_FORMAT_BITS[self.capture.on_names()[0]]

    def push_roi(self) -> None:
        """Send CCD_FRAME/CCD_BINNING to the camera and store what it applied (rounded)."""
        frame, b = self.frame, self.bin()
        x, y = int(frame["X"].value), int(frame["Y"].value)
        w, h = int(frame["WIDTH"].value), int(frame["HEIGHT"].value)
        roi = self.camera.set_roi(x // b, y // b, w // b, h // b, b)
        frame["X"].value, frame["Y"].value = roi.x * b, roi.y * b
        frame["WIDTH"].value, frame["HEIGHT"].value = roi.width * b, roi.height * b

    def bayer(self) -> tuple[str, int, int] | None:
        """(pattern, x offset, y offset) from CCD_CFA, as libindi writes BAYERPAT/XBAYROFF/
        YBAYROFF; None for a mono camera."""
        if self.cfa is None:
            return None
        return (self.cfa["CFA_TYPE"].value, _int(self.cfa["CFA_OFFSET_X"].value),
                _int(self.cfa["CFA_OFFSET_Y"].value))

    def cfa_pattern(self) -> str | None:
        """CCD_CFA's CFA_TYPE (None for a mono camera): the SER header's colour ID."""
        return self.cfa["CFA_TYPE"].value if self.cfa is not None else None

    def follow_flip(self, horizontal: bool, vertical: bool, send: bool = True) -> None:
        """CFA_TYPE after the camera's flip changed (so the FITS BAYERPAT stays right)."""
        if self.cfa is None or not self.camera.info.is_color:
            return
        pattern = flipped_bayer(self.camera.info.bayer or "RGGB", horizontal, vertical)
        if self.cfa["CFA_TYPE"].value != pattern:
            self.cfa["CFA_TYPE"].value = pattern
            if send:
                self.device.update(self.cfa)

    # --- handlers -----------------------------------------------------------------------

    @handles(P.CCD_FRAME)
    def on_frame(self, vector: Any, values: dict) -> None:
        if self.activity.refuse_while_imaging(vector, "frame"):
            return
        new = {k: vector[k].value for k in _REGION}
        new.update(values)
        if new["X"] < 0 or new["Y"] < 0 or new["WIDTH"] <= 0 or new["HEIGHT"] <= 0:
            self.device.alert(vector, "Invalid frame: X and Y must be >= 0, width and height > 0.")
            return
        info = self.camera.info
        if new["X"] + new["WIDTH"] > info.width or new["Y"] + new["HEIGHT"] > info.height:
            self.device.alert(vector, f"Invalid frame: it must fit in the {info.width}x"
                                      f"{info.height} sensor.")
            return
        old = {k: vector[k].value for k in new}
        vector.apply(new)
        try:
            self.push_roi()
        except CameraError as exc:
            vector.apply(old)
            self.device.alert(vector, f"The camera refused the frame: {exc}")
            return
        self.device.ok(vector)

    @handles(P.CCD_FRAME_RESET)
    def on_frame_reset(self, vector: Any, values: dict) -> None:
        vector["RESET"].on = False
        if self.activity.refuse_while_imaging(vector, "frame"):
            return
        info = self.camera.info
        binning, frame = self.binning, self.frame
        old_bin = binning["HOR_BIN"].value
        old_frame = {k: frame[k].value for k in _REGION}
        binning["HOR_BIN"].value = binning["VER_BIN"].value = 1
        frame.apply({"X": 0, "Y": 0, "WIDTH": info.width, "HEIGHT": info.height})
        try:
            self.push_roi()
        except CameraError as exc:  # the camera can still be busy (a stream ending by itself)
            binning["HOR_BIN"].value = binning["VER_BIN"].value = old_bin
            frame.apply(old_frame)
            self.device.alert(vector, f"The camera refused the full frame: {exc}")
            return
        for v in (binning, frame, vector):
            self.device.ok(v)

    @handles(P.CCD_BINNING)
    def on_binning(self, vector: Any, values: dict) -> None:
        if self.activity.refuse_while_imaging(vector, "binning"):
            return
        # Square binning only, as the camera does it: the X value decides (a client that
        # changes only Y gets Y mirrored into X).
        b = values.get("HOR_BIN", values.get("VER_BIN", vector["HOR_BIN"].value))
        bins = self.camera.info.bins
        if b != int(b) or int(b) not in bins:
            self.device.alert(vector, f"{b:g}x{b:g} binning is invalid; this camera bins "
                              + ", ".join(f"{n}x{n}" for n in bins) + ".")
            return
        old = vector["HOR_BIN"].value
        vector["HOR_BIN"].value = vector["VER_BIN"].value = int(b)
        try:
            self.push_roi()
        except CameraError as exc:
            vector["HOR_BIN"].value = vector["VER_BIN"].value = old
            self.device.alert(vector, f"The camera refused {int(b)}x{int(b)} binning: {exc}")
            return
        self.device.ok(vector)
        self.device.ok(self.frame)

    @handles(P.CCD_CAPTURE_FORMAT)
    def on_capture_format(self, vector: Any, values: dict) -> None:
        self._set_format(vector, values)
        self._follow_format(vector, self.video_format)

    @handles(P.CCD_VIDEO_FORMAT)
    def on_video_format(self, vector: Any, values: dict) -> None:
        capture = self.capture
        self._set_format(capture, values)
        if capture.state is State.ALERT:
            self.device.alert(vector, capture.message or "The camera refused the format.")
            return
        self._follow_format(capture, vector)

    def _set_format(self, vector: Any, values: dict) -> None:
        """Send the chosen format to the camera; CCD_CAPTURE_FORMAT (`vector`) and CCD_INFO's
        bits per pixel follow, or `vector` turns Alert."""
        if self.activity.refuse_while_imaging(vector, "capture format"):
            return
        chosen = [n for n, on in values.items() if on][0]
        try:
            self.camera.set_format(P.CAPTURE_FORMAT_BITS[chosen])
        except CameraError as exc:
            self.device.alert(vector, f"The camera refused {vector[chosen].label}: {exc}")
            return
        self.device.accept(vector, values)
        self.info["CCD_BITSPERPIXEL"].value = P.CAPTURE_FORMAT_BITS[chosen]
        self.device.update(self.info)

    def _follow_format(self, source: Any, target: Any) -> None:
        if target is None or source.state is State.ALERT:
            return
        target.set_only(source.on_names()[0])
        self.device.ok(target)
