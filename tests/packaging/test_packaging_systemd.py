"""The systemd unit: `systemd-analyze verify` accepts it, and it runs unprivileged.

`systemd-analyze verify` (systemd 252) parses the unit offline and checks that the programs of
ExecStart/ExecStartPre exist; it does not need systemd running as PID 1. Running the unit's
command line as an unprivileged user from the installed .deb is in test_packaging_deb.py.
"""
from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "packaging" / "systemd" / "indi-playerone.service"


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze missing (apt-get install systemd)")
    return subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True,
                          timeout=60)


def test_systemd_analyze_verifies_the_unit() -> None:
    result = verify(UNIT)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


@pytest.mark.parametrize("old, new", [("DynamicUser=yes", "DynamicUser=maybe"),
                                      ("/usr/bin/indiserver", "/usr/bin/no-such-indiserver")])
def test_the_check_fails_on_a_broken_unit(tmp_path: Path, old: str, new: str) -> None:
    broken = tmp_path / UNIT.name
    broken.write_text(UNIT.read_text().replace(old, new))
    assert verify(broken).returncode != 0


def test_unit_runs_our_driver_as_an_unprivileged_plugdev_member() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read_string(UNIT.read_text())
    service = unit["Service"]
    assert service["DynamicUser"] == "yes" and "User" not in service
    assert service["SupplementaryGroups"] == "plugdev"
    assert service["ExecStart"].split()[0] == "/usr/bin/indiserver"
    assert service["ExecStart"].split()[-2:] == ["indi_playerone_ccd", "indi_playerone_wheel"]
    assert "-f /run/indi-playerone/fifo" in service["ExecStart"]
    assert service["RuntimeDirectory"] == "indi-playerone" and "mkfifo" in service["ExecStartPre"]
    assert service["Environment"] == "HOME=/var/lib/indi-playerone"
    assert service["StateDirectory"] == "indi-playerone"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
