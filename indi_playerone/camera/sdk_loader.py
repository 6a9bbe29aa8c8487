"""Finding and loading Player One's camera SDK (``libPlayerOneCamera``) at run time.

The SDK is a proprietary binary: the project never ships it. Search order (``library_search.py``,
the same as the filter wheel SDK's):

1. ``INDI_PLAYERONE_SDK``, an explicit file path. When it is set, nothing else is tried: a
   typo must fail loudly rather than silently load another copy (and the tests that point
   it at the fake SDK must never pick up a real one).
2. The SONAME ``libPlayerOneCamera.so.3`` through the dynamic loader (``LD_LIBRARY_PATH``,
   the ld.so cache, the default directories), then the unversioned ``.so`` — the INDI issue
   #591 lesson: a driver that insisted on one soname failed to start after an SDK update.
3. The same names in ``/usr/lib``, ``/usr/local/lib`` and the multiarch directories
   (``/usr/lib/aarch64-linux-gnu``...), where the vendor's tarball and INDI's ``libplayerone``
   package put it even when the loader cache was not refreshed.

macOS: ``libPlayerOneCamera.dylib`` (and ``.3.dylib``) in ``/usr/local/lib``,
``/opt/homebrew/lib`` and inside the KStars application bundle.

Only the SDK 3.x ABI is bound (SONAME 3); an older ``.so.2`` is not tried because its
structures and functions differ.

The simulated cameras are a library with the same C API, ``libPlayerOneCameraSim.so``
(``native/simsdk/``), built with the package into its ``simsdk/`` directory: never on the
loader's path and never under the vendor's name, so the search above cannot find it and a
real SDK and the simulated one load side by side (:func:`load_simulated_sdk`;
``INDI_PLAYERONE_SIM_SDK`` points at another build of it, e.g. one with sanitizers).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from .library_search import MACOS_DIRS, LibrarySearch, LoadedLibraries, library_dirs
from .sdk_binding import SdkLibrary, SdkLoadError, SdkMissingSymbols, SdkNotFound

__all__ = ["SDK_ENV", "SIM_SDK_ENV", "SIM_LIBRARY", "LINUX_NAMES", "MACOS_NAMES", "MACOS_DIRS",
           "library_dirs", "candidate_paths", "load_sdk", "load_simulated_sdk", "loaded_library",
           "simulated_sdk_path", "install_hint"]

SDK_ENV = "INDI_PLAYERONE_SDK"
#: The simulated SDK library to load instead of the package's own (tests, sanitizer builds).
SIM_SDK_ENV = "INDI_PLAYERONE_SIM_SDK"
#: The simulated SDK as the package installs it (pip, editable and .deb alike).
SIM_LIBRARY = Path(__file__).resolve().parents[1] / "simsdk" / "libPlayerOneCameraSim.so"
LINUX_NAMES = ("libPlayerOneCamera.so.3", "libPlayerOneCamera.so")
MACOS_NAMES = ("libPlayerOneCamera.dylib", "libPlayerOneCamera.3.dylib")


def install_hint() -> str:
    """What to install, in one sentence block (shown by the driver when the SDK is missing)."""
    return (
        "Install Player One's camera SDK: the 'libplayerone' package that INDI's third-party "
        "drivers provide (Ubuntu: the INDI PPA), or the Linux/macOS SDK from Player One "
        "Astronomy's website (player-one-astro.com, Service > Software), which contains "
        "libPlayerOneCamera.so.3 to copy to /usr/local/lib together with the udev rule for "
        f"USB access. Or set {SDK_ENV} to the full path of libPlayerOneCamera.so.3 / .dylib.")


SEARCH = LibrarySearch(SDK_ENV, LINUX_NAMES, MACOS_NAMES, "camera SDK", "real cameras", install_hint,
                       SdkNotFound, SdkLoadError, SdkMissingSymbols)
_libraries: LoadedLibraries[SdkLibrary] = LoadedLibraries(SdkLibrary)


def candidate_paths(env: Mapping[str, str] | None = None, system: str | None = None,
                    multiarch: str | None = None) -> list[str]:
    """The names and paths tried, in order (see the module docstring). Bare names go to the
    dynamic loader's own search; paths are tried only if the file exists."""
    return SEARCH.candidate_paths(env, system, multiarch)


def load_sdk(env: Mapping[str, str] | None = None, candidates: Sequence[str] | None = None) -> SdkLibrary:
    """The first SDK that loads, cached per path (one library object per process and file).

    :class:`SdkNotFound` when none loads, with :func:`install_hint` and what was tried (a file
    that exists but cannot be loaded, e.g. because libusb-1.0 is missing, is reported with the
    loader's reason). :class:`~.sdk_binding.SdkMissingSymbols` when a file loads but lacks
    functions we need: that is never silently skipped.
    """
    return SEARCH.load(_libraries, env, candidates)


def loaded_library(path: str) -> SdkLibrary | None:
    """The library already loaded from ``path`` (by :func:`load_sdk` or
    :func:`load_simulated_sdk`), else None."""
    return _libraries.get(path)


def simulated_sdk_path(env: Mapping[str, str] | None = None) -> str:
    """``INDI_PLAYERONE_SIM_SDK``, else the package's own ``simsdk/libPlayerOneCameraSim.so``."""
    env = os.environ if env is None else env
    return env.get(SIM_SDK_ENV, "").strip() or str(SIM_LIBRARY)


def load_simulated_sdk(env: Mapping[str, str] | None = None) -> SdkLibrary:
    """The simulated SDK library, loaded once per process, through the same binding as the
    vendor's (:meth:`.LibrarySearch.load_simulated`). :class:`SdkNotFound` when the file is
    missing (a package built without a C compiler for it, or on a system it is not built for:
    Linux only) or does not load."""
    return SEARCH.load_simulated(_libraries, simulated_sdk_path(env))
