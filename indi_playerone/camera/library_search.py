"""Finding and loading a Player One SDK library at run time, once per file and process.

The camera SDK (``sdk_loader.py``) and the filter wheel SDK (``wheel_loader.py``) are found the
same way, each with its own variable, names and errors (a :class:`LibrarySearch`):

1. the variable, an explicit file path: when it is set nothing else is tried, so a typo fails
   loudly instead of silently loading another copy;
2. the library's names through the dynamic loader (``LD_LIBRARY_PATH``, the ld.so cache, the
   default directories), the SONAME first;
3. the same names in :func:`library_dirs` (``/usr/lib``, ``/usr/local/lib``, the multiarch
   directories; on macOS ``/usr/local/lib``, ``/opt/homebrew/lib`` and the KStars bundle), where
   the vendor's tarball and INDI's ``libplayerone`` package put them even when the loader cache
   was not refreshed.
"""
from __future__ import annotations

import logging
import os
import platform
import sys
import sysconfig
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["MACOS_DIRS", "library_dirs", "LoadedLibraries", "LibrarySearch", "load_or_log",
           "is_file"]

log = logging.getLogger(__name__)

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


class Library(Protocol):
    path: str


L = TypeVar("L", bound=Library)


def _multiarch() -> str | None:
    tuple_ = sysconfig.get_config_var("MULTIARCH")
    if tuple_:
        return str(tuple_)
    return _MULTIARCH_BY_MACHINE.get(platform.machine().lower())


def library_dirs(system: str | None = None, multiarch: str | None = None) -> list[str]:
    """The directories a Player One SDK library is looked for in after the dynamic loader's own
    search: the camera SDK's and the filter wheel SDK's alike."""
    if (system or sys.platform) == "darwin":
        return list(MACOS_DIRS)
    arch = multiarch if multiarch is not None else _multiarch()
    dirs = ["/usr/lib", "/usr/local/lib"]
    if arch:
        dirs += [f"/usr/lib/{arch}", f"/usr/local/lib/{arch}", f"/lib/{arch}"]
    return dirs


class LoadedLibraries(Generic[L]):
    """One library object per file and process, made by ``make(path)`` under one lock, and the
    outcome of each search over them (:meth:`searched`)."""

    def __init__(self, make: Callable[[str], L]) -> None:
        self._make = make
        self._libraries: dict[str, L] = {}
        self._lock = threading.Lock()
        self._searches: dict[tuple[str, tuple[str, ...]], L | Exception] = {}
        self._search_lock = threading.Lock()

    def searched(self, key: tuple[str, tuple[str, ...]], search: Callable[[], L],
                 errors: type[Exception]) -> L:
        """What ``search()`` gave for ``key`` (the variable's value and the candidates), run
        the first time only: the library, or the ``errors`` it raised, raised again. The driver's
        start, its hot-plug watcher and ``indi-playerone list`` each ask several times; a
        failed search tried every candidate through the dynamic loader each time."""
        with self._search_lock:
            if key not in self._searches:
                try:
                    self._searches[key] = search()
                except errors as exc:
                    self._searches[key] = exc
            outcome = self._searches[key]
        if isinstance(outcome, Exception):
            raise outcome.with_traceback(None)
        return outcome

    def load(self, path: str) -> L:
        """The library at ``path``, loaded the first time (``make``'s errors pass through)."""
        with self._lock:
            lib = self._libraries.get(path)
            if lib is None:
                lib = self._libraries[path] = self._make(path)
            return lib

    def get(self, path: str) -> L | None:
        """The library already loaded from ``path``, else None."""
        with self._lock:
            return self._libraries.get(path)


@dataclass(frozen=True)
class LibrarySearch:
    """Where one SDK library is looked for, and the errors that say it was not found."""

    env: str                             # the variable naming one file
    linux_names: tuple[str, ...]         # the SONAME first
    macos_names: tuple[str, ...]
    what: str                            # "camera SDK": "The Player One camera SDK ..."
    serves: str                          # "real cameras": "... so real cameras cannot be used"
    install_hint: Callable[[], str]
    not_found: type[Exception]           # raised when nothing loads
    load_error: type[Exception]          # what the library class raises when a file does not load
    missing_symbols: type[Exception]     # a file that loads but lacks the API: never skipped

    def names(self, system: str | None = None) -> tuple[str, ...]:
        return self.macos_names if (system or sys.platform) == "darwin" else self.linux_names

    def candidate_paths(self, env: Mapping[str, str] | None = None, system: str | None = None,
                        multiarch: str | None = None) -> list[str]:
        """The names and paths tried, in order. Bare names go to the dynamic loader's own
        search; paths are tried only if the file exists."""
        env = os.environ if env is None else env
        explicit = env.get(self.env, "").strip()
        if explicit:
            return [explicit]
        names = self.names(system)
        return [*names, *(os.path.join(d, n) for d in library_dirs(system, multiarch) for n in names)]

    def load(self, libraries: LoadedLibraries[L], env: Mapping[str, str] | None = None,
             candidates: Sequence[str] | None = None) -> L:
        """The first candidate that loads (through ``libraries``: one object per file), searched
        once per process for the same variable and candidates (:meth:`LoadedLibraries.searched`:
        a failure too, raised again with its reason).

        ``not_found`` when none loads, with the install hint and what was tried (a file that
        exists but cannot be loaded, e.g. because libusb-1.0 is missing, is reported with the
        loader's reason); ``missing_symbols`` passes through."""
        env = os.environ if env is None else env
        explicit = env.get(self.env, "").strip()
        paths = tuple(candidates) if candidates is not None else tuple(self.candidate_paths(env))
        return libraries.searched((explicit, paths),
                                  lambda: self._first_loading(libraries, explicit, paths),
                                  self.load_error)

    def _first_loading(self, libraries: LoadedLibraries[L], explicit: str,
                       paths: Sequence[str]) -> L:
        failed: list[str] = []  # files that exist (or names the loader found) but did not load
        for path in paths:
            is_name = os.sep not in path
            if not is_name and not os.path.exists(path):
                if explicit:
                    raise self.not_found(f"{self.env}={explicit}: no such file. {self.install_hint()}")
                continue
            try:
                return libraries.load(path)
            except self.missing_symbols:
                raise
            except self.load_error as exc:
                reason = str(exc)
                if is_name and f"{path}: cannot open shared object file" in reason:
                    continue  # the loader does not know this name: the normal "not installed"
                if explicit:
                    raise self.not_found(f"{self.env}={explicit} could not be loaded: {reason}. "
                                         f"{self.install_hint()}") from None
                failed.append(f"{path}: {reason}")
        if failed:
            raise self.not_found(f"The Player One {self.what} was found but could not be loaded: "
                                 f"{'; '.join(failed)}. {self.install_hint()}")
        raise self.not_found(f"The Player One {self.what} ({self.names()[0]}) is not installed, so "
                             f"{self.serves} cannot be used. {self.install_hint()}")

    def load_simulated(self, libraries: LoadedLibraries[L], path: str) -> L:
        """The simulated SDK library at ``path`` (the package's own build, or the file
        ``INDI_PLAYERONE_SIM_SDK`` names), loaded once per process through the same binding as
        the vendor's library. ``not_found`` when the file is missing (a package built without a
        C compiler, or on a system it is not built for: Linux only) or does not load;
        ``missing_symbols`` passes through."""
        if not os.path.exists(path):
            raise self.not_found(f"The simulated Player One SDK {path} is missing: reinstall the "
                                 "package (it is built with it on Linux: pip install . or the .deb).")
        try:
            return libraries.load(path)
        except self.missing_symbols:
            raise
        except self.load_error as exc:
            raise self.not_found(f"The simulated Player One SDK could not be loaded: {exc}") from None


def load_or_log(load: Callable[[], L], errors: type[Exception], level: int | None) -> L | None:
    """``load()``, or None with its error logged at ``level`` (None: not logged)."""
    try:
        return load()
    except errors as exc:
        if level is not None:
            log.log(level, "%s", exc)
        return None


def is_file(path: str, other: str) -> bool:
    """``path`` (a path, not a bare name for the loader) is the file ``other``."""
    return os.sep in path and os.path.realpath(path) == os.path.realpath(other)
