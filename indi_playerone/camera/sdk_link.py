"""The camera's USB link: how long a frame may take to arrive.

After an exposure ends the sensor is read into the camera's DDR buffer
(at the manual's full-frame rate, ``1 / max_fps``) while the frame crosses the USB link to the
host; the SDK recommends waiting "exposure + 500 ms" (``PlayerOneCamera.h``, ``POAGetImageData``),
which only holds for small frames on a fast link. The link moves about 40 MB/s on USB 2 and
several hundred on USB 3, times ``POA_USB_BANDWIDTH_LIMIT`` percent (the manual's advice when
downloads fail is 40 %, where a 122 MB 16-bit Zeus frame needs about 7.6 s). The allowance
assumes a slower link than that (:data:`LINK_BYTES_PER_S`: a hub, a Raspberry Pi's controller)
and doubles the transfer time again (:data:`LINK_MARGIN`), so a slow link is never taken for a
camera that stopped answering: a frame late by that much is the field failure of a frame that
never comes (``docs/upstream-facts.md`` section 7), not a slow cable. The cost of a generous
allowance is only how long a really hung camera takes to be noticed.

The bandwidth limit a camera gets at connect is the driver's choice: ``ccd/usb_bandwidth.py``.
"""
from __future__ import annotations

__all__ = ["LINK_BYTES_PER_S", "LINK_MARGIN", "READOUT_SLACK_S", "readout_allowance_s"]

#: Link rates assumed at a 100 % bandwidth limit: below what the links carry (USB 2 high speed
#: about 40 MB/s of bulk data, USB 3 some 300-400 MB/s), so the allowance errs long.
LINK_BYTES_PER_S = {False: 30e6, True: 200e6}  # by "is USB 3"
#: The transfer time at the assumed rate is doubled.
LINK_MARGIN = 2.0
#: The SDK's recommended margin after the exposure ("exposure + 500 ms").
READOUT_SLACK_S = 0.5
#: Sensor readout when the model's frame rate is unknown (the slowest PRO model needs 0.15 s).
SENSOR_READOUT_FALLBACK_S = 1.0


def readout_allowance_s(nbytes: int, *, usb3: bool, bandwidth_pct: float,
                        sensor_readout_s: float | None = None) -> float:
    """Seconds a frame of ``nbytes`` may take after its exposure ended before it counts as never
    coming: the SDK's 500 ms, the sensor readout, and twice the transfer at the assumed rate of
    this link and bandwidth limit (a limit outside 1..100 counts as 100)."""
    pct = bandwidth_pct if 0 < bandwidth_pct <= 100 else 100.0
    rate = LINK_BYTES_PER_S[bool(usb3)] * pct / 100.0
    readout = SENSOR_READOUT_FALLBACK_S if sensor_readout_s is None else sensor_readout_s
    return READOUT_SLACK_S + readout + LINK_MARGIN * nbytes / rate

