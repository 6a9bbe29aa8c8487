"""The udev rule: syntax (udev's own parser, and ours), and what it does to which device.

* udev's parser: Debian 12's udevadm (systemd 252) has no ``udevadm verify`` (added in 254).
  ``udevadm test`` parses every rules file in udev's directories and logs each problem as
  ``<file>:<line> <error>``; the test bind-mounts a directory holding only our rule over
  ``/etc/udev/rules.d`` in a private mount namespace (``unshare -m``), so the machine's rules
  are not touched, and simulates an event for the loopback interface. Where ``udevadm
  verify`` exists it is run as well. Both are shown to fail on a broken copy of the rule.
* ours: a tokenizer with udev's grammar (``KEY[{attr}] OP "value"``, comma-separated), and a
  small evaluator of the rule for a described device, which checks the meaning: who gets
  access, with which mode, and when usbfs_memory_mb is raised.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from indi_playerone.tools import udev

RULE_PATH = Path(__file__).resolve().parents[2] / "packaging" / "udev" / udev.RULE_FILENAME
USBFS = "[module/usbcore]parameters/usbfs_memory_mb"

MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER",
              "DRIVERS", "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST", "SYSCTL"}
ASSIGN_ONLY = {"OWNER", "GROUP", "MODE", "RUN", "GOTO", "LABEL", "IMPORT", "OPTIONS",
               "SECLABEL", "SYMLINK", "NAME", "WAIT_FOR"}
BOTH = {"ATTR", "ENV", "TAG"}
WITH_ATTR = {"ATTR", "ATTRS", "ENV", "TEST", "IMPORT", "SYSCTL", "CONST", "RUN", "SECLABEL"}


@dataclass(frozen=True)
class Pair:
    key: str
    attr: str | None
    op: str
    value: str


_SUBSTITUTIONS = {"kernel", "number", "devpath", "id", "driver", "attr", "sysfs", "env", "major",
                  "minor", "result", "parent", "name", "links", "root", "sys", "devnode", "tempnode"}


def _check_substitutions(lineno: int, value: str) -> None:
    """udev expands $name / $name{..} in values; anything else is an error (a literal $ is $$)."""
    for m in re.finditer(r"\$(\$|[a-z]*)", value):
        if m.group(1) != "$" and m.group(1) not in _SUBSTITUTIONS:
            raise ValueError(f"line {lineno}: stray $ in {value!r} (write $$ for a literal $)")


_PAIR = re.compile(r'\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*')


def parse_rules(text: str) -> list[tuple[int, list[Pair]]]:
    """udev's line grammar; raises ValueError naming the line on anything udev would reject."""
    rules = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pairs, pos = [], 0
        while pos < len(line):
            m = _PAIR.match(line, pos)
            if not m:
                raise ValueError(f"line {lineno}: cannot parse at column {pos + 1}: {line[pos:]!r}")
            key, attr, op, value = m.groups()
            if key not in MATCH_ONLY | ASSIGN_ONLY | BOTH:
                raise ValueError(f"line {lineno}: unknown key {key}")
            if key in MATCH_ONLY and op not in ("==", "!="):
                raise ValueError(f"line {lineno}: {key} can only be matched, not {op}")
            if key in ASSIGN_ONLY and op in ("==", "!="):
                raise ValueError(f"line {lineno}: {key} can only be assigned, not {op}")
            if (attr is not None) != (key in WITH_ATTR) and key not in ("RUN", "IMPORT"):
                raise ValueError(f"line {lineno}: {key} {'needs' if attr is None else 'takes no'} {{attr}}")
            _check_substitutions(lineno, value)
            pairs.append(Pair(key, attr, op, value))
            pos = m.end()
            if pos < len(line):
                if line[pos] != ",":
                    raise ValueError(f"line {lineno}: missing comma at column {pos + 1}")
                pos += 1
        rules.append((lineno, pairs))
    labels = {p.value for _, ps in rules for p in ps if p.key == "LABEL"}
    for lineno, ps in rules:
        for p in ps:
            if p.key == "GOTO" and p.value not in labels:
                raise ValueError(f"line {lineno}: GOTO {p.value} has no LABEL")
    return rules


def _glob(pattern: str, value: str | None) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, alt) for alt in pattern.split("|"))


def evaluate(text: str, event: dict[str, str]) -> dict[str, object]:
    """Apply the rule to one event the way udev does (in order, GOTO jumps forward).

    ``event``: ACTION, SUBSYSTEM, ENV{DEVTYPE} as ``DEVTYPE``, ATTR{...} as the attribute name,
    and the usbfs parameter under :data:`USBFS`. Returns GROUP, MODE, TAG and the writes.
    """
    result: dict[str, object] = {"TAG": set(), "writes": {}}
    rules = parse_rules(text)
    skip_to: str | None = None
    for _, pairs in rules:
        if skip_to is not None:
            if any(p.key == "LABEL" and p.value == skip_to for p in pairs):
                skip_to = None
            continue
        matched = True
        for p in pairs:
            if p.op in ("==", "!="):
                value = event.get(p.attr if p.key in ("ATTR", "ENV") else p.key)
                hit = _glob(p.value, value)
                if hit != (p.op == "=="):
                    matched = False
                    break
        if not matched:
            continue
        for p in pairs:
            if p.op in ("==", "!="):
                continue
            if p.key == "GOTO":
                skip_to = p.value
            elif p.key == "TAG":
                result["TAG"].add(p.value)  # type: ignore[union-attr]
            elif p.key == "ATTR":
                result["writes"][p.attr] = p.value  # type: ignore[index]
            elif p.key != "LABEL":
                result[p.key] = p.value
    return result


def usb_event(vendor: str, product: str, usbfs_mb: str = "16", **extra: str) -> dict[str, str]:
    event = {"ACTION": "add", "SUBSYSTEM": "usb", "DEVTYPE": "usb_device", "idVendor": vendor,
             "idProduct": product, USBFS: usbfs_mb}
    event.update(extra)
    return event


# --- ours ---------------------------------------------------------------------------------

def test_rule_parses_with_udev_grammar() -> None:
    rules = parse_rules(RULE_PATH.read_text())
    assert len(rules) >= 6
    for broken, why in [('ATTR{idVendor}=="a0a0" MODE="0660"', "missing comma"),
                        ('ATTR{idVendor}=="a0a0", MODE=="0660"', "can only be assigned"),
                        ('SUBSYSTEM="usb", MODE="0660"', "can only be matched"),
                        ('ATTR{idVendor}=="a0a0", GOTO="nowhere"', "no LABEL"),
                        ("RUN+=\"/bin/sh -c 'echo $v'\"", "stray \\$"),
                        ('ATTR{idVendor}=="a0a0", GROUP="plugdev', "cannot parse")]:
        with pytest.raises(ValueError, match=why):
            parse_rules(broken)


def test_cameras_and_the_wheel_get_seat_user_and_plugdev_never_world() -> None:
    text = RULE_PATH.read_text()
    for product in ("1234", "f001"):
        r = evaluate(text, usb_event("a0a0", product))
        assert r["GROUP"] == "plugdev" and r["MODE"] == "0660" and r["TAG"] == {"uaccess"}, r
        assert not int(str(r["MODE"]), 8) & 0o007  # nothing for "other"
    for event in (usb_event("03c3", "120a"),  # someone else's camera
                  usb_event("a0a0", "1234", ACTION="remove"),
                  usb_event("a0a0", "1234", DEVTYPE="usb_interface"),
                  {**usb_event("a0a0", "1234"), "SUBSYSTEM": "tty"}):
        assert evaluate(text, event) == {"TAG": set(), "writes": {}}, event
    # No MODE anywhere in the file is world-accessible.
    for _, pairs in parse_rules(text):
        for p in pairs:
            if p.key == "MODE":
                assert not int(p.value, 8) & 0o007


@pytest.mark.parametrize("current, raised", [("16", True), ("1", True), ("255", True), ("64", True),
                                             ("256", False), ("1000", False), ("0", False),
                                             ("2048", False)])
def test_usbfs_memory_is_only_ever_raised_to_256(current: str, raised: bool) -> None:
    text = RULE_PATH.read_text()
    writes = evaluate(text, usb_event("a0a0", "1234", usbfs_mb=current))["writes"]
    assert writes == ({USBFS: "256"} if raised else {})
    assert evaluate(text, usb_event("a0a0", "f001", usbfs_mb=current))["writes"] == {}  # the wheel
    assert evaluate(text, usb_event("a0a0", "1234", usbfs_mb=current, ACTION="bind"))["writes"] == {}


def test_rule_sorts_before_seat_late_and_comments_both_choices() -> None:
    assert sorted([udev.RULE_FILENAME, "73-seat-late.rules"])[0] == udev.RULE_FILENAME
    text = RULE_PATH.read_text()
    comments = " ".join(line for line in text.splitlines() if line.startswith("#"))
    assert "uaccess" in comments and "plugdev" in comments and "0666" in comments
    assert "usbfs_memory_mb" in comments and "16 MB" in comments and "256" in comments


# --- udev's own parser --------------------------------------------------------------------

def _udevadm_problems(rule_text: str, tmp_path: Path) -> list[str]:
    """udev's complaints about our file: `udevadm test` over a private /etc/udev/rules.d."""
    if shutil.which("udevadm") is None or shutil.which("unshare") is None:
        pytest.skip("udevadm or unshare missing (apt-get install udev)")
    if os.geteuid() != 0:
        pytest.skip("needs root: udevadm test runs in a private mount namespace")
    rules = tmp_path / "rules.d"
    rules.mkdir(exist_ok=True)
    (rules / udev.RULE_FILENAME).write_text(rule_text)
    script = 'mount --bind "$1" /etc/udev/rules.d && exec udevadm test --action=add /sys/class/net/lo'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(rules)],
                          capture_output=True, text=True, timeout=60)
    output = proc.stdout + proc.stderr
    if f"Reading rules file: /etc/udev/rules.d/{udev.RULE_FILENAME}" not in output:
        pytest.skip(f"udevadm test in a private mount namespace did not run here: {output[-500:]}")
    return [line for line in output.splitlines()
            if udev.RULE_FILENAME in line and not line.startswith("Reading rules file")]


def test_udevadm_parses_the_rule_without_complaint(tmp_path: Path) -> None:
    assert _udevadm_problems(RULE_PATH.read_text(), tmp_path) == []


def test_udevadm_check_catches_a_broken_rule(tmp_path: Path) -> None:
    broken = RULE_PATH.read_text().replace('MODE="0660"', 'MODE=="0660"', 1)
    problems = _udevadm_problems(broken, tmp_path)
    assert problems and "Invalid operator for MODE" in problems[0]


def _udevadm_version() -> int:
    """The systemd release udevadm belongs to (``udevadm --version`` prints e.g. ``252``)."""
    out = subprocess.run(["udevadm", "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.match(r"\s*(\d+)", out)
    assert match, f"udevadm --version printed {out!r}"
    return int(match.group(1))


def test_udevadm_verify_where_it_exists(tmp_path: Path) -> None:
    """`udevadm verify` came with systemd 254; Debian 12 has 252. So this skips on the version
    udevadm reports, not on a missing tool: without udevadm it skips as any missing tool does
    (a failure on a machine .ci/setup prepared, see conftest.py)."""
    if shutil.which("udevadm") is None:
        pytest.skip("udevadm missing (apt-get install udev)")
    version = _udevadm_version()
    if version < 254:
        pytest.skip(f"udevadm verify needs systemd >= 254; this udevadm is {version}")
    ok = subprocess.run(["udevadm", "verify", str(RULE_PATH)], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / udev.RULE_FILENAME
    bad.write_text(RULE_PATH.read_text().replace('MODE="0660"', 'MODE=="0660"', 1))
    assert subprocess.run(["udevadm", "verify", str(bad)], capture_output=True, timeout=30).returncode != 0
