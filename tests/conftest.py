"""Generic fixtures and markers for the whole suite (the drivers' fixtures are in tests/helpers and
the layer folders' conftest.py).

* ``indiserver`` marker: the test starts Debian's real indiserver; skipped when ``indiserver`` or
  pyindi-client (``PyIndi``) is missing.
* ``hardware`` marker: needs a real Player One camera; skipped unless ``INDI_PLAYERONE_HARDWARE=1``.
* Hypothesis: the ``repeatable`` profile (same examples every run) unless
  ``--hypothesis-profile=explore``.
* Strict mode, on a machine prepared by ``bash .ci/setup`` (it writes ``ci-setup-tests`` into the
  virtual environment once every tool a test calls works) or with ``INDI_PLAYERONE_CI_STRICT=1``
  (``=0`` turns it off): a test that skips is reported as failed, unless its reason is one of
  :data:`ALLOWED_SKIPS`, none of which is a missing tool. There a missing tool is a broken set-up,
  not something to skip past.
* ``indiserver_factory``: starts :class:`harness.IndiServer` s in the test's tmp_path and stops them
  all at teardown; their logs are attached to the report of a failing test.
* Every test is checked for indiserver/driver processes it left running (they are killed, and the
  test errors at teardown); the session checks once more at the end.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from harness.server import IndiServer, ProcessRef, descendant_processes, started_processes

# The `generations` marker and `indi_generation` fixture: tests under libindi 1.9.9 and 2.2.4.2.
pytest_plugins = ("harness.generations_plugin",)

_SERVERS_KEY = pytest.StashKey[list[IndiServer]]()
_PROCESS_NAMES = ("indiserver", "indi_")  # comm prefixes: indiserver, indi_simulator_*, indi_playerone_*

STRICT_ENV = "INDI_PLAYERONE_CI_STRICT"
#: Written by ``.ci/setup`` (test half) into the virtual environment after its checks pass.
SETUP_STAMP = Path(sys.prefix) / "ci-setup-tests"
#: Skip reasons that are not a missing tool, so they stay skips in strict mode: no camera on
#: this machine, a test that needs root where the suite runs as a user, a test run once rather
#: than per backend, and a tool whose version (not presence) lacks a feature.
ALLOWED_SKIPS = (
    r"needs a Player One camera: ",  # the hardware set; not "... camera SDK" (.ci/setup finds it)
    r"needs root",
    r"cannot mount a tmpfs here \(needs root",
    r"backend-independent: runs once",
    r"udevadm verify needs systemd >= 254",
    r"the driver does not call POA\w+ in ",  # an SDK function no phase of that test reaches
)


# Property tests draw the same examples every run (a seed from each test's own code): a run's
# outcome and its length do not depend on the draw (the hostile-request state machine took 4 s
# in one run and 135 s in another, by what it happened to ask for). More exploration on demand:
# pytest --hypothesis-profile=explore (hypothesis's own defaults, a new draw each run).
hypothesis_settings.register_profile("repeatable", derandomize=True)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile("repeatable")


def strict_mode() -> bool:
    """True where a skip for a missing tool must fail (see the module docstring)."""
    value = os.environ.get(STRICT_ENV)
    if value is not None:
        return value == "1"
    return SETUP_STAMP.exists()


def _skip_reason(longrepr: Any) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _forbidden_skip(report: pytest.TestReport | pytest.CollectReport) -> str | None:
    """The reason of a skip strict mode turns into a failure, else None."""
    if not report.skipped or hasattr(report, "wasxfail") or not strict_mode():
        return None
    reason = _skip_reason(report.longrepr)
    if any(re.search(p, reason) for p in ALLOWED_SKIPS):
        return None
    return reason


def _fail_instead(report: pytest.TestReport | pytest.CollectReport, reason: str) -> None:
    report.outcome = "failed"
    report.longrepr = (f"skipped on a machine prepared by .ci/setup ({STRICT_ENV}): {reason}\n"
                       "a tool a test needs is missing or broken: .ci/setup must install it")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "indiserver: starts Debian's real indiserver")
    config.addinivalue_line("markers", "hardware: needs a real Player One camera attached (skipped otherwise)")
    _own_home(config)


_HOME_KEY = pytest.StashKey[tuple[Path, str | None]]()


def _own_home(config: pytest.Config) -> None:
    """Every test process (each pytest-xdist worker, or the one process) gets an empty HOME.

    In-process devices save ``~/.indi/<device>_config.xml`` and the tools write caches under
    HOME: several workers sharing the user's HOME would read each other's files (and the suite
    would leave its files in the user's). Servers get their own HOME besides (IndiServer).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    home = Path(tempfile.mkdtemp(prefix=f"indi-playerone-test-home-{worker}-"))
    config.stash[_HOME_KEY] = (home, os.environ.get("HOME"))
    os.environ["HOME"] = str(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_HOME_KEY, None)
    if saved is not None:
        home, previous = saved
        if previous is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = previous
        shutil.rmtree(home, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    no_server = None
    if shutil.which("indiserver") is None:
        no_server = "indiserver not installed (apt-get install indi-bin)"
    elif importlib.util.find_spec("PyIndi") is None:
        no_server = "pyindi-client not installed (pip install --no-deps pyindi-client==2.3.0)"
    hardware = os.environ.get("INDI_PLAYERONE_HARDWARE") == "1"
    for item in items:
        if no_server and item.get_closest_marker("indiserver"):
            item.add_marker(pytest.mark.skip(reason=no_server))
        if not hardware and item.get_closest_marker("hardware"):
            item.add_marker(pytest.mark.skip(reason="needs a Player One camera: set INDI_PLAYERONE_HARDWARE=1"))
    _heavy_first(items)


#: Tests that keep the CPUs busy for seconds (compilers, sanitizers, valgrind, the fuzzer, the
#: .deb build, the ASan soak), matched against the start of the node id: two work units of
#: about equal length (~2 min each on 2 cores), handed out first, so at most two workers compile
#: at a time while the others run the tests that mostly wait on real time, whose deadlines a
#: machine with every core compiling would stretch.
CPU_HEAVY = {
    "cpu-heavy-1": (
        "tests/system/test_reliability_asan_soak.py::",
        "tests/packaging/test_packaging_deb.py::",
        "tests/system/test_reliability_fuzz.py::",
    ),
    "cpu-heavy-2": (
        "tests/native/test_native_sanitizers.py::",
        "tests/simsdk/test_simsdk.py::test_c_stress_under_sanitizers",
        "tests/simsdk/test_simsdk.py::test_struct_layouts_hold_on_arm",
        "tests/simsdk/test_simsdk.py::test_builds_warning_free",
        "tests/simsdk/test_simsdk_faults.py::test_c_stress_with_fault_lines_under_sanitizers",
        "tests/simsdk/test_simsdk_wheel.py::test_c_stress_under_sanitizers",
    ),
}
#: Modules whose tests are handed out one by one: their module-scoped fixtures are cheap to make
#: once per worker and no test depends on another's having run, but the module is too long for
#: one worker. test_reliability_injected: the fake SDK build is cached on disk, the shared rig
#: (a server) takes a second, and its every-SDK-call tests take ~190 s in all.
SPREAD = ("tests/system/test_reliability_injected.py",)


def xdist_scope(nodeid: str) -> str:
    """The work unit of a test under pytest-xdist (see :func:`pytest_xdist_make_scheduler`)."""
    for unit, prefixes in CPU_HEAVY.items():
        if nodeid.startswith(prefixes):
            return unit
    module = nodeid.split("::", 1)[0]
    return nodeid if module in SPREAD else module


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` (pyproject's addopts), with the work units of :func:`xdist_scope`.

    A module is one work unit, run by one worker in its order, as in a serial run: its module-
    scoped fixtures (a .deb build, a server) are made once and tests that rely on an earlier one
    of their module (test_fits's check that the property test accepted records) still see it.
    Two refinements: the CPU-heavy tests of every module form the units of :data:`CPU_HEAVY`,
    handed out first (the collection order puts them first); the modules of :data:`SPREAD` are
    split into single tests.
    (pytest-xdist's own ``xdist_group`` marks rename node ids, which pytest 9.2 no longer lets
    a plugin do: they are silently ignored there.)
    """
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return ModuleScheduling(config, log)


def _heavy_first(items: list[pytest.Item]) -> None:
    """The CPU-heavy tests first, so their units, the longest, do not start last and finish
    alone (the scheduler hands out units in collection order: --no-loadscope-reorder)."""
    items.sort(key=lambda item: 0 if xdist_scope(item.nodeid) in CPU_HEAVY else 1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Attach the logs of the test's indiservers (driver stderr included) to a failure report."""
    outcome = yield
    report = outcome.get_result()
    reason = _forbidden_skip(report)
    if reason is not None:
        _fail_instead(report, reason)
    if report.failed:
        for i, server in enumerate(item.stash.get(_SERVERS_KEY, [])):
            report.sections.append((f"indiserver #{i} log (port {server.port})", server.log_text()[-20000:]))


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """A whole module skipped at import (``pytest.importorskip``) is judged the same way."""
    outcome = yield
    report = outcome.get_result()
    reason = _forbidden_skip(report)
    if reason is not None:
        _fail_instead(report, reason)


@pytest.fixture
def tmp_home(tmp_path: Path) -> Path:
    """An empty HOME directory (drivers write ~/.indi/<device>_config.xml there)."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def indiserver_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., IndiServer]]:
    """``factory(drivers, env=None, home=None, max_mb=1024, verbose=True, restarts=0, timeout=15)``
    → a started IndiServer whose work directory (log, default HOME) is under tmp_path."""
    servers: list[IndiServer] = []
    request.node.stash[_SERVERS_KEY] = servers

    def factory(drivers: list[str], *, timeout: float = 15.0, **kwargs: Any) -> IndiServer:
        server = IndiServer(drivers, workdir=tmp_path / f"indiserver-{len(servers)}", **kwargs)
        servers.append(server)
        server.start(timeout=timeout)
        return server

    yield factory
    for server in reversed(servers):
        server.stop()


def _ours_alive() -> set[ProcessRef]:
    """Live processes started by IndiServer, plus live descendants that look like INDI processes."""
    refs = {r for r in started_processes() if r.is_alive()}
    refs |= {r for r in descendant_processes() if r.name.startswith(_PROCESS_NAMES)}
    return refs


def _kill(refs: set[ProcessRef]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for ref in refs:
            ref.signal(sig)
        deadline = time.monotonic() + 3
        while True:
            done = not any(r.is_alive() for r in refs)
            for ref in refs:  # after the check, so a process found a zombie is reaped as well
                ref.try_reap()
            if done:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)


def _check_left_behind(before: set[ProcessRef], what: str) -> None:
    # A process may take a moment to exit after its server stopped: give it a short grace period.
    deadline = time.monotonic() + 2
    while True:
        left = _ours_alive() - before
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if left:
        _kill(left)
        pytest.fail(f"{what} left INDI processes running (now killed): "
                    + ", ".join(f"{r.name}[{r.pid}]" for r in sorted(left, key=lambda r: r.pid)))


@pytest.fixture(autouse=True, scope="session")
def _no_indi_processes_left_by_session() -> Iterator[None]:
    before = _ours_alive()
    yield
    _check_left_behind(before, "the test session")


@pytest.fixture(autouse=True)
def _no_indi_processes_left_by_test() -> Iterator[None]:
    """Processes running before the test (e.g. a module-scoped server) are not this test's leak."""
    before = _ours_alive()
    yield
    _check_left_behind(before, "this test")
