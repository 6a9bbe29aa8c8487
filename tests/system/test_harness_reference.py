"""The harness against a real libindi camera: ``indi_simulator_ccd`` of both INDI generations.

This validates the harness (server, client, BLOB path, waits) and each generation's property
oracle (``data/libindi_ccd_properties.py`` for libindi 1.9.9, ``data/libindi2_ccd_properties.py``
for 2.2.4.2) against that generation's real libindi CCD: Debian's 1.9.9 build and the 2.2.4.2
one from ``.ci/libindi2``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from astropy.io import fits
from hypothesis import given
from hypothesis import strategies as st

from data.ccd_property_form import Reference
from data.libindi_ccd_properties import FLAGS, expected_properties, holds, playerone_flags, spec_for
from data.references import REFERENCES, reference
from harness import IndiClient, IndiServer, ProcessRef, PropertySnapshot
from harness.generations import Generation
from helpers.property_diff import element_differences
from helpers.waiting import wait_until

server = pytest.mark.indiserver
both = pytest.mark.generations

SIM = "indi_simulator_ccd"
DEV = "CCD Simulator"

# What the simulator is, in the oracle's flags.  It also defines CCD_COOLER exactly as the Player
# One driver does, so "playerone" is set; no other Player One extra exists in the simulator.
SIM_FLAGS = frozenset({"can_abort", "can_bin", "can_subframe", "cooler", "st4", "streaming", "guide_head",
                       "playerone"})

# Where a generation's simulator departs from its INDI::CCD base class (which the oracle records):
# its own choices, not libindi's.  The comparison must find exactly these: a new mismatch is an
# oracle (or harness) error, and a vanished one means this list is stale.
SIMULATOR_OWN = {
    "indi1": set(),
    # ccd_simulator.cpp (2.2.4.2) narrows the set-point range to its own cooler model.
    "indi2": {"CCD_TEMPERATURE.CCD_TEMPERATURE_VALUE: min -15.0 != -50",
              "CCD_TEMPERATURE.CCD_TEMPERATURE_VALUE: max 25.0 != 50"},
}

# The simulator's own test switches: they were renamed in 2.x.
BAYER = {"indi1": ("SIMULATE_BAYER", "INDI_ENABLED"), "indi2": ("SIM_TESTS", "BAYER")}
CRASH = {"indi1": ("CCD_SIMULATE_CRASH", "CRASH"), "indi2": ("SIM_TESTS", "CRASH")}


@pytest.fixture
def sim(indiserver_factory: Callable[..., IndiServer]) -> IndiServer:
    return indiserver_factory([SIM])


@pytest.fixture
def client(sim: IndiServer) -> Iterator[IndiClient]:
    with IndiClient(sim.port) as c:
        c.wait_device(DEV)
        yield c


def _connect_fast(client: IndiClient) -> None:
    """Connect; the simulator completes exposures on its POLLING_PERIOD timer (1 s by default)."""
    client.connect_device(DEV)
    client.set_number(DEV, "POLLING_PERIOD", {"PERIOD_MS": 50})
    client.wait_until(DEV, "POLLING_PERIOD", lambda s: s.values()["PERIOD_MS"] == 50, timeout=5)
    client.enable_blobs(DEV)


@server
@both
def test_exposure_delivers_a_fits_astropy_reads(client: IndiClient) -> None:
    _connect_fast(client)
    info = client.number(DEV, "CCD_INFO")
    blob = client.expose(DEV, 0.2, timeout=30)

    assert blob.name == "CCD1" and blob.format == ".fits"
    assert blob.size == len(blob.data) > 0
    with fits.open(io.BytesIO(blob.data)) as hdul:
        header, data = hdul[0].header, hdul[0].data
        assert data.shape == (int(info["CCD_MAX_Y"]), int(info["CCD_MAX_X"])) == (1024, 1280)
        assert header["BITPIX"] == 16
        assert header["EXPTIME"] == pytest.approx(0.2)
    timeline = client.last_exposure
    assert timeline is not None and timeline.busy is not None and timeline.ok is not None
    assert timeline.requested <= timeline.busy <= blob.arrival <= timeline.ok  # libindi: BLOB before Ok
    assert client.state(DEV, "CCD_EXPOSURE") == "Ok"


@server
def test_abort_stops_the_exposure(client: IndiClient) -> None:
    _connect_fast(client)
    # 1 s: were the abort ignored, the frame would arrive well within the 2.5 s we then wait.
    client.set_number(DEV, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 1.0})
    client.wait_state(DEV, "CCD_EXPOSURE", {"Busy"}, timeout=5)
    client.abort(DEV)
    client.wait_state(DEV, "CCD_EXPOSURE", {"Idle"}, timeout=5)
    assert client.state(DEV, "CCD_ABORT_EXPOSURE") == "Ok"
    with pytest.raises(TimeoutError):
        client.wait_blob(DEV, timeout=2.5)
    # and the camera still works afterwards
    assert client.expose(DEV, 0.1, timeout=30).format == ".fits"


@server
@both
def test_getprop_and_setprop(sim: IndiServer) -> None:
    props = sim.getprop(f"{DEV}.*.*", timeout=1.5)
    assert props[f"{DEV}.CONNECTION.CONNECT"] == "Off"
    assert props[f"{DEV}.POLLING_PERIOD.PERIOD_MS"] == "1000"
    assert props[f"{DEV}.DRIVER_INFO.DRIVER_EXEC"] == SIM

    sim.setprop(f"{DEV}.POLLING_PERIOD.PERIOD_MS=250")
    # indi_setprop returns once it has sent the value; the driver applies it a moment later.
    deadline = time.monotonic() + 10
    while (got := sim.getprop(f"{DEV}.POLLING_PERIOD.PERIOD_MS")) != {f"{DEV}.POLLING_PERIOD.PERIOD_MS": "250"}:
        assert time.monotonic() < deadline, got
        time.sleep(0.1)
    with pytest.raises(RuntimeError):
        sim.setprop(f"{DEV}.NO_SUCH_PROPERTY.X=1", timeout=1)

    sim.setprop(f"{DEV}.CONNECTION.CONNECT=On")
    props = sim.getprop(f"{DEV}.*.*", timeout=1.5)
    assert f"{DEV}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE" in props
    # indi_getprop (1.9.9 and 2.2.4.2) never lists BLOB vectors, nor write-only ones unless -w.
    assert not any(".CCD1." in key for key in props)
    assert f"{DEV}.CCD_FRAME_RESET.RESET" not in props
    assert f"{DEV}.CCD_FRAME_RESET.RESET" in sim.getprop(f"{DEV}.CCD_FRAME_RESET.*", timeout=1, write_only=True)


def _compare(ref: Reference, name: str, flags: frozenset[str], snap: PropertySnapshot) -> set[str]:
    """Differences between the simulator's vector and the oracle's, as readable strings."""
    spec = ref.spec_for(name, flags)
    assert spec is not None, f"oracle has no {name} under {sorted(flags)}"
    out: set[str] = set()
    for field in ("kind", "group", "perm", "rule", "timeout"):
        mine, theirs = getattr(snap, field), getattr(spec, field)
        if mine != theirs:
            out.add(f"{name}: {field} {mine} != {theirs}")
    if spec.label is not None and snap.label != spec.label:
        out.add(f"{name}: label {snap.label!r} != {spec.label!r}")
    got = [e.name for e in snap.elements]
    want = [e.name for e in spec.elements if e.optional is None or e.name in got]
    if spec.elements_mode == "exact" and got != want:
        out.add(f"{name}: elements {got} != {want}")
    if spec.elements_mode == "superset" and got[: len(want)] != want:
        out.add(f"{name}: elements {got} do not start with {want}")
    return out | element_differences(name, spec.elements, snap.elements)


def _defaults(ref: Reference, name: str, flags: frozenset[str], snap: PropertySnapshot, home: Path) -> set[str]:
    """Element values that differ from the oracle's defaults (for a vector nobody has set yet)."""
    spec = ref.spec_for(name, flags)
    out: set[str] = set()
    if spec is None or spec.kind == "BLOB":
        return out
    values = snap.values()
    for e in spec.elements:
        if e.default is None or e.name not in values:
            continue
        default = e.default.replace("$HOME", str(home)) if isinstance(e.default, str) else e.default
        if values[e.name] != default:
            out.add(f"{name}.{e.name}: value {values[e.name]!r} != default {default!r}")
    return out


@server
@both
def test_simulator_property_set_agrees_with_the_oracle(sim: IndiServer, client: IndiClient,
                                                       indi_generation: Generation) -> None:
    """The generation's oracle against its own simulator: conditions, shapes, labels, defaults."""
    ref = reference(indi_generation.name)
    states: list[tuple[frozenset[str], dict[str, PropertySnapshot]]] = []

    def record(flags: frozenset[str]) -> None:
        names = client.wait_quiet(DEV, quiet=0.5, timeout=15)
        states.append((flags, {n: client.describe(DEV, n) for n in names}))

    record(SIM_FLAGS)
    client.connect_device(DEV)
    record(SIM_FLAGS | {"connected"})
    client.set_switch(DEV, "DEBUG", ["ENABLE"])
    client.set_switch(DEV, "UPLOAD_MODE", ["UPLOAD_LOCAL"])
    client.set_switch(DEV, "WCS_CONTROL", ["WCS_ENABLE"])
    for name in ("DEBUG_LEVEL", "LOGGING_LEVEL", "LOG_OUTPUT", "CCD_FILE_PATH", "CCD_ROTATION"):
        client.wait_property(DEV, name, timeout=5)
    record(SIM_FLAGS | {"connected", "debug_enabled", "upload_local", "wcs_enabled"})
    # Bayer: the simulator decides at connect time.
    client.disconnect_device(DEV)
    bayer_vector, bayer_switch = BAYER[indi_generation.name]
    client.set_switch(DEV, bayer_vector, [bayer_switch])
    client.wait_until(DEV, bayer_vector, lambda s: s.values()[bayer_switch], timeout=5)
    client.connect_device(DEV)
    client.wait_property(DEV, "CCD_CFA", timeout=5)
    bayer_state = (SIM_FLAGS | {"connected", "bayer"}, {"CCD_CFA": client.describe(DEV, "CCD_CFA")})

    oracle_names = ref.names
    sim_ever = set().union(*(set(s) for _, s in states)) | {"CCD_CFA"}
    both_sets = sim_ever & oracle_names
    # Sanity: the comparison covers the bulk of libindi's CCD vectors.
    assert len(both_sets) >= 45, sorted(both_sets)

    # Conditions: in each state the simulator defines exactly the oracle's vectors for those flags
    # (among the vectors the simulator defines at all).
    for flags, snaps in states:
        expected = {p.name for p in ref.expected_properties(flags)} & sim_ever
        assert set(snaps) & oracle_names == expected, sorted(flags)

    # Shapes: type, group, perm, rule, timeout, labels, element names (and order), formats, ranges.
    mismatches: set[str] = set()
    latest: dict[str, tuple[frozenset[str], PropertySnapshot]] = {}
    for flags, snaps in [*states, bayer_state]:
        for name, snap in snaps.items():
            if name in oracle_names:
                latest[name] = (flags, snap)
    for name, (flags, snap) in sorted(latest.items()):
        mismatches |= _compare(ref, name, flags, snap)
    # Defaults: each vector as first defined, before this test changed anything.
    first: dict[str, tuple[frozenset[str], PropertySnapshot]] = {}
    for flags, snaps in states[:2]:
        for name, snap in snaps.items():
            if name in oracle_names and name not in first:
                first[name] = (flags, snap)
    for name, (flags, snap) in sorted(first.items()):
        mismatches |= _defaults(ref, name, flags, snap, sim.home)
    assert mismatches == SIMULATOR_OWN[indi_generation.name]


def test_the_generations_differ_where_the_docs_say() -> None:
    """The two oracles differ in exactly the vectors docs/indi-generations.md lists."""
    one, two = REFERENCES["indi1"], REFERENCES["indi2"]
    differ = set()
    for name in one.names | two.names:
        a, b = one.specs_named(name), two.specs_named(name)
        if a != b:
            differ.add(name)
    assert differ == {"FITS_HEADER", "CCD_ROTATION", "SCOPE_INFO", "STREAM_FULL_DEPTH", "RECORD_FILE",
                      "NICKNAME"}
    docs = (Path(__file__).resolve().parents[2] / "docs" / "indi-generations.md").read_text()
    for name in differ:
        assert f"`{name}`" in docs, name


@server
@both
def test_two_servers_at_once_and_the_unix_socket(indiserver_factory: Callable[..., IndiServer]) -> None:
    a = indiserver_factory([SIM])
    b = indiserver_factory([SIM])
    assert a.port != b.port and a.unix_socket != b.unix_socket
    assert a.running and b.running
    with IndiClient(a.port) as over_tcp, IndiClient(0, host=b.local_host) as over_unix:
        over_tcp.wait_property(DEV, "DRIVER_INFO")
        over_unix.wait_property(DEV, "DRIVER_INFO")
        assert over_unix.text(DEV, "DRIVER_INFO")["DRIVER_EXEC"] == SIM
    assert "new arrival from local pid" in b.log_text()
    assert "new arrival from local pid" not in a.log_text()
    assert "new arrival from 127.0.0.1" in a.log_text()


def test_bare_localhost_colon_is_refused() -> None:
    with pytest.raises(ValueError):
        IndiClient(7624, host="localhost:")


@server
@both
def test_stop_ends_server_and_driver(indiserver_factory: Callable[..., IndiServer]) -> None:
    server = indiserver_factory([SIM])
    # indiserver forks its drivers before it listens, but a child may not have exec'd yet when
    # the server first accepts (its name is still "indiserver"): wait for the exec, by name.
    assert wait_until(lambda: sorted(p.name for p in server.processes())
                      == ["indi_simulator_", "indiserver"], timeout=15), server.processes()
    procs = server.processes()
    assert all(p.is_alive() for p in procs)
    server.stop()
    assert not any(p.is_alive() for p in procs)
    server.stop()  # idempotent
    assert not server.running


@server
@both
def test_a_crashing_driver_ends_the_server(sim: IndiServer, client: IndiClient, indi_generation: Generation) -> None:
    """With ``-r 0`` (the harness default) a crash is visible: indiserver exits, waits raise."""
    vector, switch = CRASH[indi_generation.name]
    client.wait_property(DEV, vector)
    client.set_switch(DEV, vector, [switch])
    with pytest.raises(ConnectionError):
        client.wait_state(DEV, "CONNECTION", {"Busy"}, timeout=10)
    assert "Terminated after #0 restarts" in sim.log_text()


@server
def test_waits_report_what_they_saw(client: IndiClient) -> None:
    with pytest.raises(TimeoutError, match="CONNECTION"):
        client.wait_property(DEV, "NO_SUCH_PROPERTY", timeout=0.3)
    with pytest.raises(ValueError, match="OneOfMany"):
        client.set_switch(DEV, "CONNECTION", ["CONNECT", "DISCONNECT"])
    with pytest.raises(KeyError):
        client.set_number(DEV, "POLLING_PERIOD", {"NO_SUCH_ELEMENT": 1})


@server
def test_conftest_catches_a_leaked_server_and_skips_hardware(tmp_path: Path) -> None:
    """Run a small suite that leaks a server, using this conftest, in a child pytest."""
    here = Path(__file__).resolve().parents[1]  # tests/
    (tmp_path / "conftest.py").write_text((here / "conftest.py").read_text())
    (tmp_path / "harness").symlink_to(here / "harness")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent("""
        from pathlib import Path
        import pytest
        from harness import IndiServer

        def test_leaks():
            server = IndiServer(["indi_simulator_ccd"], workdir=Path("w"))
            server.start()
            Path("pids.txt").write_text(" ".join(str(p.pid) for p in server.processes()))

        @pytest.mark.hardware
        def test_needs_a_camera():
            raise AssertionError("must be skipped without INDI_PLAYERONE_HARDWARE=1")
    """))
    env = {k: v for k, v in os.environ.items() if k != "INDI_PLAYERONE_HARDWARE"}
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 1, res.stdout
    assert "this test left INDI processes running (now killed): indi" in res.stdout, res.stdout
    assert "1 passed, 1 skipped, 1 error" in res.stdout, res.stdout
    pids = [int(p) for p in (tmp_path / "pids.txt").read_text().split()]
    assert len(pids) == 2
    for pid in pids:
        ref = ProcessRef.of(pid)
        assert ref is None or not ref.is_alive()


# ---------------------------------------------------------------------- the oracle's own consistency
@pytest.mark.parametrize("generation", sorted(REFERENCES))
def test_oracle_entries_are_well_formed(generation: str) -> None:
    value_types = {"Number": (float, int), "Switch": (bool,), "Text": (str,), "BLOB": (), "Light": (str,)}
    for p in REFERENCES[generation].properties:
        assert p.kind in value_types and p.perm in ("ro", "wo", "rw") and p.timeout in (0, 60), p.name
        assert (p.rule in ("OneOfMany", "AtMostOne", "AnyOfMany")) == (p.kind == "Switch"), p.name
        assert p.elements_mode in ("exact", "subset", "superset", "dynamic"), p.name
        assert bool(p.elements) == (p.elements_mode != "dynamic"), p.name
        assert len(set(p.element_names)) == len(p.elements), p.name
        for e in p.elements:
            assert e.default is None or isinstance(e.default, value_types[p.kind]), (p.name, e.name)
        if p.kind == "Switch" and p.elements_mode == "exact" and all(e.default is not None for e in p.elements):
            on = sum(1 for e in p.elements if e.default is True and e.optional is None)
            assert on == 1 if p.rule == "OneOfMany" else on <= 1 if p.rule == "AtMostOne" else True, p.name


def test_oracle_player_one_sets_match_the_facts_lists() -> None:
    """The C++ driver's lists: the vectors before connect, and the order after, for a colour ST4 camera."""
    before = [p.name for p in expected_properties(playerone_flags(connected=False))]
    assert before == ["CONNECTION", "DRIVER_INFO", "DEBUG", "SIMULATION", "CONFIG_PROCESS", "POLLING_PERIOD",
                      "ACTIVE_DEVICES"]
    after = [p.name for p in expected_properties(playerone_flags(color=True, st4=True, sensor_modes=True))]
    assert after[len(before):][:3] == ["CCD_EXPOSURE", "CCD_ABORT_EXPOSURE", "CCD_FRAME"]
    assert after[-12:] == ["CCD_COOLER_POWER", "CCD_COOLER", "CCD_CONTROLS", "CCD_CONTROLS_MODE", "FLIP",
                           "CCD_VIDEO_FORMAT", "BLINK", "ADC_DEPTH", "SDK", "Serial Number", "NICKNAME", "SENSOR_MODE"]
    assert spec_for("CCD_TEMPERATURE", playerone_flags(cooler=False)).perm == "ro"  # type: ignore[union-attr]
    assert spec_for("CCD_TEMPERATURE", playerone_flags(cooler=True)).perm == "rw"  # type: ignore[union-attr]
    assert spec_for("CCD_COOLER", playerone_flags(cooler=False)) is None
    assert spec_for("CCD_FRAME", {"connected"}).perm == "ro"  # type: ignore[union-attr]


@given(st.sets(st.sampled_from(sorted(FLAGS))), st.sampled_from(sorted(REFERENCES)))
def test_oracle_gives_one_variant_per_name_and_only_when_it_holds(flags: set[str], generation: str) -> None:
    ref = REFERENCES[generation]
    specs = ref.expected_properties(flags)
    assert len({p.name for p in specs}) == len(specs)
    assert all(holds(p.when, flags) for p in specs)
    # variants of one name (CCD_FRAME, CCD_TEMPERATURE, NICKNAME) exclude each other
    for name in ref.names:
        assert sum(1 for p in ref.properties if p.name == name and holds(p.when, flags)) <= 1, name


@both
def test_each_generation_runs_its_own_programs(indi_generation: Generation) -> None:
    """indiserver reports the library version of the generation the test asked for."""
    assert indi_generation.server_version() == indi_generation.version
