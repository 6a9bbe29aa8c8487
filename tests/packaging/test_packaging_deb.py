"""The .deb: built with Debian's tooling, unpacked into a throwaway root, run from there.

``packaging/build-deb`` runs dpkg-buildpackage (debhelper + dh-python/pybuild, nothing
downloaded) on a copy of the sources; the package is then unpacked with ``dpkg -x`` into a
temporary root and run from it with Debian's own ``/usr/bin/python3`` (the shebang pybuild
wrote) and Debian's python3-numpy/astropy/cffi-backend/usb, i.e. the package's declared
dependencies, never this project's virtual environment. ``PYTHONPATH`` points into the root
because the root is not ``/``.

Measured here: the build takes about 12 s (the C core at -O3 is most of it); the module about 25 s.
The systemd unit's command line is also run from the root as the unprivileged user ``nobody``
with the ``plugdev`` group, as the unit's DynamicUser/SupplementaryGroups would run it.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from astropy.io import fits

from helpers.processes import terminate
from indi_playerone.tools import exits, udev
from tests.harness.server import IndiServer

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"
ARES = "PlayerOne CCD Ares-C PRO"
NOBODY, NOGROUP, PLUGDEV = 65534, 65534, 46


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dpkg-buildpackage") is None:
        pytest.skip("dpkg-buildpackage missing: run .ci/setup (installs debhelper, dh-python)")
    out = tmp_path_factory.mktemp("deb")
    proc = subprocess.run(["bash", str(ROOT / "packaging" / "build-deb"), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("indi-playerone_*.deb")
    return path


@pytest.fixture(scope="module")
def root(deb: Path) -> Iterator[Path]:
    """The package unpacked into a world-readable temporary root (nobody runs from it too)."""
    top = Path(tempfile.mkdtemp(prefix="deb-root-"))
    top.chmod(0o755)
    subprocess.run(["dpkg", "-x", str(deb), str(top)], check=True, timeout=60)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def installed_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a process running the installed files (no venv on PATH)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{root}/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env["PYTHONPATH"] = f"{root}/usr/lib/python3/dist-packages"
    env.update(extra)
    return env


def need_system_python_deps() -> None:
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import numpy, astropy, _cffi_backend, usb"],
                           capture_output=True, text=True, timeout=60, cwd="/")
    if probe.returncode != 0:
        pytest.skip("Debian's python3-numpy/-astropy/-cffi-backend/-usb are not installed "
                    f"(.ci/setup installs them): {probe.stderr.strip()[-200:]}")


def test_changelog_version_follows_the_package_version() -> None:
    """debian/changelog's upstream version is the pyproject version (bump both together)."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    first = (ROOT / "packaging/debian/changelog").read_text().splitlines()[0]
    assert re.match(rf"indi-playerone \({re.escape(version)}-\d+\) ", first), first


def test_package_metadata_and_files(deb: Path, root: Path) -> None:
    info = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture", "Depends"],
                          capture_output=True, text=True, check=True, timeout=30).stdout
    fields = dict(line.split(": ", 1) for line in info.splitlines())
    assert fields["Package"] == "indi-playerone"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert fields["Version"].startswith(f"{version}-")
    depends = {d.strip().split(" ")[0] for d in fields["Depends"].split(",")}
    assert {"indi-bin", "python3-numpy", "python3-astropy", "python3-cffi-backend", "python3-usb"} <= depends
    assert "python3-cffi" not in depends  # the build-time package: the backend is enough at run time

    assert (root / "usr/share/indi/indi_playerone.xml").read_bytes() == (ROOT / "xml/indi_playerone.xml").read_bytes()
    rule = root / "lib/udev/rules.d" / udev.RULE_FILENAME
    assert rule.read_bytes() == (ROOT / "packaging/udev" / udev.RULE_FILENAME).read_bytes()
    unit = root / "lib/systemd/system/indi-playerone.service"
    assert unit.read_bytes() == (ROOT / "packaging/systemd/indi-playerone.service").read_bytes()
    site = root / "usr/lib/python3/dist-packages"
    assert list((site / "indi_playerone").glob("_native*.so")), "the compiled C core is missing"
    # The simulated SDK: in the package's own directory, never on the loader's path.
    sim = site / "indi_playerone/simsdk/libPlayerOneCameraSim.so"
    assert sim.exists(), "the simulated SDK library is missing"
    soname = subprocess.run(["readelf", "-d", str(sim)], capture_output=True, text=True, timeout=30).stdout
    assert "[libPlayerOneCameraSim.so]" in soname
    assert not list(root.rglob("libPlayerOneCamera.so*")), "never the vendor SDK's name"
    assert (site / "indi_playerone/tools/capture.py").exists()
    for script in ("indi_playerone_ccd", "indi_playerone_wheel", "indi-playerone"):
        path = root / "usr/bin" / script
        assert os.access(path, os.X_OK)
        assert path.read_text().splitlines()[0] == "#!/usr/bin/python3"  # Debian's python, not a venv
    # Nothing of a developer's tree leaks in.
    names = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True,
                           timeout=30).stdout
    assert "/tests/" not in names and "_native.c" not in names and ".venv" not in names


def test_installed_tool_runs_from_the_root(root: Path) -> None:
    """`python -c` puts its working directory first on sys.path: run from the root, not the repo."""
    need_system_python_deps()
    env = installed_env(root, INDI_PLAYERONE_SIMULATE="Ares-C PRO")
    where = subprocess.run([SYSTEM_PYTHON, "-c", "import indi_playerone, indi_playerone._native as n; "
                            "print(indi_playerone.__file__); print(n.__file__)"],
                           capture_output=True, text=True, env=env, timeout=60, cwd=root)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(root)) for line in where.stdout.splitlines()), where.stdout
    result = subprocess.run(["indi-playerone", "driver-xml"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.stdout == (root / "usr/share/indi/indi_playerone.xml").read_text()
    listed = subprocess.run(["indi-playerone", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert ARES in listed.stdout, listed.stdout + listed.stderr


@pytest.mark.indiserver
def test_indiserver_runs_the_installed_driver_and_a_frame_arrives(root: Path, tmp_path: Path) -> None:
    need_system_python_deps()
    env = installed_env(root, INDI_PLAYERONE_SIMULATE="Ares-C PRO")
    driver = str(root / "usr/bin/indi_playerone_ccd")
    with IndiServer([driver], env={"PYTHONPATH": env["PYTHONPATH"],
                                   "INDI_PLAYERONE_SIMULATE": "Ares-C PRO"},
                    workdir=tmp_path / "server") as server:
        result = subprocess.run(["indi-playerone", "capture", "--host", "127.0.0.1", "--port",
                                 str(server.port), "-e", "0.2", "-o", str(tmp_path / "out")],
                                capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == exits.OK, result.stderr + server.log_text()[-3000:]
        # The simulated camera is the package's simulated SDK library, mapped in the driver.
        pids = [r.pid for r in server.processes() if r.is_alive() and r.name != "indiserver"]
        maps = "".join(Path(f"/proc/{pid}/maps").read_text() for pid in pids)
        assert f"{root}/usr/lib/python3/dist-packages/indi_playerone/simsdk/libPlayerOneCameraSim.so" in maps
    with fits.open(result.stdout.strip()) as hdul:
        assert hdul[0].data.shape == (3008, 3008)
        assert hdul[0].header["INSTRUME"] == ARES
    assert f"Driver {driver}" in server.log_text()


@pytest.mark.indiserver
def test_indiserver_runs_the_installed_wheel_driver_and_it_moves(root: Path, tmp_path: Path) -> None:
    """The installed wheel driver serving a simulated wheel of the installed simulated library."""
    need_system_python_deps()
    from tests.harness.client import IndiClient

    env = installed_env(root)
    wheel = "PlayerOne Phoenix 5x2\""
    with IndiServer([str(root / "usr/bin/indi_playerone_wheel")],
                    env={"PYTHONPATH": env["PYTHONPATH"], "INDI_PLAYERONE_SIMULATE_WHEEL": 'Phoenix 5x2"',
                         "INDI_PLAYERONE_SIM_WHEEL_OPTIONS": f"time_scale=0.02,state={tmp_path / 'state'}"},
                    workdir=tmp_path / "server") as server, IndiClient(server.port) as client:
        client.connect_device(wheel, timeout=20)
        client.wait_state(wheel, "FILTER_SLOT", {"Ok"}, timeout=10)
        client.set_number(wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 4})
        client.wait_until(wheel, "FILTER_SLOT", lambda s: s.state == "Ok" and s.values()["FILTER_SLOT_VALUE"] == 4,
                          timeout=10)
    assert "indi_playerone_wheel" in server.log_text()


def _unit_commands(unit: Path) -> tuple[list[str], list[str]]:
    text = unit.read_text()
    pre = shlex.split(re.search(r"^ExecStartPre=(.*)$", text, re.M).group(1))  # type: ignore[union-attr]
    start = shlex.split(re.search(r"^ExecStart=(.*)$", text, re.M).group(1))  # type: ignore[union-attr]
    return pre, start


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _uids_of_children(pid: int) -> dict[str, int]:
    """comm -> real uid of the direct children of `pid`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if int(fields.get("PPid", "0")) == pid:
            found[fields["Name"].strip()] = int(fields["Uid"].split()[0])
    return found


@pytest.mark.indiserver
def test_unit_command_line_runs_unprivileged_from_the_root(root: Path, tmp_path: Path) -> None:
    """The unit's ExecStartPre/ExecStart as user nobody + group plugdev, paths moved into tmp.

    Stands in for systemd (not PID 1 here): DynamicUser is replaced by nobody, StateDirectory
    and RuntimeDirectory by directories owned by nobody, the port by a free one; indiserver
    gets a private -u socket name so it cannot collide with another server.
    """
    need_system_python_deps()
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as nobody")
    base = Path(tempfile.mkdtemp(prefix="unit-"))
    base.chmod(0o755)
    state, runtime = base / "state", base / "run"
    for d in (state, runtime):
        d.mkdir(mode=0o700)
        os.chown(d, NOBODY, NOGROUP)
    port = _free_port()
    pre, start = _unit_commands(root / "lib/systemd/system/indi-playerone.service")
    move = lambda args: [a.replace("/run/indi-playerone", str(runtime)) for a in args]  # noqa: E731
    pre, start = move(pre), move(start)
    start[start.index("-p") + 1] = str(port)
    start[1:1] = ["-u", f"/tmp/unit-test-{os.getpid()}-{port}"]
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOGROUP}", f"--groups={PLUGDEV}",
                 "--pdeathsig", "TERM"]
    env = installed_env(root, HOME=str(state), INDI_PLAYERONE_SIMULATE="Ares-C PRO")
    subprocess.run(as_nobody + pre, check=True, env=env, timeout=30)
    assert (runtime / "fifo").is_fifo() and (runtime / "fifo").stat().st_uid == NOBODY
    log = open(base / "indiserver.log", "wb")
    server = subprocess.Popen(as_nobody + start, env=env, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        result = subprocess.run(["indi-playerone", "capture", "--host", "127.0.0.1", "--port", str(port),
                                 "--wait", "15", "-e", "0.1", "-o", str(tmp_path)],
                                capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == exits.OK, result.stderr + (base / "indiserver.log").read_text()[-3000:]
        assert _uids_of_children(server.pid).get("indi_playerone_") == NOBODY
        with fits.open(result.stdout.strip()) as hdul:
            assert hdul[0].header["INSTRUME"] == ARES
    finally:
        terminate(server, 10)
        log.close()
        deadline = time.monotonic() + 5  # the driver sees EOF on stdin and exits
        while _uids_of_children(server.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(base, ignore_errors=True)
