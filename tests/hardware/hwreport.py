"""The hardware test set's report and its camera (shared by ``conftest.py`` and the tests)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SIM_ENV = "INDI_PLAYERONE_HARDWARE_SIM"
SERIAL_ENV = "INDI_PLAYERONE_HARDWARE_SERIAL"
REPORT_ENV = "INDI_PLAYERONE_HARDWARE_REPORT"
DEFAULT_REPORT = "playerone-hardware-report.md"


@dataclass
class Report:
    """Sections of Markdown, in the order the tests ran."""

    path: Path
    header: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str], str]] = field(default_factory=list)  # title, lines, outcome
    current: list[str] | None = None

    def line(self, text: str) -> None:
        (self.current if self.current is not None else self.header).append(text)

    def table(self, columns: list[str], rows: list[list[Any]]) -> None:
        self.line("| " + " | ".join(columns) + " |")
        self.line("|" + "---|" * len(columns))
        for row in rows:
            self.line("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
        self.line("")

    def write(self) -> None:
        out = ["# Player One camera: hardware test report", ""] + self.header + [""]
        for title, lines, outcome in self.sections:
            out += [f"## {title}: {outcome}", ""] + lines + [""]
        self.path.write_text("\n".join(out) + "\n", encoding="utf-8")


_REPORT: Report | None = None


def report() -> Report:
    global _REPORT
    if _REPORT is None:
        _REPORT = Report(Path(os.environ.get(REPORT_ENV) or DEFAULT_REPORT).resolve())
    return _REPORT




@dataclass
class Subject:
    """The camera under test and where it came from."""

    camera: Any  # SdkCamera
    simulated: bool
