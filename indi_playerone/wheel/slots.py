"""`FilterSlots`: FILTER_SLOT, FILTER_CALIBRATION and FILTER_UNIDIRECTIONAL_MOTION: the wheel's motion.

A move never blocks the driver: the handler asks the SDK to move (``POAGotoPosition`` returns at
once), shows FILTER_SLOT Busy and hands the move to the wheel's :class:`.motion.MoveWatcher`,
whose report turns it Ok at the slot, or Alert with the reason. FILTER_SLOT's value is always the
wheel's true position: the slot it stands at, or the one it left while it turns (the SDK tells no
position meanwhile), never the target.

Refused, with an Alert saying why: a slot that is not a whole number; a move while another move,
a calibration, a self-check or a recovery runs (the same target again is no error: Ekos repeats
requests); a move while the wheel turns on its own. Not refused: a move while a camera on the
same computer reads out. Neither the wheel's SDK (``PlayerOnePW.h``) nor the camera's
(``PlayerOneCamera.h``) nor the vendor's changelogs tie the two: the wheel is a USB HID device
of its own, and neither the C++ driver nor INDIGO coordinates them. Ekos moves the wheel only
between exposures anyway.

Failures, each an Alert with its reason and a wheel ready for the next move:

* ``PW_ERROR_FIRMWARE_ERROR``: the header says to call ``POAResetPW``; the driver does, follows
  the reset, then reports the error and where the wheel now is (slot 1).
* a move (or calibration, or self-check) that does not end within the timeout
  (``INDI_PLAYERONE_WHEEL_TIMEOUT_S``, 30 s; the longest real motion, a full turn, is ~6 s): the
  wheel is taken for stuck and reset the same way; a reset that does not end either is reported
  as a wheel that does not respond.
* a wheel that stops answering or is unplugged while it moves: reported at once; the hot-plug
  scan then removes the device.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..camera.wheel_backend import PhoenixWheel
from ..camera.wheel_binding import PwError, WheelError
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.envvars import float_from_env
from ..indi.properties import State
from . import names as N
from .motion import Job, Kind, MoveWatcher

log = logging.getLogger(__name__)

__all__ = ["FilterSlots", "TIMEOUT_ENV", "DEFAULT_TIMEOUT_S", "move_timeout_s"]

TIMEOUT_ENV = "INDI_PLAYERONE_WHEEL_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 30.0


def move_timeout_s() -> float:
    """``INDI_PLAYERONE_WHEEL_TIMEOUT_S`` or 30 s: how long a motion may take."""
    value = float_from_env(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)
    return value if value > 0 else DEFAULT_TIMEOUT_S


class FilterSlots(Component):
    device: DefaultDevice
    vector_table = {"slot": N.FILTER_SLOT, "one_way": N.FILTER_UNIDIRECTIONAL_MOTION,
                    "calibration": N.FILTER_CALIBRATION}

    def __init__(self, device: DefaultDevice, wheel: PhoenixWheel, name_of: Callable[[int], str]) -> None:
        """``name_of(slot)``: the filter's name, for the messages (:meth:`.FilterNames.name_of`)."""
        super().__init__(device, wheel=wheel)
        self._name = name_of
        self.slot.set_limits("FILTER_SLOT_VALUE", 1, self.wheel.info.slots, 1)
        self.watcher: MoveWatcher | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def on_connect(self) -> None:
        """The wheel is open: show where it is and how it turns; follow a self-check."""
        self.one_way.set_only("INDI_ENABLED" if self.wheel.one_way() else "INDI_DISABLED")
        self.one_way.state = State.OK
        position = self.wheel.position()
        self.watcher = MoveWatcher(self.wheel, self.device.polling_period_s, self._arrived,
                                   self._failed, self._timed_out, self.wheel.info.serial or self.device.name,
                                   self.device.lock)
        self.calibration.reset()
        self.calibration.state = State.IDLE
        if position is None:  # turning: its self-check after it was plugged in
            self.slot.state = State.BUSY
            self.device.log("The wheel is doing its self-check (a full turn to slot 1).")
            self.watcher.watch(Job(Kind.SELF_CHECK, None, move_timeout_s()))
        else:
            self.slot["FILTER_SLOT_VALUE"].value = position + 1
            self.slot.state = State.OK

    def on_disconnect(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None

    def busy_with(self) -> str | None:
        """What the wheel is doing now ("moving to slot 3"), or None when it is idle."""
        job = self.watcher.job if self.watcher is not None else None
        return job.describe() if job is not None else None

    # --- handlers --------------------------------------------------------------------------

    @handles(N.FILTER_SLOT)
    def on_slot(self, vector: Any, values: dict) -> None:
        asked = values["FILTER_SLOT_VALUE"]
        target = round(asked)
        if abs(asked - target) > 1e-6:
            self.device.alert(vector, f"Slot {asked:g} refused: slots are whole numbers, 1 to "
                                      f"{self.wheel.info.slots}.")
            return
        self.request(target)

    def step(self, by: int) -> None:
        """The previous (-1) or next (+1) slot, wrapping (libindi's joystick "Change Filter")."""
        here = int(self.slot["FILTER_SLOT_VALUE"].value)
        self.request((here - 1 + by) % self.wheel.info.slots + 1)

    def request(self, target: int) -> None:
        """A move to 1-based ``target`` (1 .. slots), asked by a client or the joystick; the
        device's lock held."""
        vector = self.slot
        assert self.watcher is not None
        job = self.watcher.job
        if job is not None:
            if job.kind is Kind.MOVE and job.target == target:
                self.device.update(vector, f"Already moving to slot {target}.")
                return
            self.device.alert(vector, f"Slot {target} refused: the wheel is {job.describe()}; ask "
                                      "again when FILTER_SLOT is Ok.", "WARNING")
            return
        try:
            here = self.wheel.position()
            if here is None:
                self.watcher.watch(Job(Kind.SELF_CHECK, None, move_timeout_s()))
                self.device.alert(vector, f"Slot {target} refused: the wheel is turning on its own "
                                          "(its self-check, or another program moved it); ask again "
                                          "when FILTER_SLOT is Ok.", "WARNING")
                return
            if here + 1 == target:
                vector["FILTER_SLOT_VALUE"].value = target
                self.device.ok(vector, f"Already at slot {target} ({self._name(target)}).")
                return
            self._goto(target - 1)
        except WheelError as exc:
            if exc.code == PwError.FIRMWARE_ERROR:
                self._recover(f"Firmware error moving to slot {target} ({exc})")
            else:
                self.device.alert(vector, f"Cannot move to slot {target}: {exc}")
            return
        vector.state = State.BUSY
        self.device.update(vector, f"Moving to slot {target} ({self._name(target)}).")
        self.watcher.watch(Job(Kind.MOVE, target, move_timeout_s()))

    @handles(N.FILTER_CALIBRATION)
    def on_calibration(self, vector: Any, values: dict) -> None:
        vector.reset()  # a button: never left On
        if not values.get("CALIBRATE"):
            vector.state = State.IDLE
            self.device.update(vector)
            return
        assert self.watcher is not None
        doing = self.busy_with()
        if doing is not None:
            self.device.alert(vector, f"Calibration refused: the wheel is {doing}; ask again when "
                                      "FILTER_SLOT is Ok.", "WARNING")
            return
        try:
            self.wheel.reset()
        except WheelError as exc:
            self.device.alert(vector, f"Calibration failed: {exc}")
            return
        vector.state = State.BUSY
        self.device.update(vector, "Calibrating: the wheel turns to its index (POAResetPW).")
        self.slot.state = State.BUSY
        self.device.update(self.slot)
        self.watcher.watch(Job(Kind.CALIBRATE, None, move_timeout_s()))

    @handles(N.FILTER_UNIDIRECTIONAL_MOTION)
    def on_one_way(self, vector: Any, values: dict) -> None:
        on = bool(values.get("INDI_ENABLED"))
        try:
            self.wheel.set_one_way(on)
        except WheelError as exc:
            self.device.alert(vector, f"Cannot set one-way rotation: {exc}")
            return
        self.device.accept(vector, values, "The wheel turns one way only." if on else
                           "The wheel takes the shorter way.")

    # --- the steps of a move -----------------------------------------------------------------

    def _goto(self, position: int) -> None:
        try:
            self.wheel.goto(position)
        except WheelError as exc:
            if exc.code != PwError.NOT_OPENED:
                raise
            # closed under us: a replug within the hot-plug grace closes the wheel; open again
            self.wheel.open()
            self.wheel.goto(position)

    def _recover(self, reason: str) -> None:
        """Reset the wheel (``POAResetPW``, the header's answer to a firmware error, and what
        frees a stalled wheel) and report ``reason`` once the reset ended."""
        assert self.watcher is not None
        try:
            self.wheel.reset()
        except WheelError as exc:
            self.device.alert(self.slot, f"{reason}; resetting the wheel failed too: {exc}. Check "
                                         "the wheel, then disconnect and connect.")
            return
        self.slot.state = State.BUSY
        self.device.update(self.slot, f"{reason}: resetting the wheel (POAResetPW).")
        self.watcher.watch(Job(Kind.RECOVER, None, move_timeout_s(), reason))

    # --- the watcher's reports (its thread, the device's lock held) ------------------------------

    def _arrived(self, job: Job, position: int) -> None:
        slot = position + 1
        vector = self.slot
        vector["FILTER_SLOT_VALUE"].value = slot
        where = f"slot {slot} ({self._name(slot)})"
        if job.kind is Kind.MOVE and slot != job.target:
            self.device.alert(vector, f"The wheel stopped at {where} instead of slot {job.target}.")
        elif job.kind is Kind.RECOVER:
            self.device.alert(vector, f"{job.reason}. The wheel was reset and is at {where}; move "
                                      "again.")
        else:
            vector.state = State.OK
            done = {Kind.MOVE: "At", Kind.CALIBRATE: "Calibrated: the wheel is at",
                    Kind.SELF_CHECK: "Self-check done: the wheel is at"}[job.kind]
            self.device.update(vector, f"{done} {where}.")
            if job.kind is Kind.CALIBRATE:
                self.device.ok(self.calibration, f"Calibrated: the wheel is at {where}.")

    def _failed(self, job: Job, exc: WheelError) -> None:
        text = f"Lost the wheel while {job.describe()}: {exc}"
        if exc.gone:
            text += " (unplugged, or it stopped answering)"
        self.device.alert(self.slot, text)
        if job.kind is Kind.CALIBRATE:
            self.device.alert(self.calibration, text)

    def _timed_out(self, job: Job) -> None:
        if job.kind is Kind.RECOVER:
            self.device.alert(self.slot, f"{job.reason}; the reset did not end within "
                                         f"{job.timeout_s:g} s either: the wheel does not respond. "
                                         "Check it, then disconnect and connect.")
            return
        reason = f"The wheel did not finish {job.describe()} within {job.timeout_s:g} s (stuck?)"
        if job.kind is Kind.CALIBRATE:
            self.device.alert(self.calibration, reason)
        self._recover(reason)
