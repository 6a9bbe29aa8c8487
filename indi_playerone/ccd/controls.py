"""Camera controls of a device (mixed into PlayerOneCCD): CCD_CONTROLS, CCD_CONTROLS_MODE, the
gain/offset presets (CCD_GAIN_PRESET), SENSOR_MODE, CCD_VIDEO_FORMAT, FLIP and BLINK.

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
- SENSOR_MODE: MODE_<i>, the mode in use is On (the C++ driver never showed the last mode as
  selected, facts §3.13). FLIP: the camera flips; CCD_CFA's CFA_TYPE (and so the FITS BAYERPAT)
  follows with the permutation of facts §3.12. Both refused while exposing or streaming: the
  SDK wants the camera stopped.
- CCD_VIDEO_FORMAT: the same element names as CCD_CAPTURE_FORMAT; either one sets the format and
  both follow.
- BLINK: BLINK_COUNT frames of BLINK_DURATION are taken and read out (then dropped) before each
  exposure: the C++ driver left them unread in the camera, where a later read could find them.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any, Callable

from ..camera.interface import CameraError, Control, GainPreset
from ..indi.properties import State
from . import names as P
from .build import build_vector

log = logging.getLogger(__name__)

#: The C++ driver applies an element when it moved by at least this much.
CHANGE_EPS = 0.01
#: Readout allowance of a blink frame beyond its exposure (the worker allows 15 s for images).
BLINK_READOUT_S = 15.0
#: Bits per pixel of the CCD_VIDEO_FORMAT / CCD_CAPTURE_FORMAT elements.
FORMAT_ELEMENTS = {bits: name for name, bits in P.CAPTURE_FORMAT_BITS.items()}


def flipped_bayer(pattern: str, horizontal: bool, vertical: bool) -> str:
    """The 2x2 CFA pattern after a flip (facts §3.12): H swaps the columns (s1 s0 s3 s2), V the
    rows (s2 s3 s0 s1), both reverse it. Exact for even frame sizes, which the SDK enforces."""
    s = pattern
    if horizontal:
        s = s[1] + s[0] + s[3] + s[2]
    if vertical:
        s = s[2] + s[3] + s[0] + s[1]
    return s


def _dynamic(spec: P.PropertySpec, device: str, handler: Callable[[Any, dict], None],
             elements: list[Any]) -> Any:
    return build_vector(dataclasses.replace(spec, elements=tuple(elements)), device, handler)


def _step(c: Control) -> float:
    span = c.maximum - c.minimum
    return 1.0 if c.is_bool or span <= 1 else span / 100  # the C++ driver's step


class ControlsMixin:
    _controls: dict[str, Control]
    _presets: dict[str, GainPreset]

    def controls_handlers(self) -> dict[str, Callable[[Any, dict], None]]:
        """Handlers of the static vectors this mixin takes over."""
        return {P.CCD_CAPTURE_FORMAT.name: self.on_capture_format}

    # --- connect ------------------------------------------------------------------------

    def controls_connect(self) -> None:
        """Build this mixin's vectors from the opened camera (before they are defined)."""
        cam = self.camera
        self._controls = {c.name: c for c in cam.controls()}
        self._presets = {}
        built: list[Any] = []
        if self._controls:
            numbers, modes = [], []
            for c in self._controls.values():
                value, auto = cam.get_control(c.name)
                numbers.append(P.NumberSpec(c.name, c.name, "%g", c.minimum, c.maximum,
                                            _step(c), value))
                if c.supports_auto:
                    modes.append(P.SwitchSpec(f"AUTO_{c.name}", c.name, auto))
            built.append(_dynamic(P.CCD_CONTROLS, self.name, self.on_controls, numbers))
            if modes:
                built.append(_dynamic(P.CCD_CONTROLS_MODE, self.name, self.on_controls_mode, modes))
            if {"Gain", "Offset"} <= set(self._controls):
                self._presets = {p.key: p for p in cam.gain_presets()}
        if self._presets:
            elements = []
            for spec in P.CCD_GAIN_PRESET.elements:
                p = self._presets.get(P.GAIN_PRESET_KEYS.get(spec.name, ""))
                label = f"{spec.label} (gain {p.gain}, offset {p.offset})" if p else spec.label
                if p or spec.name == P.GAIN_PRESET_MANUAL:
                    elements.append(P.SwitchSpec(spec.name, label))
            built.append(_dynamic(P.CCD_GAIN_PRESET, self.name, self.on_gain_preset, elements))
        if cam.can_flip():
            flip = build_vector(P.FLIP, self.name, self.on_flip)
            flip.set_states(dict(zip(("FLIP_HORIZONTAL", "FLIP_VERTICAL"), cam.flip())))
            built.append(flip)
        capture = self.prop(P.CCD_CAPTURE_FORMAT)
        formats = [s for s in capture if P.CAPTURE_FORMAT_BITS[s.name] in cam.info.formats]
        built.append(_dynamic(P.CCD_VIDEO_FORMAT, self.name, self.on_video_format,
                              [P.SwitchSpec(s.name, s.label, s.on) for s in formats]))
        built.append(self.props.get(P.BLINK.name) or build_vector(P.BLINK, self.name, self.on_blink))
        modes_names = cam.sensor_modes()
        if modes_names:
            current = cam.sensor_mode()
            built.append(_dynamic(P.SENSOR_MODE, self.name, self.on_sensor_mode,
                                  [P.SwitchSpec(f"MODE_{i}", n, i == current)
                                   for i, n in enumerate(modes_names)]))
        mine = {P.CCD_CONTROLS.name, P.CCD_CONTROLS_MODE.name, P.CCD_GAIN_PRESET.name,
                P.FLIP.name, P.CCD_VIDEO_FORMAT.name, P.BLINK.name, P.SENSOR_MODE.name}
        for name in mine - {v.name for v in built}:
            self.props.pop(name, None)
        for vector in built:
            vector.state = State.OK if vector.name != P.BLINK.name else State.IDLE
            self.props[vector.name] = vector
        self._select_preset(send=False)
        self._update_cfa(send=False)

    # --- helpers ------------------------------------------------------------------------

    def _busy_imaging(self) -> bool:
        return (self._worker is not None and self._worker.busy) or self.camera.is_streaming()

    def _refuse_while_imaging(self, vector: Any, what: str) -> bool:
        if self._busy_imaging():
            self._alert(vector, f"Cannot change the {what} while an exposure or the video "
                                "stream is running.")
            return True
        return False

    def _read_back(self, names: list[str]) -> None:
        """CCD_CONTROLS values and CCD_CONTROLS_MODE switches of `names` from the camera."""
        controls = self.prop(P.CCD_CONTROLS)
        mode = self.props.get(P.CCD_CONTROLS_MODE.name)
        mode_changed = False
        for name in names:
            try:
                value, auto = self.camera.get_control(name)
            except CameraError as exc:
                log.warning("%s: reading %s back: %s", self.name, name, exc)
                continue
            controls[name].value = value
            key = f"AUTO_{name}"
            if mode is not None and key in mode and mode[key].on != auto:
                mode[key].on = auto
                mode_changed = True
        if mode_changed:
            mode.state = State.OK
            self.update(mode)

    def _select_preset(self, send: bool = True) -> None:
        """Show the preset that Gain and Offset equal now, else Manual."""
        vector = self.props.get(P.CCD_GAIN_PRESET.name)
        if vector is None or not self._presets:
            return
        controls = self.prop(P.CCD_CONTROLS)
        pair = (round(controls["Gain"].value), round(controls["Offset"].value))
        chosen = next((elem for elem, key in P.GAIN_PRESET_KEYS.items()
                       if key in self._presets and elem in vector
                       and (self._presets[key].gain, self._presets[key].offset) == pair),
                      P.GAIN_PRESET_MANUAL)
        if vector.on_names() != [chosen]:
            vector.set_only(chosen)
            vector.state = State.OK
            if send:
                self.update(vector)

    def _update_cfa(self, send: bool = True) -> None:
        cfa, flip = self.props.get(P.CCD_CFA.name), self.props.get(P.FLIP.name)
        if cfa is None or not self.camera.info.is_color:
            return
        h, v = (flip["FLIP_HORIZONTAL"].on, flip["FLIP_VERTICAL"].on) if flip else (False, False)
        pattern = flipped_bayer(self.camera.info.bayer or "RGGB", h, v)
        if cfa["CFA_TYPE"].value != pattern:
            cfa["CFA_TYPE"].value = pattern
            if send:
                self.update(cfa)

    # --- CCD_CONTROLS and CCD_CONTROLS_MODE ---------------------------------------------

    def on_controls(self, vector: Any, values: dict) -> None:
        old = vector.values()
        changed = {n: v for n, v in values.items() if abs(v - old[n]) >= CHANGE_EPS}
        applied: list[str] = []
        for name, value in changed.items():
            try:
                self.camera.set_control(name, value, auto=False)
            except CameraError as exc:
                self._restore(applied, old)
                self._alert(vector, f"The camera refused {name} = {value:g}: {exc}")
                return
            applied.append(name)
        self._read_back(applied)
        if {"Gain", "Offset"} & set(applied):
            self._select_preset()  # before the Ok: a client that saw Ok sees the preset too
        vector.state = State.OK
        if applied:
            self._autosave_controls()  # before the Ok: a client that saw Ok finds it saved
        self.update(vector)

    def _autosave_controls(self) -> None:
        """The C++ driver saves CCD_CONTROLS after each change; the preset goes with it, or a
        stale preset in the file would override the saved gain at the next load."""
        self.save_config_item(P.CCD_CONTROLS.name)
        if P.CCD_GAIN_PRESET.name in self.props:
            self.save_config_item(P.CCD_GAIN_PRESET.name)

    def _restore(self, names: list[str], old: dict[str, float]) -> None:
        """Put back what an aborted CCD_CONTROLS write had already changed in the camera."""
        mode = self.props.get(P.CCD_CONTROLS_MODE.name)
        for name in reversed(names):
            auto = mode is not None and f"AUTO_{name}" in mode and mode[f"AUTO_{name}"].on
            try:
                self.camera.set_control(name, old[name], auto=auto)
            except CameraError as exc:
                log.warning("%s: restoring %s to %g: %s", self.name, name, old[name], exc)
        self._read_back(names)

    def on_controls_mode(self, vector: Any, values: dict) -> None:
        controls = self.prop(P.CCD_CONTROLS)
        for elem, on in values.items():
            if vector[elem].on == on:
                continue
            name = elem[len("AUTO_"):]
            try:
                self.camera.set_control(name, controls[name].value, auto=on)
            except CameraError as exc:
                self._alert(vector, f"The camera refused {'auto' if on else 'manual'} {name}: {exc}")
                return
            vector[elem].on = on
        vector.state = State.OK
        self.update(vector)

    # --- presets --------------------------------------------------------------------------

    def on_gain_preset(self, vector: Any, values: dict) -> None:
        chosen = next(name for name, on in values.items() if on)
        if chosen == P.GAIN_PRESET_MANUAL:
            vector.set_only(chosen)
            vector.state = State.OK
            self.update(vector)
            return
        if self._refuse_while_imaging(vector, "gain preset"):
            return
        preset = self._presets[P.GAIN_PRESET_KEYS[chosen]]
        controls = self.prop(P.CCD_CONTROLS)
        old = controls.values()
        try:
            self.camera.set_gain(preset.gain)
            self.camera.set_offset(preset.offset)
        except CameraError as exc:
            self._restore(["Gain", "Offset"], old)
            self._alert(vector, f"The camera refused the {vector[chosen].label} preset: {exc}")
            return
        self._read_back(["Gain", "Offset"])
        controls.state = State.OK
        vector.set_only(chosen)
        vector.state = State.OK
        self._select_preset(send=False)  # what the camera took back, should it differ
        self._autosave_controls()
        self.update(controls)
        self.update(vector, f"Gain {preset.gain}, offset {preset.offset}.")

    # --- sensor mode, flip, formats, blink --------------------------------------------------

    def on_sensor_mode(self, vector: Any, values: dict) -> None:
        if self._refuse_while_imaging(vector, "sensor mode"):
            return
        chosen = next(name for name, on in values.items() if on)
        try:
            self.camera.set_sensor_mode(int(chosen[len("MODE_"):]))
        except CameraError as exc:
            self._alert(vector, f"The camera refused the {vector[chosen].label} mode: {exc}")
            return
        vector.apply(values)
        vector.state = State.OK
        self.save_config_item(vector.name)  # as the C++ driver does
        self.update(vector)

    def on_flip(self, vector: Any, values: dict) -> None:
        if self._refuse_while_imaging(vector, "flip"):
            return
        h, v = values["FLIP_HORIZONTAL"], values["FLIP_VERTICAL"]
        try:
            self.camera.set_flip(h, v)
        except CameraError as exc:
            self._alert(vector, f"The camera refused the flip: {exc}")
            return
        vector.apply(values)
        self._update_cfa()  # before the Ok, as the preset above
        vector.state = State.OK
        self.update(vector)

    def on_capture_format(self, vector: Any, values: dict) -> None:
        self._on_capture_format(vector, values)
        self._follow_format(vector, self.props.get(P.CCD_VIDEO_FORMAT.name))

    def on_video_format(self, vector: Any, values: dict) -> None:
        capture = self.prop(P.CCD_CAPTURE_FORMAT)
        self._on_capture_format(capture, values)
        if capture.state is State.ALERT:
            self._alert(vector, capture.message or "The camera refused the format.")
            return
        self._follow_format(capture, vector)

    def _follow_format(self, source: Any, target: Any) -> None:
        if target is None or source.state is State.ALERT:
            return
        target.set_only(source.on_names()[0])
        target.state = State.OK
        self.update(target)

    def on_blink(self, vector: Any, values: dict) -> None:
        vector.apply(values)
        vector.state = State.OK
        self.update(vector)

    def blink_before_exposure(self, abort: threading.Event) -> bool:
        """Called by the exposure worker before each exposure: take BLINK_COUNT frames of
        BLINK_DURATION, read each out and drop it. False when aborted or failed (a failure is
        reported as the exposure's)."""
        with self.lock:
            blink = self.props.get(P.BLINK.name)
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
                self.camera.wait_frame(seconds + BLINK_READOUT_S, abort).release()
        except CameraError as exc:  # ExposureAborted included: abort already reported
            with self.lock:
                if not abort.is_set():
                    self.exposure_failed(f"Blink frame failed: {exc}")
            return False
        with self.lock:
            if abort.is_set():
                return False
            self.log(f"{count} blink frame(s) of {seconds:g} s taken and discarded.")
        return True
