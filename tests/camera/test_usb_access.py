"""The driver names the udev rule when a Player One device is on USB but this user cannot open it.

The USB bus is pyusb's own seam with the fake backend of ``tests/tools/test_cli.py``; the permission
check runs in a child process that dropped root to ``nobody`` (root passes every access check).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indi_playerone.camera import registry
from indi_playerone.camera import usb as pousb
from indi_playerone.tools import udev
from helpers.usb_fake import ARES_USB3, NOBODY, NOGROUP, WHEEL, FakeBackend, make_node
from helpers.usb_fake import usbfs  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import json, os, sys
sys.path[:0] = [sys.argv[1], os.path.join(sys.argv[1], "tests")]  # tests.*, helpers.*
import tests.camera.test_usb_access as t
t.preload()
uid, gid, name, args = json.loads(sys.argv[2])
os.setgroups([])
os.setgid(gid)
os.setuid(uid)
print(json.dumps(getattr(t, name)(*args)))
"""


def preload() -> None:
    """Import, as root, what the child needs after dropping to nobody."""
    import encodings.idna  # noqa: F401

    registry.simulated_cameras("Ares-C PRO")
    registry.sdk_cameras(quiet=True)  # imports the SDK loader


def as_nobody(name: str, *args: object) -> object:
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another user")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT),
                           json.dumps([NOBODY, NOGROUP, name, list(args)])],
                          capture_output=True, text=True, timeout=60, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelname, record.getMessage()))


def child_discover(dev_root: str) -> dict[str, object]:
    """discover_cameras() with the fake bus (one camera, one wheel): the logged warnings."""
    os.environ["INDI_PLAYERONE_SIMULATE"] = "Ares-C PRO"
    collect = Collect()
    logger = logging.getLogger("indi_playerone.camera")
    logger.addHandler(collect)
    logger.setLevel(logging.DEBUG)
    cams = registry.discover_cameras(FakeBackend([ARES_USB3, WHEEL]), dev_root=Path(dev_root),
                                     sys_root=Path(dev_root) / "no-sysfs")
    return {"cameras": [c.info.model for c in cams],
            "warnings": [m for level, m in collect.records if level == "WARNING"]}


def test_rule_name_matches_the_tools_and_the_packaged_file() -> None:
    assert pousb.UDEV_RULE_FILENAME == udev.RULE_FILENAME
    assert (ROOT / "packaging" / "udev" / pousb.UDEV_RULE_FILENAME).is_file()


def test_access_problem_names_the_rule_only_for_denied_devices(tmp_path: Path) -> None:
    def dev(accessible: bool | None, address: int = 5) -> pousb.UsbDevice:
        return pousb.UsbDevice(bus=2, address=address, vendor_id=0xA0A0, product_id=0x1234,
                               speed=4, node=tmp_path / "002" / f"{address:03d}",
                               accessible=accessible, product="Ares-C PRO")

    assert pousb.access_problem([]) is None
    assert pousb.access_problem([dev(True), dev(None, 6)]) is None
    text = pousb.access_problem([dev(True), dev(False, 7)])
    assert text is not None
    assert "70-indi-playerone.rules" in text and "packaging/udev/70-indi-playerone.rules" in text
    assert "indi-playerone udev-rule" in text and "plugdev" in text
    assert "bus 002 address 007" in text and "address 005" not in text


def test_driver_discovery_warns_with_the_rule_when_a_camera_cannot_be_opened(
        usbfs: Path) -> None:  # noqa: F811
    """Root-owned 0600 nodes (no udev rule): nobody may not open them; the warning (which the
    driver's log bridge sends as an INDI message) names the rule and the command. With 0666
    nodes there is no warning; the simulated camera is served either way."""
    make_node(usbfs, ARES_USB3, 0o600)
    make_node(usbfs, WHEEL, 0o600)
    denied = as_nobody("child_discover", str(usbfs))
    assert denied["cameras"] == ["Ares-C PRO"]
    (warning,) = [w for w in denied["warnings"] if "udev" in w]
    assert "70-indi-playerone.rules" in warning and "indi-playerone udev-rule" in warning
    assert "a0a0:1234" in warning and "a0a0:f001" in warning
    for desc in (ARES_USB3, WHEEL):
        (usbfs / f"{desc.bus:03d}" / f"{desc.address:03d}").chmod(0o666)
    allowed = as_nobody("child_discover", str(usbfs))
    assert not [w for w in allowed["warnings"] if "udev" in w]


def test_no_usb_backend_is_not_an_error(caplog: pytest.LogCaptureFixture,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """pyusb finds no libusb (its backends' loaders return None, as test_cli does): the driver
    says so at DEBUG only and goes on."""
    import usb.backend.libusb0
    import usb.backend.libusb1
    import usb.backend.openusb

    for mod in (usb.backend.libusb1, usb.backend.libusb0, usb.backend.openusb):
        monkeypatch.setattr(mod, "get_backend", lambda *a, **k: None)  # third-party code
    with caplog.at_level(logging.DEBUG, logger="indi_playerone.camera"):
        assert registry.warn_unopenable_devices() is None
    assert "libusb-1.0" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
