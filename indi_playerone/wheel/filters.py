"""`FilterNames`: FILTER_NAME and FILTER_FOCUS_OFFSETS, kept in the wheel itself.

The Phoenix wheel stores a name ("alias") and a focus offset for each slot
(``POASetPWFilterAlias``, ``POASetPWFocusOffset``), so they travel with the wheel: another
computer, another driver or a reinstalled Pi finds them. FILTER_NAME shows the aliases (a slot
without one shows libindi's sample name, "Red", "Green", ..., as libindi's filter wheels do until
names are set) and a client's FILTER_NAME is written into the wheel, then read back. It is not in
the driver's saved configuration: the wheel is the one place names live, so a configuration
written elsewhere cannot undo what was set on the wheel.

FILTER_FOCUS_OFFSETS shows the offsets, in focuser steps, one number per slot (labels as
FILTER_NAME's), and writes them into the wheel. Ekos' filter manager keeps its own offsets per
filter name (Filter Settings, "Offset" column, applied as a relative focuser move when the filter
changes); it does not read this property, so a user copies the wheel's numbers there once, or
measures them with Ekos' "Build Filter Offsets" and writes them here so they go wherever the
wheel goes. Scripts and other clients read them here directly.
"""
from __future__ import annotations

from typing import Any, Callable

from ..camera.wheel_backend import PhoenixWheel, check_name
from ..camera.wheel_binding import WheelError
from ..indi.component import Component, handles
from ..indi.defaultdevice import DefaultDevice
from ..indi.properties import State
from . import names as N

__all__ = ["FilterNames", "default_name"]


def default_name(slot: int) -> str:
    """What a slot without an alias is called (libindi's generateSampleFilters)."""
    return N.SAMPLE_FILTERS[slot - 1] if slot <= len(N.SAMPLE_FILTERS) else f"Filter#{slot}"


class FilterNames(Component):
    device: DefaultDevice

    def __init__(self, device: DefaultDevice, wheel: PhoenixWheel) -> None:
        super().__init__(device, wheel=wheel)
        slots = range(1, self.wheel.info.slots + 1)
        self.names = self.build(N.FILTER_NAME, [N.slot_name_element(s, default_name(s)) for s in slots])
        self.offsets = self.build(N.FILTER_FOCUS_OFFSETS, [N.focus_offset_element(s, 0) for s in slots])

    def name_of(self, slot: int) -> str:
        element = self.names.elements.get(f"FILTER_SLOT_NAME_{slot}")
        return element.value if element is not None else default_name(slot)

    def on_connect(self) -> None:
        """Read what the wheel stores."""
        self._show_names(self.wheel.aliases())
        self._show_offsets(self.wheel.focus_offsets())
        self.names.state = self.offsets.state = State.OK

    def _show_names(self, aliases: list[str]) -> None:
        self.names.set_values({f"FILTER_SLOT_NAME_{i}": alias or default_name(i)
                               for i, alias in enumerate(aliases, 1)})

    def _show_offsets(self, offsets: list[int]) -> None:
        self.offsets.set_values({f"FILTER_FOCUS_OFFSET_{i}": v for i, v in enumerate(offsets, 1)})

    @handles(N.FILTER_NAME)
    def on_names(self, vector: Any, values: dict) -> None:
        new = {name: text.strip() for name, text in values.items()}
        for name, text in new.items():
            why = check_name(text, f"{name}:")
            if why is not None:
                self.device.alert(vector, f"Filter names not changed: {why}.")
                return

        def write() -> None:
            stored = self.wheel.aliases()
            for name, text in new.items():
                slot = int(name.rsplit("_", 1)[1])
                shown = stored[slot - 1] or default_name(slot)
                if text != shown:  # Ekos sends every name: write only the changed ones
                    self.wheel.set_alias(slot - 1, text)

        self._store(vector, write, self.wheel.aliases, self._show_names, "Filter names")

    @handles(N.FILTER_FOCUS_OFFSETS)
    def on_offsets(self, vector: Any, values: dict) -> None:
        bad = [f"{name} {value:g}" for name, value in values.items() if value != int(value)]
        if bad:
            self.device.alert(vector, f"Focus offsets are whole focuser steps: {', '.join(bad)}.")
            return

        def write() -> None:
            for name, value in values.items():
                self.wheel.set_focus_offset(int(name.rsplit("_", 1)[1]) - 1, int(value))

        self._store(vector, write, self.wheel.focus_offsets, self._show_offsets, "Focus offsets")

    def _store(self, vector: Any, write: Callable[[], None], read: Callable[[], list],
               show: Callable[[list], None], what: str) -> None:
        """``write`` into the wheel, then show what it holds (``read``). After a failed write,
        show what it holds all the same (some slots may have been written) and alert."""
        try:
            write()
            stored = read()
        except WheelError as exc:
            try:
                show(read())
            except WheelError:
                pass
            self.device.alert(vector, f"{what} not stored in the wheel: {exc}")
            return
        show(stored)
        self.device.ok(vector, f"{what} stored in the wheel.")
