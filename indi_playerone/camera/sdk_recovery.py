"""Bringing back a camera that stopped answering, without unplugging it: close it in the SDK,
reset its USB device, open it again and give it back its settings (:meth:`UsbRecovery.recover`).

A hung camera (indi-3rdparty #1165, #1328: exposures that never end, every call timing out)
needs the cable pulled. The kernel can do the same to the device: ``USBDEVFS_RESET``, which
libusb's ``libusb_reset_device`` issues and pyusb's ``Device.reset`` calls
(:func:`.usb.reset_device`). The camera is closed in the SDK first, so the reset does not take
the device from under a session the SDK still holds; after the reset the SDK is asked to look
at the bus again (``POAGetCameraCount``) and the camera is opened under the same camera ID
(assumed: the SDK keeps a camera's ID while it stays on the same port; a real camera must
confirm it, see the README's "Real cameras").

The simulated SDK models it: its ``hang`` fault makes a camera answer nothing but
``POACloseCamera`` and ``POAGetCameraState`` until ``SimPOA_UsbReset`` (or a replug). That
function is the simulated camera's USB, not an SDK call, so it is called here through the
same seam as pyusb's reset (:func:`default_usb_reset`), never through the SDK binding.

A part of :class:`~.sdk_camera.SdkCamera` over its :class:`~.sdk_session.CameraSession`, whose
lock, handle and remembered settings it uses; the camera's own close (which ends a video run
first) is handed to it.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .interface import CameraError, CameraTimeout, Roi
from .sdk_types import CameraProps, Config, Err, ImgFormat, SdkError

if TYPE_CHECKING:
    from .sdk_binding import SdkLibrary
    from .sdk_session import CameraSession

__all__ = ["UsbRecovery", "UsbReset", "default_usb_reset", "not_answering_said_plainly",
           "REOPEN_S"]

log = logging.getLogger(__name__)

#: Resets the USB device of the camera these properties describe; returns which device (for
#: the log); raises on failure.
UsbReset = Callable[[CameraProps], str]

#: How long the camera may take to be back on the bus after the reset (a real device
#: re-enumerates in well under a second; the margin is for slow hubs).
REOPEN_S = 10.0
REOPEN_TICK_S = 0.5


@contextlib.contextmanager
def not_answering_said_plainly(model: str) -> Iterator[None]:
    """An SDK call other than the frame read answering POA_ERROR_TIMEOUT means the camera
    stopped answering: CameraTimeout, which the driver answers with a USB reset."""
    try:
        yield
    except SdkError as exc:
        if exc.code != Err.TIMEOUT or exc.func == "POAGetImageData":
            raise
        raise CameraTimeout(f"{model} stopped answering ({exc.func}: {exc.text})") from exc


def _simulated_reset(sdk_path: str) -> Callable[[int], int] | None:
    """``SimPOA_UsbReset`` of the simulated SDK library at ``sdk_path`` (already loaded: the
    dynamic loader hands back the same library); None for any other library."""
    try:
        func = ctypes.CDLL(sdk_path).SimPOA_UsbReset
    except (OSError, AttributeError):
        return None
    func.argtypes, func.restype = [ctypes.c_int], ctypes.c_int
    return func


def default_usb_reset(sdk: SdkLibrary) -> UsbReset:
    """The USB reset for cameras of this library: the simulated SDK's ``SimPOA_UsbReset`` when
    the library has it, else pyusb's reset of the device with the camera's product id."""
    sim = _simulated_reset(sdk.path)
    if sim is not None:
        def reset_simulated(props: CameraProps) -> str:
            rc = sim(props.camera_id)
            if rc != 0:
                raise CameraError(f"the simulated USB reset failed: {sdk.error_text(rc)}")
            return f"simulated camera {props.camera_id}"
        return reset_simulated

    def reset_usb(props: CameraProps) -> str:
        from . import usb

        try:
            return usb.reset_device(props.product_id, props.local_path)
        except usb.UsbResetError as exc:
            raise CameraError(str(exc)) from None
    return reset_usb


class UsbRecovery:
    """Reset and reopen one camera. ``close_locked`` closes the camera (lock held);
    ``usb_reset`` replaces the USB device reset (default: :func:`default_usb_reset`)."""

    def __init__(self, session: CameraSession, close_locked: Callable[[], None],
                 usb_reset: UsbReset | None = None) -> None:
        self._s, self._close_locked, self._usb_reset = session, close_locked, usb_reset

    def recover(self, reopen_s: float = REOPEN_S) -> list[str]:
        """Close the camera, reset its USB device, open it again and restore what this session
        set (sensor mode, dead pixel suppression, format, every config set, flip, frame, then the
        cooler). A running exposure or stream ends. Returns what could not be restored (empty
        when all was); CameraError when the reset failed or the camera did not open again
        within ``reopen_s`` (it is left closed: unplugging it is what remains)."""
        s = self._s
        with s.lock:
            roi, fmt = s.roi, s.format
            self._close_locked()
            reset = self._usb_reset or default_usb_reset(s.sdk)
            where = reset(s.props)
            log.info("%s: USB device reset (%s)", s.info.model, where)
            deadline = time.monotonic() + reopen_s
            while True:
                try:
                    s.sdk.camera_count()  # the SDK looks at the bus again
                    s.open_locked()
                    break
                except CameraError as exc:
                    if time.monotonic() >= deadline:
                        raise CameraError(f"{s.info.model} did not open again within "
                                          f"{reopen_s:g} s of the USB reset: {exc}") from exc
                    time.sleep(REOPEN_TICK_S)
            return self._restore_locked(roi, fmt)

    def _restore_locked(self, roi: Roi, fmt: ImgFormat) -> list[str]:
        """Give the reopened camera what the session remembered. Read in place, not copied:
        only the parts' setters change it, under the camera lock that ``recover`` holds
        throughout; the close and reopen keep it, and the handle's calls remember nothing."""
        s = self._s
        h = s.handle
        assert h is not None
        remembered = s.remembered
        settings, mode = remembered.configs, remembered.sensor_mode
        problems: list[str] = []

        def attempt(what: str, step: Callable[[], object]) -> None:
            try:
                step()
            except CameraError as exc:
                problems.append(f"{what}: {exc}")

        if mode is not None:
            attempt("sensor mode", lambda: h.set_sensor_mode(mode))
        dps = remembered.dps
        if dps is not None:  # the reopen turned it on again
            attempt("dead pixel suppression", lambda: h.set_dead_pixel_suppression(dps))

        def set_format() -> None:
            h.set_format(fmt)
            s.format = h.format()
        attempt("format", set_format)
        # The configs in the order they were set, then the frame (None here), the cooler last.
        order: list[int | None] = [cid for cid in settings if cid != Config.COOLER]
        order += [None, *(cid for cid in (Config.COOLER,) if cid in settings)]
        for cid in order:
            if cid is None:
                attempt("frame", lambda: s.apply_roi(h, roi.x, roi.y, roi.width, roi.height, roi.bin))
                continue
            (value, auto), a = settings[cid], s.attrs.get(cid)
            if a is None:
                problems.append(f"config {cid}: the camera no longer lists it")
                continue
            attempt(a.name, lambda a=a, v=value, au=auto: h.set_config(a.config_id, a.value_type, v, au))
        if problems:
            log.warning("%s: after the USB reset, not restored: %s", s.info.model,
                        "; ".join(problems))
        return problems
