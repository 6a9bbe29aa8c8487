"""`indi-playerone`: the command-line tool (subcommands follow INDI habits).

* ``list``: cameras the driver serves, Player One devices on USB, link speed, permission fixes.
* ``capture``: a client for any indiserver: exposures, binning, gain, count, output directory.
* ``demo``: the driver under a real indiserver with a simulated camera, frames written as FITS.
* ``offset``, ``tilt``, ``check``, ``backfocus``: the manual's hand procedures (offset finder,
  sensor tilt from a star field, first-run check, back-focus planner), ``tools/<name>.py``.
* ``driver-xml``: the driver-list XML for KStars/INDI Web Manager (``/usr/share/indi``).
* ``udev-rule``: the udev rule that lets the logged-in user and ``plugdev`` open the cameras.

Exit codes (all subcommands): 0 ok, 1 failure, 2 usage, 3 cannot reach the indiserver,
4 device not found, 130 interrupted (:mod:`indi_playerone.tools.exits`).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from . import __version__
from .tools import exits


#: Subcommands whose module in ``tools/`` has ``add_arguments(parser)`` and ``run(args) -> int``.
TOOLS = ("offset", "tilt", "check", "backfocus")


def _tool(sub: Any, module: Any, name: str, **kwargs: str) -> None:
    """The subcommand ``name``: its options from ``module.add_arguments``, run by ``module.run``."""
    command = sub.add_parser(name, epilog=exits.HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
                             **kwargs)
    module.add_arguments(command)
    command.set_defaults(run=module.run)


def build_parser() -> argparse.ArgumentParser:
    from . import demo
    from .tools import capture, listing

    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="indi-playerone", epilog=exits.HELP, formatter_class=raw,
        description="Tools for the Player One Astronomy INDI driver (indi_playerone_ccd).")
    parser.add_argument("--version", action="version", version=f"indi-playerone {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _tool(sub, listing, "list", help="cameras the driver serves and Player One devices on USB")
    _tool(sub, capture, "capture", help="take frames from a camera on an indiserver and save them",
          description="Take frames from an INDI camera and save them; stdout lists the saved files.")
    demo.add_arguments(sub.add_parser(
        "demo", help="run the driver with a simulated camera and take frames"))
    from .tools import backfocus, check, offset, tilt
    for module, name, what in (
            (offset, "offset", "find the smallest offset that keeps dark frames clear of zero"),
            (tilt, "tilt", "sensor tilt from a star-field FITS, and which tilt-plate screws to turn"),
            (check, "check", "first-run check: frame rate, cooler, fan (pass/fail report)"),
            (backfocus, "backfocus", "plan spacers and check accessories for the 55 mm back focus")):
        _tool(sub, module, name, help=what, description=(module.__doc__ or "").split("\n\n")[0])
    sub.add_parser("driver-xml", help="print the driver-list XML for /usr/share/indi")
    sub.add_parser("udev-rule", help="print the udev rule for Player One devices")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from . import demo
        return demo.run(args.model, args.count, args.exposure, args.output)
    run = getattr(args, "run", None)
    if run is not None:  # the tools' subcommands: tools/<module>.run(args)
        return run(args)
    if args.command == "driver-xml":
        from .tools.driverxml import driver_xml
        sys.stdout.write(driver_xml())
        return exits.OK
    if args.command == "udev-rule":
        from .tools.udev import RULE
        sys.stdout.write(RULE)
        return exits.OK
    return exits.USAGE


if __name__ == "__main__":
    sys.exit(main())
