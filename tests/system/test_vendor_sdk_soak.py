"""Hot-plug scanning with the vendor's own SDK (``libPlayerOneCamera.so.3``, no camera) over a
long run: resident memory, file descriptors and threads stay flat.

The driver scans every camera library for cameras plugged in (``ccd/hotplug.py``; every 2 s by
default, here every 5 ms, so a 20 s run makes as many scans as 2 hours at the default): each
scan is ``POAGetCameraCount`` under the C layer's enumeration lock, where the vendor library
walks the USB bus through libusb. Figures are taken after a warm-up (the allocator's pools, the
library's first bus walk) and at the end, each the least of a few samples.

The exact number of scans is counted in a second test, in this process, through the very
function the hot-plug thread calls (``registry.scan``): the driver does not report its scans,
and the vendor library makes no system call per scan that could count them from outside.

CI: 20 s in the driver, 10,000 scans in-process. Long variant: ``INDI_PLAYERONE_LONG=1``
(600 s, 200,000 scans), or ``INDI_PLAYERONE_VENDOR_SOAK_S=N``.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from helpers import vendor_sdk
from helpers.pipe_driver import PipeDriver
from helpers.socketpair_driver import assert_no_growth, figures, growth_line
from indi_playerone.camera import registry
from indi_playerone.camera.sdk_loader import load_sdk

LONG = os.environ.get("INDI_PLAYERONE_LONG") == "1"
SOAK_S = float(os.environ.get("INDI_PLAYERONE_VENDOR_SOAK_S", "600" if LONG else "20"))
PERIOD_S = 0.005
WARMUP_S = 3.0
SCANS = 200_000 if LONG else 10_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@pytest.mark.timeout(120 + SOAK_S)
def test_driver_scanning_the_vendor_sdk_stays_flat(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = vendor_sdk.library()
    monkeypatch.setenv("INDI_PLAYERONE_SDK", path)
    monkeypatch.setenv("INDI_PLAYERONE_HOTPLUG_S", str(PERIOD_S))
    driver = PipeDriver(tmp_path, models="")  # the vendor library only
    try:
        pid = driver.proc.pid
        driver.send("<getProperties version='1.7'/>")
        driver.wait_for(b"lists none")
        assert path in Path(f"/proc/{pid}/maps").read_text()
        time.sleep(WARMUP_S)
        base, cpu0, started = figures(pid), cpu_seconds(pid), time.monotonic()
        time.sleep(SOAK_S)
        driver.alive()  # still reading and answering
        end, cpu1, elapsed = figures(pid), cpu_seconds(pid), time.monotonic() - started
        rc = driver.close(timeout=10)
    finally:
        driver.close(timeout=5)
    err = bytes(driver.err).decode(errors="replace")
    assert rc == 0 and "Traceback" not in err and "hot-plug scan failed" not in err, err[-2000:]
    print(f"\nvendor SDK hot-plug soak: {elapsed:.0f} s at a {PERIOD_S * 1000:.0f} ms period "
          f"(at most {elapsed / PERIOD_S:,.0f} scans), driver CPU {cpu1 - cpu0:.2f} s; "
          + growth_line(base, end))
    # The scanning ran: an idle driver without hot-plug uses no CPU at all.
    assert cpu1 - cpu0 > 0.005 * elapsed, "the hot-plug thread did not scan"
    assert_no_growth(base, end)
    assert end[0] - base[0] < 2048, "RSS grew by more than 2 MB"


def _own_figures() -> tuple[int, int, int]:
    status = Path("/proc/self/status").read_text()
    rss = int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))
    threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
    return rss, len(os.listdir("/proc/self/fd")), threads


def test_each_scan_of_the_vendor_sdk_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """``registry.scan`` on the vendor library, counted: what the hot-plug thread calls."""
    path = vendor_sdk.library()
    monkeypatch.setenv("INDI_PLAYERONE_SDK", path)
    sdk = load_sdk()
    assert sdk.path == path
    for _ in range(1000):  # warm-up: the library's first bus walks, the allocator's pools
        assert registry.scan([sdk]) == {}
    base, started = _own_figures(), time.monotonic()
    for _ in range(SCANS):
        assert registry.scan([sdk]) == {}
    end, elapsed = _own_figures(), time.monotonic() - started
    print(f"\n{SCANS:,} scans of the vendor SDK in {elapsed:.1f} s "
          f"({elapsed / SCANS * 1e3:.3f} ms each); " + growth_line(base, end))
    assert end[1] <= base[1], "file descriptors leaked"
    assert end[2] <= base[2], "threads leaked"
    assert end[0] - base[0] < 1024, "RSS grew by more than 1 MB"
