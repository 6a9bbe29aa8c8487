"""The hardware test set's camera and report (see ``tests/hardware/test_camera.py``).

Which camera:

* by default the first camera the vendor SDK (``libPlayerOneCamera.so.3``, found as the driver
  finds it; ``INDI_PLAYERONE_SDK`` names another file) reports, or the one whose serial number
  is ``INDI_PLAYERONE_HARDWARE_SERIAL``; no SDK or no camera: every test is skipped, saying so;
* with ``INDI_PLAYERONE_HARDWARE_SIM=<model>`` a camera of the simulated SDK library instead,
  so the set runs in CI and cannot rot (``tests/system/test_hardware_set.py`` does that).

The report (Markdown, ``INDI_PLAYERONE_HARDWARE_REPORT``, default
``playerone-hardware-report.md`` in the current directory) is written when the session ends,
whatever passed or failed: the SDK and the camera as the SDK describes them, every config it
lists (the real ``szConfName`` strings), then one section per test with what it measured and
its outcome. It holds the camera's serial number and nothing else about the computer but the
OS and Python versions.
"""
from __future__ import annotations

import os
import platform
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from hwreport import SERIAL_ENV, SIM_ENV, Subject, report


@pytest.fixture(autouse=True)
def _section(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test writes its own section; its outcome is added when it ends."""
    rep = report()
    rep.current = []
    start = time.monotonic()
    yield
    lines, rep.current = rep.current, None
    call = getattr(request.node, "_report_call", None)
    if call is None:
        outcome = "not run"
    elif call.passed:
        outcome = "passed"
    elif call.skipped:
        outcome = "skipped"
    else:
        outcome = "FAILED"
        lines += ["```", str(call.longrepr)[-3000:], "```"]
    lines.append(f"({time.monotonic() - start:.1f} s)")
    doc = (request.node.function.__doc__ or "").strip().splitlines()
    rep.sections.append((doc[0] if doc else request.node.name, lines, outcome))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    result = outcome.get_result()
    if result.when == "call" or (result.when == "setup" and not result.passed):
        item._report_call = result  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session) -> None:
    rep = report()
    if rep.sections or rep.header:
        rep.write()
        print(f"\nhardware test report: {rep.path} (attach it to your bug report)",
              file=sys.stderr)


@pytest.fixture(scope="session")
def subject() -> Iterator[Subject]:
    from indi_playerone.camera import registry, sdk_loader

    rep = report()
    model = os.environ.get(SIM_ENV, "").strip()
    rep.line(f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    rep.line(f"- system: {platform.system()} {platform.release()} {platform.machine()}, "
             f"Python {platform.python_version()}")
    try:
        from indi_playerone import __version__
        rep.line(f"- indi-playerone: {__version__}")
    except ImportError:
        pass
    if model:
        os.environ[registry.SIMULATE_ENV] = model
        os.environ.setdefault(registry.SIM_OPTIONS_ENV, "cooler_tau=3")
        cameras = registry.simulated_cameras()
        rep.line(f"- camera source: the SIMULATED SDK library ({SIM_ENV}={model})")
    else:
        try:
            sdk = sdk_loader.load_sdk()
        except Exception as exc:  # no SDK installed: nothing to test
            rep.line(f"- vendor SDK: not loaded: {exc}")
            pytest.skip(f"no Player One SDK: {exc}")
        rep.line("- camera source: the vendor SDK")
        rep.line(f"- SDK: {sdk.version} (API {sdk.api_version}), {sdk.path}")
        cameras = registry.sdk_cameras()
    wanted = os.environ.get(SERIAL_ENV, "").strip()
    if wanted:
        cameras = [c for c in cameras if c.info.serial == wanted]
    if not cameras:
        rep.line("- camera: none found" + (f" with serial {wanted}" if wanted else ""))
        pytest.skip("no Player One camera found" + (f" with serial {wanted}" if wanted else ""))
    camera = cameras[0]
    sdk = camera.sdk
    if model:
        rep.line(f"- SDK: {sdk.version} (API {sdk.api_version}), {sdk.path}")
    rep.line(f"- SDK functions it lacks (optional ones): {', '.join(sdk.missing_optional) or 'none'}")
    try:
        yield Subject(camera, bool(model))
    finally:
        try:
            camera.close()
        except Exception:
            rep.line("- closing the camera failed:\n```\n" + traceback.format_exc() + "```")
