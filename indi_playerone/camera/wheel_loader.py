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
by the search above, so a real and the simulated library serve wheels side by side. The
directories searched are the camera SDK's (:func:`.sdk_loader.library_dirs`).
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping, Sequence

from .sdk_loader import library_dirs, simulated_sdk_path
from .wheel_binding import PwLibrary, WheelLoadError, WheelMissingSymbols, WheelNotFound

__all__ = ["PW_SDK_ENV", "LINUX_NAMES", "MACOS_NAMES", "candidate_paths", "load_pw_sdk",
           "load_simulated_pw", "simulated_pw_path", "loaded_pw_library", "install_hint"]

PW_SDK_ENV = "INDI_PLAYERONE_PW_SDK"
LINUX_NAMES = ("libPlayerOnePW.so.1", "libPlayerOnePW.so")
MACOS_NAMES = ("libPlayerOnePW.dylib",)

_cache: dict[str, PwLibrary] = {}
_cache_lock = threading.Lock()


def install_hint() -> str:
    return ("Install Player One's filter wheel SDK: the 'libplayerone' package that INDI's "
            "third-party drivers provide (Ubuntu: the INDI PPA), or the Phoenix filter wheel SDK "
            "from Player One Astronomy's website (Service > Software), whose libPlayerOnePW.so goes "
            f"to /usr/local/lib. Or set {PW_SDK_ENV} to the full path of libPlayerOnePW.so / .dylib.")


def candidate_paths(env: Mapping[str, str] | None = None, system: str | None = None,
                    multiarch: str | None = None) -> list[str]:
    """The names and paths tried, in order. Bare names go to the dynamic loader's own search;
    paths are tried only if the file exists."""
    env = os.environ if env is None else env
    explicit = env.get(PW_SDK_ENV, "").strip()
    if explicit:
        return [explicit]
    names = MACOS_NAMES if (system or sys.platform) == "darwin" else LINUX_NAMES
    return [*names, *(os.path.join(d, n) for d in library_dirs(system, multiarch) for n in names)]


def _load(path: str) -> PwLibrary:
    """The library at ``path``, once per process (the cache lock held by the caller)."""
    lib = _cache.get(path)
    if lib is None:
        lib = _cache[path] = PwLibrary(path)
    return lib


def load_pw_sdk(env: Mapping[str, str] | None = None,
                candidates: Sequence[str] | None = None) -> PwLibrary:
    """The first wheel SDK that loads, cached per path. :class:`WheelNotFound` when none does
    (with what to install, and the loader's reason for a file that exists but would not load);
    :class:`WheelMissingSymbols` for a library without the wheel API (never skipped silently)."""
    env = os.environ if env is None else env
    explicit = env.get(PW_SDK_ENV, "").strip()
    paths = list(candidates) if candidates is not None else candidate_paths(env)
    failed: list[str] = []
    for path in paths:
        is_name = os.sep not in path
        if not is_name and not os.path.exists(path):
            if explicit:
                raise WheelNotFound(f"{PW_SDK_ENV}={explicit}: no such file. {install_hint()}")
            continue
        with _cache_lock:
            try:
                return _load(path)
            except WheelMissingSymbols:
                raise
            except WheelLoadError as exc:
                reason = str(exc)
                if is_name and "cannot open shared object file" in reason:
                    continue  # the loader does not know this name: the normal "not installed"
                if explicit:
                    raise WheelNotFound(f"{PW_SDK_ENV}={explicit} could not be loaded: {reason}. "
                                        f"{install_hint()}") from None
                failed.append(f"{path}: {reason}")
    if failed:
        raise WheelNotFound("The Player One filter wheel SDK was found but could not be loaded: "
                            f"{'; '.join(failed)}. {install_hint()}")
    raise WheelNotFound(f"The Player One filter wheel SDK ({LINUX_NAMES[0]}) is not installed, so real "
                        f"filter wheels cannot be used. {install_hint()}")


def simulated_pw_path(env: Mapping[str, str] | None = None) -> str:
    """The simulated SDK library: the camera's, which holds the simulated wheels too."""
    return simulated_sdk_path(env)


def load_simulated_pw(env: Mapping[str, str] | None = None) -> PwLibrary:
    """The simulated SDK library's wheel API (cached); :class:`WheelNotFound` when it was not
    built (a platform without it) or cannot be loaded."""
    path = simulated_pw_path(env)
    if not os.path.exists(path):
        raise WheelNotFound(f"The simulated Player One SDK {path} is not built (it is built with the "
                            "package on Linux: pip install . or the .deb)")
    with _cache_lock:
        return _load(path)


def loaded_pw_library(path: str) -> PwLibrary | None:
    """The library loaded from ``path`` in this process, or None."""
    with _cache_lock:
        return _cache.get(path)
