"""`PlayerOneCCD`: one INDI camera device, the INDI::CCD equivalent of this driver.

A `DefaultDevice` (indi/defaultdevice.py: the always-present properties, the two-phase
lifecycle, CONFIG_PROCESS) composed of the camera's parts, as libindi composes its
StreamManager into INDI::CCD:

=================  ==============================================================
`FrameSettings`    region, binning, capture format, CCD_INFO, CCD_CFA (frame.py)
`Exposure`         CCD_EXPOSURE, abort, fast exposure; the exposure worker (exposing.py)
`Imaging`          frame -> FITS/native -> client and/or disk (imaging.py)
`Snooping`         ACTIVE_DEVICES and the snooped mount, focuser, wheel (snoop.py)
`Cooling`          temperature, cooler, warm-up; the temperature poll (cooling.py)
`Controls`         CCD_CONTROLS, presets, sensor mode, flip, blink (controls.py)
`Streaming`        libindi's StreamManager family; the stream worker (streaming.py)
`Guiding`          ST4 pulses (guide.py)
`Identity`         ADC depth, SDK, serial number, nickname, USB link (identity.py)
`Recovery`         CCD_USB_RESET: a hung camera reset and reopened (recovery.py)
=================  ==============================================================

Each part owns its vectors and handlers; they reach each other only through what they are
given here (`CameraActivity` for "is the camera busy", the frame settings, the image output,
the blink step, the configuration's save). Handlers run on the reader thread and only change
settings or start/stop work; `self.lock` (the Device lock) guards every vector. This class
only orders the parts' connect and disconnect steps.
"""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from typing import Any

from ..camera.interface import CameraBackend, CameraError
from ..indi.defaultdevice import DefaultDevice, DriverIdentity
from . import names as P
from .activity import CameraActivity
from .controls import Controls
from .cooling import Cooling
from .exposing import Exposure
from .frame import FrameSettings
from .guide import Guiding
from .identity import Identity
from .imaging import Imaging
from .recovery import Recovery
from .snoop import Snooping
from .streaming import Streaming

log = logging.getLogger(__name__)


class PlayerOneCCD(DefaultDevice):
    connect_errors = (CameraError,)
    noun = "camera"
    simulation_hint = ("Simulated cameras are chosen when the driver starts, with the "
                       "environment variable INDI_PLAYERONE_SIMULATE (see the README).")
    not_loaded_at_connect = P.NOT_LOADED_AT_CONNECT
    offline_message = "Camera is offline."

    def __init__(self, name: str, camera: CameraBackend, transport: Any, version: str,
                 log_handler: Any = None) -> None:
        info = camera.info
        interface = P.INTERFACE_CCD | (P.INTERFACE_GUIDER if info.has_st4 else 0)
        connected = P.connected_specs(has_cooler=info.has_cooler, is_color=info.is_color,
                                      has_st4=info.has_st4)
        super().__init__(name, transport,
                         DriverIdentity(P.DRIVER_NAME, P.DRIVER_EXEC, version, interface),
                         always=P.ALWAYS, connected=[*connected, *P.BUILT_AT_CONNECT],
                         on_demand=P.ON_DEMAND, log_handler=log_handler)
        self.camera = camera
        self.activity = CameraActivity(self, camera)
        self.snooping = Snooping(self)
        self.frame = FrameSettings(self, camera, self.activity)
        self.imaging = Imaging(self, camera, self.frame, self.snooping)
        self.controls = Controls(self, camera, self.activity, self.frame,
                                 self.configuration.save_item)
        self.recovery = Recovery(self, camera)
        self.exposure = Exposure(self, camera, self.activity, self.imaging, self.controls,
                                 self.recovery)
        self.cooling = Cooling(self, camera, self.finish_disconnect)
        self.streaming = Streaming(self, camera, self.activity, self.frame)
        self.guiding = Guiding(self, camera)
        self.identity = Identity(self, camera)

    # --- lifecycle ----------------------------------------------------------------------

    def initialised(self) -> None:
        self.snooping.request()

    def define_connected(self) -> None:
        super().define_connected()
        self.imaging.define_on_demand()

    def intercept_connection(self, vector: Any, want: bool) -> bool:
        return self.cooling.warmup.on_connection(vector, want)

    def online_message(self) -> str:
        return f"{self.camera.info.model} is online (serial {self.camera.info.serial})."

    def connect(self) -> None:
        self.camera.open()
        try:
            self.frame.connect()
            self.cooling.fan_heater_defaults()  # before CCD_CONTROLS reads the values
            self.controls.connect()
            self.identity.connect()
        except CameraError:
            self.camera.close()
            raise
        self.streaming.connect()
        self.connected = True
        self.exposure.start()
        self.cooling.start()
        self.guiding.start()

    def disconnect(self) -> None:
        """Stop the workers, close the camera, delete the connected-only properties."""
        self.streaming.disconnect()  # the stream and its recording end first
        with self.lock:
            if not self.connected:
                return
            self.connected = False
            monitor = self.cooling.disconnect()
            worker = self.exposure.detach_worker()
        # Join outside the lock: the workers' final reports take it.
        if worker is not None:
            worker.close()
        if monitor is not None:
            monitor.close()
        self.guiding.disconnect()  # outputs off before the camera closes
        with self.lock:
            try:
                self.camera.close()
            except CameraError as exc:
                log.warning("closing the camera: %s", exc)
            self.delete_connected()
            self.imaging.disconnect()
            self.exposure.reset()

    # --- snooping -----------------------------------------------------------------------

    def on_snoop(self, element: ET.Element) -> None:
        self.snooping.absorb(element)
