"""The native core under AddressSanitizer inside the real driver process (issue 8, part 4).

``test_native_sanitizers.py`` runs the C core's own test programs under ASan; this runs the C
core *as the driver uses it*: the cffi ``_native`` module is rebuilt with ``-fsanitize=address``
into a directory of its own (the installed one is untouched), and the driver process under a
real indiserver loads it through a small bootstrap that puts that directory first on the
package's ``__path__``, with ``libasan`` preloaded (Python itself is not instrumented). The
simulated SDK library is built with ASan too (``INDI_PLAYERONE_SIM_SDK`` points the driver at
that build), so the C reader thread, the frame ring, the SDK calls and the library's worker
threads are all checked.

The session: a few hundred short exposures of a small region, with a full frame, an abort in the
middle of an exposure, a format change, a 3 s video stream and a disconnect/connect cycle mixed
in at fixed intervals. Any ASan report ends the driver (``halt_on_error``) and is found in indiserver's log
(the driver's stderr). A first test proves the set-up would see one: the same bootstrap with an
out-of-bounds ``memset`` is reported and fails.

Leak checking is off (``detect_leaks=0``): the uninstrumented interpreter's own allocations at
exit would swamp it; the RSS soak (``test_reliability_soak.py``) and valgrind on the C tests
cover leaks. CI: ``INDI_PLAYERONE_ASAN_EXPOSURES`` (default 200; long variant documented in
docs/reliability.md).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import simsdk
from tests.harness.client import IndiClient
from tests.harness.server import IndiServer

pytestmark = pytest.mark.indiserver

ROOT = Path(__file__).resolve().parents[2]
MODEL = "Apollo-M MAX PRO"
DEVICE = f"PlayerOne CCD {MODEL}"
EXPOSURES = int(os.environ.get("INDI_PLAYERONE_ASAN_EXPOSURES", "200"))
ASAN_OPTIONS = "detect_leaks=0:halt_on_error=1:abort_on_error=0:allocator_may_return_null=1"
ASAN_FLAGS = ["-fsanitize=address", "-fno-omit-frame-pointer"]
STREAM_S = 3.0  # each stream in the session lasts this long


def libasan() -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not installed")
    path = subprocess.run([gcc, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not os.path.isabs(path) or not os.path.exists(path):
        pytest.skip("libasan is not installed")
    return os.path.realpath(path)


@pytest.fixture(scope="module")
def asan_native(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``_native`` built with ASan (-O1 -g) from ``native/``: the directory holding it."""
    libasan()
    spec = importlib.util.spec_from_file_location("build_native", ROOT / "native" / "build_native.py")
    assert spec is not None and spec.loader is not None
    build_native = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_native)  # defines the FFI; compiles nothing on import
    ffi = build_native.make_ffi(["-std=c11", "-O1", "-g", "-D_GNU_SOURCE", *ASAN_FLAGS], ASAN_FLAGS,
                                absolute=True)
    out = tmp_path_factory.mktemp("asan-native")
    so = Path(ffi.compile(tmpdir=str(out)))
    assert so.parent.name == "indi_playerone", so
    return so.parent


def bootstrap(asan_dir: Path, tmp: Path, extra: str = "") -> Path:
    """An executable that runs the driver (or ``extra`` code) with the ASan ``_native``."""
    script = tmp / "indi_playerone_ccd_asan"
    code = (
        "import sys, indi_playerone\n"
        f"indi_playerone.__path__.insert(0, {str(asan_dir)!r})\n"
        "import indi_playerone._native as n\n"
        "print('asan native:', n.__file__, file=sys.stderr, flush=True)\n"
        f"{extra}"
        "from indi_playerone.ccd.main import main\n"
        "sys.exit(main())\n"
    )
    script.write_text(f"#!/bin/sh\nexec env LD_PRELOAD={libasan()} ASAN_OPTIONS={ASAN_OPTIONS} "
                      f"{sys.executable} -c {_sh_quote(code)}\n")
    script.chmod(0o755)
    return script


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def test_the_setup_sees_an_asan_error(asan_native: Path, tmp_path: Path) -> None:
    """The bootstrap loads the ASan module, and a heap overflow in that process is reported:
    the soak below cannot pass merely because ASan was not there."""
    overflow = ("import ctypes\n"
                "libc = ctypes.CDLL(None)\n"
                "libc.malloc.restype = ctypes.c_void_p\n"
                "p = libc.malloc(8)\n"
                "ctypes.memset(p, 0, 64)\n")
    r = subprocess.run([str(bootstrap(asan_native, tmp_path, overflow))], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert f"asan native: {asan_native}" in r.stderr, r.stderr[-2000:]
    assert "ERROR: AddressSanitizer: heap-buffer-overflow" in r.stderr, r.stderr[-2000:]
    assert r.returncode != 0


def _session(client: IndiClient, exposures: int) -> dict[str, int]:
    """Small exposures with a full frame, an abort, a format change and a reconnect mixed in."""
    counts = {"frames": 0, "full": 0, "aborts": 0, "formats": 0, "reconnects": 0, "streams": 0,
              "previews": 0}
    formats = client.elements(DEVICE, "CCD_CAPTURE_FORMAT")
    small = {"X": 64, "Y": 64, "WIDTH": 128, "HEIGHT": 128}
    client.set_number(DEVICE, "CCD_FRAME", small)
    for i in range(1, exposures + 1):
        if i % 50 == 0:
            client.set_switch(DEVICE, "CCD_FRAME_RESET", ["RESET"])
            client.wait_until(DEVICE, "CCD_FRAME", lambda s: s.values()["WIDTH"] > 128, timeout=10)
            blob = client.expose(DEVICE, 0.001, timeout=30)
            assert len(blob.data) > 1608 * 1104
            counts["full"] += 1
            client.set_number(DEVICE, "CCD_FRAME", small)
            client.wait_until(DEVICE, "CCD_FRAME", lambda s: s.values()["WIDTH"] == 128, timeout=10)
        if i % 25 == 0:
            client.set_number(DEVICE, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 1.0})
            client.wait_state(DEVICE, "CCD_EXPOSURE", {"Busy"}, timeout=10)
            time.sleep(0.2)
            client.abort(DEVICE)
            client.wait_state(DEVICE, "CCD_EXPOSURE", {"Idle"}, timeout=10)
            counts["aborts"] += 1
        if i % 40 == 0:
            for fmt in formats[:1] + [f for f in formats if "16" in f][:1]:
                client.set_switch(DEVICE, "CCD_CAPTURE_FORMAT", [fmt])
                client.wait_until(DEVICE, "CCD_CAPTURE_FORMAT",
                                  lambda s, f=fmt: s.values().get(f) is True and s.state == "Ok", timeout=10)
            counts["formats"] += 1
        if i % 100 == 50:  # video mode: the stream's ring, previews and stop
            client.set_switch(DEVICE, "CCD_VIDEO_STREAM", ["STREAM_ON"])
            client.wait_until(DEVICE, "CCD_VIDEO_STREAM", lambda s: s.values().get("STREAM_ON") is True
                              and s.state in ("Busy", "Ok"), timeout=10)
            time.sleep(STREAM_S)
            client.set_switch(DEVICE, "CCD_VIDEO_STREAM", ["STREAM_OFF"])
            client.wait_until(DEVICE, "CCD_VIDEO_STREAM", lambda s: s.values().get("STREAM_OFF") is True
                              and s.state != "Busy", timeout=10)
            counts["previews"] += client.clear_blobs(DEVICE)
            counts["streams"] += 1
        if i % 100 == 0:
            client.disconnect_device(DEVICE, timeout=20)
            client.connect_device(DEVICE, timeout=20)
            client.set_number(DEVICE, "CCD_FRAME", small)
            client.wait_until(DEVICE, "CCD_FRAME", lambda s: s.values()["WIDTH"] == 128, timeout=10)
            counts["reconnects"] += 1
        client.expose(DEVICE, 0.001, timeout=30)
        counts["frames"] += 1
    return counts


def test_driver_session_clean_under_asan(asan_native: Path, tmp_path: Path) -> None:
    lib = simsdk.build(tmp_path / "simsdk-asan", extra_cflags=ASAN_FLAGS)
    env = simsdk.env(MODEL, INDI_PLAYERONE_SIM_SDK=str(lib))
    driver = bootstrap(asan_native, tmp_path)
    workdir = tmp_path / "server"
    workdir.mkdir()
    server = IndiServer([str(driver)], env=env, home=tmp_path / "home", workdir=workdir)
    server.start()
    t0 = time.monotonic()
    try:
        with IndiClient(server.port) as client:
            client.wait_device(DEVICE, timeout=60)
            client.connect_device(DEVICE, timeout=60)
            pids = [r.pid for r in server.processes() if r.is_alive() and r.name != "indiserver"]
            maps = "".join(Path(f"/proc/{pid}/maps").read_text() for pid in pids)
            assert str(lib) in maps, "the driver did not load the ASan build of the simulated SDK"
            client.enable_blobs(DEVICE)
            counts = _session(client, EXPOSURES)
            client.disconnect_device(DEVICE, timeout=20)
    finally:
        server.stop()
    elapsed = time.monotonic() - t0
    log = Path(server.log_path).read_text(errors="replace")
    assert f"asan native: {asan_native}" in log, "the driver did not load the ASan build"
    assert "AddressSanitizer" not in log and "runtime error" not in log, log[-5000:]
    print(f"\nASan: {counts} in {elapsed:.0f} s")  # quoted in docs/reliability.md (-s)
    assert counts["frames"] == EXPOSURES
    assert counts["streams"] == 0 or counts["previews"] > 0, "no preview arrived while streaming"
