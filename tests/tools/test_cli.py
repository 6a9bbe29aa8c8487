"""`indi-playerone` without a server: driver-xml, udev-rule, list (USB through pyusb's backend seam).

The USB bus is pyusb's own: ``usb.core.find(backend=...)`` with a fake backend written here
(``usb.backend.IBackend``), so `list` runs pyusb's real device matching and attribute handling
on devices we describe. Permission checks run in a child process that has dropped root to
``nobody`` (root passes every access check, so only a plain user shows a refusal).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
import usb.backend

from indi_playerone.camera import usb as pousb
from indi_playerone.tools import exits, listing, udev
from helpers.usb_fake import (  # noqa: F401  (usbfs: a fixture)
    ARES_USB3, NOBODY, NOGROUP, OTHER_VENDOR, WHEEL, ZEUS_USB2, FakeBackend, make_node, usbfs,
)
from indi_playerone.tools.driverxml import driver_xml

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "indi-playerone")
PLUGDEV = 46  # Debian's fixed gid (base-passwd)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60,
                          env=None if env is None else {**os.environ, **env})


# --- driver-xml and udev-rule: the committed files are what the code generates ----------------

def test_committed_driver_xml_is_what_driver_xml_prints() -> None:
    result = run_cli("driver-xml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "xml" / "indi_playerone.xml").read_text(encoding="utf-8")


def test_driver_xml_version_follows_the_package_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    major_minor = ".".join(version.split(".")[:2])
    import xml.etree.ElementTree as ET

    root = ET.fromstring(driver_xml())
    devices = root.findall("devGroup/device")
    assert [g.get("group") for g in root.findall("devGroup")] == ["CCDs", "Filter Wheels"]
    assert len(devices) == 2
    # The C++ package's labels and driver names (indi-3rdparty indi_playerone.xml.cmake).
    for dev, label, exe in zip(devices, ("PlayerOne CCD", "PlayerOne EFW"),
                               ("indi_playerone_ccd", "indi_playerone_wheel")):
        assert dev.get("label") == label and dev.get("mdpd") == "true"
        assert dev.findtext("driver") == exe
        assert dev.find("driver").get("name") == label  # type: ignore[union-attr]
        assert dev.findtext("version") == major_minor
    # A different version gives a different file: the committed-file test can fail.
    assert driver_xml("9.9") != driver_xml()


def test_committed_udev_rule_is_what_udev_rule_prints() -> None:
    result = run_cli("udev-rule")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "packaging" / "udev" / udev.RULE_FILENAME).read_text(encoding="utf-8")


def test_help_documents_the_exit_codes_and_bad_usage_exits_2() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for sub in ("list", "capture", "demo", "driver-xml", "udev-rule"):
        assert sub in result.stdout
    assert "3    cannot reach the indiserver" in result.stdout and "4    device not found" in result.stdout
    assert run_cli("frobnicate").returncode == exits.USAGE
    assert run_cli().returncode == exits.USAGE


# --- a fake pyusb backend -------------------------------------------------------------------

_CHILD = """
import json, os, sys
sys.path[:0] = [sys.argv[1], os.path.join(sys.argv[1], "tests")]  # tests.*, helpers.*
import tests.tools.test_cli as t
t.preload()
uid, gid, groups, name, args = json.loads(sys.argv[2])
os.setgroups(groups)
os.setgid(gid)
os.setuid(uid)
print(json.dumps(getattr(t, name)(*args)))
"""


def preload() -> None:
    """Import, as root, what the child needs later: as nobody it cannot read /root's Python."""
    import encodings.idna  # noqa: F401
    import logging  # noqa: F401

    listing.driver_cameras()  # imports the registry, the SDK backend and loader, ccd.main
    from indi_playerone.camera.sdk_loader import load_simulated_sdk

    load_simulated_sdk()  # mapped now: as nobody the package's files may be unreadable


def as_user(name: str, *args: object, uid: int = NOBODY, gid: int = NOGROUP,
            groups: tuple[int, ...] = ()) -> object:
    """Call module function `name(*args)` in a fresh process that dropped root to `uid`.

    A fresh process, not a fork of pytest: a fork of a test process that has mapped large
    frames fails with ENOMEM under the kernel's overcommit heuristic (measured in the full
    suite). The child imports everything as root first, then switches user.
    """
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another user")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT),
                           json.dumps([uid, gid, list(groups), name, list(args)])],
                          capture_output=True, text=True, timeout=60, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


# --- camera/usb.py --------------------------------------------------------------------------

def test_scan_lists_only_vendor_a0a0_with_bus_speed_and_node(usbfs: Path, tmp_path: Path) -> None:
    sysfs = tmp_path / "sys"
    (sysfs / "2-1.3").mkdir(parents=True)
    (sysfs / "2-1.3" / "product").write_text("Ares-C PRO\n")
    backend = FakeBackend([OTHER_VENDOR, ARES_USB3, WHEEL, ZEUS_USB2])
    found = pousb.scan(backend, dev_root=usbfs, sys_root=sysfs)
    assert [(d.bus, d.address) for d in found] == [(1, 7), (1, 9), (2, 5)]  # sorted, ZWO left out
    zeus, wheel, ares = found
    assert ares.product_id == 0x1234 and ares.usb_generation == 3 and ares.product == "Ares-C PRO"
    assert zeus.usb_generation == 2 and zeus.product is None
    assert wheel.is_filter_wheel and wheel.kind == "filter wheel" and not ares.is_filter_wheel
    assert ares.node == usbfs / "002" / "005"
    assert ares.accessible is None  # no node made
    assert pousb.speed_name(4).startswith("SuperSpeed (USB 3") and "USB 2" in pousb.speed_name(3)
    assert pousb.speed_name(None) == pousb.speed_name(0) == pousb.speed_name(99) == "unknown speed"


def test_scan_reports_no_backend_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyusb's own 'No backend available' (no libusb found) becomes UsbUnavailable with the fix."""
    import usb.backend.libusb0
    import usb.backend.libusb1
    import usb.backend.openusb

    for mod in (usb.backend.libusb1, usb.backend.libusb0, usb.backend.openusb):
        monkeypatch.setattr(mod, "get_backend", lambda *a, **k: None)  # third-party code: no libusb
    with pytest.raises(pousb.UsbUnavailable, match="libusb-1.0"):
        pousb.scan()


def child_can_open(node: str) -> bool | None:
    return pousb.can_open(Path(node))


def test_can_open_follows_mode_group_and_user(usbfs: Path) -> None:
    """What the udev rule's GROUP="plugdev", MODE="0660" means for a plain user."""
    private = make_node(usbfs, ARES_USB3, 0o660, gid=PLUGDEV)
    world = make_node(usbfs, ZEUS_USB2, 0o666)
    assert pousb.can_open(private) is True  # root
    assert as_user("child_can_open", str(private)) is False
    assert as_user("child_can_open", str(private), groups=(PLUGDEV,)) is True
    assert as_user("child_can_open", str(world)) is True
    assert pousb.can_open(usbfs / "009" / "009") is None


# --- list ----------------------------------------------------------------------------------

def _list(backend: FakeBackend, dev_root: Path, as_json: bool = False) -> dict[str, object]:
    out, err = io.StringIO(), io.StringIO()
    code = listing.run(argparse.Namespace(json=as_json), out, err, backend=backend, dev_root=dev_root,
                       sys_root=dev_root / "no-sysfs")
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


def test_list_shows_simulated_cameras_and_usb_devices(usbfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", "Ares-C PRO, Ares-C PRO")
    make_node(usbfs, ARES_USB3, 0o666)
    make_node(usbfs, ZEUS_USB2, 0o666)
    res = _list(FakeBackend([ARES_USB3, ZEUS_USB2]), usbfs)
    out = str(res["out"])
    assert res["code"] == exits.OK, res
    assert "PlayerOne CCD Ares-C PRO  (Ares-C PRO, simulated)" in out
    assert "PlayerOne CCD Ares-C PRO 1  (Ares-C PRO, simulated)" in out
    assert re.search(r"bus 002 address 005  a0a0:1234  camera  SuperSpeed \(USB 3.*you can open it", out)
    # The USB 2 camera gets the advice; the USB 3 one does not.
    assert "note: bus 001 address 007 runs at high speed (USB 2" in out
    assert "bus 002 address 005 runs at" not in out
    assert res["err"] == ""


def test_list_json_for_scripts(usbfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", "Zeus 455M PRO")
    res = _list(FakeBackend([WHEEL]), usbfs, as_json=True)
    data = json.loads(str(res["out"]))
    assert res["code"] == exits.OK
    assert data["cameras"] == [{"device": "PlayerOne CCD Zeus 455M PRO", "model": "Zeus 455M PRO",
                                "serial": "SIM-ZEUS-455M-PRO-0001", "simulated": True, "usb3": True}]
    assert data["usb"][0]["product_id"] == "f001" and data["usb"][0]["kind"] == "filter wheel"
    assert data["usb"][0]["usb_generation"] == 1 and data["usb"][0]["accessible"] is None
    assert data["usb_error"] is None


def test_list_shows_simulated_wheels_named_as_the_wheel_driver_names_them(
        usbfs: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.helpers.wheel import simsdk_library

    monkeypatch.delenv("INDI_PLAYERONE_SIMULATE", raising=False)
    monkeypatch.setenv("INDI_PLAYERONE_SIM_SDK", simsdk_library())
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE_WHEEL", 'Phoenix 8x1.25", Phoenix 8x1.25"')
    monkeypatch.setenv("INDI_PLAYERONE_SIM_WHEEL_OPTIONS", f"state={tmp_path}")
    res = _list(FakeBackend([]), usbfs)
    assert res["code"] == exits.OK, res
    out = str(res["out"])
    assert 'PlayerOne Phoenix 8x1.25"  (8-slot Phoenix 8x1.25", simulated)' in out
    assert 'PlayerOne Phoenix 8x1.25" 1  (8-slot Phoenix 8x1.25", simulated)' in out
    data = json.loads(str(_list(FakeBackend([]), usbfs, as_json=True)["out"]))
    assert data["wheels"][1] == {"device": 'PlayerOne Phoenix 8x1.25" 1', "model": 'Phoenix 8x1.25"',
                                 "serial": "SIM-PHOENIX-8X1.25IN-0002", "slots": 8, "simulated": True}
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE_WHEEL", "Phoenix 6x2")
    data = json.loads(str(_list(FakeBackend([]), usbfs, as_json=True)["out"]))
    assert data["wheels"] == [] and "unknown filter wheel 'Phoenix 6x2'" in data["wheel_error"]


def test_list_with_nothing_found_exits_4(usbfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INDI_PLAYERONE_SIMULATE", raising=False)
    res = _list(FakeBackend([OTHER_VENDOR]), usbfs)
    assert res["code"] == exits.NO_DEVICE
    assert "INDI_PLAYERONE_SIMULATE" in str(res["out"])


def test_list_reports_a_bad_simulate_variable(usbfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", "Neptune-X")
    res = _list(FakeBackend([]), usbfs)
    assert res["code"] == exits.NO_DEVICE
    assert "Neptune-X" in str(res["out"])


def child_list(dev_root: str, rule_dir: str) -> dict[str, object]:
    """`list` on a bus holding the Ares, with udev's rule directories replaced by `rule_dir`."""
    os.environ.pop("INDI_PLAYERONE_SIMULATE", None)
    udev.RULE_DIRS = (Path(rule_dir),)
    return _list(FakeBackend([ARES_USB3]), Path(dev_root))


def test_list_denied_device_prints_the_udev_fix(usbfs: Path) -> None:
    make_node(usbfs, ARES_USB3, 0o660, gid=PLUGDEV)
    rules = Path(tempfile.mkdtemp(prefix="fake-rules-"))
    rules.chmod(0o755)
    try:
        # Rule not installed: the fix is to install it.
        res = as_user("child_list", str(usbfs), str(rules))
        assert res["code"] == exits.FAILURE, res  # type: ignore[index]
        assert "PERMISSION DENIED" in res["out"]  # type: ignore[index]
        assert f"indi-playerone udev-rule | sudo tee /etc/udev/rules.d/{udev.RULE_FILENAME}" in res["err"]  # type: ignore[index]
        # Rule installed, user not in plugdev: the fix is the group.
        (rules / udev.RULE_FILENAME).write_text(udev.RULE)
        res = as_user("child_list", str(usbfs), str(rules))
        assert res["code"] == exits.FAILURE  # type: ignore[index]
        assert "usermod -aG plugdev" in res["err"] and str(rules) in res["err"]  # type: ignore[index]
        # In plugdev: no problem at all.
        res = as_user("child_list", str(usbfs), str(rules), groups=(PLUGDEV,))
        assert res["code"] == exits.OK and res["err"] == "", res  # type: ignore[index]
    finally:
        subprocess.run(["rm", "-rf", str(rules)], check=True)


def test_list_runs_as_a_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real command on this machine's real bus (no Player One device here, or some)."""
    result = run_cli("list", "--json", env={"INDI_PLAYERONE_SIMULATE": "Uranus-C PRO"})
    assert result.returncode in (exits.OK, exits.FAILURE), result.stderr
    data = json.loads(result.stdout)
    assert data["cameras"][0]["device"] == "PlayerOne CCD Uranus-C PRO"
    assert isinstance(data["usb"], list)
