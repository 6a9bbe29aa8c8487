"""Finding and loading Player One's filter wheel SDK (``libPlayerOnePW``) at run time.

Like the camera SDK (:mod:`.sdk_loader`), the wheel SDK is a proprietary binary the project never
ships. Search order:

1. ``INDI_PLAYERONE_PW_SDK``, an explicit file path. When it is set, nothing else is tried: a
   typo fails loudly instead of silently loading another copy.
2. The SONAME ``libPlayerOnePW.so.1`` through the dynamic loader (INDI's ``libplayerone``
   package installs ``libPlayerOnePW.so.<1.2.x>`` with SOVERSION 1: indi-3rdparty
   ``libplayerone/CMakeLists.txt``), then the unversioned ``libPlayerOnePW.so`` (the name in the
   vendor's Linux SDK archive, ``PlayerOne_FilterWheel_SDK_Linux_V<x>/lib/<arch>/``).
3. The same names in the directories the camera SDK is looked for in (``/usr/lib``,
   ``/usr/local/lib``, the multiarch ones; on macOS ``libPlayerOnePW.dylib`` in ``/usr/local/lib``,
   ``/opt/homebrew/lib`` and the KStars bundle).

The simulated wheels are in the simulated SDK library (``libPlayerOneCameraSim.so``, built with the
package into its ``simsdk/`` directory; ``INDI_PLAYERONE_SIM_SDK`` names another build of it: the
camera's :func:`.sdk_loader.simulated_sdk_path`), loaded by :func:`load_simulated_pw`: never found
by the search above, so a real and the simulated library serve wheels side by side. The search is
the camera SDK's (``library_search.py``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from .library_search import LibrarySearch, LoadedLibraries
from .sdk_loader import simulated_sdk_path
from .wheel_binding import PwLibrary, WheelLoadError, WheelMissingSymbols, WheelNotFound

__all__ = ["PW_SDK_ENV", "LINUX_NAMES", "MACOS_NAMES", "candidate_paths", "load_pw_sdk",
           "load_simulated_pw", "simulated_pw_path", "loaded_pw_library", "install_hint"]

PW_SDK_ENV = "INDI_PLAYERONE_PW_SDK"
LINUX_NAMES = ("libPlayerOnePW.so.1", "libPlayerOnePW.so")
MACOS_NAMES = ("libPlayerOnePW.dylib",)


def install_hint() -> str:
    return ("Install Player One's filter wheel SDK: the 'libplayerone' package that INDI's "
            "third-party drivers provide (Ubuntu: the INDI PPA), or the Phoenix filter wheel SDK "
            "from Player One Astronomy's website (Service > Software), whose libPlayerOnePW.so goes "
            f"to /usr/local/lib. Or set {PW_SDK_ENV} to the full path of libPlayerOnePW.so / .dylib.")


SEARCH = LibrarySearch(PW_SDK_ENV, LINUX_NAMES, MACOS_NAMES, "filter wheel SDK", "real filter wheels",
                       install_hint, WheelNotFound, WheelLoadError, WheelMissingSymbols)
_libraries: LoadedLibraries[PwLibrary] = LoadedLibraries(PwLibrary)


def candidate_paths(env: Mapping[str, str] | None = None, system: str | None = None,
                    multiarch: str | None = None) -> list[str]:
    """The names and paths tried, in order. Bare names go to the dynamic loader's own search;
    paths are tried only if the file exists."""
    return SEARCH.candidate_paths(env, system, multiarch)


def load_pw_sdk(env: Mapping[str, str] | None = None,
                candidates: Sequence[str] | None = None) -> PwLibrary:
    """The first wheel SDK that loads, cached per path. :class:`WheelNotFound` when none does
    (with what to install, and the loader's reason for a file that exists but would not load);
    :class:`WheelMissingSymbols` for a library without the wheel API (never skipped silently)."""
    return SEARCH.load(_libraries, env, candidates)


def simulated_pw_path(env: Mapping[str, str] | None = None) -> str:
    """The simulated SDK library: the camera's, which holds the simulated wheels too."""
    return simulated_sdk_path(env)


def load_simulated_pw(env: Mapping[str, str] | None = None) -> PwLibrary:
    """The simulated SDK library's wheel API (cached; :meth:`.LibrarySearch.load_simulated`);
    :class:`WheelNotFound` when it was not built (a platform without it) or cannot be loaded."""
    return SEARCH.load_simulated(_libraries, simulated_pw_path(env))


def loaded_pw_library(path: str) -> PwLibrary | None:
    """The library loaded from ``path`` in this process, or None."""
    return _libraries.get(path)
