"""Local uploads (UPLOAD_MODE Local/Both): save a finished image file under UPLOAD_SETTINGS.

Behaviour, compared with libindi's `INDI::CCD::uploadFile`:

* UPLOAD_DIR: empty means $HOME, the token `_HOME_` is replaced by $HOME, `~` is expanded;
  a missing directory is created (each missing level mode 0o755, so never world-writable
  whatever the umask; libindi does not create it and fails instead).
* UPLOAD_PREFIX tokens: `XXX` → the next free 3-digit index (largest index among files that
  match the prefix pattern with any index and any timestamp, plus one, starting at 001, as
  libindi's `getFileIndex`); `ISO8601` → the UTC time `YYYY-MM-DDTHH-MM-SS`.  libindi writes
  local time `YYYY-MM-DDTHH:MM:SS.mmm`; we use hyphens because ':' is invalid on FAT/exFAT
  and NTFS/SMB volumes (USB sticks and network shares are common upload targets, and
  Windows clients cannot open such names) and UTC because local time repeats an hour at
  the DST change.  Tokens are case-sensitive, as in libindi.
* A prefix is a file name, not a path: separators, "..", NUL and control characters are
  refused (libindi accepts them and so writes wherever the client says).
* The file is never overwritten and never seen half-written: the data go to a temporary
  `.<name>.tmp-<hex>` in the same directory (O_EXCL, 0o644), are fsync'ed, then hard-linked
  to the final name (link fails instead of replacing an existing file) and the temporary
  name is removed; the directory is fsync'ed.  If the name is taken meanwhile, an XXX index
  moves on; a name without XXX gets `_1`, `_2`, ... before the extension (libindi would
  overwrite the earlier file).  On a filesystem without hard links (FAT, some FUSE/SMB
  mounts: link raises EPERM/ENOTSUP) the final name is reserved with O_CREAT|O_EXCL and the
  temporary file renamed over that reservation (an empty file is visible for that moment).
* Any OSError removes the temporary file and raises `UploadError` naming the path and reason.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import secrets
from datetime import datetime, timezone
from typing import Iterator

log = logging.getLogger(__name__)

INDEX_TOKEN = "XXX"
TIME_TOKEN = "ISO8601"
HOME_TOKEN = "_HOME_"
DIR_MODE = 0o755
FILE_MODE = 0o644
#: Names tried before giving up (an XXX index or `_n` suffix per attempt).
MAX_ATTEMPTS = 10000
#: Bound on the prefix so the final name (index, suffix, extension) stays under NAME_MAX 255.
MAX_PREFIX = 200
_WRITE_CHUNK = 1 << 30
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV}


class UploadError(Exception):
    """A local save failed; the message is meant for the user (INDI message + Alert)."""


def _bad_char(text: str) -> str | None:
    for c in text:
        if c < " " or c == "\x7f" or 0x80 <= ord(c) < 0xA0:
            return c
    return None


def validate_prefix(prefix: str) -> None:
    """Refuse a prefix that is not a plain file name (raises UploadError)."""
    if not prefix:
        raise UploadError("Upload prefix is empty")
    bad = _bad_char(prefix)
    if bad is not None:
        raise UploadError(f"Upload prefix {prefix!r} contains the control character {bad!r}")
    if "/" in prefix or "\\" in prefix:
        raise UploadError(f"Upload prefix {prefix!r} must be a file name without '/' or '\\'")
    if ".." in prefix:
        raise UploadError(f"Upload prefix {prefix!r} must not contain '..'")
    if len(prefix.encode("utf-8", "surrogateescape")) > MAX_PREFIX:
        raise UploadError(f"Upload prefix is longer than {MAX_PREFIX} bytes")


def expand_dir(upload_dir: str) -> str:
    """UPLOAD_DIR → absolute path: "" → $HOME, `_HOME_` → $HOME, `~` expanded."""
    if "\x00" in upload_dir:
        raise UploadError(f"Upload directory {upload_dir!r} contains a NUL character")
    home = os.path.expanduser("~")  # $HOME, else the passwd entry
    path = upload_dir if upload_dir.strip() else home
    path = path.replace(HOME_TOKEN, home)
    return os.path.abspath(os.path.expanduser(path))


def _make_dirs(path: str) -> None:
    """Create `path` and missing parents with mode 0o755 each.

    `os.makedirs(mode=...)` applies the mode to the leaf only; parents get 0o777 & ~umask,
    which is world-writable under umask 0.
    """
    missing = []
    p = path
    while not os.path.isdir(p):
        missing.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            if not os.path.isdir(d):
                raise


def _timestamp(now: datetime | None) -> str:
    when = now if now is not None else datetime.now(timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H-%M-%S")


def _pattern(prefix: str, extension: str) -> re.Pattern[str]:
    """Regex matching every name this prefix can produce: any index, time and `_n`."""
    parts = re.split(f"({INDEX_TOKEN}|{TIME_TOKEN})", prefix)
    rx = []
    for part in parts:
        if part == INDEX_TOKEN:
            rx.append(r"(\d{3,})")
        elif part == TIME_TOKEN:
            rx.append(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}")
        else:
            rx.append(re.escape(part))
    return re.compile("^" + "".join(rx) + r"(?:_\d+)?" + re.escape(extension) + "$")


def next_index(directory: str, prefix: str, extension: str) -> int:
    """1 + the largest XXX index among existing files of this prefix (1 if none)."""
    pat = _pattern(prefix, extension)
    best = 0
    with os.scandir(directory) as it:
        for entry in it:
            m = pat.match(entry.name)
            if m and m.groups():
                best = max(best, int(m.group(1)))
    return best + 1


def _candidates(directory: str, prefix: str, extension: str, stamp: str) -> Iterator[str]:
    base = prefix.replace(TIME_TOKEN, stamp)
    if INDEX_TOKEN in base:
        index = next_index(directory, prefix, extension)
        for i in range(index, index + MAX_ATTEMPTS):
            yield base.replace(INDEX_TOKEN, f"{i:03d}") + extension
    else:
        yield base + extension
        for i in range(1, MAX_ATTEMPTS):
            yield f"{base}_{i}{extension}"


def _write_all(fd: int, view: memoryview) -> None:
    """Write every byte; os.write may write less (signals, > 2 GiB on Linux)."""
    done, total = 0, len(view)
    while done < total:
        n = os.write(fd, view[done : done + _WRITE_CHUNK])
        if n <= 0:
            raise OSError(errno.EIO, "write returned 0")
        done += n


def _create_temp(directory: str, name: str) -> tuple[str, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(16):
        tmp = os.path.join(directory, f".{name}.tmp-{secrets.token_hex(4)}")
        try:
            return tmp, os.open(tmp, flags, FILE_MODE)
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, "could not create a unique temporary file")


def _place(tmp: str, final: str) -> bool:
    """Give `tmp` the name `final` without replacing anything; False if `final` exists."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        return False
    except OSError as e:
        if e.errno not in _NO_LINK:
            raise
        # No hard links here: reserve the name atomically, then rename onto our own file.
        try:
            os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        except FileExistsError:
            return False
        try:
            os.replace(tmp, final)
        except OSError:
            _unlink_quietly(final)
            raise
        return True
    # The data are in place under `final`; a leftover temporary name is only untidy.
    _unlink_quietly(tmp)
    return True


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        log.warning("Could not remove %s: %s", path, e.strerror)


def _fsync_dir(directory: str) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        # The file is complete and named; some filesystems refuse fsync on a directory.
        log.debug("fsync of directory %s failed: %s", directory, e.strerror)


def save_local(
    view: memoryview,
    upload_dir: str,
    prefix: str,
    extension: str,
    now: datetime | None = None,
) -> str:
    """Write `view` to `<dir>/<prefix with tokens>.<ext>` safely; return the final path.

    `extension` includes the dot (".fits").  `now` fixes the ISO8601 time (tests).
    """
    validate_prefix(prefix)
    if not extension.startswith(".") or "/" in extension or "\\" in extension or "\x00" in extension:
        raise UploadError(f"File extension {extension!r} must start with '.' and name no directory")
    directory = expand_dir(upload_dir)
    data = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    stamp = _timestamp(now)
    tmp: str | None = None
    target = os.path.join(directory, prefix + extension)
    try:
        _make_dirs(directory)
        names = _candidates(directory, prefix, extension, stamp)
        first = next(names)
        target = os.path.join(directory, first)
        tmp, fd = _create_temp(directory, first)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        for name in _chain(first, names):
            target = os.path.join(directory, name)
            if _place(tmp, target):
                tmp = None
                break
        else:
            raise OSError(errno.EEXIST, f"no free file name after {MAX_ATTEMPTS} attempts")
    except OSError as e:
        if tmp is not None:
            _unlink_quietly(tmp)
        reason = e.strerror or str(e)
        raise UploadError(f"Unable to save image file {target}: {reason}") from e
    _fsync_dir(directory)
    log.debug("Image saved to %s", target)
    return target


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest
