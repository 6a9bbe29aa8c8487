"""A driver process's frame, as indiserver runs it: the one writer of stdout, the input loop over
stdin, and the orderly end when stdin closes or SIGTERM comes. The camera driver (``ccd/main.py``) and the filter
wheel driver (``wheel/main.py``) each fill it with their devices."""
from __future__ import annotations

import logging
import signal
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .driver import DriverLoop
from .logbridge import setup_logging
from .transport import Transport

__all__ = ["DriverProcess", "numbered_names", "open_process", "serve"]

log = logging.getLogger("indi_playerone")


class Watcher(Protocol):
    """A hot-plug watcher (``indi/hotplug.py``): stopped at the end, its devices disconnected."""

    def close(self) -> None: ...
    def served(self) -> list[Any]: ...


@dataclass
class DriverProcess:
    transport: Transport
    log_handler: Any
    loop: DriverLoop


def open_process() -> DriverProcess:
    """The transport on fd 1 (started), the log bridge, and the loop on fd 0.

    fd 1 belongs to the transport's writer thread alone: anything a library might print() goes
    to stderr, which indiserver records in its log."""
    sys.stdout = sys.stderr
    transport = Transport(out_fd=1)
    transport.start()
    log_handler = setup_logging(transport)
    return DriverProcess(transport, log_handler, DriverLoop(transport, in_fd=0))


def numbered_names(bases: Iterable[str]) -> list[str]:
    """Each base name, the second device of one name with ` 1`, the third with ` 2` (the first
    keeps its bare name, as the Player One C++ camera driver names cameras)."""
    seen: Counter[str] = Counter()
    names = []
    for base in bases:
        n = seen[base]
        seen[base] += 1
        names.append(base if n == 0 else f"{base} {n}")
    return names


def stop_on_sigterm(loop: DriverLoop) -> None:
    """SIGTERM ends the loop as a closed stdin does, so every device is disconnected (cameras
    stopped and closed) before the process exits: systemd stopping the service sends SIGTERM to
    every process of the unit, the drivers included, and the default action killed a driver
    mid-exposure with its cameras open. A second SIGTERM kills at once. The handler only wakes
    the loop: it runs on the main thread between two bytecodes, where taking the transport's or
    logging's locks could deadlock."""
    def on_sigterm(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        loop.stop()

    signal.signal(signal.SIGTERM, on_sigterm)


def serve(process: DriverProcess, devices: list[Any], watcher: Watcher | None) -> int:
    """Run the loop until stdin closes (indiserver gone) or SIGTERM comes, then stop the
    watcher, disconnect every device (those it added too) and close the transport. The exit
    status: 0."""
    stop_on_sigterm(process.loop)
    try:
        process.loop.run()
    finally:
        if watcher is not None:
            watcher.close()
            devices += [d for d in watcher.served() if d not in devices]
        for device in devices:
            try:
                device.disconnect()
            except Exception:  # shutting down: report, keep closing the others
                log.exception("disconnecting %s", device.name)
        process.transport.close()
    return 0
