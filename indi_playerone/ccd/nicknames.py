"""Camera nicknames: `~/.indi/PlayerOneNicknames.xml`, the C++ driver's file and format.

The C++ driver (indi-3rdparty playerone_ccd.cpp) keeps one nickname per camera serial number::

    <Nicknames>
     <Nickname SerialNumber="...serial...">my name</Nickname>
    </Nicknames>

and names the device after the nickname at its next start, with "PlayerOne CCD " in front
unless the nickname already starts with it. The same file works for both drivers, so a user
switching keeps the device name, and with it the saved configuration
(`~/.indi/<device>_config.xml`).

Reading goes through the protocol package's bounded reader (no DTDs, no entities): the file
is user-writable input. Writes go to a temporary name, are synced and renamed.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from ..indi.xmlreader import ParsedElement, XmlStreamReader
from .names import DEVICE_PREFIX

__all__ = ["NicknameError", "nicknames_path", "read_nicknames", "set_nickname",
           "device_base_name", "MAX_NICKNAME_CHARS"]

log = logging.getLogger(__name__)

FILE_NAME = "PlayerOneNicknames.xml"
#: A real file holds a few lines; anything this large is not ours.
MAX_FILE_BYTES = 1024 * 1024
#: Device names end up in file names (`<device>_config.xml`) and client menus.
MAX_NICKNAME_CHARS = 64


class NicknameError(Exception):
    """User-facing message."""


def nicknames_path() -> Path:
    """`$HOME/.indi/PlayerOneNicknames.xml` (the C++ driver uses HOME too, as libindi's
    config path does)."""
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".indi" / FILE_NAME


def read_nicknames(path: Path | None = None) -> dict[str, str]:
    """Serial number -> nickname. A missing file is empty; an unreadable or malformed one is
    logged and treated as empty (the driver must start anyway)."""
    path = path or nicknames_path()
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            log.warning("%s is larger than %d bytes: ignored", path, MAX_FILE_BYTES)
            return {}
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc.strerror)
        return {}
    reader = XmlStreamReader(max_element_bytes=MAX_FILE_BYTES, resync_names=frozenset())
    body = data.split(b"?>", 1)[1] if data.lstrip().startswith(b"<?xml") else data
    roots = [e.element for e in reader.feed(body) + reader.close() if isinstance(e, ParsedElement)]
    if not roots or roots[0].tag != "Nicknames":
        log.warning("%s is not a nicknames file (no <Nicknames> root): ignored", path)
        return {}
    out: dict[str, str] = {}
    for item in roots[0]:
        serial = item.get("SerialNumber")
        if item.tag == "Nickname" and serial:
            out[serial] = (item.text or "").strip()
    return out


def _render(nicknames: dict[str, str]) -> bytes:
    lines = ["<Nicknames>"]
    lines += [f" <Nickname SerialNumber={quoteattr(serial)}>{escape(nick)}</Nickname>"
              for serial, nick in nicknames.items()]
    lines.append("</Nicknames>\n")
    return "\n".join(lines).encode("utf-8")


def _check(nickname: str) -> None:
    if len(nickname) > MAX_NICKNAME_CHARS:
        raise NicknameError(f"A nickname has at most {MAX_NICKNAME_CHARS} characters.")
    if any(ord(ch) < 32 or ch in "/\\" for ch in nickname):
        # It becomes part of the config file name: no path separators, no control characters.
        raise NicknameError("A nickname may not hold control characters, '/' or '\\'.")


def set_nickname(serial: str, nickname: str, path: Path | None = None) -> Path:
    """Store (or, for an empty nickname, remove) the nickname of `serial`; returns the file."""
    nickname = nickname.strip()
    _check(nickname)
    path = path or nicknames_path()
    nicknames = read_nicknames(path)
    if nickname:
        nicknames[serial] = nickname
    else:
        nicknames.pop(serial, None)
    try:
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(_render(nicknames))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise NicknameError(f"Cannot save the nickname to {path}: {exc.strerror}") from None
    return path


def device_base_name(serial: str, model: str, nicknames: dict[str, str]) -> str:
    """The device name before duplicates are numbered: the nickname of this serial with the
    driver's prefix (unless it has it already), else `PlayerOne CCD <model>`."""
    nickname = nicknames.get(serial, "") if serial else ""
    if not nickname:
        return DEVICE_PREFIX + model
    return nickname if nickname.startswith(DEVICE_PREFIX) else DEVICE_PREFIX + nickname
