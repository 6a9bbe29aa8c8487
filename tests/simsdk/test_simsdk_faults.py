"""The simulated SDK's runtime faults (``native/simsdk/sim_fault_file.c``), at the C level through ctypes.

``INDI_PLAYERONE_SIM_FAULT_FILE`` lets a test break a camera inside a running driver process: the library
polls the file at every API call (at most every 50 ms) and applies each new line once, in order.
Checked here: lines apply once and in order, to all cameras, to ``@id`` or to ``@serial``; ``fail_call`` makes
the next n calls of every failable function fail with ``POA_ERROR_OPERATION_FAILED`` (each
exported function in turn, so a new one cannot be missed silently); ``unplug`` / ``replug``
change ``POAGetCameraCount``; a read that is already waiting sees an unplug written meanwhile;
``unplug_in_read``, ``corrupt_next_frame``, ``no_12v`` / ``12v``; the fault log; and the C stress
program under ThreadSanitizer and AddressSanitizer while a thread keeps appending fault lines.

The 50 ms rate limit is a property of the polling, not a speed claim: tests wait for a line to
take effect (polling with a timeout) instead of assuming when it does.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from helpers.simsdk_api import (
    _SIGNATURES, APOLLO_M, ARES_C, COOLER, COOLER_POWER, DEVICE_NOT_FOUND, EXP, ID0, ID1,
    INVALID_ARGU, OK, OPERATION_FAILED, RAW16, SOURCE_DIR, TARGET_TEMP, TEMPERATURE, TIMEOUT,
    ConfigValue, get_config, grab, ok, open_cam, properties, set_float, set_int,
    small_roi, snap, start_small,
)
from helpers.waiting import wait_for

#: What the C side must not be made to fail: they return no error code.
NOT_FAILABLE = {"POAGetCameraCount", "POAGetErrorString", "POAGetAPIVersion", "POAGetSDKVersion",
                "POAGetGainOffset"}  # the deprecated call goes through POAGetGainsAndOffsets
FAILABLE = sorted(n for n in _SIGNATURES if n.startswith("POA") and n not in NOT_FAILABLE)
#: Calls that take no camera: their fail count is process-wide.
GLOBAL = {"POAGetCameraProperties", "POAGetConfigValueType"}


@pytest.fixture
def faults(lib: ctypes.CDLL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator["FaultFile"]:
    """The library reset, two cameras (Apollo-M MAX PRO = 100, Ares-C PRO = 107), a fault file
    and a fault log."""
    for var in [v for v in os.environ if v.startswith("INDI_PLAYERONE_SIM")]:
        monkeypatch.delenv(var)
    ff = FaultFile(tmp_path / "faults", tmp_path / "faults.log")
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE", f"{APOLLO_M},{ARES_C}")
    monkeypatch.setenv("INDI_PLAYERONE_SIM_OPTIONS", "cooler_tau=0.2")
    monkeypatch.setenv("INDI_PLAYERONE_SIM_FAULT_FILE", str(ff.path))
    monkeypatch.setenv("INDI_PLAYERONE_SIM_FAULT_LOG", str(ff.log))
    lib.SimPOA_Reset()
    assert lib.POAGetCameraCount() == 2
    yield ff
    lib.SimPOA_Reset()


class FaultFile:
    def __init__(self, path: Path, log: Path) -> None:
        self.path, self.log = path, log
        path.write_text("")

    def add(self, *lines: str) -> None:
        with self.path.open("a") as f:
            f.write("".join(line + "\n" for line in lines))

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def eventually(predicate: Callable[[], bool], what: str, timeout: float = 5.0,
               sdk: ctypes.CDLL | None = None) -> None:
    """Poll until true. The library reads the file only inside its calls: a predicate that
    makes none passes ``sdk``, and POAGetCameraCount is called each round."""
    wait_for(lambda: (sdk is not None and sdk.POAGetCameraCount() < 0) or predicate(), timeout, what)


def temperature_rc(sdk: ctypes.CDLL, cid: int) -> int:
    value, auto = ConfigValue(), ctypes.c_int()
    return sdk.POAGetConfig(cid, TEMPERATURE, ctypes.byref(value), ctypes.byref(auto))


# ---- lines --------------------------------------------------------------------------------------

def test_lines_apply_once_in_order_to_one_camera_or_all(lib: ctypes.CDLL, faults: FaultFile) -> None:
    open_cam(lib, ID0)
    open_cam(lib, ID1)
    faults.add(f"fail_call=POAGetConfig:2@{ID0}")
    eventually(lambda: temperature_rc(lib, ID0) == OPERATION_FAILED, "the first line")
    assert temperature_rc(lib, ID1) == OK, "@id: the other camera is untouched"
    assert temperature_rc(lib, ID0) == OPERATION_FAILED, "n = 2: the second call fails too"
    assert temperature_rc(lib, ID0) == OK, "then no more"
    # The same file rewritten with one more line (and a comment and a blank line): only the new
    # lines are applied, the first one is not applied again.
    faults.path.write_text(f"fail_call=POAGetConfig:2@{ID0}\n\n# all cameras:\nfail_call=POAGetConfig\n")
    eventually(lambda: temperature_rc(lib, ID1) == OPERATION_FAILED, "the line for all cameras")
    assert temperature_rc(lib, ID0) == OPERATION_FAILED, "default n = 1 on every camera"
    assert temperature_rc(lib, ID0) == OK and temperature_rc(lib, ID1) == OK
    assert [line for line in faults.log_lines() if line.startswith("applied")] == [
        f"applied fail_call=POAGetConfig:2@{ID0}", "applied fail_call=POAGetConfig"]
    assert faults.log_lines().count(f"fail_call POAGetConfig {ID0}") == 3
    # by serial number, as the Python simulator's fault file named cameras (case ignored)
    faults.add("fail_call=POAGetConfig @ sim-ares-c-pro-0001")
    eventually(lambda: temperature_rc(lib, ID1) == OPERATION_FAILED, "the line for the serial")
    assert temperature_rc(lib, ID0) == OK


def test_lines_written_before_the_first_scan_reach_its_cameras(lib: ctypes.CDLL, faults: FaultFile) -> None:
    """A driver started with a fault file already written: its lines apply to the cameras the
    first POAGetCameraCount finds (open_error=2: the enumeration's open and the next fail)."""
    lib.SimPOA_Reset()
    faults.add("open_error=2")
    assert lib.POAGetCameraCount() == 2
    assert [lib.POAOpenCamera(ID0), lib.POAOpenCamera(ID0), lib.POAOpenCamera(ID0)] == [
        OPERATION_FAILED, OPERATION_FAILED, OK]


def test_a_shorter_file_is_a_new_file(lib: ctypes.CDLL, faults: FaultFile) -> None:
    open_cam(lib, ID0)
    faults.add("none", "none", "none")
    eventually(lambda: len(faults.log_lines()) == 3, "three lines applied", sdk=lib)
    faults.path.write_text("fail_call=POAGetConfig\n")  # one line < three applied: start again
    eventually(lambda: temperature_rc(lib, ID0) == OPERATION_FAILED, "the new file's line")


def test_unknown_and_malformed_lines_are_skipped(lib: ctypes.CDLL, faults: FaultFile) -> None:
    open_cam(lib, ID0)
    faults.add("no_such_fault", "fail_call=POANoSuchFunction", "fail_call=POAGetCameraCount",
               "fail_call", "timeout@abc", f"fail_call=POAGetConfig@{ID0}")
    eventually(lambda: temperature_rc(lib, ID0) == OPERATION_FAILED, "the good line after the bad ones")
    assert [line for line in faults.log_lines() if line.startswith("applied")] == [
        f"applied fail_call=POAGetConfig@{ID0}"]


def test_set_fault_arms_and_refuses_fail_call(lib: ctypes.CDLL, faults: FaultFile) -> None:
    open_cam(lib, ID0)
    assert lib.SimPOA_SetFault(ID0, b"fail_call:POANoSuchFunction", 1) == INVALID_ARGU
    assert lib.SimPOA_SetFault(ID0, b"fail_call:POAGetCameraCount", 1) == INVALID_ARGU
    ok(lib.SimPOA_SetFault(ID0, b"fail_call:POAGetConfig", 0))  # 0: every call until cleared
    for _ in range(3):
        assert temperature_rc(lib, ID0) == OPERATION_FAILED
    ok(lib.SimPOA_SetFault(ID0, b"fail_call:POAGetConfig", -1))
    assert temperature_rc(lib, ID0) == OK


def _default_args(sdk: ctypes.CDLL, name: str) -> list[object]:
    """Plausible arguments for any SDK function from its ctypes signature: the camera id first
    (index 0 / config 0 for the calls without a camera), valid pointers, small numbers."""
    args: list[object] = []  # byref() and cast() keep their objects alive
    for i, t in enumerate(getattr(sdk, name).argtypes):
        if t is ctypes.c_int:
            args.append(0 if name in GLOBAL else (ID0 if i == 0 else 1))
        elif t is ctypes.c_void_p:
            buf = ctypes.create_string_buffer(64)
            args.append(ctypes.cast(buf, ctypes.c_void_p))
        elif t is ctypes.c_char_p:
            args.append(b"x")
        elif t in (ctypes.c_long, ctypes.c_int64):
            args.append(16 if t is ctypes.c_long else 0)
        elif t is ctypes.c_double:
            args.append(0.0)
        else:  # a pointer type
            args.append(ctypes.byref(t._type_()))  # type: ignore[attr-defined]
    return args


@pytest.mark.parametrize("func", FAILABLE)
def test_fail_call_makes_the_next_call_fail_once(lib: ctypes.CDLL, faults: FaultFile, func: str) -> None:
    """Every exported function that returns an error code, with the arguments of a first look:
    armed with n = 1, the next call fails and does nothing, the one after does not fail that way."""
    open_cam(lib, ID0)
    ok(lib.SimPOA_SetFault(ID0, f"fail_call:{func}".encode(), 1))
    fn = getattr(lib, func)
    assert fn(*_default_args(lib, func)) == OPERATION_FAILED
    assert fn(*_default_args(lib, func)) != OPERATION_FAILED
    assert faults.log_lines()[-1] == f"fail_call {func} {'-' if func in GLOBAL else ID0}"


def test_fail_call_does_nothing(lib: ctypes.CDLL, faults: FaultFile) -> None:
    """A failed call has no effect: a failed POAStartExposure starts nothing, a failed
    POASetImageBin keeps the bin."""
    open_cam(lib, ID0)
    small_roi(lib, ID0)
    faults.add(f"fail_call=POAStartExposure@{ID0}", f"fail_call=POASetImageBin@{ID0}")
    eventually(lambda: len(faults.log_lines()) == 2, "both lines", sdk=lib)
    assert lib.POAStartExposure(ID0, 1) == OPERATION_FAILED
    assert grab(lib, ID0, 200)[0] == TIMEOUT, "nothing was started"
    assert lib.POASetImageBin(ID0, 2) == OPERATION_FAILED
    b = ctypes.c_int()
    ok(lib.POAGetImageBin(ID0, ctypes.byref(b)))
    assert b.value == 1
    snap(lib, ID0)


# ---- unplug and replug ---------------------------------------------------------------------------

def test_unplug_and_replug_change_the_count(lib: ctypes.CDLL, faults: FaultFile) -> None:
    open_cam(lib, ID0)
    faults.add(f"unplug@{ID0}")
    eventually(lambda: lib.POAGetCameraCount() == 1, "the camera to leave")
    assert properties(lib, 0)[1].cameraID == ID1
    assert temperature_rc(lib, ID0) == DEVICE_NOT_FOUND
    assert lib.POAOpenCamera(ID0) == DEVICE_NOT_FOUND
    faults.add("replug")  # all cameras: the plugged one is unaffected
    eventually(lambda: lib.POAGetCameraCount() == 2, "the camera to come back")
    open_cam(lib, ID0)  # it comes back closed
    small_roi(lib, ID0)
    snap(lib, ID0)


def test_an_unplug_reaches_a_read_that_is_waiting(lib: ctypes.CDLL, faults: FaultFile) -> None:
    """The host is blocked in POAGetImageData (a 30 s exposure, a 20 s timeout): the line is
    written meanwhile and no other call is made; the waiting read polls the file and returns."""
    start_small(lib, ID0, 30.0)
    threading.Timer(0.3, faults.add, args=(f"unplug@{ID0}",)).start()
    t0 = time.monotonic()
    assert grab(lib, ID0, 20_000)[0] == DEVICE_NOT_FOUND
    assert time.monotonic() - t0 < 15, "returned because of the unplug, not the timeout"


def test_unplug_in_read(lib: ctypes.CDLL, faults: FaultFile) -> None:
    open_cam(lib, ID0)
    small_roi(lib, ID0)
    faults.add(f"unplug_in_read=100@{ID0}")
    eventually(lambda: len(faults.log_lines()) == 1, "the line", sdk=lib)
    ok(set_float(lib, ID0, EXP, 0.01))
    ok(lib.POAStartExposure(ID0, 1))
    assert grab(lib, ID0, 5000)[0] == DEVICE_NOT_FOUND
    assert faults.log_lines()[-1] == f"unplug_in_read {ID0}"
    assert lib.POAGetCameraCount() == 1
    faults.add(f"replug@{ID0}")
    eventually(lambda: lib.POAGetCameraCount() == 2, "replug")
    open_cam(lib, ID0)
    small_roi(lib, ID0)
    snap(lib, ID0)  # once only


# ---- frames and power ----------------------------------------------------------------------------

def test_corrupt_next_frame(lib: ctypes.CDLL, faults: FaultFile) -> None:
    open_cam(lib, ID1)  # Ares-C PRO: 14-bit ADC, good RAW16 frames are multiples of 4

    def frame() -> np.ndarray:
        return np.frombuffer(snap(lib, ID1), dtype=np.uint16)

    def garbage(f: np.ndarray) -> bool:
        return bool(np.any(f % 4) and float(np.median(f)) > 10_000)

    small_roi(lib, ID1, RAW16, 128, 64)
    assert not garbage(frame())
    faults.add(f"corrupt_next_frame@{ID1}")
    eventually(lambda: len(faults.log_lines()) == 1, "the line", sdk=lib)
    assert garbage(frame())
    assert not garbage(frame()), "only the next frame"


def test_no_12v_then_12v_while_cooling(lib: ctypes.CDLL, faults: FaultFile) -> None:
    open_cam(lib, ID0)  # ambient 20 C, tau 0.2 s
    ok(set_int(lib, ID0, TARGET_TEMP, -5))
    ok(set_int(lib, ID0, COOLER, 1))

    def temp() -> float:
        return get_config(lib, ID0, TEMPERATURE)[0].floatValue

    eventually(lambda: abs(temp() + 5) < 0.2, "the target")
    faults.add(f"no_12v@{ID0}")
    eventually(lambda: abs(temp() - 20) < 0.2, "ambient without the 12 V supply")
    assert get_config(lib, ID0, COOLER_POWER)[0].intValue == 0
    faults.add(f"12v@{ID0}")
    eventually(lambda: abs(temp() + 5) < 0.2, "the target again with the supply back")


# ---- thread safety --------------------------------------------------------------------------------

@pytest.mark.parametrize("sanitizer", ["thread", "address,undefined"])
def test_c_stress_with_fault_lines_under_sanitizers(tmp_path: Path, sanitizer: str) -> None:
    """``native/simsdk/tests/sim_stress.c`` (readers, pollers, setters, close/reopen and
    unplug/replug races on two cameras) while this thread appends fault-file lines every few ms:
    the file polling and line application race every API call and the worker threads."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    exe = tmp_path / "sim_stress"
    cmd = ["gcc", "-std=c11", "-D_GNU_SOURCE", "-O1", "-g", f"-fsanitize={sanitizer}",
           "-fno-sanitize-recover=all", f"-I{SOURCE_DIR}", *map(str, sorted(SOURCE_DIR.glob("*.c"))),
           str(SOURCE_DIR / "tests" / "sim_stress.c"), "-o", str(exe), "-lpthread", "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if r.returncode != 0 and sanitizer == "thread" and "tsan" in r.stderr:
        pytest.skip(f"ThreadSanitizer not available: {r.stderr[-300:]}")
    assert r.returncode == 0, r.stderr
    fault_file, log = tmp_path / "faults", tmp_path / "faults.log"
    fault_file.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDI_PLAYERONE_SIM")}
    env.update(ASAN_OPTIONS="detect_leaks=1", TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1",
               INDI_PLAYERONE_SIM_FAULT_FILE=str(fault_file), INDI_PLAYERONE_SIM_FAULT_LOG=str(log))
    # Faults the stress program tolerates (it already switches these itself), for all cameras
    # and for one; no fail_call (its return-code checks would count those as failures).
    cycle = ["timeout=1", f"never_ready=1@{ID0}", "corrupt_next_frame", f"corrupt_after_bin=1@{ID1}",
             "no_12v", "12v", f"unplug@{ID1}", "replug", "none"]
    proc = subprocess.Popen([str(exe), "1500"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    written = 0
    try:
        while proc.poll() is None and written < 2000:
            with fault_file.open("a") as f:
                f.write(cycle[written % len(cycle)] + "\n")
            written += 1
            time.sleep(0.003)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out + err
    assert "all passed" in out and "Sanitizer" not in err, err
    applied = sum(1 for line in log.read_text().splitlines() if line.startswith("applied"))
    print(f"\n{sanitizer}: {written} lines written, {applied} applied")  # docs/reliability.md (-s)
    assert applied > 50, f"only {applied} of {written} lines applied"
