"""Camera controls of a device: CCD_CONTROLS, CCD_CONTROLS_MODE, the gain/offset presets
(CCD_GAIN_PRESET), SENSOR_MODE, FLIP, DEAD_PIXEL_SUPPRESSION and BLINK.

Every vector here is built at connect from what the opened camera reports (names, ranges,
auto support, modes, formats), through the neutral camera interface, so the simulator and the
vendor SDK give the same properties. Behaviour, with the reason for each choice:

- CCD_CONTROLS: clients (Ekos `setGain`, indi-allsky) send the whole vector, so only elements
  whose value changed by at least 0.01 (the C++ driver's test) are sent to the camera; an
  unchanged element would otherwise switch an auto control back to manual. A refused value
  reverts the elements already applied (the camera too), then Alert with the camera's reason.
  Applied values are read back from the camera (it may round them). As the C++ driver, a
  change is saved to the config file at once (with the preset), and so is SENSOR_MODE.
- CCD_GAIN_PRESET (ours; the manual's four gain/offset pairs): choosing one sets gain and offset
  together; after any change of Gain or Offset the switch shows the preset the pair equals, or
  Manual. Refused while exposing or streaming (INDIGO does the same).
- SENSOR_MODE: MODE_<i>, the mode in use is On (the C++ driver's playerone_base.cpp never shows
  the last mode as selected: an off-by-one). FLIP: the camera flips; CCD_CFA's CFA_TYPE (and so
  the FITS BAYERPAT) follows as the C++ driver compensates it (frame.flipped_bayer). Both
  refused while exposing or streaming: the SDK wants the camera stopped.
- DEAD_PIXEL_SUPPRESSION (ours; the SDK's DPS, POASetEnableDPS): defined where the SDK exports
  it. The SDK turns it on when the camera opens and cannot say its state, so after connect the
  switch shows Suppress with state Idle; a choice is sent to the camera (Ok, or Alert with the
  camera's reason) and kept in the configuration, so the next connect applies it. Refused while
  exposing or streaming: enabling it reads the camera's table from its flash.
- BLINK: BLINK_COUNT frames of BLINK_DURATION are taken and read out (then dropped) before each
  exposure: the C++ driver left them unread in the camera, where a later read could find them.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from ..camera.interface import (
    KEY_GAIN, KEY_OFFSET, KEY_USB_BANDWIDTH, CameraBackend, CameraError, Control, GainPreset,
    control_by_key,
)
from .usb_bandwidth import default_bandwidth_pct
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from . import names as P
from .activity import CameraActivity
from .frame import FrameSettings

log = logging.getLogger(__name__)

#: The C++ driver applies an element when it moved by at least this much.
CHANGE_EPS = 0.01
#: Readout allowance of a blink frame beyond its exposure (the worker allows 15 s for images).
BLINK_READOUT_S = 15.0


def _step(c: Control) -> float:
    span = c.maximum - c.minimum
    return 1.0 if c.is_bool or span <= 1 else span / 100  # the C++ driver's step


def set_default(device: DefaultDevice, camera: CameraBackend, control: str, value: float,
                what: str) -> bool:
    """Set `control` to a default at connect (the USB bandwidth limit, the fan and heater
    powers); the camera refusing it is a warning to the client ("Could not set `what`"), not
    a failed connect. True when set."""
    try:
        camera.set_control(control, value)
    except CameraError as exc:
        device.log(f"Could not set {what}: {exc}", "WARNING")
        return False
    return True


class Controls(Component):
    def __init__(self, device: DefaultDevice, camera: CameraBackend, activity: CameraActivity,
                 frame: FrameSettings, save_item: Callable[[str], None]) -> None:
        super().__init__(device, camera=camera, activity=activity, frame=frame)
        self._save_item = save_item  # configuration: the C++ driver saves some changes at once
        self._controls: dict[str, Control] = {}
        self._names: dict[str, str] = {}  # Control.key -> element name
        self._presets: dict[str, GainPreset] = {}
        self.controls: Any = None
        self.controls_mode: Any = None
        self.preset: Any = None
        self.flip: Any = None
        self.dps: Any = None
        self.sensor_mode: Any = None
        self.blink: Any = None

    # --- connect ------------------------------------------------------------------------

    def connect(self) -> None:
        """Build the vectors from the opened camera (before they are defined)."""
        cam = self.camera
        self._controls = {c.name: c for c in cam.controls()}
        self._names = {c.key: c.name for c in self._controls.values() if c.key}
        self._presets = {}
        self._bandwidth_default()
        self.controls = self.controls_mode = self.preset = self.flip = self.sensor_mode = None
        self.dps = self.build(P.DEAD_PIXEL_SUPPRESSION) if cam.can_suppress_dead_pixels() else None
        if self._controls:
            numbers, modes = [], []
            for c in self._controls.values():
                value, auto = cam.get_control(c.name)
                numbers.append(P.NumberSpec(c.name, c.name, "%g", c.minimum, c.maximum,
                                            _step(c), value))
                if c.supports_auto:
                    modes.append(P.SwitchSpec(f"AUTO_{c.name}", c.name, auto))
            self.controls = self.build(P.CCD_CONTROLS, numbers)
            if modes:
                self.controls_mode = self.build(P.CCD_CONTROLS_MODE, modes)
            if self._gain_offset() is not None:
                self._presets = {p.key: p for p in cam.gain_presets()}
        if self._presets:
            elements = []
            for spec in P.CCD_GAIN_PRESET.elements:
                p = self._presets.get(P.GAIN_PRESET_KEYS.get(spec.name, ""))
                label = f"{spec.label} (gain {p.gain}, offset {p.offset})" if p else spec.label
                if p or spec.name == P.GAIN_PRESET_MANUAL:
                    elements.append(P.SwitchSpec(spec.name, label))
            self.preset = self.build(P.CCD_GAIN_PRESET, elements)
        if cam.can_flip():
            self.flip = self.build(P.FLIP)
            self.flip.set_states(dict(zip(("FLIP_HORIZONTAL", "FLIP_VERTICAL"), cam.flip())))
        if self.blink is None:  # kept from one connect to the next, as a client left it
            self.blink = self.build(P.BLINK)
        modes_names = cam.sensor_modes()
        if modes_names:
            current = cam.sensor_mode()
            self.sensor_mode = self.build(P.SENSOR_MODE,
                                          [P.SwitchSpec(f"MODE_{i}", n, i == current)
                                           for i, n in enumerate(modes_names)])
        if self.dps is None:
            self.drop(P.DEAD_PIXEL_SUPPRESSION)
        for spec, vector in ((P.CCD_CONTROLS, self.controls),
                             (P.CCD_CONTROLS_MODE, self.controls_mode),
                             (P.CCD_GAIN_PRESET, self.preset), (P.FLIP, self.flip),
                             (P.SENSOR_MODE, self.sensor_mode)):
            if vector is None:
                self.drop(spec)
            else:
                vector.state = State.OK
        self.blink.state = State.IDLE
        self._select_preset(send=False)
        self._update_cfa(send=False)

    # --- helpers ------------------------------------------------------------------------

    def _gain_offset(self) -> tuple[str, str] | None:
        """The CCD_CONTROLS element names of gain and offset (the camera's own: "Gain" and
        "Offset" on every SDK seen), found by their POAConfig IDs; None without both."""
        gain, offset = self._names.get(KEY_GAIN), self._names.get(KEY_OFFSET)
        return (gain, offset) if gain and offset else None

    def _bandwidth_default(self) -> None:
        """The USB bandwidth limit at connect, the C++ driver's on USB 2 and ARM boards
        (ccd/usb_bandwidth.py says which and why); a saved CCD_CONTROLS value, loaded after
        connect, replaces it."""
        control = control_by_key(self._controls.values(), KEY_USB_BANDWIDTH)
        if control is None:
            return
        info = self.camera.info
        value = default_bandwidth_pct(usb3=info.usb3, lowest=int(control.minimum),
                                      highest=int(control.maximum))
        if not set_default(self.device, self.camera, control.name, value,
                           f"the USB bandwidth limit ({control.name}) to {value} %"):
            return
        log.info("%s: %s set to %d %% (%s link)", self.device.name, control.name, value,
                 "USB 3" if info.usb3 else "USB 2")

    def _read_back(self, names: list[str]) -> None:
        """CCD_CONTROLS values and CCD_CONTROLS_MODE switches of `names` from the camera."""
        controls = self.controls
        mode = self.controls_mode
        mode_changed = False
        for name in names:
            try:
                value, auto = self.camera.get_control(name)
            except CameraError as exc:
                log.warning("%s: reading %s back: %s", self.device.name, name, exc)
                continue
            controls[name].value = value
            key = f"AUTO_{name}"
            if mode is not None and key in mode and mode[key].on != auto:
                mode[key].on = auto
                mode_changed = True
        if mode_changed:
            self.device.ok(mode)

    def _select_preset(self, send: bool = True) -> None:
        """Show the preset that Gain and Offset equal now, else Manual."""
        vector = self.preset
        if vector is None or not self._presets:
            return
        controls, names = self.controls, self._gain_offset()
        if names is None:
            return
        pair = (round(controls[names[0]].value), round(controls[names[1]].value))
        chosen = next((elem for elem, key in P.GAIN_PRESET_KEYS.items()
                       if key in self._presets and elem in vector
                       and (self._presets[key].gain, self._presets[key].offset) == pair),
                      P.GAIN_PRESET_MANUAL)
        if vector.on_names() != [chosen]:
            vector.set_only(chosen)
            vector.state = State.OK
            if send:
                self.device.update(vector)

    def _update_cfa(self, send: bool = True) -> None:
        flip = self.flip
        h, v = (flip["FLIP_HORIZONTAL"].on, flip["FLIP_VERTICAL"].on) if flip else (False, False)
        self.frame.follow_flip(h, v, send)

    # --- CCD_CONTROLS and CCD_CONTROLS_MODE ---------------------------------------------

    @handles(P.CCD_CONTROLS)
    def on_controls(self, vector: Any, values: dict) -> None:
        old = vector.values()
        changed = {n: v for n, v in values.items() if abs(v - old[n]) >= CHANGE_EPS}
        applied: list[str] = []
        for name, value in changed.items():
            try:
                self.camera.set_control(name, value, auto=False)
            except CameraError as exc:
                self._restore(applied, old)
                self.device.alert(vector, f"The camera refused {name} = {value:g}: {exc}")
                return
            applied.append(name)
        self._read_back(applied)
        if set(self._gain_offset() or ()) & set(applied):
            self._select_preset()  # before the Ok: a client that saw Ok sees the preset too
        vector.state = State.OK
        if applied:
            self._autosave_controls()  # before the Ok: a client that saw Ok finds it saved
        self.device.update(vector)

    def _autosave_controls(self) -> None:
        """The C++ driver saves CCD_CONTROLS after each change; the preset goes with it, or a
        stale preset in the file would override the saved gain at the next load."""
        self._save_item(P.CCD_CONTROLS.name)
        if self.preset is not None:
            self._save_item(P.CCD_GAIN_PRESET.name)

    def _restore(self, names: list[str], old: dict[str, float]) -> None:
        """Put back what an aborted CCD_CONTROLS write had already changed in the camera."""
        mode = self.controls_mode
        for name in reversed(names):
            auto = mode is not None and f"AUTO_{name}" in mode and mode[f"AUTO_{name}"].on
            try:
                self.camera.set_control(name, old[name], auto=auto)
            except CameraError as exc:
                log.warning("%s: restoring %s to %g: %s", self.device.name, name, old[name], exc)
        self._read_back(names)

    @handles(P.CCD_CONTROLS_MODE)
    def on_controls_mode(self, vector: Any, values: dict) -> None:
        controls = self.controls
        for elem, on in values.items():
            if vector[elem].on == on:
                continue
            name = elem[len("AUTO_"):]
            try:
                self.camera.set_control(name, controls[name].value, auto=on)
            except CameraError as exc:
                self.device.alert(vector, f"The camera refused {'auto' if on else 'manual'} {name}: {exc}")
                return
            vector[elem].on = on
        self.device.ok(vector)

    # --- presets --------------------------------------------------------------------------

    @handles(P.CCD_GAIN_PRESET)
    def on_gain_preset(self, vector: Any, values: dict) -> None:
        chosen = next(name for name, on in values.items() if on)
        if chosen == P.GAIN_PRESET_MANUAL:
            vector.set_only(chosen)
            self.device.ok(vector)
            return
        if self.activity.refuse_while_camera_busy(vector, "gain preset"):
            return
        preset = self._presets[P.GAIN_PRESET_KEYS[chosen]]
        controls = self.controls
        pair = list(self._gain_offset() or ())
        old = controls.values()
        try:
            self.camera.set_gain(preset.gain)
            self.camera.set_offset(preset.offset)
        except CameraError as exc:
            self._restore(pair, old)
            self.device.alert(vector, f"The camera refused the {vector[chosen].label} preset: {exc}")
            return
        self._read_back(pair)
        controls.state = State.OK
        vector.set_only(chosen)
        vector.state = State.OK
        self._select_preset(send=False)  # what the camera took back, should it differ
        self._autosave_controls()
        self.device.update(controls)
        self.device.update(vector, f"Gain {preset.gain}, offset {preset.offset}.")

    # --- sensor mode, flip, formats, blink --------------------------------------------------

    @handles(P.SENSOR_MODE)
    def on_sensor_mode(self, vector: Any, values: dict) -> None:
        if self.activity.refuse_while_camera_busy(vector, "sensor mode"):
            return
        chosen = next(name for name, on in values.items() if on)
        try:
            self.camera.set_sensor_mode(int(chosen[len("MODE_"):]))
        except CameraError as exc:
            self.device.alert(vector, f"The camera refused the {vector[chosen].label} mode: {exc}")
            return
        vector.apply(values)
        self._save_item(vector.name)  # as the C++ driver does
        self.device.ok(vector)

    @handles(P.FLIP)
    def on_flip(self, vector: Any, values: dict) -> None:
        if self.activity.refuse_while_camera_busy(vector, "flip"):
            return
        h, v = values["FLIP_HORIZONTAL"], values["FLIP_VERTICAL"]
        try:
            self.camera.set_flip(h, v)
        except CameraError as exc:
            self.device.alert(vector, f"The camera refused the flip: {exc}")
            return
        vector.apply(values)
        self._update_cfa()  # before the Ok, as the preset above
        self.device.ok(vector)

    @handles(P.DEAD_PIXEL_SUPPRESSION)
    def on_dead_pixels(self, vector: Any, values: dict) -> None:
        if self.activity.refuse_while_camera_busy(vector, "dead pixel suppression"):
            return
        on = bool(values.get("INDI_ENABLED"))  # parse_new: exactly one of the two is On
        try:
            self.camera.set_dead_pixel_suppression(on)
        except CameraError as exc:
            self.device.alert(vector, f"The camera refused to {'enable' if on else 'disable'} "
                                      f"dead pixel suppression: {exc}")
            return
        self.device.accept(vector, values)

    def blink_before_exposure(self, abort: threading.Event, failed: Callable[[str], None]) -> bool:
        """Called by the exposure worker before each exposure: take BLINK_COUNT frames of
        BLINK_DURATION, read each out and drop it. False when aborted or failed (a failure is
        reported as the exposure's)."""
        with self.device.lock:
            blink = self.blink
            if blink is None or blink["BLINK_COUNT"].value < 1:
                return True
            count, duration = int(blink["BLINK_COUNT"].value), blink["BLINK_DURATION"].value
        lo, hi = self.camera.info.exposure_range_s
        seconds = min(max(duration, lo), hi)
        try:
            for _ in range(count):
                if abort.is_set():
                    return False
                self.camera.start_exposure(seconds)
                wait = max(BLINK_READOUT_S, self.camera.frame_wait_s())
                self.camera.wait_frame(seconds + wait, abort).release()
        except CameraError as exc:  # ExposureAborted included: abort already reported
            with self.device.lock:
                if not abort.is_set():
                    failed(f"Blink frame failed: {exc}")
            return False
        with self.device.lock:
            if abort.is_set():
                return False
            self.device.log(f"{count} blink frame(s) of {seconds:g} s taken and discarded.")
        return True
