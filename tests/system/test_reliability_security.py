"""Security (issue 8, part 6).

* The driver opens no listening socket: every socket it holds under the real indiserver is looked
  up in /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,unix} by inode; none may be an inet socket and
  no Unix socket may be listening (``__SO_ACCEPTCON``). The helper is first shown to detect
  listening sockets of this very process, so the check cannot pass vacuously.
* Upload prefixes cannot escape the upload directory (a hypothesis property over ``save_local``
  and the UPLOAD_SETTINGS handler), and symlinks planted under the names the driver will use are
  neither followed nor replaced.
* Files and directories are created without world write even under umask 0 (the real driver
  process, started with umask 0, saving into a directory tree it has to create).
* Nothing from a client reaches a shell or ``eval``: the package's source is parsed (ast) for
  process spawning, ``eval``/``exec``/``compile``/``__import__`` and unpickling; the only users are
  listed with the reason, and none of them is reachable from the driver's entry point.
"""
from __future__ import annotations

import ast
import os
import socket
import stat
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz.indi_target import CCD_NAME, CheckingTransport, FailureLog, ccd_device, make_loop
from harness.client import IndiClient
from harness.server import socket_inodes
from helpers.pipe_driver import connected_driver, expose
from indi_playerone.ccd.upload import UploadError, save_local

DEV = "PlayerOne CCD Apollo-M MAX PRO"  # connected_driver's default model
DRIVER = str(Path(sys.executable).parent / "indi_playerone_ccd")
PACKAGE = Path(__file__).resolve().parents[2] / "indi_playerone"
SO_ACCEPTCON = 1 << 16


# ------------------------------------------------------------------ sockets

def socket_report(pid: int) -> dict[str, list[str]]:
    """The process's sockets by inode: ``inet`` (any TCP/UDP/raw socket), ``listening_unix``,
    ``unix`` (other Unix sockets), ``netlink`` (kernel event sockets), ``unknown`` (found in no
    table)."""
    inodes = socket_inodes(pid)
    report: dict[str, list[str]] = {"inet": [], "listening_unix": [], "unix": [], "netlink": [],
                                    "unknown": []}
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            if f[9] in inodes:
                report["inet"].append(f"{table} {f[1]} state {f[3]}")
                inodes.discard(f[9])
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        f = line.split()
        if f[6] in inodes:
            key = "listening_unix" if int(f[3], 16) & SO_ACCEPTCON else "unix"
            report[key].append(" ".join(f[6:]))
            inodes.discard(f[6])
    for line in Path("/proc/net/netlink").read_text().splitlines()[1:]:
        f = line.split()
        if f[-1] in inodes:
            report["netlink"].append(f"protocol {f[1]} groups {f[3]}")
            inodes.discard(f[-1])
    report["unknown"] = sorted(inodes)
    return report


def test_socket_report_sees_listening_sockets() -> None:
    """The check below must be able to fail: our own listening sockets are found."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as u, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        u.bind(f"\0indi-playerone-test-{os.getpid()}")
        u.listen()
        t.bind(("127.0.0.1", 0))
        t.listen()
        report = socket_report(os.getpid())
    assert report["listening_unix"] and report["inet"]


@pytest.mark.indiserver
def test_driver_opens_no_listening_socket(indiserver_factory, tmp_path: Path) -> None:
    server = indiserver_factory([DRIVER], env={"INDI_PLAYERONE_SIMULATE": "Apollo-M MAX PRO"},
                                home=tmp_path / "home")
    with IndiClient(server.port) as client:
        client.connect_device(DEV, timeout=20)
        client.enable_blobs(DEV)
        client.expose(DEV, 0.01, timeout=30)
        (driver,) = [r for r in server.processes() if r.name.startswith("indi_playerone") and r.is_alive()]
        report = socket_report(driver.pid)
    assert report["inet"] == [] and report["listening_unix"] == [] and report["unknown"] == [], report
    # libusb (pyusb's USB discovery, the udev-rule check) keeps a receive-only socket for the
    # kernel's device events (NETLINK_KOBJECT_UEVENT = 15); no other netlink family is expected.
    assert all(entry.startswith("protocol 15 ") for entry in report["netlink"]), report
    assert len(report["unix"]) == 1, report   # the socketpair indiserver gave it, and nothing else


# ------------------------------------------------------------------ upload paths

ESCAPES = ["../x", "..", "a/../../x", "/etc/passwd", "/tmp/x", "x/y", "..\\x", "a\\b", "~/x",
           "...", "x..y", "\u2024\u2024/x", "x\x00y", "x\ny", "IMAGE_XXX/..", "%2e%2e%2fx",
           "ISO8601/XXX", " ../x", "x" * 300, ".hidden", "-rf", "$(id)", "`id`", "a;b", "a|b"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(ESCAPES) | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                                  min_size=1, max_size=30))
def test_upload_prefix_cannot_escape_the_directory(tmp_path: Path, prefix: str) -> None:
    base = tmp_path / f"p{time.monotonic_ns()}"
    upload = base / "up"
    upload.mkdir(parents=True)
    try:
        path = Path(save_local(memoryview(b"data"), str(upload), prefix, ".fits"))
    except UploadError:
        assert ".." in prefix or "/" in prefix or "\\" in prefix or len(prefix.encode()) > 200 \
            or any(c < " " or c == "\x7f" or 0x80 <= ord(c) < 0xA0 for c in prefix), prefix
        path = None
    if path is not None:
        assert path.parent == upload and path.resolve().parent == upload.resolve()
        assert path.read_bytes() == b"data"
    assert os.listdir(base) == ["up"]                  # nothing beside the upload directory
    assert [p.name for p in upload.iterdir()] == ([path.name] if path else [])  # no temporary file left


def test_hostile_prefixes_through_the_device_are_refused_unchanged(tmp_path: Path) -> None:
    tr = CheckingTransport()
    with FailureLog() as log:
        dev = ccd_device(tr, tmp_path)
        loop = make_loop(tr, dev)
        tr.take()
        try:
            for prefix in ESCAPES:
                if "\x00" in prefix or "\n" in prefix:
                    continue  # NUL cannot travel in XML; a newline is normalised by the parser
                loop.feed((f"<newTextVector device='{CCD_NAME}' name='UPLOAD_SETTINGS'><oneText name="
                           f"'UPLOAD_PREFIX'>{escape(prefix)}</oneText></newTextVector>").encode())
                (reply,) = [e for e in tr.take() if e.get("name") == "UPLOAD_SETTINGS"]
                if ".." in prefix or "/" in prefix or "\\" in prefix or len(prefix) > 200:
                    assert reply.get("state") == "Alert" and reply.get("message"), prefix
                    assert dev.find("UPLOAD_SETTINGS")["UPLOAD_PREFIX"].value == "IMAGE_XXX"
                else:
                    assert reply.get("state") == "Ok"
                    dev.find("UPLOAD_SETTINGS")["UPLOAD_PREFIX"].value = "IMAGE_XXX"
        finally:
            dev.disconnect()
    assert not log.failures


def test_planted_symlinks_are_not_followed(tmp_path: Path) -> None:
    upload, outside = tmp_path / "up", tmp_path / "outside"
    upload.mkdir()
    outside.mkdir()
    (outside / "target").write_bytes(b"do not touch")
    (upload / "IMG_001.fits").symlink_to(outside / "target")
    (upload / "IMG_002.fits").symlink_to(outside / "created")     # dangling: must not be created
    (upload / "IMG.fits").symlink_to(outside / "target")
    first = save_local(memoryview(b"one"), str(upload), "IMG_XXX", ".fits")
    second = save_local(memoryview(b"two"), str(upload), "IMG", ".fits")
    assert Path(first).name == "IMG_003.fits" and Path(second).name == "IMG_1.fits"
    assert (outside / "target").read_bytes() == b"do not touch"
    assert sorted(os.listdir(outside)) == ["target"]
    assert Path(first).read_bytes() == b"one" and not Path(first).is_symlink()


def test_files_and_directories_are_not_world_writable_under_umask_0(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    driver = connected_driver(tmp_path / "home", umask=0)
    target = tmp_path / "a" / "b" / "c"
    try:
        driver.send(f"<newTextVector device='{DEV}' name='UPLOAD_SETTINGS'><oneText name='UPLOAD_DIR'>{target}"
                    "</oneText><oneText name='UPLOAD_PREFIX'>U_XXX</oneText></newTextVector>"
                    f"<newSwitchVector device='{DEV}' name='UPLOAD_MODE'><oneSwitch name='UPLOAD_BOTH'>On"
                    "</oneSwitch></newSwitchVector>")
        driver.wait_for(b"name='UPLOAD_MODE' state='Ok'")
        expose(driver, DEV)
        driver.wait_for(b"U_001.fits")
    finally:
        assert driver.close() == 0
    created = [tmp_path / "a", tmp_path / "a" / "b", target, target / "U_001.fits"]
    modes = {str(p.relative_to(tmp_path)): stat.filemode(p.stat().st_mode) for p in created}
    print(f"\nmodes under umask 0: {modes}")
    for p in created:
        assert not p.stat().st_mode & stat.S_IWOTH, modes
    assert stat.S_IMODE((target / "U_001.fits").stat().st_mode) == 0o644


# ------------------------------------------------------------------ no shell, no eval

SPAWN_MODULES = {"subprocess", "pty", "pickle", "marshal", "shelve", "multiprocessing", "code", "codeop"}
EVAL_NAMES = {"eval", "exec", "compile", "__import__", "execfile", "input"}
OS_SPAWN = ("system", "popen", "exec", "spawn", "posix_spawn", "fork")
# Modules allowed to spawn processes, and why; none may be imported by the driver (checked below).
ALLOWED = {
    "indi_playerone/demo.py": "the `indi-playerone demo` command starts indiserver; not in the driver",
}
#: Process spawning the driver itself needs, each with why no client text can reach it.
ALLOWED_IN_DRIVER = {
    "indi_playerone/native/ser.py": "the SER kill guard: Popen of sys.executable -I -S with a fixed "
                                    "program (ser_guard.py) and integer arguments (two fds, the "
                                    "frame size); no shell",
}


def dangerous_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in SPAWN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in SPAWN_MODULES:
                found.append(f"from {node.module} import")
            if node.module == "os" and any(a.name.startswith(OS_SPAWN) for a in node.names):
                found.append(f"from os import {[a.name for a in node.names]}")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in EVAL_NAMES:
                found.append(f"{f.id}() at line {node.lineno}")
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "os" \
                    and f.attr.startswith(OS_SPAWN):
                found.append(f"os.{f.attr}() at line {node.lineno}")
            if isinstance(f, ast.Attribute) and f.attr in ("import_module", "load") and \
                    isinstance(f.value, ast.Name) and f.value.id in ("importlib", "yaml", "pickle"):
                found.append(f"{f.value.id}.{f.attr}() at line {node.lineno}")
            if any(k.arg == "shell" for k in node.keywords):
                found.append(f"shell= at line {node.lineno}")
    return found


def package_imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports (relative and absolute, any depth in the file)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {n for n in names if n.startswith("indi_playerone")}
    return out


def module_file(name: str) -> Path | None:
    rel = Path(*name.split("."))
    for candidate in (PACKAGE.parent / rel.with_suffix(".py"), PACKAGE.parent / rel / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def test_nothing_reaches_a_shell_or_eval() -> None:
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE.parent))
        uses = dangerous_uses(path)
        if uses and rel not in ALLOWED and rel not in ALLOWED_IN_DRIVER:
            offenders[rel] = uses
    assert not offenders, f"process spawning / eval in the package (add to ALLOWED only with a reason): {offenders}"
    # The driver's import graph, from its entry point, holds none of the allowed exceptions.
    seen, todo = set(), ["indi_playerone.ccd.main"]
    while todo:
        name = todo.pop()
        path = module_file(name)
        if path is None or name in seen:
            continue
        seen.add(name)
        todo += sorted(package_imports(path))
    reachable = {str(module_file(n).relative_to(PACKAGE.parent)) for n in seen}
    assert "indi_playerone/indi/driver.py" in reachable and "indi_playerone/ccd/upload.py" in reachable
    assert not reachable & set(ALLOWED), reachable & set(ALLOWED)
    # The driver's own exception spawns no shell and passes only numbers.
    for rel in ALLOWED_IN_DRIVER:
        uses = dangerous_uses(PACKAGE.parent / rel)
        assert not [u for u in uses if u.startswith(("shell=", "os.system", "eval", "exec"))], uses


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\nimport os\nos.system('x')\neval('1')\nf(shell=True)\n"
                   "from os import popen\n")
    assert len(dangerous_uses(bad)) == 5
