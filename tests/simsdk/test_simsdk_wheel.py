"""The simulated Phoenix filter wheels of ``libPlayerOneCameraSim.so`` (``native/simsdk/sim_wheel*.c``),
loaded with ctypes and declarations written here from the vendor's ``PlayerOnePW.h`` (not from the
simulated library's own header), so a layout or enum mismatch shows up as a failure.

Covered: exports, enumeration (handles that are not indices, the self-check on first detection),
names as the manual writes them (case and blanks ignored, unknown names refused with the list),
moves and their times both ways and one-way, PW_ERROR_IS_MOVING while turning, what the wheel
stores (aliases, focus offsets, custom name, one-way) surviving a reset of the library through its
state file, the faults of the fault file (stuck, firmware_error, unplug_in_move, unplug/replug), and
thread safety (``native/simsdk/tests/sim_wheel_stress.c`` under ThreadSanitizer and ASan+UBSan).
Times are checked as lower bounds (a behaviour); upper bounds are only hang guards.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.simsdk_api import build_stress, load_library

# ---- declarations from the vendor's PlayerOnePW.h --------------------------------------------------

(PW_OK, INVALID_INDEX, INVALID_HANDLE, INVALID_ARGU, NOT_OPENED, NOT_FOUND, IS_MOVING, POINTER,
 OPERATION_FAILED, FIRMWARE_ERROR) = range(10)
CLOSED, OPENED, MOVING = range(3)
MAX_NAME_LEN = 24


class PWProperties(ctypes.Structure):
    _fields_ = [("Name", ctypes.c_char * 64), ("Handle", ctypes.c_int), ("PositionCount", ctypes.c_int),
                ("SN", ctypes.c_char * 32), ("Reserved", ctypes.c_char * 32)]


_I, _P, _S = ctypes.c_int, ctypes.POINTER, ctypes.c_char_p
SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "POAGetPWCount": (_I, []),
    "POAGetPWProperties": (_I, [_I, _P(PWProperties)]),
    "POAGetPWPropertiesByHandle": (_I, [_I, _P(PWProperties)]),
    "POAOpenPW": (_I, [_I]), "POAClosePW": (_I, [_I]),
    "POAGetCurrentPosition": (_I, [_I, _P(_I)]), "POAGotoPosition": (_I, [_I, _I]),
    "POAGetOneWay": (_I, [_I, _P(_I)]), "POASetOneWay": (_I, [_I, _I]),
    "POAGetPWState": (_I, [_I, _P(_I)]),
    "POAGetPWFilterAlias": (_I, [_I, _I, _S, _I]), "POASetPWFilterAlias": (_I, [_I, _I, _S, _I]),
    "POAGetPWFocusOffset": (_I, [_I, _I, _P(_I)]), "POASetPWFocusOffset": (_I, [_I, _I, _I]),
    "POAGetPWCustomName": (_I, [_I, _S, _I]), "POASetPWCustomName": (_I, [_I, _S, _I]),
    "POAResetPW": (_I, [_I]),
    "POAGetPWErrorString": (_S, [_I]), "POAGetPWAPIVer": (_I, []), "POAGetPWSDKVer": (_S, []),
    "SimPOA_GetPWConfigError": (_I, [_S, _I]),
    "SimPOA_Reset": (None, []),
}
PW_FUNCTIONS = sorted(n for n in SIGNATURES if n.startswith("POA"))
SCALE = 0.02  # time_scale: a 1.2 s move takes 24 ms
H0, H1 = 200, 205  # the handles of the first two wheels


@pytest.fixture(scope="module")
def lib(lib_path: Path) -> ctypes.CDLL:
    """The library (conftest's ``lib_path``) with the wheel API's signatures."""
    return load_library(lib_path, SIGNATURES)


@pytest.fixture
def pw(lib: ctypes.CDLL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ctypes.CDLL]:
    """The library, reset, with a 7x36mm and a 5x2" wheel, fast motion, state under tmp_path."""
    for var in [v for v in os.environ if v.startswith("INDI_PLAYERONE_SIM")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE_WHEEL", 'Phoenix 7x36mm, Phoenix 5x2"')
    monkeypatch.setenv("INDI_PLAYERONE_SIM_WHEEL_OPTIONS", f"time_scale={SCALE},state={tmp_path / 'state'}")
    lib.SimPOA_Reset()
    yield lib
    lib.SimPOA_Reset()


def ok(rc: int) -> None:
    assert rc == PW_OK, f"error {rc}"


def props(pw: ctypes.CDLL, index: int) -> PWProperties:
    p = PWProperties()
    ok(pw.POAGetPWProperties(index, ctypes.byref(p)))
    return p


def position(pw: ctypes.CDLL, handle: int = H0) -> tuple[int, int]:
    out = ctypes.c_int(-1)
    rc = pw.POAGetCurrentPosition(handle, ctypes.byref(out))
    return rc, out.value


def settle(pw: ctypes.CDLL, handle: int = H0, timeout: float = 5.0) -> int:
    """Wait until the wheel stops; its position."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rc, pos = position(pw, handle)
        if rc == PW_OK:
            return pos
        assert rc == IS_MOVING, f"error {rc}"
        time.sleep(0.002)
    raise AssertionError("the wheel never stopped")


def opened(pw: ctypes.CDLL, handle: int = H0) -> None:
    assert pw.POAGetPWCount() >= 1
    ok(pw.POAOpenPW(handle))
    settle(pw, handle)  # the self-check of the first detection


def timed_move(pw: ctypes.CDLL, to: int, handle: int = H0) -> float:
    t0 = time.monotonic()
    ok(pw.POAGotoPosition(handle, to))
    assert settle(pw, handle) == to
    return time.monotonic() - t0


def test_declarations_match_the_header_layout() -> None:
    assert ctypes.sizeof(PWProperties) == 136 and PWProperties.SN.offset == 72


def test_exports_every_wheel_function(lib_path: Path) -> None:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) not installed")
    syms = subprocess.run([readelf, "--dyn-syms", "-W", str(lib_path)], capture_output=True, text=True,
                          check=True).stdout
    defined = {f[7] for f in (line.split() for line in syms.splitlines())
               if len(f) >= 8 and f[4] == "GLOBAL" and f[6] != "UND"}
    assert set(PW_FUNCTIONS) <= defined, sorted(set(PW_FUNCTIONS) - defined)
    assert "SimPOA_GetPWConfigError" in defined


def test_enumeration_names_handles_and_serials(pw: ctypes.CDLL) -> None:
    assert pw.POAGetPWProperties(0, ctypes.byref(PWProperties())) == INVALID_INDEX, "scan first"
    assert pw.POAGetPWCount() == 2
    a, b = props(pw, 0), props(pw, 1)
    assert (a.Name, a.Handle, a.PositionCount, a.SN) == (b"Phoenix 7x36mm", H0, 7, b"SIM-PHOENIX-7X36MM-0001")
    assert (b.Name, b.Handle, b.PositionCount, b.SN) == (b'Phoenix 5x2"', H1, 5, b"SIM-PHOENIX-5X2IN-0001")
    assert pw.POAGetPWProperties(2, ctypes.byref(PWProperties())) == INVALID_INDEX
    by_handle = PWProperties()
    ok(pw.POAGetPWPropertiesByHandle(H1, ctypes.byref(by_handle)))
    assert by_handle.SN == b.SN
    assert pw.POAGetPWPropertiesByHandle(1, ctypes.byref(by_handle)) == INVALID_HANDLE  # an index
    assert pw.POAGetPWProperties(0, None) == POINTER
    assert pw.POAGetPWSDKVer() == b"1.2.3" and pw.POAGetPWAPIVer() > 20220000
    assert pw.POAGetPWErrorString(FIRMWARE_ERROR) == b"firmware error, reset the filter wheel"


def test_names_ignore_case_and_blanks_and_unknown_ones_are_refused_with_the_list(
        pw: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE_WHEEL", 'phoenix 8X1.25", Phoenix 9x2in ,PHOENIX7X50MM,,')
    assert pw.POAGetPWCount() == 2
    assert [props(pw, i).PositionCount for i in range(2)] == [8, 7]
    buf = ctypes.create_string_buffer(512)
    assert pw.SimPOA_GetPWConfigError(buf, 512) > 0
    assert buf.value.decode() == (
        "INDI_PLAYERONE_SIMULATE_WHEEL: unknown filter wheel 'Phoenix 9x2in'; valid wheels: "
        'Phoenix 8x1.25", Phoenix 7x36mm, Phoenix 7x2", Phoenix 7x50mm, Phoenix 5x2"')
    monkeypatch.setenv("INDI_PLAYERONE_SIMULATE_WHEEL", "Phoenix 7x36mm,Phoenix 7x36mm")
    assert pw.POAGetPWCount() == 2
    assert [props(pw, i).SN for i in range(2)] == [b"SIM-PHOENIX-7X36MM-0001", b"SIM-PHOENIX-7X36MM-0002"]
    assert pw.SimPOA_GetPWConfigError(buf, 512) == 0
    monkeypatch.delenv("INDI_PLAYERONE_SIMULATE_WHEEL")
    assert pw.POAGetPWCount() == 0


def test_first_detection_self_checks_and_opening_does_not_move(pw: ctypes.CDLL) -> None:
    t0 = time.monotonic()
    assert pw.POAGetPWCount() == 2
    state = ctypes.c_int(-1)
    ok(pw.POAGetPWState(H0, ctypes.byref(state)))
    assert state.value == CLOSED
    assert position(pw)[0] == NOT_OPENED
    ok(pw.POAOpenPW(H0))
    ok(pw.POAGetPWState(H0, ctypes.byref(state)))
    assert state.value == MOVING and position(pw)[0] == IS_MOVING
    assert pw.POAGotoPosition(H0, 3) == IS_MOVING
    assert settle(pw) == 0
    assert time.monotonic() - t0 >= 5.5 * SCALE  # a full turn
    ok(pw.POAGetPWState(H0, ctypes.byref(state)))
    assert state.value == OPENED
    ok(pw.POAGotoPosition(H0, 4))
    settle(pw)
    ok(pw.POAClosePW(H0))
    assert pw.POAGetPWCount() == 2  # detected already: no second self-check
    ok(pw.POAOpenPW(H0))
    assert position(pw) == (PW_OK, 4)


def test_moves_take_the_short_way_or_go_forward_one_way(pw: ctypes.CDLL) -> None:
    opened(pw)
    per_slot = 5.0 / 7 * SCALE
    # two-way: 0 -> 6 is one slot backwards
    assert timed_move(pw, 6) >= 0.5 * SCALE + per_slot
    t_back = timed_move(pw, 0)
    ok(pw.POASetOneWay(H0, 1))
    one = ctypes.c_int(-1)
    ok(pw.POAGetOneWay(H0, ctypes.byref(one)))
    assert one.value == 1
    # one-way: 0 -> 6 goes forward through every slot; 6 -> 0 forward is one slot (wraps)
    assert timed_move(pw, 6) >= 0.5 * SCALE + 6 * per_slot
    assert timed_move(pw, 0) >= 0.5 * SCALE + per_slot
    assert t_back < 0.5 * SCALE + 6 * per_slot + 1.0  # hang guard
    t0 = time.monotonic()
    ok(pw.POAGotoPosition(H0, 0))  # where it is: done at once
    assert position(pw) == (PW_OK, 0) and time.monotonic() - t0 < 0.5
    assert pw.POAGotoPosition(H0, 7) == INVALID_ARGU and pw.POAGotoPosition(H0, -1) == INVALID_ARGU


def test_what_the_wheel_stores_survives_a_new_process(pw: ctypes.CDLL) -> None:
    opened(pw)
    ok(pw.POASetPWFilterAlias(H0, 2, b"Ha 7nm", 6))
    ok(pw.POASetPWFocusOffset(H0, 2, -135))
    ok(pw.POASetPWCustomName(H0, b"Triplet", 7))
    ok(pw.POASetOneWay(H0, 1))
    too_long = b"x" * MAX_NAME_LEN
    assert pw.POASetPWFilterAlias(H0, 1, too_long, len(too_long)) == INVALID_ARGU
    assert pw.POASetPWFilterAlias(H0, 1, b"a\nb", 3) == INVALID_ARGU
    assert pw.POASetPWFilterAlias(H0, 7, b"L", 1) == INVALID_ARGU
    buf = ctypes.create_string_buffer(64)
    assert pw.POAGetPWFilterAlias(H0, 2, buf, 8) == INVALID_ARGU  # the header: at least 24 bytes
    assert props(pw, 0).Name == b"Phoenix 7x36mm [Triplet]"

    pw.SimPOA_Reset()  # as a new driver process finds the wheel
    assert pw.POAGetPWCount() == 2
    assert props(pw, 0).Name == b"Phoenix 7x36mm [Triplet]"
    ok(pw.POAOpenPW(H0))
    ok(pw.POAGetPWFilterAlias(H0, 2, buf, 64))
    assert buf.value == b"Ha 7nm"
    ok(pw.POAGetPWFilterAlias(H0, 3, buf, 64))
    assert buf.value == b""
    offset = ctypes.c_int(0)
    ok(pw.POAGetPWFocusOffset(H0, 2, ctypes.byref(offset)))
    assert offset.value == -135
    ok(pw.POAGetPWCustomName(H0, buf, 64))
    assert buf.value == b"Triplet"
    one = ctypes.c_int(-1)
    ok(pw.POAGetOneWay(H0, ctypes.byref(one)))
    assert one.value == 1
    ok(pw.POASetPWCustomName(H0, None, 0))  # cleared
    assert props(pw, 0).Name == b"Phoenix 7x36mm"
    # the other wheel's memory is its own
    ok(pw.POAOpenPW(H1))
    ok(pw.POAGetPWFilterAlias(H1, 2, buf, 64))
    assert buf.value == b""


def _fault(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line + "\n")
    time.sleep(0.06)  # the library looks at the file at most every 50 ms


@pytest.fixture
def fault_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "faults"
    path.write_text("")
    monkeypatch.setenv("INDI_PLAYERONE_SIM_FAULT_FILE", str(path))
    return path


def test_stuck_wheel_reports_moving_until_reset(pw: ctypes.CDLL, fault_file: Path) -> None:
    opened(pw)
    _fault(fault_file, "stuck@SIM-PHOENIX-7X36MM-0001")
    ok(pw.POAGotoPosition(H0, 3))
    time.sleep(20 * SCALE)
    assert position(pw)[0] == IS_MOVING and pw.POAGotoPosition(H0, 1) == IS_MOVING
    ok(pw.POAResetPW(H0))
    assert settle(pw) == 0
    assert timed_move(pw, 3) > 0  # one stall only
    # the other wheel was not targeted
    ok(pw.POAOpenPW(H1))
    settle(pw, H1)
    ok(pw.POAGotoPosition(H1, 2))
    assert settle(pw, H1) == 2


def test_firmware_error_until_reset(pw: ctypes.CDLL, fault_file: Path) -> None:
    opened(pw)
    _fault(fault_file, f"firmware_error@{H0}")
    assert pw.POAGotoPosition(H0, 3) == FIRMWARE_ERROR
    assert pw.POAGotoPosition(H0, 3) == FIRMWARE_ERROR
    assert position(pw) == (PW_OK, 0)
    ok(pw.POAResetPW(H0))
    assert settle(pw) == 0
    assert timed_move(pw, 3) > 0


def test_unplug_in_move_and_replug(pw: ctypes.CDLL, fault_file: Path) -> None:
    opened(pw)
    _fault(fault_file, "unplug_in_move=1@SIM-PHOENIX-7X36MM-0001")
    ok(pw.POAGotoPosition(H0, 3))
    time.sleep(0.01)
    assert position(pw)[0] == OPERATION_FAILED
    state = ctypes.c_int(-1)
    assert pw.POAGetPWState(H0, ctypes.byref(state)) == OPERATION_FAILED
    assert pw.POAOpenPW(H0) == NOT_FOUND
    assert pw.POAGetPWCount() == 1 and props(pw, 0).Handle == H1
    _fault(fault_file, "replug@SIM-PHOENIX-7X36MM-0001")
    assert pw.POAGetPWCount() == 2
    ok(pw.POAOpenPW(H0))
    assert position(pw)[0] == IS_MOVING  # newly detected: it self-checks
    assert settle(pw) == 0


def test_unknown_fault_words_touch_nothing(pw: ctypes.CDLL, fault_file: Path, capfd: pytest.CaptureFixture[str]) -> None:
    opened(pw)
    _fault(fault_file, "stuck=banana")
    _fault(fault_file, "no_such_fault")
    assert pw.POAGetPWCount() == 2
    assert timed_move(pw, 2) > 0
    err = capfd.readouterr().err
    assert "unknown fault line 'stuck=banana'" in err and "unknown fault line 'no_such_fault'" in err


@pytest.mark.parametrize("sanitizer", ["thread", "address,undefined"])
def test_c_stress_under_sanitizers(tmp_path: Path, sanitizer: str) -> None:
    """Movers, pollers, writers of what the wheel stores, close/reopen/reset and fault lines at once
    on two wheels, linked straight to the sources."""
    exe, env = build_stress(tmp_path, "sim_wheel_stress", sanitizer)
    faults = tmp_path / "faults"
    faults.write_text("")
    r = subprocess.run([str(exe), str(tmp_path / "state"), str(faults), "1000"], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "all passed" in r.stdout and "Sanitizer" not in r.stderr, r.stderr[-3000:]
