"""The driver acts on POAConfig IDs, never on the names a camera gives its configs: a simulated
camera claiming SDK 3.7.0 names its configs as that library does (``FanPowerPerc``,
``LensHeaterPowerPerc``, ``Pixels Binning Sum``, ``e/ADU``; docs/upstream-facts.md section 2.5)
and, under a real indiserver, every connect-time default still lands on the right setting, the
gain presets still find gain and offset, and the check tool still finds the fan.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from helpers import simsdk
from indi_playerone.indi.client import SimpleIndiClient
from indi_playerone.tools.check import PASS, check_fan
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
MODEL = "Ares-C PRO"  # carbon-fibre body: the manual's fan default is 50 %
DEVICE = f"PlayerOne CCD {MODEL}"


@pytest.mark.parametrize(("version", "fan", "heater", "bin_sum"), [
    ("3.7.0", "FanPowerPerc", "LensHeaterPowerPerc", "Pixels Binning Sum"),
    ("3.10.1", "FanPower", "LensHeaterPower", "Pixels Binning Sum"),
])
def test_defaults_and_presets_find_their_configs_by_id(tmp_path: Path, version: str, fan: str,
                                                       heater: str, bin_sum: str) -> None:
    env = simsdk.env(MODEL, INDI_PLAYERONE_SIM_OPTIONS=f"sdk_version={version}",
                     INDI_PLAYERONE_HOTPLUG_S="0")
    with IndiServer([DRIVER], env=env, home=tmp_path / "home", workdir=tmp_path) as server, \
            IndiClient(server.port) as client:
        client.connect_device(DEVICE, timeout=20)
        client.wait_property(DEVICE, "CCD_CONTROLS", timeout=10)
        client.wait_quiet(DEVICE)
        assert client.text(DEVICE, "SDK")["VERSION"] == version
        controls = client.number(DEVICE, "CCD_CONTROLS")
        assert {"Gain", "Offset", fan, heater, bin_sum, "Mono Bin", "USBBandWidthLimit"} <= set(controls)
        assert not {"FanPower", "FanPowerPerc"} - {fan} & set(controls)
        assert (controls[fan], controls[heater]) == (50, 10)  # the driver's defaults, by ID
        label = next(e.label for e in client.describe(DEVICE, "CCD_GAIN_PRESET").elements
                     if e.name == "PRESET_UNITY")  # "Unity (gain 280, offset 40)"
        gain, offset = (float(x) for x in re.findall(r"\d+", label.split("(", 1)[1]))
        client.set_switch(DEVICE, "CCD_GAIN_PRESET", ["PRESET_UNITY"])
        client.wait_until(DEVICE, "CCD_GAIN_PRESET", lambda s: s.values()["PRESET_UNITY"], timeout=10)
        client.wait_until(DEVICE, "CCD_CONTROLS", lambda s: (s.values()["Gain"], s.values()["Offset"])
                          == (gain, offset), timeout=10)
        with SimpleIndiClient(port=server.port) as tool:  # the check tool's own client
            tool.prop(DEVICE, "CCD_CONTROLS")
            result = check_fan(tool, DEVICE)
        assert result.verdict == PASS and result.detail.startswith(fan), result
