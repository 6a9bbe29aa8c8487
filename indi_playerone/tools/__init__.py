"""The `indi-playerone` subcommands other than `demo`: `list`, `capture`, `driver-xml`, `udev-rule`.

Each module holds one subcommand: ``add_arguments(parser)`` and ``run(args) -> exit code``.
The exit codes every subcommand uses are in :mod:`.exits`.
"""
