"""Finding and loading the vendor SDK: search order, the messages when it is missing or broken,
and the mapping of SDK error codes to exceptions.

Libraries used here are real shared objects: the simulated SDK (built from ``native/simsdk`` with
the package; copied under the vendor's file name where it stands in for a vendor SDK) and, for
the missing-symbol case, a two-function library compiled on the spot.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import simsdk
from indi_playerone.camera import registry, sdk_loader
from indi_playerone.camera.interface import CameraError
from indi_playerone.camera.sdk_binding import (
    EBUSY, Err, SdkError, SdkLibrary, SdkLoadError, SdkMissingSymbols, SdkNotFound,
)
from indi_playerone.camera.sdk_loader import SDK_ENV, candidate_paths, load_sdk

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake_lib() -> Path:
    return simsdk.library()


# -- search order ----------------------------------------------------------------------------

def test_explicit_path_is_the_only_candidate() -> None:
    assert candidate_paths({SDK_ENV: " /opt/x/libPlayerOneCamera.so.3 "}) == ["/opt/x/libPlayerOneCamera.so.3"]


def test_linux_order_soname_first_then_directories_with_multiarch() -> None:
    paths = candidate_paths({}, system="linux", multiarch="aarch64-linux-gnu")
    assert paths[:2] == ["libPlayerOneCamera.so.3", "libPlayerOneCamera.so"]
    dirs = [os.path.dirname(p) for p in paths[2:]]
    assert dirs[:2] == ["/usr/lib", "/usr/lib"] and "/usr/local/lib" in dirs
    assert "/usr/lib/aarch64-linux-gnu" in dirs and "/usr/local/lib/aarch64-linux-gnu" in dirs
    # never a SONAME-2 library: its structures differ
    assert not any(p.endswith(".so.2") for p in paths)


def test_macos_candidates() -> None:
    paths = candidate_paths({}, system="darwin")
    assert paths[0] == "libPlayerOneCamera.dylib"
    assert "/opt/homebrew/lib/libPlayerOneCamera.dylib" in paths
    assert "/usr/local/lib/libPlayerOneCamera.dylib" in paths
    assert any(p.startswith("/Applications/KStars.app/") for p in paths)


def test_search_skips_absent_and_broken_files_and_loads_the_next(tmp_path: Path, fake_lib: Path) -> None:
    broken = tmp_path / "a" / "libPlayerOneCamera.so.3"
    broken.parent.mkdir()
    broken.write_bytes(b"not an ELF file")
    good = tmp_path / "b" / "libPlayerOneCamera.so.3"
    good.parent.mkdir()
    shutil.copy(fake_lib, good)
    sdk = load_sdk({}, candidates=[str(tmp_path / "none" / "libPlayerOneCamera.so.3"), str(broken), str(good)])
    assert sdk.path == str(good) and sdk.version
    assert load_sdk({}, candidates=[str(good)]) is sdk  # one library object per file


def test_bare_soname_found_through_the_dynamic_loader(tmp_path: Path, fake_lib: Path) -> None:
    """LD_LIBRARY_PATH is read at process start, so this runs in a child process."""
    shutil.copy(fake_lib, tmp_path / "libPlayerOneCamera.so.3")
    env = {k: v for k, v in os.environ.items() if k != SDK_ENV}
    env["LD_LIBRARY_PATH"] = str(tmp_path)
    code = ("from indi_playerone.camera.sdk_loader import load_sdk; s = load_sdk(); "
            "print(s.path, s.camera_count() >= 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["libPlayerOneCamera.so.3", "True"]


# -- messages ---------------------------------------------------------------------------------

def test_nothing_installed_says_what_to_install() -> None:
    with pytest.raises(SdkNotFound) as exc:
        load_sdk({}, candidates=["libPlayerOneCamera-not-here.so.3", "/nonexistent/libPlayerOneCamera.so.3"])
    text = str(exc.value)
    assert "libPlayerOneCamera.so.3" in text and "is not installed" in text
    assert SDK_ENV in text and "player-one-astro.com" in text and "libplayerone" in text


def test_explicit_path_missing_fails_loudly() -> None:
    with pytest.raises(SdkNotFound) as exc:
        load_sdk({SDK_ENV: "/nonexistent/libPlayerOneCamera.so.3"})
    assert f"{SDK_ENV}=/nonexistent/libPlayerOneCamera.so.3: no such file" in str(exc.value)


def test_explicit_path_unloadable_gives_the_loader_reason(tmp_path: Path) -> None:
    bad = tmp_path / "libPlayerOneCamera.so.3"
    bad.write_bytes(b"\x7fELF garbage")
    with pytest.raises(SdkNotFound) as exc:
        load_sdk({SDK_ENV: str(bad)})
    assert "could not be loaded" in str(exc.value) and str(bad) in str(exc.value)


def test_found_but_broken_is_reported_as_such(tmp_path: Path) -> None:
    bad = tmp_path / "libPlayerOneCamera.so.3"
    bad.write_bytes(b"garbage")
    with pytest.raises(SdkNotFound) as exc:
        load_sdk({}, candidates=[str(bad)])
    assert "was found but could not be loaded" in str(exc.value) and str(bad) in str(exc.value)


def test_missing_symbols_are_named(tmp_path: Path) -> None:
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "old.c"
    src.write_text("int POAGetCameraCount(void) { return 0; }\n"
                   "const char *POAGetSDKVersion(void) { return \"2.0\"; }\n")
    lib = tmp_path / "libPlayerOneCamera.so.3"
    subprocess.run([cc, "-shared", "-fPIC", str(src), "-o", str(lib)], check=True, timeout=60)
    with pytest.raises(SdkMissingSymbols) as exc:
        load_sdk({}, candidates=[str(lib)])
    assert "POASetConfig" in exc.value.missing and "POAGetImageData" in exc.value.missing
    assert "POAGetCameraCount" not in exc.value.missing
    assert "POAGetImageData" in str(exc.value) and str(lib) in str(exc.value)


def test_registry_without_sdk_warns_with_the_install_hint(monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(SDK_ENV, "/nonexistent/libPlayerOneCamera.so.3")
    monkeypatch.delenv(registry.SIMULATE_ENV, raising=False)
    with caplog.at_level(logging.DEBUG, logger="indi_playerone"):
        assert registry.discover_cameras() == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "player-one-astro.com" in warnings[0].getMessage()


def test_registry_with_simulated_cameras_keeps_quiet_about_the_sdk(monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(SDK_ENV, "/nonexistent/libPlayerOneCamera.so.3")
    simsdk.use(monkeypatch, "Ares-C PRO")
    with caplog.at_level(logging.DEBUG, logger="indi_playerone"):
        cams = registry.discover_cameras()
    assert [c.info.model for c in cams] == ["Ares-C PRO"]
    assert all(registry.is_simulated(c) for c in cams)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_simulated_library_is_never_found_as_the_vendor_sdk() -> None:
    """It sits in the package, under its own name: no search for the vendor's SDK reaches it."""
    sim = simsdk.library()
    assert sim.name == "libPlayerOneCameraSim.so" and sim.parent.name == "simsdk"
    assert sim.parent.parent == Path(sdk_loader.__file__).resolve().parents[1]
    for path in candidate_paths({}):
        assert "PlayerOneCameraSim" not in path and not path.startswith(str(sim.parent))
    assert sdk_loader.simulated_sdk_path({}) == str(sim)
    assert sdk_loader.simulated_sdk_path({sdk_loader.SIM_SDK_ENV: "/x/lib.so"}) == "/x/lib.so"


def test_vendor_sdk_and_simulated_sdk_load_side_by_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library under the vendor's file name (here a copy of the simulated one) and the simulated
    SDK are two libraries with their own state: the same camera IDs in both, kept apart by key."""
    vendor = tmp_path / "libPlayerOneCamera.so.3"
    shutil.copy(simsdk.library(), vendor)
    monkeypatch.setenv(SDK_ENV, str(vendor))
    simsdk.use(monkeypatch, "Ares-M PRO")
    libs = registry.libraries()
    assert [lib.path for lib in libs] == [str(vendor), str(simsdk.library())]
    present = registry.scan(libs)
    assert present is not None and len(present) == 2
    keys = sorted(present)
    assert keys[0].camera_id == keys[1].camera_id and keys[0].library != keys[1].library
    cams = registry.discover_cameras()
    assert [registry.is_simulated(c) for c in cams] == [False, True]
    assert {registry.camera_key(c) for c in cams} == set(present)
    with cams[0], cams[1]:  # both open at once: each library's own camera
        for cam in cams:
            cam.set_roi(0, 0, 64, 64, 1)
            cam.start_exposure(0.001)
            cam.wait_frame(10).release()


def test_the_simulated_library_named_as_the_vendor_sdk_is_served_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SDK_ENV, str(simsdk.library()))
    simsdk.use(monkeypatch, "Ares-M PRO")
    assert [lib.path for lib in registry.libraries()] == [str(simsdk.library())]
    assert len(registry.discover_cameras()) == 1


def test_the_search_runs_once_per_process_a_failure_too(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver's start asks for the vendor SDK several times (the discovery, the start-up
    report, the report kept for later clients, the hot-plug watcher): the file is tried once,
    and the failure's reason is the same each time."""
    broken = tmp_path / "libPlayerOneCamera.so.3"
    broken.write_bytes(b"not an ELF file")
    monkeypatch.setenv(SDK_ENV, str(broken))
    monkeypatch.delenv(registry.SIMULATE_ENV, raising=False)
    tried: list[str] = []
    make = sdk_loader._libraries._make

    def counted(path: str) -> SdkLibrary:
        tried.append(path)
        return make(path)
    monkeypatch.setattr(sdk_loader._libraries, "_make", counted)
    assert registry.discover_cameras() == []
    assert not [sdk for sdk in registry.loaded_sdks([]) if not sdk.simulated]
    problem = registry.vendor_sdk_problem()
    assert registry.libraries(quiet=True) == []
    with pytest.raises(SdkNotFound) as exc:
        load_sdk()
    assert tried == [str(broken)]
    assert problem == str(exc.value) and "could not be loaded" in problem


# -- error mapping ---------------------------------------------------------------------------

def test_sdk_error_carries_function_code_and_text() -> None:
    e = SdkError("POASetImageBin", 11, "camera is exposing")
    assert isinstance(e, CameraError)
    assert (e.func, e.code, e.text) == ("POASetImageBin", 11, "camera is exposing")
    assert str(e) == "POASetImageBin failed: camera is exposing (POA_ERROR_EXPOSING 11)"
    unknown = SdkError("POAGetConfig", 99, "?")  # a code newer than this binding still works
    assert unknown.code == 99 and "code 99" in str(unknown)


def test_check_uses_the_sdk_text(fake_lib: Path) -> None:
    sdk = SdkLibrary(str(fake_lib))
    assert sdk.check("POAOpenCamera", 0) == 0
    with pytest.raises(SdkError) as exc:
        sdk.check("POAOpenCamera", Err.INVALID_ID)
    assert exc.value.text == sdk.error_text(Err.INVALID_ID) and exc.value.text
    assert "POA_ERROR_INVALID_ID 2" in str(exc.value)
    assert "busy" in sdk.error_text(EBUSY)  # our own codes have our own text
    assert not sdk.missing_optional and sdk.has("POAGetGainsAndOffsets") and not sdk.has("POANoSuch")


def test_a_code_the_sdk_has_no_text_for_is_not_asked(fake_lib: Path) -> None:
    """The SDK's POAGetErrorString answers an unknown code with the text it gave last (the
    vendor's 3.7.0, reproduced by the simulated SDK): the binding says "unknown error" itself."""
    sdk = SdkLibrary(str(fake_lib))
    assert sdk.error_text(Err.NOT_OPENED) == "camera is not opened"
    assert sdk.error_text(Err.MEMORY_FAILED) == "alloc memory failed"
    assert sdk.error_text(99) == sdk.error_text(18) == "unknown error"


def test_load_error_hierarchy() -> None:
    assert issubclass(SdkNotFound, SdkLoadError) and issubclass(SdkMissingSymbols, SdkLoadError)
    assert issubclass(SdkLoadError, CameraError)
