"""The image output of the camera device: frame -> FITS (or native) -> disk and/or client.

Owns what decides how a frame becomes an image and where it goes: CCD1, CCD_FRAME_TYPE,
CCD_TRANSFER_FORMAT, CCD_COMPRESSION, FITS_HEADER, SCOPE_INFO, WCS_CONTROL and CCD_ROTATION,
UPLOAD_MODE, UPLOAD_SETTINGS and CCD_FILE_PATH. The pixel path makes no whole-frame Python
copies: `write_fits` converts the camera's buffer straight into the shared-memory payload the
BLOB is sent from, and a local save writes that same payload's memoryview to disk.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np

from ..camera.interface import CameraBackend, Frame
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.payload import SharedPayload
from ..indi.properties import State
from ..indi.transport import BlobItem, TransportClosed
from . import fits_header
from . import names as P
from .fits import FitsContext, fits_cards, fits_size, write_fits
from .fitsfz import write_fits_rice
from .frame import FrameSettings
from .snoop import Snooping
from .wcs import wcs_cards
from .upload import UploadError, save_local, validate_prefix

log = logging.getLogger(__name__)


class Imaging(Component):
    def __init__(self, device: DefaultDevice, camera: CameraBackend, frame: FrameSettings,
                 snooping: Snooping) -> None:
        super().__init__(device)
        self.camera = camera
        self.frame = frame
        self.snooping = snooping
        self.fits_records: dict[str, tuple[str, object, str]] = {}
        self._prepared: SharedPayload | None = None  # see prepare_frame
        self.transfer_format = self.build(P.CCD_TRANSFER_FORMAT)
        self.compression = self.build(P.CCD_COMPRESSION)
        self.blob = self.build(P.CCD1)
        self.frame_type_vector = self.build(P.CCD_FRAME_TYPE)
        self.scope = self.build(P.SCOPE_INFO)
        self.wcs = self.build(P.WCS_CONTROL)
        self.upload_mode = self.build(P.UPLOAD_MODE)
        self.upload_settings = self.build(P.UPLOAD_SETTINGS)
        self.fits_header = self.build(P.FITS_HEADER)
        self.file_path = self.build(P.CCD_FILE_PATH)
        self.rotation = self.build(P.CCD_ROTATION)

    def define_on_demand(self) -> None:
        """At connect: CCD_FILE_PATH while uploads go to disk, CCD_ROTATION while WCS is on."""
        self.device.show(self.file_path, self._uploads_local())
        self.device.show(self.rotation, self.wcs_enabled())

    def disconnect(self) -> None:
        """The camera closed: drop a payload prepared for a frame that will not come."""
        if self._prepared is not None:
            self._prepared.close()
            self._prepared = None

    # --- settings handlers ---------------------------------------------------------------

    def frame_type(self) -> tuple[str, str]:
        on = self.frame_type_vector.on_names()[0]
        return P.FRAME_TYPES[on]

    def _uploads_local(self) -> bool:
        return not self.upload_mode["UPLOAD_CLIENT"].on

    def wcs_enabled(self) -> bool:
        return self.wcs["WCS_ENABLE"].on

    @handles(P.UPLOAD_MODE)
    def on_upload_mode(self, vector: Any, values: dict) -> None:
        was_local = self._uploads_local()
        self.device.accept(vector, values)
        if self._uploads_local() != was_local:
            self.device.show(self.file_path, self._uploads_local())

    @handles(P.UPLOAD_SETTINGS)
    def on_upload_settings(self, vector: Any, values: dict) -> None:
        prefix = values.get("UPLOAD_PREFIX", vector["UPLOAD_PREFIX"].value)
        try:
            validate_prefix(prefix)
        except UploadError as exc:
            self.device.alert(vector, str(exc))
            return
        self.device.accept(vector, values)

    @handles(P.WCS_CONTROL)
    def on_wcs_control(self, vector: Any, values: dict) -> None:
        self.device.accept(vector, values)
        self.device.show(self.rotation, self.wcs_enabled())

    @handles(P.FITS_HEADER)
    def _on_fits_header(self, vector: Any, values: dict) -> None:
        # Either generation's dialect (fits_header.py): 1.9.9's FITS_OBSERVER/FITS_OBJECT or
        # 2.x's one KEYWORD_NAME/VALUE/COMMENT record per write.
        try:
            write = fits_header.parse(values)
        except ValueError as exc:
            self.device.alert(vector, f"FITS keyword refused: {exc}")
            return
        fits_header.apply(self.fits_records, write)
        vector.apply(fits_header.shown_values(self.fits_records))
        vector.state = State.OK
        self.device.update(vector, write.note)

    # --- frames ---------------------------------------------------------------------------

    def _fits_context(self, frame: Frame) -> FitsContext:
        info = self.camera.info
        frame_type = self.frame_type()[0]
        bayer = None
        if info.is_color and frame.data.ndim == 2:
            # As libindi: pattern and offsets from CCD_CFA. The camera keeps the pattern
            # anchored at the frame origin for sub-frames and binned frames (the simulator
            # does; to be checked against the SDK on hardware).
            bayer = self.frame.bayer()
        scope = self.scope
        mount_fl, mount_ap = self.snooping.telescope_optics()
        # Snooped keywords first; the user's FITS_HEADER records win over them.
        custom = {card[0]: card for card in self.snooping.fits_cards(frame.start_utc,
                                                                     frame_type == "Light")}
        focal = scope["FOCAL_LENGTH"].value or mount_fl
        ra, dec = custom.get("RA"), custom.get("DEC")
        if self.wcs_enabled() and ra is not None and dec is not None and focal:
            for card in wcs_cards(ra[1], dec[1], frame.data.shape[-2:],
                                  (info.pixel_size_um, info.pixel_size_um),
                                  (frame.roi.bin, frame.roi.bin), focal,
                                  self.rotation["CCD_ROTATION_VALUE"].value):
                custom[card[0]] = card
        custom.update(self.fits_records)
        return FitsContext(
            instrument=self.device.name,
            exposure_s=frame.exposure_s,
            date_obs=frame.start_utc,
            frame_type=frame_type,
            pixel_size_um=(info.pixel_size_um, info.pixel_size_um),
            binning=(frame.roi.bin, frame.roi.bin),
            gain=frame.gain,
            offset=frame.offset,
            ccd_temp_c=frame.temperature_c,
            bayer=bayer,
            focal_length_mm=focal,
            aperture_mm=scope["APERTURE"].value or mount_ap,
            custom=list(custom.values()),
        )

    def _image_plan(self, frame: Frame) -> tuple[int, str, list | None]:
        """(bytes, extension, FITS cards or None for Native) of the image this frame makes."""
        data = frame.data
        if self.transfer_format["FORMAT_NATIVE"].on:
            return data.nbytes, ".bin", None
        cards = fits_cards(self._fits_context(frame))
        if self.compression["INDI_ENABLED"].on:
            return 0, ".fits.fz", cards  # size known only after compressing
        return fits_size(data.shape, data.dtype.itemsize * 8, cards), ".fits", cards

    def prepare_frame(self, seconds: float) -> None:
        """Called by the exposure worker while the camera exposes: allocate and prefault the
        shared-memory payload the coming image will be written to, so its page faults
        (about 90 ms for a 61 MP frame) are not paid after the exposure ends. The size is
        planned from the current settings; if they change before readout the payload does
        not fit and a fresh one is allocated (correct, just not faster)."""
        roi, bits = self.camera.roi(), self.camera.format()
        shape = (roi.height, roi.width)
        probe = Frame(data=np.empty(shape, dtype=np.uint16 if bits > 8 else np.uint8),
                      roi=roi, bits=bits, exposure_s=seconds,
                      start_utc=datetime.now(timezone.utc), sequence=0,
                      gain=self.camera.gain(), offset=self.camera.offset(),
                      temperature_c=self.camera.temperature())
        with self.device.lock:
            size, _, _ = self._image_plan(probe)
        if size == 0:
            return  # compressed: nothing to prepare
        payload = SharedPayload.allocate(size)
        payload.prefault()
        with self.device.lock:
            if self._prepared is not None:
                self._prepared.close()
            self._prepared = payload

    def _take_prepared(self, size: int) -> SharedPayload:
        with self.device.lock:
            payload, self._prepared = self._prepared, None
        if payload is not None and payload.size == size:
            return payload
        if payload is not None:
            payload.close()
        return SharedPayload.allocate(size)

    def _encode(self, frame: Frame) -> tuple[SharedPayload, str]:
        with self.device.lock:
            size, ext, cards = self._image_plan(frame)
        if cards is None:
            # Native: the raw pixels, little-endian, row by row; one copy into shared memory.
            data = np.ascontiguousarray(frame.data)
            payload = self._take_prepared(size)
            np.copyto(np.frombuffer(payload.view, dtype=data.dtype).reshape(data.shape), data)
            return payload, ext
        if ext == ".fits.fz":
            return write_fits_rice(frame.data, cards), ext
        return write_fits(frame.data, cards, payload_factory=self._take_prepared), ext

    def deliver(self, frame: Frame, aborted: threading.Event, failed: Callable[[str], None]) -> bool:
        """Encode the frame and send it to the client and/or save it; False when it went
        nowhere (aborted meanwhile, the transport closed, or the only destination, the disk,
        failed: then `failed` was told why)."""
        payload, ext = self._encode(frame)
        device = self.device
        with device.lock:
            mode = self.upload_mode
            to_client = not mode["UPLOAD_LOCAL"].on
            local = self._uploads_local()
            settings = self.upload_settings
            directory, prefix = settings["UPLOAD_DIR"].value, settings["UPLOAD_PREFIX"].value
        saved_ok = True
        if local:
            # Disk I/O outside the device lock: a slow disk must not stall the handlers.
            try:
                path = save_local(payload.view, directory, prefix, ext)
            except UploadError as exc:
                saved_ok = False
                device.alert(self.file_path, f"Saving the image failed: {exc}")
            else:
                with device.lock:
                    self.file_path["FILE_PATH"].value = path
                    self.file_path.state = State.OK
                    device.update(self.file_path)
                    device.log(f"Image saved to {path}")
        with device.lock:
            if aborted.is_set():
                payload.close()
                return False
            if not to_client:
                payload.close()
                if not saved_ok:
                    failed("The image could not be saved and uploads go to local disk only.")
                    return False
                return True
            try:
                device.transport.send_blob_vector(device.name, P.CCD1.name, State.OK.value,
                                                  [BlobItem(P.CCD1.name, ext, payload)])
            except TransportClosed:
                return False
        return True
