"""Python logging -> INDI ``message`` elements (and stderr, which indiserver records).

Records become ``<message device=... message='[LEVEL] text'/>`` like libindi's
LOG_ERROR/LOG_WARN/LOG_INFO/LOG_DEBUG, which clients such as Ekos show in their
log panes. DEBUG records are forwarded only while ``debug_enabled`` is set (the
device's DEBUG switch turns it on), so normal sessions are not flooded.

The device attribute comes from ``extra={"device": name}`` on the call, else from
the optional ``device_name_for_record`` callback, else the message is sent without
a device (clients show it as a server message). Code that already sent its own
``message`` marks the stderr copy with ``extra=NOT_TO_CLIENT`` so it is not sent twice.
"""
from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Callable

from . import xmlout

__all__ = ["IndiLogHandler", "setup_logging", "LOGGER_NAME", "NOT_TO_CLIENT"]

LOGGER_NAME = "indi_playerone"

NOT_TO_CLIENT = {"indi_client": False}
"""``extra`` for records that must reach stderr only."""


def _level_tag(levelno: int) -> str:
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


class IndiLogHandler(logging.Handler):
    """Sends log records to the INDI client through ``transport.send``."""

    def __init__(self, transport: Any,
                 device_name_for_record: Callable[[logging.LogRecord], str | None] | None = None) -> None:
        super().__init__(level=logging.DEBUG)
        self.transport = transport
        self.device_name_for_record = device_name_for_record
        self.debug_enabled = False
        # A record logged while sending (e.g. by the transport itself) must not
        # recurse into send(): that could deadlock a full queue.
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.INFO and not self.debug_enabled:
            return
        if getattr(record, "indi_client", True) is False:
            return
        if getattr(self._busy, "active", False):
            return
        if getattr(self.transport, "closed", False):
            return  # the server is gone: stderr has the record, there is no client to tell
        self._busy.active = True
        try:
            device = getattr(record, "device", None)
            if device is None and self.device_name_for_record is not None:
                device = self.device_name_for_record(record)
            text = f"[{_level_tag(record.levelno)}] {record.getMessage()}"
            self.transport.send(xmlout.message(device, text))
        except Exception:
            self.handleError(record)
        finally:
            self._busy.active = False


def setup_logging(transport: Any, stderr_level: int = logging.INFO) -> IndiLogHandler:
    """Log the ``indi_playerone`` logger to stderr and to the INDI client.

    Called once by the entry point; calling it again replaces the handlers it
    installed before instead of duplicating them.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for h in list(logger.handlers):
        if isinstance(h, IndiLogHandler) or getattr(h, "_indi_playerone_stderr", False):
            logger.removeHandler(h)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(stderr_level)
    stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    stderr._indi_playerone_stderr = True  # type: ignore[attr-defined]
    logger.addHandler(stderr)
    handler = IndiLogHandler(transport)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler
