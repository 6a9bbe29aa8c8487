"""A camera that stopped answering is brought back without unplugging it (CCD_USB_RESET).

Field reports (indi-3rdparty #1165, #1328) end with a camera whose frames never come and whose
every call times out until the cable is pulled. When the camera's own watchdog gives up on a
frame (its allowance passed twice: ``camera/sdk_exposure.py``) or an SDK call times out, the
exposure worker asks this component, which, with CCD_USB_RESET enabled (the default):

1. says so (WARNING): the camera stopped answering and is being reset;
2. has the camera close itself, reset its USB device (the kernel's usbdevfs reset through
   pyusb; ``SimPOA_UsbReset`` for a simulated camera), reopen and restore this session's
   settings (``CameraBackend.recover``);
3. says the camera answers again (and what could not be restored, if anything), and the
   worker takes the exposure once more; a second failure is reported as it is.

When the reset fails the device is disconnected with the reason: unplugging the camera is what
remains. With CCD_USB_RESET disabled the failure is reported as it is, with a word that the
reset is off.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from ..camera.interface import CameraBackend, CameraError
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from . import names as P

log = logging.getLogger(__name__)


class Recovery(Component):
    vector_table = {"switch": P.CCD_USB_RESET}

    def __init__(self, device: DefaultDevice, camera: CameraBackend) -> None:
        super().__init__(device, camera=camera)

    def enabled(self) -> bool:
        with self.device.lock:
            return bool(self.switch["INDI_ENABLED"].on)

    @handles(P.CCD_USB_RESET)
    def on_switch(self, vector: Any, values: dict) -> None:
        self.device.accept(vector, values)

    def recover(self, reason: str) -> str | None:
        """Called by the exposure worker (no lock held) when the camera stopped answering.
        None when the camera answers again (the worker then tries once more), else the words
        to add to the failure it reports."""
        device = self.device
        if not self.enabled():
            return ("Automatic USB reset is off (CCD_USB_RESET): unplug and replug the camera, "
                    "or enable it.")
        device.log(f"The camera stopped answering ({reason}). Resetting its USB device: close, "
                   "reset, reopen and restore its settings...", "WARNING")
        try:
            missed = self.camera.recover()
        except CameraError as exc:
            text = (f"The USB reset did not bring the camera back ({exc}). Unplug and replug it, "
                    "then connect.")
            device.log(text, "ERROR")
            # Disconnecting joins the exposure worker, which is the caller: from another thread.
            threading.Thread(target=self._disconnect, name="usb-reset-disconnect",
                             daemon=True).start()
            return text
        if missed:
            device.log("The camera answers again after a USB reset; not restored: "
                       f"{'; '.join(missed)}. Taking the exposure again.", "WARNING")
        else:
            device.log("The camera answers again after a USB reset; its settings are restored. "
                       "Taking the exposure again.")
        return None

    def _disconnect(self) -> None:
        try:
            self.device.finish_disconnect()
        except Exception:  # the camera is gone anyway
            log.exception("%s: disconnecting after a failed USB reset", self.device.name)
