"""`indi-playerone`: the command-line tool (subcommands follow INDI habits).

Subcommands so far: `demo` (the driver under a real indiserver with a simulated
camera, frames written as FITS). Exit codes: 0 success, 1 failure, 2 usage.
"""
from __future__ import annotations

import argparse
import sys

from . import __version__, demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="indi-playerone")
    parser.add_argument("--version", action="version", version=f"indi-playerone {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo_parser = sub.add_parser("demo", help="run the driver with a simulated camera and take frames")
    demo.add_arguments(demo_parser)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo.run(args.model, args.count, args.exposure, args.output)
    return 2


if __name__ == "__main__":
    sys.exit(main())
