"""Local uploads against the real filesystem (and small real tmpfs mounts for full/read-only disks)."""
from __future__ import annotations

import errno
import os
import stat
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from astropy.io import fits as afits

from indi_playerone.ccd import upload
from indi_playerone.ccd.fits import FitsContext, fits_cards, write_fits
from indi_playerone.ccd.upload import UploadError, expand_dir, save_local, validate_prefix

NOW = datetime(2024, 5, 6, 7, 8, 9, 999000, tzinfo=timezone.utc)


def mv(data: bytes) -> memoryview:
    return memoryview(data)


def listing(d: Path) -> list[str]:
    return sorted(os.listdir(d))


# ---------------------------------------------------------------- names

def test_first_index_is_001(tmp_path: Path) -> None:
    path = save_local(mv(b"abc"), str(tmp_path), "IMAGE_XXX", ".fits")
    assert path == str(tmp_path / "IMAGE_001.fits")
    assert Path(path).read_bytes() == b"abc"
    assert listing(tmp_path) == ["IMAGE_001.fits"]


def test_index_is_max_plus_one_and_never_overwrites(tmp_path: Path) -> None:
    pre = {
        "IMAGE_001.fits": b"one",
        "IMAGE_007.fits": b"seven",
        "IMAGE_003_2.fits": b"suffixed",
        "IMAGE_abc.fits": b"not an index",
        "OTHER_050.fits": b"other prefix",
        "IMAGE_099.xisf": b"other extension",
        "XIMAGE_500.fits": b"prefix must match from the start",
    }
    for name, content in pre.items():
        (tmp_path / name).write_bytes(content)
    p1 = save_local(mv(b"new1"), str(tmp_path), "IMAGE_XXX", ".fits")
    p2 = save_local(mv(b"new2"), str(tmp_path), "IMAGE_XXX", ".fits")
    assert (Path(p1).name, Path(p2).name) == ("IMAGE_008.fits", "IMAGE_009.fits")
    assert Path(p1).read_bytes() == b"new1" and Path(p2).read_bytes() == b"new2"
    for name, content in pre.items():
        assert (tmp_path / name).read_bytes() == content


def test_index_past_999_keeps_growing(tmp_path: Path) -> None:
    (tmp_path / "L_999.fits").write_bytes(b"x")
    assert Path(save_local(mv(b"y"), str(tmp_path), "L_XXX", ".fits")).name == "L_1000.fits"
    assert Path(save_local(mv(b"z"), str(tmp_path), "L_XXX", ".fits")).name == "L_1001.fits"


def test_prefix_without_index_gets_suffixes(tmp_path: Path) -> None:
    names = [Path(save_local(mv(bytes([i])), str(tmp_path), "flat", ".fits")).name for i in range(4)]
    assert names == ["flat.fits", "flat_1.fits", "flat_2.fits", "flat_3.fits"]
    assert [(tmp_path / n).read_bytes() for n in names] == [b"\0", b"\1", b"\2", b"\3"]


def test_iso8601_token_is_utc_without_colons(tmp_path: Path) -> None:
    p = save_local(mv(b"t"), str(tmp_path), "M31_ISO8601", ".fits", now=NOW)
    assert Path(p).name == "M31_2024-05-06T07-08-09.fits"
    local = NOW.astimezone(timezone(timedelta(hours=-4)))
    p2 = save_local(mv(b"u"), str(tmp_path), "M31_ISO8601", ".fits", now=local)
    assert Path(p2).name == "M31_2024-05-06T07-08-09_1.fits"  # same instant: never overwritten


def test_iso8601_and_index_together(tmp_path: Path) -> None:
    a = save_local(mv(b"a"), str(tmp_path), "ISO8601_XXX", ".fits", now=NOW)
    b = save_local(mv(b"b"), str(tmp_path), "ISO8601_XXX", ".fits", now=NOW + timedelta(hours=1))
    assert Path(a).name == "2024-05-06T07-08-09_001.fits"
    assert Path(b).name == "2024-05-06T08-08-09_002.fits"  # index counts across timestamps


def test_concurrent_saves_never_collide(tmp_path: Path) -> None:
    """Threads race between the directory scan and link(): the index must move on."""
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(tag: int) -> None:
        try:
            for i in range(6):
                p = save_local(mv(f"{tag}-{i}".encode()), str(tmp_path), "RACE_XXX", ".fits")
                with lock:
                    results.append(p)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()
    assert not errors
    assert len(set(results)) == 36
    contents = sorted(Path(p).read_bytes().decode() for p in results)
    assert contents == sorted(f"{t}-{i}" for t in range(6) for i in range(6))
    assert listing(tmp_path) == sorted(f"RACE_{i:03d}.fits" for i in range(1, 37))


def test_non_byte_memoryview_and_empty_view(tmp_path: Path) -> None:
    arr = np.arange(5, dtype=np.uint16)
    p = save_local(memoryview(arr), str(tmp_path), "A", ".bin")
    assert Path(p).read_bytes() == arr.tobytes()
    p0 = save_local(memoryview(b""), str(tmp_path), "EMPTY", ".bin")
    assert Path(p0).read_bytes() == b""


def test_saved_fits_payload_reads_back(tmp_path: Path) -> None:
    data = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    cards = fits_cards(FitsContext("Cam", 1.0, NOW, "Light", (2.9, 2.9), (1, 1)))
    with write_fits(data, cards) as payload:
        path = save_local(payload.view, str(tmp_path), "IMAGE_XXX", ".fits")
    with afits.open(path) as hdul:
        np.testing.assert_array_equal(hdul[0].data, data)


# ---------------------------------------------------------------- hostile input

@pytest.mark.parametrize(
    "prefix",
    ["../x", "a/b", "/abs", "\x00", "a\x00b", "..", "x..y", "a\\b", "", "line\nbreak",
     "esc\x1b", "del\x7f", "c1\x85", "p" * 201],
)
def test_hostile_prefixes_are_refused(tmp_path: Path, prefix: str) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    with pytest.raises(UploadError):
        validate_prefix(prefix)
    with pytest.raises(UploadError):
        save_local(mv(b"x"), str(inner), prefix, ".fits")
    assert listing(inner) == [] and listing(tmp_path) == ["inner"]


@pytest.mark.parametrize("prefix", ["IMAGE_XXX", "M 31 Ha", "a.b", "ünïcode", ".hidden", "-dash"])
def test_ordinary_prefixes_are_accepted(prefix: str) -> None:
    validate_prefix(prefix)


@pytest.mark.parametrize("ext", ["fits", "./x", ".a/b", ".\x00"])
def test_bad_extension_refused(tmp_path: Path, ext: str) -> None:
    with pytest.raises(UploadError):
        save_local(mv(b"x"), str(tmp_path), "A", ext)
    assert listing(tmp_path) == []


def test_nul_in_directory_refused() -> None:
    with pytest.raises(UploadError):
        expand_dir("/tmp/a\x00b")


def test_directory_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_bytes(b"")
    with pytest.raises(UploadError, match="afile"):
        save_local(mv(b"x"), str(tmp_path / "afile" / "sub"), "A", ".fits")


# ---------------------------------------------------------------- directories, permissions

def test_home_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert expand_dir("") == str(home)
    assert expand_dir("   ") == str(home)
    assert expand_dir("_HOME_") == str(home)
    assert expand_dir("_HOME_/Pictures/indi") == str(home / "Pictures" / "indi")
    assert expand_dir("~/x") == str(home / "x")
    monkeypatch.chdir(tmp_path)
    assert expand_dir("rel/dir") == str(tmp_path / "rel" / "dir")
    p = save_local(mv(b"h"), "_HOME_/shots", "IMAGE_XXX", ".fits")
    assert p == str(home / "shots" / "IMAGE_001.fits")
    p2 = save_local(mv(b"h"), "", "IMAGE_XXX", ".fits")
    assert p2 == str(home / "IMAGE_001.fits")


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_created_dirs_and_file_modes_under_umask_0(tmp_path: Path, permissive_umask: None) -> None:
    target = tmp_path / "a" / "b" / "c"
    p = save_local(mv(b"m"), str(target), "IMAGE_XXX", ".fits")
    for d in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o755, d
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    assert listing(target) == ["IMAGE_001.fits"]  # no temporary file left


def test_no_hard_links_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Filesystems without link() (FAT, some FUSE): fault-injected EPERM from os.link."""
    def no_link(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    (tmp_path / "flat.fits").write_bytes(b"old")
    monkeypatch.setattr(upload.os, "link", no_link)
    p = save_local(mv(b"new"), str(tmp_path), "flat", ".fits")
    assert Path(p).name == "flat_1.fits" and Path(p).read_bytes() == b"new"
    assert (tmp_path / "flat.fits").read_bytes() == b"old"
    assert listing(tmp_path) == ["flat.fits", "flat_1.fits"]


# ---------------------------------------------------------------- full and read-only disks

@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[callable]:
    mounted: list[Path] = []

    def make(options: str) -> Path:
        mp = tmp_path / f"mnt{len(mounted)}"
        mp.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mp)],
                           capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): {r.stderr.strip()}")
        mounted.append(mp)
        return mp

    yield make
    for mp in mounted:
        subprocess.run(["umount", str(mp)], capture_output=True, timeout=20)


def test_disk_full_leaves_nothing(small_mount) -> None:
    mp = small_mount("size=1m,mode=0755")
    big = bytes(range(256)) * (2 * 1024 * 1024 // 256)
    with pytest.raises(UploadError) as exc:
        save_local(mv(big), str(mp), "IMAGE_XXX", ".fits")
    msg = str(exc.value)
    assert str(mp / "IMAGE_001.fits") in msg and "No space left on device" in msg
    assert listing(mp) == []
    # and after freeing nothing, a file that fits still works with the same index
    p = save_local(mv(b"small"), str(mp), "IMAGE_XXX", ".fits")
    assert Path(p).name == "IMAGE_001.fits" and listing(mp) == ["IMAGE_001.fits"]


def test_read_only_filesystem(small_mount) -> None:
    mp = small_mount("size=1m,ro")
    with pytest.raises(UploadError, match="Read-only file system") as exc:
        save_local(mv(b"x"), str(mp), "IMAGE_XXX", ".fits")
    assert str(mp) in str(exc.value)
    with pytest.raises(UploadError, match="Read-only file system"):
        save_local(mv(b"x"), str(mp / "newdir"), "IMAGE_XXX", ".fits")
    assert listing(mp) == []
