"""``packaging/pi-check`` (the Raspberry Pi OS check under emulation) without running it: it takes
tens of minutes under qemu, so it is not part of the suite (README, "Raspberry Pi").

What can be checked fast, and would break it: the script parses, its command line refuses
what it does not know before needing root, and the README commands it runs in the chroot are
found and still install every build dependency of ``packaging/debian/control`` (a Build-Depends
missing from the README line fails on a fresh Pi, where nothing else installed it)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "pi-check"

#: Build-Depends that name no package of their own: what provides them.
PROVIDED_BY = {"debhelper-compat": "debhelper", "dh-sequence-python3": "dh-python"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=30)


def test_the_script_parses() -> None:
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    if shutil.which("shellcheck"):
        proc = subprocess.run(["shellcheck", "-S", "error", str(SCRIPT)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("args", [(), ("amd64",), ("arm64", "--frsh"), ("--help",)])
def test_usage_errors_exit_2_before_anything_runs(args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert proc.returncode == 2, proc
    assert "usage: packaging/pi-check arm64|armhf" in proc.stderr
    assert proc.stdout == ""


def build_depends() -> set[str]:
    control = (ROOT / "packaging" / "debian" / "control").read_text()
    field = re.search(r"^Build-Depends:(.*?)^\S", control, re.S | re.M)
    assert field, "no Build-Depends in packaging/debian/control"
    names = {re.split(r"[\s(\[:]", dep.strip())[0] for dep in field.group(1).split(",") if dep.strip()}
    return {PROVIDED_BY.get(n, n) for n in names}


def test_readme_steps_are_the_three_commands_and_cover_the_build_depends() -> None:
    proc = run("--readme-steps")
    assert proc.returncode == 0, proc.stderr
    steps = proc.stdout.splitlines()
    assert len(steps) == 3, steps
    install, build, deb = steps
    assert install.startswith("apt-get install ") and "sudo" not in install
    assert build == "bash packaging/build-deb"
    assert deb.startswith("apt install ./dist/indi-playerone_") and deb.endswith(".deb")
    listed = set(install.split()[2:])
    assert build_depends() <= listed, f"README's apt-get line lacks {build_depends() - listed}"
    # dpkg-buildpackage also needs the build-essential set, which a fresh Raspberry Pi OS Lite
    # or a minimal Debian does not have.
    assert "build-essential" in listed
