"""Exit codes of `indi-playerone`, the same for every subcommand, so a script can branch on them.

They are documented in the README and in ``indi-playerone --help``; tests assert them.
"""
from __future__ import annotations

OK = 0
#: The command ran and failed: an exposure was refused or timed out, a file could not be written.
FAILURE = 1
#: Bad command line (argparse's own convention, which it applies before we run).
USAGE = 2
#: No indiserver answers at the host and port (connection refused, unknown host, timeout).
NO_SERVER = 3
#: The server runs, but the device asked for (or any camera, when none was named) is not there.
NO_DEVICE = 4
#: Interrupted by Ctrl-C (the shell's 128 + SIGINT); a running exposure was aborted first.
INTERRUPTED = 130

#: The epilog of every ``--help`` (printed as is: argparse.RawDescriptionHelpFormatter).
HELP = """exit codes:
  0    ok
  1    failure (refused, timed out, cannot write; or `list`: a device you cannot open)
  2    usage (bad command line)
  3    cannot reach the indiserver
  4    device not found
  130  interrupted (Ctrl-C)"""
