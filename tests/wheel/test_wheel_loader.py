"""Finding and binding the filter wheel SDK: the search order, and the refusals that say why."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.wheel import simsdk_library
from indi_playerone.camera import wheel_loader
from indi_playerone.camera.wheel_binding import PwLibrary, WheelMissingSymbols, WheelNotFound


def test_search_order_explicit_then_soname_then_directories() -> None:
    assert wheel_loader.candidate_paths({"INDI_PLAYERONE_PW_SDK": "/opt/pw/libPlayerOnePW.so"}) == [
        "/opt/pw/libPlayerOnePW.so"]
    linux = wheel_loader.candidate_paths({}, "linux", "aarch64-linux-gnu")
    assert linux[:2] == ["libPlayerOnePW.so.1", "libPlayerOnePW.so"]  # INDI's SONAME first
    assert "/usr/lib/aarch64-linux-gnu/libPlayerOnePW.so.1" in linux
    assert "/usr/local/lib/libPlayerOnePW.so" in linux
    mac = wheel_loader.candidate_paths({}, "darwin")
    assert mac[0] == "libPlayerOnePW.dylib" and "/opt/homebrew/lib/libPlayerOnePW.dylib" in mac


def test_an_explicit_path_that_is_wrong_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(WheelNotFound, match="INDI_PLAYERONE_PW_SDK=.*: no such file"):
        wheel_loader.load_pw_sdk({"INDI_PLAYERONE_PW_SDK": str(tmp_path / "nothing.so")})
    not_a_library = tmp_path / "libPlayerOnePW.so"
    not_a_library.write_text("text")
    with pytest.raises(WheelNotFound, match="could not be loaded"):
        wheel_loader.load_pw_sdk({"INDI_PLAYERONE_PW_SDK": str(not_a_library)})


def test_nothing_installed_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(WheelNotFound, match="libPlayerOnePW.so.1\\) is not installed.*libplayerone"):
        wheel_loader.load_pw_sdk({}, candidates=["libNoSuchWheelSdk.so.1", str(tmp_path / "x.so")])


def test_a_library_without_the_wheel_api_is_refused_with_what_it_lacks() -> None:
    import indi_playerone._native as native

    with pytest.raises(WheelMissingSymbols, match="lacks POAGetPWCount"):
        PwLibrary(native.__file__)


def test_the_simulated_library_is_found_by_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDI_PLAYERONE_SIM_SDK", simsdk_library())
    lib = wheel_loader.load_simulated_pw()
    assert lib.simulated and lib.version == "1.2.3" and lib is wheel_loader.load_simulated_pw()
    assert wheel_loader.loaded_pw_library(simsdk_library()) is lib
