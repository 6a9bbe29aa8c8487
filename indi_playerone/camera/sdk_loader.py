"""Finding and loading Player One's camera SDK (``libPlayerOneCamera``) at run time.

The SDK is a proprietary binary: the project never ships it. Search order:

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
import platform
import sys
import sysconfig
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from .sdk_binding import SdkLibrary, SdkLoadError, SdkMissingSymbols, SdkNotFound

__all__ = ["SDK_ENV", "SIM_SDK_ENV", "SIM_LIBRARY", "LINUX_NAMES", "MACOS_NAMES", "library_dirs",
           "candidate_paths", "load_sdk", "load_simulated_sdk", "loaded_library", "simulated_sdk_path", "install_hint"]

SDK_ENV = "INDI_PLAYERONE_SDK"
#: The simulated SDK library to load instead of the package's own (tests, sanitizer builds).
SIM_SDK_ENV = "INDI_PLAYERONE_SIM_SDK"
#: The simulated SDK as the package installs it (pip, editable and .deb alike).
SIM_LIBRARY = Path(__file__).resolve().parents[1] / "simsdk" / "libPlayerOneCameraSim.so"
LINUX_NAMES = ("libPlayerOneCamera.so.3", "libPlayerOneCamera.so")
MACOS_NAMES = ("libPlayerOneCamera.dylib", "libPlayerOneCamera.3.dylib")
MACOS_DIRS = (
    "/usr/local/lib",
    "/opt/homebrew/lib",
    "/Applications/KStars.app/Contents/Frameworks",
    "/Applications/KStars.app/Contents/MacOS",
)

_MULTIARCH_BY_MACHINE = {
    "x86_64": "x86_64-linux-gnu", "amd64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu",
    "arm64": "aarch64-linux-gnu", "armv7l": "arm-linux-gnueabihf", "armv6l": "arm-linux-gnueabihf",
    "i686": "i386-linux-gnu", "i386": "i386-linux-gnu",
}

_cache: dict[str, SdkLibrary] = {}
_cache_lock = threading.Lock()


def install_hint() -> str:
    """What to install, in one sentence block (shown by the driver when the SDK is missing)."""
    return (
        "Install Player One's camera SDK: the 'libplayerone' package that INDI's third-party "
        "drivers provide (Ubuntu: the INDI PPA), or the Linux/macOS SDK from Player One "
        "Astronomy's website (player-one-astro.com, Service > Software), which contains "
        "libPlayerOneCamera.so.3 to copy to /usr/local/lib together with the udev rule for "
        f"USB access. Or set {SDK_ENV} to the full path of libPlayerOneCamera.so.3 / .dylib.")


def _multiarch() -> str | None:
    tuple_ = sysconfig.get_config_var("MULTIARCH")
    if tuple_:
        return str(tuple_)
    return _MULTIARCH_BY_MACHINE.get(platform.machine().lower())


def library_dirs(system: str | None = None, multiarch: str | None = None) -> list[str]:
    """The directories a Player One SDK library is looked for in after the dynamic loader's own
    search: the camera SDK's and the filter wheel SDK's (``wheel_loader.py``) alike."""
    if (system or sys.platform) == "darwin":
        return list(MACOS_DIRS)
    arch = multiarch if multiarch is not None else _multiarch()
    dirs = ["/usr/lib", "/usr/local/lib"]
    if arch:
        dirs += [f"/usr/lib/{arch}", f"/usr/local/lib/{arch}", f"/lib/{arch}"]
    return dirs


def candidate_paths(env: Mapping[str, str] | None = None, system: str | None = None,
                    multiarch: str | None = None) -> list[str]:
    """The names and paths tried, in order (see the module docstring). Bare names go to the
    dynamic loader's own search; paths are tried only if the file exists."""
    env = os.environ if env is None else env
    explicit = env.get(SDK_ENV, "").strip()
    if explicit:
        return [explicit]
    names = MACOS_NAMES if (system or sys.platform) == "darwin" else LINUX_NAMES
    return [*names, *(os.path.join(d, n) for d in library_dirs(system, multiarch) for n in names)]


def load_sdk(env: Mapping[str, str] | None = None, candidates: Sequence[str] | None = None) -> SdkLibrary:
    """The first SDK that loads, cached per path (one library object per process and file).

    :class:`SdkNotFound` when none loads, with :func:`install_hint` and what was tried (a file
    that exists but cannot be loaded, e.g. because libusb-1.0 is missing, is reported with the
    loader's reason). :class:`~.sdk_binding.SdkMissingSymbols` when a file loads but lacks
    functions we need: that is never silently skipped.
    """
    env = os.environ if env is None else env
    explicit = env.get(SDK_ENV, "").strip()
    paths = list(candidates) if candidates is not None else candidate_paths(env)
    failed: list[str] = []  # files that exist (or names the loader found) but did not load
    for path in paths:
        is_name = os.sep not in path
        if not is_name and not os.path.exists(path):
            if explicit:
                raise SdkNotFound(f"{SDK_ENV}={explicit}: no such file. {install_hint()}")
            continue
        with _cache_lock:
            if path in _cache:
                return _cache[path]
            try:
                sdk = _load(path)
            except SdkMissingSymbols:
                raise
            except SdkLoadError as exc:
                reason = str(exc)
                if is_name and reason.startswith(f"{path}: cannot open shared object file"):
                    continue  # the loader does not know this name: the normal "not installed"
                if explicit:
                    raise SdkNotFound(f"{SDK_ENV}={explicit} could not be loaded: {reason}. "
                                      f"{install_hint()}") from None
                failed.append(f"{path}: {reason}")
                continue
            return sdk
    first = LINUX_NAMES[0] if sys.platform != "darwin" else MACOS_NAMES[0]
    if failed:
        raise SdkNotFound(f"The Player One camera SDK was found but could not be loaded: "
                          f"{'; '.join(failed)}. {install_hint()}")
    raise SdkNotFound(f"The Player One camera SDK ({first}) is not installed, so real cameras "
                      f"cannot be used. {install_hint()}")


def _load(path: str) -> SdkLibrary:
    """The library at ``path``, loaded once per process (cache lock held by the caller)."""
    sdk = _cache.get(path)
    if sdk is None:
        sdk = _cache[path] = SdkLibrary(path)
    return sdk


def loaded_library(path: str) -> SdkLibrary | None:
    """The library already loaded from ``path`` (by :func:`load_sdk` or
    :func:`load_simulated_sdk`), else None."""
    with _cache_lock:
        return _cache.get(path)


def simulated_sdk_path(env: Mapping[str, str] | None = None) -> str:
    """``INDI_PLAYERONE_SIM_SDK``, else the package's own ``simsdk/libPlayerOneCameraSim.so``."""
    env = os.environ if env is None else env
    return env.get(SIM_SDK_ENV, "").strip() or str(SIM_LIBRARY)


def load_simulated_sdk(env: Mapping[str, str] | None = None) -> SdkLibrary:
    """The simulated SDK library, loaded once per process, through the same binding as the
    vendor's. :class:`SdkNotFound` when the file is missing (a package built without a C
    compiler for it, or on a system it is not built for: Linux only) or does not load."""
    path = simulated_sdk_path(env)
    if not os.path.exists(path):
        raise SdkNotFound(f"The simulated camera library {path} is missing: reinstall the package "
                          "(it is built with it, on Linux).")
    with _cache_lock:
        try:
            return _load(path)
        except SdkMissingSymbols:
            raise
        except SdkLoadError as exc:
            raise SdkNotFound(f"The simulated camera library could not be loaded: {exc}") from None
