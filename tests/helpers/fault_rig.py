"""A driver under a real indiserver with the simulated library's fault file and fault log."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.harness.client import IndiClient
from tests.harness.server import IndiServer


@dataclass
class FaultRig:
    """One indiserver with the driver, a connected client, the fault file
    (``INDI_PLAYERONE_SIM_FAULT_FILE``) and the library's log of the faults it hit
    (``INDI_PLAYERONE_SIM_FAULT_LOG``)."""

    server: IndiServer
    client: IndiClient
    faults: Path
    log: Path

    def fault(self, line: str) -> None:
        """Arm a fault: one line of the fault file (``native/simsdk/README.md``, "Faults")."""
        with self.faults.open("a") as f:
            f.write(line + "\n")

    def log_lines(self) -> list[str]:
        """What the library's fault log holds so far."""
        return self.log.read_text().splitlines() if self.log.exists() else []
