"""The imaging half of the CCD device: frame -> FITS (or native) -> disk and/or client.

Kept apart from `device.py` so each stays small. The pixel path makes no
whole-frame Python copies: `write_fits` converts the camera's buffer straight into
the shared-memory payload the BLOB is sent from, and a local save writes that same
payload's memoryview to disk.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ..camera.interface import Frame
from ..indi.payload import SharedPayload
from ..indi.properties import State
from ..indi.transport import BlobItem, TransportClosed
from . import names as P
from .fits import FitsContext, fits_cards, fits_size, parse_fits_header_record, write_fits
from .fitsfz import write_fits_rice
from .snoop import fits_cards as snoop_cards
from .snoop import telescope_optics
from .wcs import wcs_cards
from .upload import UploadError, save_local, validate_prefix

log = logging.getLogger(__name__)

# FITS_HEADER: a record with this name clears the custom keywords (libindi).
CLEAR_KEYWORDS = "INDI_CLEAR"


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


class ImagingMixin:
    """Mixed into PlayerOneCCD; relies on its `prop`, `update`, `_alert`, `lock`, `camera`."""

    _prepared: SharedPayload | None = None  # see prepare_frame

    # --- settings handlers ---------------------------------------------------------------

    def frame_type(self) -> tuple[str, str]:
        on = self.prop(P.CCD_FRAME_TYPE).on_names()[0]
        return P.FRAME_TYPES[on]

    def _uploads_local(self) -> bool:
        return not self.prop(P.UPLOAD_MODE)["UPLOAD_CLIENT"].on

    def _on_upload_mode(self, vector: Any, values: dict) -> None:
        was_local = self._uploads_local()
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)
        if self._uploads_local() and not was_local:
            self.define(self.file_path)
        elif was_local and not self._uploads_local() and self.is_defined(self.file_path.name):
            self.delete(self.file_path.name)

    def _on_upload_settings(self, vector: Any, values: dict) -> None:
        prefix = values.get("UPLOAD_PREFIX", vector["UPLOAD_PREFIX"].value)
        try:
            validate_prefix(prefix)
        except UploadError as exc:
            self._alert(vector, str(exc))
            return
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)

    def _on_fits_header(self, vector: Any, values: dict) -> None:
        key = values.get("KEYWORD_NAME", "").strip()
        if key.upper() == CLEAR_KEYWORDS:
            self.fits_records.clear()
            vector.state = State.OK
            self.update(vector, "Custom FITS keywords cleared.")
            return
        try:
            record = parse_fits_header_record(key, values.get("KEYWORD_VALUE", ""),
                                              values.get("KEYWORD_COMMENT", ""))
        except ValueError as exc:
            self._alert(vector, f"FITS keyword refused: {exc}")
            return
        self.fits_records[record[0]] = record
        vector.state = State.OK
        self.update(vector)

    def _on_compression(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)

    # --- frames ---------------------------------------------------------------------------

    def _fits_context(self, frame: Frame) -> FitsContext:
        info = self.camera.info
        frame_type = self.frame_type()[0]
        bayer = None
        if info.is_color and frame.data.ndim == 2:
            # As libindi: pattern and offsets from CCD_CFA. The camera keeps the pattern
            # anchored at the frame origin for sub-frames and binned frames (the simulator
            # does; to be checked against the SDK on hardware).
            cfa = self.prop(P.CCD_CFA)
            bayer = (cfa["CFA_TYPE"].value, _int(cfa["CFA_OFFSET_X"].value),
                     _int(cfa["CFA_OFFSET_Y"].value))
        scope = self.prop(P.SCOPE_INFO)
        active = self.active_devices()
        mount_fl, mount_ap = telescope_optics(self.snooped, active)
        # Snooped keywords first; the user's FITS_HEADER records win over them.
        custom = {card[0]: card for card in snoop_cards(self.snooped, active, frame.start_utc,
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
            instrument=self.name,
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
        if self.prop(P.CCD_TRANSFER_FORMAT)["FORMAT_NATIVE"].on:
            return data.nbytes, ".bin", None
        cards = fits_cards(self._fits_context(frame))
        if self.prop(P.CCD_COMPRESSION)["INDI_ENABLED"].on:
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
        with self.lock:
            size, _, _ = self._image_plan(probe)
        if size == 0:
            return  # compressed: nothing to prepare
        payload = SharedPayload.allocate(size)
        payload.prefault()
        with self.lock:
            if self._prepared is not None:
                self._prepared.close()
            self._prepared = payload

    def _take_prepared(self, size: int) -> SharedPayload:
        with self.lock:
            payload, self._prepared = self._prepared, None
        if payload is not None and payload.size == size:
            return payload
        if payload is not None:
            payload.close()
        return SharedPayload.allocate(size)

    def _encode(self, frame: Frame) -> tuple[SharedPayload, str]:
        with self.lock:
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

    def exposure_frame(self, frame: Frame, more_follow: bool, aborted: threading.Event) -> bool:
        payload, ext = self._encode(frame)
        with self.lock:
            mode = self.prop(P.UPLOAD_MODE)
            to_client = not mode["UPLOAD_LOCAL"].on
            local = self._uploads_local()
            settings = self.prop(P.UPLOAD_SETTINGS)
            directory, prefix = settings["UPLOAD_DIR"].value, settings["UPLOAD_PREFIX"].value
        saved_ok = True
        if local:
            # Disk I/O outside the device lock: a slow disk must not stall the handlers.
            try:
                path = save_local(payload.view, directory, prefix, ext)
            except UploadError as exc:
                saved_ok = False
                with self.lock:
                    self._alert(self.file_path, f"Saving the image failed: {exc}")
            else:
                with self.lock:
                    self.file_path["FILE_PATH"].value = path
                    self.file_path.state = State.OK
                    self.update(self.file_path)
                    self.log(f"Image saved to {path}")
        with self.lock:
            if aborted.is_set():
                payload.close()
                return False
            if not to_client:
                payload.close()
                if not saved_ok:
                    self._alert(self.prop(P.CCD_EXPOSURE),
                                "The image could not be saved and uploads go to local disk only.")
                    return False
                return True
            try:
                self.transport.send_blob_vector(self.name, P.CCD1.name, State.OK.value,
                                                [BlobItem(P.CCD1.name, ext, payload)])
            except TransportClosed:
                return False
        return True
