"""The image output of the camera device: frame -> FITS (or native) -> disk and/or client.

Owns what decides how a frame becomes an image and where it goes: CCD1, CCD_FRAME_TYPE,
CCD_TRANSFER_FORMAT, CCD_COMPRESSION, FITS_HEADER, SCOPE_INFO, WCS_CONTROL and CCD_ROTATION,
UPLOAD_MODE, UPLOAD_SETTINGS and CCD_FILE_PATH. One frame-sized buffer per image: before the
exposure starts, `frame_buffer` allocates the shared-memory payload the BLOB will be sent from
(header room in front) and the camera reads the frame straight into it; the FITS header is
then written in front and the pixels converted where they lie (`fits_inplace.py`), the
client gets that payload and a local save writes it. When the frame is not in the payload
(settings changed meanwhile, compression, a header that outgrew its room), the old path:
`write_fits` converts the camera's buffer into a fresh payload, once.
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
from .fits import FitsContext, fits_cards, write_fits
from .fits_inplace import fits_layout, frame_is_at, write_fits_in_place
from .fitsfz import write_fits_rice
from .frame import FrameSettings
from .snoop import Snooping
from .wcs import wcs_cards
from .upload import UploadError, save_local, validate_prefix

log = logging.getLogger(__name__)


class Imaging(Component):
    vector_table = {"transfer_format": P.CCD_TRANSFER_FORMAT, "compression": P.CCD_COMPRESSION,
                    "blob": P.CCD1, "frame_type_vector": P.CCD_FRAME_TYPE, "scope": P.SCOPE_INFO,
                    "wcs": P.WCS_CONTROL, "upload_mode": P.UPLOAD_MODE,
                    "upload_settings": P.UPLOAD_SETTINGS, "fits_header": P.FITS_HEADER,
                    "file_path": P.CCD_FILE_PATH, "rotation": P.CCD_ROTATION}

    def __init__(self, device: DefaultDevice, camera: CameraBackend, frame: FrameSettings,
                 snooping: Snooping) -> None:
        super().__init__(device, camera=camera, frame=frame, snooping=snooping)
        self.fits_records: dict[str, tuple[str, object, str]] = {}
        # The coming image's payload and the offset the frame goes to (frame_buffer).
        self._prepared: tuple[SharedPayload, int] | None = None

    def define_on_demand(self) -> None:
        """At connect: CCD_FILE_PATH while uploads go to disk, CCD_ROTATION while WCS is on."""
        self.device.show(self.file_path, self._uploads_local())
        self.device.show(self.rotation, self.wcs_enabled())

    def disconnect(self) -> None:
        """The camera closed: drop a payload prepared for a frame that will not come."""
        self._drop_prepared()

    def _drop_prepared(self) -> None:
        with self.device.lock:
            prepared, self._prepared = self._prepared, None
        if prepared is not None:
            prepared[0].close()

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
        self.device.ok(vector, write.note)

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

    def _image_plan(self, frame: Frame) -> tuple[str, list | None]:
        """(extension, FITS cards or None for Native) of the image this frame makes."""
        if self.transfer_format["FORMAT_NATIVE"].on:
            return ".bin", None
        cards = fits_cards(self._fits_context(frame))
        return (".fits.fz" if self.compression["INDI_ENABLED"].on else ".fits"), cards

    def frame_buffer(self, seconds: float) -> memoryview | None:
        """Before the exposure starts: allocate the payload the coming image is sent from,
        laid out for the current settings (header room, then the frame), and answer the
        part the camera reads the frame into. None for a compressed image (its size is
        known only after compressing). Allocating maps the memory; pages come with the
        readout or `prepare_frame`."""
        self._drop_prepared()
        roi, bits = self.camera.roi(), self.camera.format()
        shape = (roi.height, roi.width)
        # A stand-in with the frame's shape and type and no memory (zero strides).
        pixels = np.lib.stride_tricks.as_strided(
            np.zeros(1, dtype=np.uint16 if bits > 8 else np.uint8), shape, (0, 0))
        probe = Frame(data=pixels, roi=roi, bits=bits, exposure_s=seconds,
                      start_utc=datetime.now(timezone.utc), sequence=0,
                      gain=self.camera.gain(), offset=self.camera.offset(),
                      temperature_c=self.camera.temperature())
        with self.device.lock:
            ext, cards = self._image_plan(probe)
        frame_bytes = pixels.nbytes
        if ext == ".fits.fz":  # its size is known only after compressing
            return None
        if cards is None:  # Native: the raw frame is the whole file
            hlen, total = 0, frame_bytes
        else:
            hlen, total = fits_layout(shape, 16 if bits > 8 else 8, cards)
        payload = SharedPayload.allocate(total)
        with self.device.lock:
            self._prepared = (payload, hlen)
        return payload.view[hlen:hlen + frame_bytes]

    def prepare_frame(self, seconds: float) -> None:
        """Called by the exposure worker while the camera exposes: fault the prepared
        payload's pages in (about 70 ms for a 122 MB frame) so they are not paid after the
        exposure ends; without writing them, as the readout may already be filling it."""
        with self.device.lock:
            prepared = self._prepared
        if prepared is not None:
            prepared[0].populate()

    def _take_prepared(self) -> tuple[SharedPayload, int] | None:
        with self.device.lock:
            prepared, self._prepared = self._prepared, None
        return prepared

    def _encode(self, frame: Frame) -> tuple[SharedPayload, str]:
        with self.device.lock:
            ext, cards = self._image_plan(frame)
        prepared = self._take_prepared()
        if prepared is None:
            return self._encode_copy(frame, ext, cards)
        payload, offset = prepared
        if payload.closed or not frame_is_at(payload.view, offset, frame.data):
            payload.close()  # not this frame's: free it before allocating the copy's
            return self._encode_copy(frame, ext, cards)
        try:
            if cards is None:
                if offset == 0 and payload.size == frame.data.nbytes:
                    return payload, ext  # Native: the frame as read is the file
            elif ext == ".fits":
                write_fits_in_place(payload.view, offset, frame.data, cards)
                return payload, ext
        except ValueError as exc:
            log.info("image not built in place (%s): copying the frame once", exc)
        # The frame stays readable: this payload's mapping lives while it is viewed.
        try:
            return self._encode_copy(frame, ext, cards)
        finally:
            payload.close()

    def _encode_copy(self, frame: Frame, ext: str, cards: list | None) -> tuple[SharedPayload, str]:
        """The image in a fresh payload, the frame converted (or copied) into it once."""
        if cards is None:
            # Native: the raw pixels, little-endian, row by row; one copy into shared memory.
            data = np.ascontiguousarray(frame.data)
            payload = SharedPayload.allocate(data.nbytes)
            np.copyto(np.frombuffer(payload.view, dtype=data.dtype).reshape(data.shape), data)
            return payload, ext
        if ext == ".fits.fz":
            return write_fits_rice(frame.data, cards), ext
        return write_fits(frame.data, cards), ext

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
                    device.ok(self.file_path)
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
