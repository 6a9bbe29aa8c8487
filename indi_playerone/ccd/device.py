"""`PlayerOneCCD`: one INDI camera device, the INDI::CCD equivalent of this driver.

Two-phase lifecycle as in libindi: the always-present properties (names.ALWAYS)
are defined on the first getProperties; the connected-only ones are defined on
connect and deleted on disconnect, chosen by the camera's capabilities. Each
vector owns its handler. Handlers run on the reader thread and only change
settings or start/stop work: exposures run in `ExposureWorker`, temperature
polling in `TemperatureMonitor`. `self.lock` (the Device lock) guards every
vector; the imaging half of the device lives in `imaging.ImagingMixin`.
"""
from __future__ import annotations

import logging
from typing import Any

from ..camera.interface import CameraBackend, CameraError
from ..indi import xmlout
from ..indi.device import Device
from ..indi.logbridge import NOT_TO_CLIENT
from ..indi.properties import State
from . import names as P
from .build import build_vector
from .config import ConfigMixin
from .exposure import ExposureWorker
from .snoop import SnoopedState, absorb, snoop_requests
from .imaging import ImagingMixin
from .cooling import CoolingMixin
from .streaming import StreamingMixin
from .controls import ControlsMixin
from .identity import IdentityMixin
from .guide import GuideMixin
from .temperature import TemperatureMonitor

log = logging.getLogger(__name__)


class PlayerOneCCD(ConfigMixin, CoolingMixin, GuideMixin, ControlsMixin, IdentityMixin,
                   StreamingMixin, ImagingMixin, Device):
    def __init__(self, name: str, camera: CameraBackend, transport: Any, version: str,
                 log_handler: Any = None) -> None:
        super().__init__(name, transport)
        self.camera = camera
        self._log_handler = log_handler  # logbridge.IndiLogHandler: DEBUG turns its debug on
        info = camera.info
        self._initialised = False
        self._connected = False
        self._worker: ExposureWorker | None = None
        self._monitor: TemperatureMonitor | None = None
        self.init_cooling()
        self.init_guide()
        self.fits_records: dict[str, tuple[str, object, str]] = {}
        self.snooped = SnoopedState()

        handlers = {
            "CONNECTION": self._on_connection,
            "DEBUG": self._on_debug,
            "SIMULATION": self._on_simulation,
            "CONFIG_PROCESS": self.on_config_process,
            "CCD_EXPOSURE": self._on_exposure,
            "CCD_ABORT_EXPOSURE": self._on_abort,
            "CCD_FRAME": self._on_frame,
            "CCD_FRAME_RESET": self._on_frame_reset,
            "CCD_BINNING": self._on_binning,
            "FITS_HEADER": self._on_fits_header,
            "CCD_TEMPERATURE": self.on_temperature,
            "CCD_COOLER": self.on_cooler,
            "CCD_CAPTURE_FORMAT": self._on_capture_format,
            "CCD_COMPRESSION": self._on_compression,
            "UPLOAD_MODE": self._on_upload_mode,
            "UPLOAD_SETTINGS": self._on_upload_settings,
            "CCD_FAST_TOGGLE": self._on_fast_toggle,
            "ACTIVE_DEVICES": self._on_active_devices,
            "WCS_CONTROL": self._on_wcs_control,
            **self.stream_handlers(),
            **self.guide_handlers(),
            **self.controls_handlers(),
        }
        self.always = {s.name: build_vector(s, name, handlers.get(s.name)) for s in P.ALWAYS}
        drv = self.always[P.DRIVER_INFO.name]
        drv["DRIVER_VERSION"].value = version
        drv["DRIVER_INTERFACE"].value = str(P.INTERFACE_CCD | (P.INTERFACE_GUIDER if info.has_st4 else 0))

        specs = P.connected_specs(has_cooler=info.has_cooler, is_color=info.is_color,
                                  has_st4=info.has_st4)
        self.props = {
            s.name: build_vector(
                s, name, handlers.get(s.name),
                perm="ro" if s is P.CCD_TEMPERATURE and not info.has_cooler else None)
            for s in specs
        }
        self.file_path = build_vector(P.CCD_FILE_PATH, name)
        self.rotation = build_vector(P.CCD_ROTATION, name)
        self._apply_camera_limits()

    # --- property helpers ---------------------------------------------------------------

    def prop(self, spec: P.PropertySpec) -> Any:
        return self.props[spec.name]

    def _apply_camera_limits(self) -> None:
        """Fill the camera-dependent element limits and values (CCD_INFO, frame, bins...)."""
        info = self.camera.info
        exp = self.prop(P.CCD_EXPOSURE)["CCD_EXPOSURE_VALUE"]
        exp.min, exp.max = info.exposure_range_s
        frame = self.prop(P.CCD_FRAME)
        for elem, top in (("X", info.width - 1), ("Y", info.height - 1),
                          ("WIDTH", info.width), ("HEIGHT", info.height)):
            frame[elem].min = 0 if elem in ("X", "Y") else 1
            frame[elem].max = top
            frame[elem].step = 1
        frame["WIDTH"].value, frame["HEIGHT"].value = info.width, info.height
        binning = self.prop(P.CCD_BINNING)
        for elem in ("HOR_BIN", "VER_BIN"):
            binning[elem].max = max(info.bins)
        ccd_info = self.prop(P.CCD_INFO)
        for elem, value in (("CCD_MAX_X", info.width), ("CCD_MAX_Y", info.height),
                            ("CCD_PIXEL_SIZE", info.pixel_size_um),
                            ("CCD_PIXEL_SIZE_X", info.pixel_size_um),
                            ("CCD_PIXEL_SIZE_Y", info.pixel_size_um),
                            ("CCD_BITSPERPIXEL", 16)):
            ccd_info[elem].value = value
        if info.is_color:
            self.prop(P.CCD_CFA)["CFA_TYPE"].value = info.bayer or "RGGB"

    def _alert(self, vector: Any, message: str, level: str = "ERROR") -> None:
        vector.state = State.ALERT
        self.update(vector, message)
        # The message already reaches the client with the vector; the log record is for stderr.
        log.log(logging.ERROR if level == "ERROR" else logging.WARNING, "%s: %s", self.name,
                message, extra=NOT_TO_CLIENT)

    # --- lifecycle ----------------------------------------------------------------------

    def handle_get_properties(self, name: str | None = None) -> None:
        with self.lock:
            if not self._initialised:
                # First getProperties: define the always-present set (libindi's
                # ISGetProperties), which also answers this request.
                self._initialised = True
                for vector in self.always.values():
                    self.define(vector)
                # libindi loads the always-present saved settings at this point.
                self.load_config_quietly(lambda name: name in self.always)
                self._request_snoops()
                if self._connected:
                    self._define_connected()
                return
        super().handle_get_properties(name)

    def _define_connected(self) -> None:
        for vector in self.props.values():
            self.define(vector)
        if self._uploads_local():
            self.define(self.file_path)
        if self.wcs_enabled():
            self.define(self.rotation)

    def _on_connection(self, vector: Any, values: dict) -> None:
        want = values["CONNECT"]
        if self.warmup_on_connection(vector, want):  # cooling.py: warm-up on disconnect
            return
        if want and not self._connected:
            try:
                self._connect()
            except CameraError as exc:
                vector.set_only("DISCONNECT")
                self._alert(vector, f"Error connecting to the camera: {exc}")
                return
            # The connected-only properties are defined before CONNECTION turns Ok (libindi
            # does it the other way round), so a script that waits for Ok finds them all.
            self._define_connected()
            self.load_config_quietly(lambda name: name in self.props
                                      and name not in P.NOT_LOADED_AT_CONNECT)
            vector.set_only("CONNECT")
            vector.state = State.OK
            self.update(vector)
            self.log(f"{self.camera.info.model} is online (serial {self.camera.info.serial}).")
        elif not want and self._connected:
            self.disconnect()
            vector.set_only("DISCONNECT")
            vector.state = State.IDLE
            self.update(vector)
            self.log("Camera is offline.")
        else:
            vector.state = State.OK if self._connected else State.IDLE
            self.update(vector)

    def _connect(self) -> None:
        self.camera.open()
        try:
            self._push_roi()
            self.camera.set_format(P.CAPTURE_FORMAT_BITS[self.prop(P.CCD_CAPTURE_FORMAT).on_names()[0]])
            self.fan_heater_defaults()  # cooling.py: before CCD_CONTROLS reads the values
            self.controls_connect()  # controls.py: CCD_CONTROLS, presets, FLIP, formats, ...
            self.identity_connect()  # identity.py: ADC_DEPTH, SDK, Serial Number, NICKNAME
        except CameraError:
            self.camera.close()
            raise
        self.apply_stream_limits()  # streaming.py: CCD_STREAM_FRAME from the sensor
        self._connected = True
        self._worker = ExposureWorker(self.camera, self, self.lock, self._progress_period)
        self._monitor = TemperatureMonitor(self.camera, self)
        reading = self._monitor.read_once()
        if reading is not None:
            self.prop(P.CCD_TEMPERATURE)["CCD_TEMPERATURE_VALUE"].value = reading.temperature_c
        self.cooling_connect(reading)  # cooling.py: ambient, the cooler watch
        self.guide_connect()

    def disconnect(self) -> None:
        """Stop the workers, close the camera, delete the connected-only properties."""
        self.stop_streaming_for_disconnect()  # streaming.py: the stream and its recording end
        with self.lock:
            if not self._connected:
                return
            self._connected = False
            self.cooling_disconnect()
            worker, monitor = self._worker, self._monitor
            self._worker = self._monitor = None
        # Join outside the lock: the worker's final reports take it.
        if worker is not None:
            worker.close()
        if monitor is not None:
            monitor.close()
        self.guide_disconnect()  # outputs off before the camera closes
        with self.lock:
            try:
                self.camera.close()
            except CameraError as exc:
                log.warning("closing the camera: %s", exc)
            for name in list(self.props) + [self.file_path.name, self.rotation.name]:
                if self.is_defined(name):
                    self.delete(name)
            if self._prepared is not None:
                self._prepared.close()
                self._prepared = None
            exp = self.prop(P.CCD_EXPOSURE)
            exp.state = State.IDLE
            exp["CCD_EXPOSURE_VALUE"].value = 0

    def _progress_period(self) -> float:
        return self.always[P.POLLING_PERIOD.name]["PERIOD_MS"].value / 1000.0

    # --- options ------------------------------------------------------------------------

    def _on_debug(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        if self._log_handler is not None:
            self._log_handler.debug_enabled = bool(values.get("ENABLE", False))
        self.update(vector)

    def _on_simulation(self, vector: Any, values: dict) -> None:
        if values.get("ENABLE"):
            self._alert(vector, "Simulated cameras are chosen when the driver starts, with the "
                        "environment variable INDI_PLAYERONE_SIMULATE (see the README).", "WARNING")
            return
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)

    # --- snooping (snoop.py) ---------------------------------------------------------------

    def active_devices(self) -> dict[str, str]:
        return dict(self.always[P.ACTIVE_DEVICES.name].values())

    def _request_snoops(self) -> None:
        for device, prop in snoop_requests(self.active_devices()):
            self.transport.send(xmlout.get_properties(device, prop))

    def _on_active_devices(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)
        self.snooped = SnoopedState()
        self._request_snoops()

    def wcs_enabled(self) -> bool:
        return self.prop(P.WCS_CONTROL)["WCS_ENABLE"].on

    def _on_wcs_control(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)
        if self.wcs_enabled() and not self.is_defined(self.rotation.name):
            self.define(self.rotation)
        elif not self.wcs_enabled() and self.is_defined(self.rotation.name):
            self.delete(self.rotation.name)

    def on_snoop(self, element: Any) -> None:
        with self.lock:
            absorb(self.snooped, element, self.active_devices())

    # --- frame geometry -----------------------------------------------------------------

    def _bin(self) -> int:
        return int(self.prop(P.CCD_BINNING)["HOR_BIN"].value)

    def _push_roi(self) -> None:
        """Send CCD_FRAME/CCD_BINNING to the camera and store what it applied (rounded)."""
        frame, b = self.prop(P.CCD_FRAME), self._bin()
        x, y = int(frame["X"].value), int(frame["Y"].value)
        w, h = int(frame["WIDTH"].value), int(frame["HEIGHT"].value)
        roi = self.camera.set_roi(x // b, y // b, w // b, h // b, b)
        frame["X"].value, frame["Y"].value = roi.x * b, roi.y * b
        frame["WIDTH"].value, frame["HEIGHT"].value = roi.width * b, roi.height * b

    def _refuse_while_exposing(self, vector: Any, what: str) -> bool:
        if self.refuse_while_streaming(vector, f"change the {what}"):
            return True
        if self._worker is not None and self._worker.busy:
            self._alert(vector, f"Cannot change the {what} while an exposure is running.")
            return True
        return False

    def _on_frame(self, vector: Any, values: dict) -> None:
        if self._refuse_while_exposing(vector, "frame"):
            return
        new = {k: vector[k].value for k in ("X", "Y", "WIDTH", "HEIGHT")}
        new.update(values)
        if new["X"] < 0 or new["Y"] < 0 or new["WIDTH"] <= 0 or new["HEIGHT"] <= 0:
            self._alert(vector, "Invalid frame: X and Y must be >= 0, width and height > 0.")
            return
        info = self.camera.info
        if new["X"] + new["WIDTH"] > info.width or new["Y"] + new["HEIGHT"] > info.height:
            self._alert(vector, f"Invalid frame: it must fit in the {info.width}x{info.height} sensor.")
            return
        old = {k: vector[k].value for k in new}
        vector.apply(new)
        try:
            self._push_roi()
        except CameraError as exc:
            vector.apply(old)
            self._alert(vector, f"The camera refused the frame: {exc}")
            return
        vector.state = State.OK
        self.update(vector)

    def _on_frame_reset(self, vector: Any, values: dict) -> None:
        vector["RESET"].on = False
        if self._refuse_while_exposing(vector, "frame"):
            return
        info = self.camera.info
        binning, frame = self.prop(P.CCD_BINNING), self.prop(P.CCD_FRAME)
        old_bin = binning["HOR_BIN"].value
        old_frame = {k: frame[k].value for k in ("X", "Y", "WIDTH", "HEIGHT")}
        binning["HOR_BIN"].value = binning["VER_BIN"].value = 1
        frame.apply({"X": 0, "Y": 0, "WIDTH": info.width, "HEIGHT": info.height})
        try:
            self._push_roi()
        except CameraError as exc:  # the camera can still be busy (a stream ending by itself)
            binning["HOR_BIN"].value = binning["VER_BIN"].value = old_bin
            frame.apply(old_frame)
            self._alert(vector, f"The camera refused the full frame: {exc}")
            return
        for v in (binning, frame, vector):
            v.state = State.OK
            self.update(v)

    def _on_binning(self, vector: Any, values: dict) -> None:
        if self._refuse_while_exposing(vector, "binning"):
            return
        # Square binning only, as the camera does it: the X value decides (a client that
        # changes only Y gets Y mirrored into X).
        b = values.get("HOR_BIN", values.get("VER_BIN", vector["HOR_BIN"].value))
        if b != int(b) or int(b) not in self.camera.info.bins:
            self._alert(vector, f"{b:g}x{b:g} binning is invalid; this camera bins "
                        + ", ".join(f"{n}x{n}" for n in self.camera.info.bins) + ".")
            return
        old = vector["HOR_BIN"].value
        vector["HOR_BIN"].value = vector["VER_BIN"].value = int(b)
        try:
            self._push_roi()
        except CameraError as exc:
            vector["HOR_BIN"].value = vector["VER_BIN"].value = old
            self._alert(vector, f"The camera refused {int(b)}x{int(b)} binning: {exc}")
            return
        vector.state = State.OK
        self.update(vector)
        frame = self.prop(P.CCD_FRAME)
        frame.state = State.OK
        self.update(frame)

    def _on_capture_format(self, vector: Any, values: dict) -> None:
        if self._refuse_while_exposing(vector, "capture format"):
            return
        chosen = [n for n, on in values.items() if on][0]
        try:
            self.camera.set_format(P.CAPTURE_FORMAT_BITS[chosen])
        except CameraError as exc:
            self._alert(vector, f"The camera refused {vector[chosen].label}: {exc}")
            return
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)
        info = self.prop(P.CCD_INFO)
        info["CCD_BITSPERPIXEL"].value = P.CAPTURE_FORMAT_BITS[chosen]
        self.update(info)

    # --- exposure -----------------------------------------------------------------------

    def _on_exposure(self, vector: Any, values: dict) -> None:
        if self.refuse_while_streaming(vector, "take an exposure"):
            return
        seconds = values["CCD_EXPOSURE_VALUE"]
        if self.frame_type()[0] == "Bias":
            seconds = vector["CCD_EXPOSURE_VALUE"].min
        assert self._worker is not None
        self.exposure_seconds = seconds
        vector["CCD_EXPOSURE_VALUE"].value = seconds
        vector.state = State.BUSY
        self.update(vector)
        self.log(f"Taking a {seconds:g} seconds frame...")
        self._worker.start(seconds)

    def _on_abort(self, vector: Any, values: dict) -> None:
        vector["ABORT"].on = False
        if self._worker is not None:
            self._worker.abort()
        vector.state = State.OK
        self.update(vector)
        exp = self.prop(P.CCD_EXPOSURE)
        exp["CCD_EXPOSURE_VALUE"].value = 0
        exp.state = State.IDLE
        self.update(exp, "Exposure aborted.")
        count = self.prop(P.CCD_FAST_COUNT)
        if count["FRAMES"].value != 1:
            count["FRAMES"].value = 1
            self.update(count)

    def _on_fast_toggle(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)
        if not values.get("INDI_ENABLED") and self._worker is not None and self._worker.busy:
            # libindi: turning fast exposure off aborts the exposure in progress.
            self._on_abort(self.prop(P.CCD_ABORT_EXPOSURE), {"ABORT": True})

    def exposure_progress(self, seconds_left: float) -> None:
        vector = self.prop(P.CCD_EXPOSURE)
        vector["CCD_EXPOSURE_VALUE"].value = seconds_left
        vector.state = State.BUSY
        self.update(vector)

    def exposure_done(self) -> None:
        vector = self.prop(P.CCD_EXPOSURE)
        vector["CCD_EXPOSURE_VALUE"].value = 0
        vector.state = State.OK
        self.update(vector)

    def exposure_failed(self, message: str) -> None:
        self._alert(self.prop(P.CCD_EXPOSURE), message)

    def next_fast_frame(self) -> bool:
        toggle, count = self.prop(P.CCD_FAST_TOGGLE), self.prop(P.CCD_FAST_COUNT)
        if not toggle["INDI_ENABLED"].on or count["FRAMES"].value <= 1:
            return False
        count["FRAMES"].value -= 1
        count.state = State.BUSY
        self.update(count)
        return True
