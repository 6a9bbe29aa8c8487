"""Transport and SharedPayload against real pipes, socketpairs and a real driver subprocess.

No indiserver here (see test_transport_indiserver.py).  The peer is `helpers.indi_stream.SlowReader`,
a deliberately slow reader (random recv sizes, pauses) that parses the stream into top-level
elements and collects SCM_RIGHTS fds the way indiserver does.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.blob_driver import pattern_digest
from helpers.indi_stream import SlowReader
from indi_playerone.indi.payload import SharedPayload
from indi_playerone.indi.transport import (
    B64_CHUNK,
    ENV_BLOB_MODE,
    BlobItem,
    Transport,
    TransportClosed,
)

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
JOIN_S = 30.0


class Channel:
    """One writer end (`out_fd`) and a reader over a pipe or one AF_UNIX socketpair."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sock: socket.socket | None = None
        if kind == "pipe":
            self.read_fd, self.out_fd = os.pipe()
        else:
            self.sock, self._out = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            self.out_fd = self._out.fileno()

    def reader(self, **kw) -> SlowReader:
        if self.sock is not None:
            return SlowReader(sock=self.sock, **kw)
        return SlowReader(fd=self.read_fd, **kw)

    def close_writer(self) -> None:
        if self.sock is not None:
            self._out.close()
        else:
            os.close(self.out_fd)

    def close_reader(self) -> None:
        if self.sock is not None:
            self.sock.close()
        else:
            os.close(self.read_fd)


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BLOB_MODE, raising=False)


# (channel kind, blob_mode, expected `attached`)
MODES = [("pipe", "auto", False), ("socketpair", "inline", False), ("socketpair", "auto", True)]
MODE_IDS = ["pipe", "socket-inline", "socket-attached"]


def rand_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def send_one(t: Transport, data: bytes) -> None:
    """Queue a one-element setBLOBVector Cam.CCD1 carrying `data`."""
    t.send_blob_vector("Cam", "CCD1", "Ok", [BlobItem("CCD1", ".fits", SharedPayload.from_bytes(data))])


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def run_session(kind: str, mode: str, body, *, answer_pings: bool = True, **reader_kw) -> SlowReader:
    """Run `body(transport)` against a slow reader; close everything; return the finished reader."""
    chan = Channel(kind)
    holder: dict[str, Transport] = {}

    def on_element(elem: ET.Element) -> None:
        if answer_pings and elem.tag == "pingRequest":
            holder["t"].ping_reply_received(elem.get("uid", ""))

    reader = chan.reader(on_element=on_element, **reader_kw)
    transport = Transport(chan.out_fd, blob_mode=mode, ping_timeout=30)
    holder["t"] = transport
    transport.start()
    reader.start()
    try:
        body(transport)
        assert transport.flush(JOIN_S)
    finally:
        transport.close()
        chan.close_writer()
        reader.join(JOIN_S)
        chan.close_reader()
    return reader


def assert_refused_blob_closes_its_payload(t: Transport, state: str, error: type[Exception]) -> None:
    """A BLOB vector that ``t`` refuses with ``error`` still closes its payload (no fd left open)."""
    p = SharedPayload.from_bytes(b"abc")
    with pytest.raises(error):
        t.send_blob_vector("Cam", "CCD1", state, [BlobItem("CCD1", ".fits", p)])
    assert p.closed


def blob_elements(reader: SlowReader) -> list[tuple[ET.Element, list[bytes]]]:
    return [(e, b) for e, b in zip(reader.elements, reader.blobs) if e.tag == "setBLOBVector"]


# --------------------------------------------------------------------------- SharedPayload
@pytest.mark.parametrize("size", [0, 1, 4096, 1_000_003])
def test_payload_allocate_is_exact_writable_memfd(size: int) -> None:
    with SharedPayload.allocate(size) as p:
        assert p.size == size and len(p.view) == size
        assert p.view.format == "B" and not p.view.readonly
        fd = p.fileno()
        assert fd is not None and os.fstat(fd).st_size == size
        assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        if size:
            p.view[-1] = 0xA5
            assert os.pread(fd, 1, size - 1) == b"\xa5"  # MAP_SHARED: the fd sees the write
    assert p.closed
    with pytest.raises(ValueError):
        p.fileno()
    p.close()  # idempotent


def test_payload_from_bytes_and_close_releases_fd() -> None:
    before = fd_count()
    payloads = [SharedPayload.from_bytes(rand_bytes(1000 + i, i)) for i in range(20)]
    assert fd_count() >= before + 20  # 2 per payload before Python 3.13 (mmap dups the fd)
    assert bytes(payloads[3].view) == rand_bytes(1003, 3)
    for p in payloads:
        p.close()
    assert fd_count() == before


def test_payload_close_with_live_export_does_not_raise() -> None:
    p = SharedPayload.from_bytes(b"0123456789")
    part = p.view[2:5]
    p.close()  # the mapping cannot be unmapped while `part` exists; the fd is closed anyway
    assert p.closed and bytes(part) == b"234"
    part.release()


def test_without_memfd_payloads_are_anonymous_and_blobs_go_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS has no memfd: simulated by removing os.memfd_create."""
    monkeypatch.delattr(os, "memfd_create")
    data = rand_bytes(100_000, 4)
    with SharedPayload.allocate(10) as p:
        assert p.fileno() is None and len(p.view) == 10 and not p.view.readonly

    def body(t: Transport) -> None:
        assert not t.attached
        send_one(t, data)

    reader = run_session("socketpair", "auto", body)
    assert [b for b in reader.blobs if b] == [[data]] and reader.fds_received == 0


# --------------------------------------------------------------------------- round trips
SIZES = [0, 1, 2, 3, 57, B64_CHUNK - 1, B64_CHUNK, B64_CHUNK + 1, 7_000_001]


@pytest.mark.parametrize("kind,mode,attached", MODES, ids=MODE_IDS)
def test_blob_round_trip_is_byte_exact(kind: str, mode: str, attached: bool) -> None:
    contents = [rand_bytes(n, n) for n in SIZES]
    multi = [rand_bytes(5000 + i, 100 + i) for i in range(3)]

    def body(t: Transport) -> None:
        assert t.attached is attached
        for n, data in zip(SIZES, contents):
            send_one(t, data)
        items = [BlobItem(f"B{i}", ".bin", SharedPayload.from_bytes(d), size=99) for i, d in enumerate(multi)]
        t.send_blob_vector("Cam", "MULTI", "Busy", items, timeout=12.5, message="three")

    reader = run_session(kind, mode, body, max_chunk=50_000)
    blobs = blob_elements(reader)
    assert len(blobs) == len(SIZES) + 1
    for (elem, data), n, expect in zip(blobs, SIZES, contents):
        one = elem.find("oneBLOB")
        assert one is not None and "enclen" not in one.attrib
        assert (elem.get("device"), elem.get("name"), elem.get("state")) == ("Cam", "CCD1", "Ok")
        assert one.get("size") == str(n) and one.get("format") == ".fits"
        assert one.get("attached") == ("true" if attached and n else None)
        assert data == [expect]
    elem, data = blobs[-1]
    assert (elem.get("state"), elem.get("timeout"), elem.get("message")) == ("Busy", "12.5", "three")
    assert [o.get("size") for o in elem.iter("oneBLOB")] == ["99"] * 3
    assert data == multi
    assert reader.tags().count("pingRequest") == len(SIZES) + 1
    assert reader.fds_received == (sum(1 for n in SIZES if n) + 3 if attached else 0)


def test_attached_splits_more_than_16_fds_and_copies_fdless_payloads() -> None:
    import mmap

    contents = [rand_bytes(300 + i, i) for i in range(20)]

    def body(t: Transport) -> None:
        items = [BlobItem(f"B{i}", ".bin", SharedPayload.from_bytes(d)) for i, d in enumerate(contents)]
        anon = mmap.mmap(-1, 4)  # the macOS-style payload without an fd
        anon[:] = b"anon"
        items.append(BlobItem("ANON", ".bin", SharedPayload(4, None, anon)))
        t.send_blob_vector("Cam", "MANY", "Ok", items)

    reader = run_session("socketpair", "attached", body)
    ((elem, data),) = blob_elements(reader)
    assert data == contents + [b"anon"]
    assert reader.fds_received == 21


# --------------------------------------------------------------------------- concurrency
@pytest.mark.parametrize("kind,mode,attached", MODES, ids=MODE_IDS)
def test_concurrent_senders_never_interleave_into_a_blob(kind: str, mode: str, attached: bool) -> None:
    """Several threads send number updates while a large BLOB is written: the stream must parse into
    whole top-level elements, each thread's messages in order, FIFO around the BLOB."""
    threads_n, before_n, after_n = 4, 50, 250
    blob = rand_bytes(24_000_000, 7)
    half_done = threading.Barrier(threads_n + 1, timeout=JOIN_S)
    blob_queued = threading.Event()

    def body(t: Transport) -> None:
        def sender(k: int) -> None:
            for i in range(before_n + after_n):
                if i == before_n:
                    half_done.wait()
                    assert blob_queued.wait(JOIN_S)
                t.send(
                    f"<setNumberVector device='Cam' name='T{k}' state='Ok' timeout='0' timestamp='x'>"
                    f"<oneNumber name='V'>{i}</oneNumber></setNumberVector>\n".encode()
                )

        workers = [threading.Thread(target=sender, args=(k,)) for k in range(threads_n)]
        for w in workers:
            w.start()
        half_done.wait()
        send_one(t, blob)
        t.send(b"<message device='Cam' message='after'/>\n")
        blob_queued.set()
        for w in workers:
            w.join(JOIN_S)
            assert not w.is_alive()

    reader = run_session(kind, mode, body, max_chunk=65536)
    tags = reader.tags()
    assert tags.count("setNumberVector") == threads_n * (before_n + after_n)
    i_blob = tags.index("setBLOBVector")
    assert tags[i_blob + 1 : i_blob + 3] == ["pingRequest", "message"]
    assert reader.blobs[i_blob] == [blob]
    seen: dict[str, list[int]] = {}
    for pos, elem in enumerate(reader.elements):
        if elem.tag == "setNumberVector":
            value = int((elem.findtext("oneNumber") or "").strip())
            seen.setdefault(elem.get("name", ""), []).append(value)
            assert (pos < i_blob) == (value < before_n), "FIFO around the BLOB violated"
    assert all(v == list(range(before_n + after_n)) for v in seen.values()) and len(seen) == threads_n


# --------------------------------------------------------------------------- O_NONBLOCK
def _sample_flags(fd: int, stop: threading.Event, seen: set[int]) -> None:
    while not stop.is_set():
        seen.add(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)
        time.sleep(0.001)


def test_o_nonblock_never_set_even_with_socket_default_timeout() -> None:
    """socket.socket(fileno=...) makes the *shared* description non-blocking when a default socket
    timeout is set; the transport must put the flags back and still write everything."""
    chan = Channel("socketpair")
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(2.0)
    try:
        before = fcntl.fcntl(chan.out_fd, fcntl.F_GETFL)
        t = Transport(chan.out_fd, blob_mode="attached")
        assert fcntl.fcntl(chan.out_fd, fcntl.F_GETFL) == before
    finally:
        socket.setdefaulttimeout(old)
    assert t.attached and not before & os.O_NONBLOCK
    stop, seen = threading.Event(), set()
    sampler = threading.Thread(target=_sample_flags, args=(chan.out_fd, stop, seen))
    sampler.start()
    reader = chan.reader(on_element=lambda e: e.tag == "pingRequest" and t.ping_reply_received(e.get("uid")))
    reader.start()
    t.start()
    try:
        for i in range(3):
            send_one(t, b"x" * 9)
            t.send(b"<message message='m'/>")
        assert t.flush(JOIN_S)
    finally:
        t.close()
        stop.set()
        sampler.join(JOIN_S)
        chan.close_writer()
        reader.join(JOIN_S)
        chan.close_reader()
    assert seen == {0}
    assert reader.tags().count("setBLOBVector") == 3


@pytest.mark.parametrize("kind", ["pipe", "socketpair"])
def test_partial_writes_when_someone_else_set_o_nonblock(kind: str) -> None:
    """If another component makes the shared description non-blocking (the trap), writes come back
    partial or with EAGAIN: the transport must loop and poll, never drop or reorder bytes."""
    blob = rand_bytes(3_000_000, 9)

    def body(t: Transport) -> None:
        os.set_blocking(t._fd, False)  # simulate the other component's bug
        for i in range(3):
            send_one(t, blob)
            t.send(b"<message message='%d'/>\n" % i)

    reader = run_session(kind, "inline", body, max_chunk=30_000, pause_every=5)
    assert reader.tags() == ["setBLOBVector", "pingRequest", "message"] * 3
    assert [b for b in reader.blobs if b] == [[blob]] * 3


def test_signals_interrupting_writes_lose_nothing() -> None:
    """A signal arriving during a blocking write makes it return a partial count (PEP 475 retries
    only when nothing was written): the write loop must continue from there.  The signals are
    aimed at the writer thread itself with pthread_kill."""
    import signal

    blob = rand_bytes(6_000_000, 13)
    hits = [0]
    stop = threading.Event()

    def pester(t: Transport) -> None:
        while not stop.is_set():
            ident = t._thread.ident if t._thread else None
            if ident:
                signal.pthread_kill(ident, signal.SIGUSR1)
            time.sleep(0.0002)

    def body(t: Transport) -> None:
        th = threading.Thread(target=pester, args=(t,))
        th.start()
        try:
            send_one(t, blob)
            assert t.flush(JOIN_S)
        finally:
            stop.set()
            th.join(JOIN_S)

    old = signal.signal(signal.SIGUSR1, lambda *_: hits.__setitem__(0, hits[0] + 1))
    try:
        reader = run_session("socketpair", "inline", body, max_chunk=4096, pause_every=2, pause_s=0.0005)
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert hits[0] > 0
    assert [b for b in reader.blobs if b] == [[blob]]


@pytest.mark.parametrize("kind", ["socketpair", "pipes"])
def test_driver_process_fd0_fd1_stay_blocking_and_blob_is_exact(kind: str) -> None:
    """The helper driver runs the way indiserver runs it: ONE socketpair end as fd 0 and fd 1 (or two
    pipes).  We sample O_NONBLOCK of the driver's own file description while it streams a 20 MB
    BLOB to a slow reader, answer its pingRequests, and check it exits at end of file."""
    size, seed = 20_000_000, 11
    env = dict(os.environ, BLOB_DRIVER_DEVICE="Sub Dev", PYTHONUNBUFFERED="1")
    if kind == "socketpair":
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        proc = subprocess.Popen(
            [sys.executable, str(HELPERS / "blob_driver.py")], stdin=theirs, stdout=theirs,
            stderr=subprocess.PIPE, env=env,
        )
        watched_fd, write = theirs.fileno(), ours.sendall
        reader = SlowReader(sock=ours, on_element=lambda e: on_element(e))
    else:
        proc = subprocess.Popen(
            [sys.executable, str(HELPERS / "blob_driver.py")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None
        watched_fd = proc.stdout.fileno()
        write = lambda b: (proc.stdin.write(b), proc.stdin.flush())  # noqa: E731
        reader = SlowReader(fd=proc.stdout.fileno(), on_element=lambda e: on_element(e))
    lock = threading.Lock()
    done = threading.Event()

    def on_element(elem: ET.Element) -> None:
        if elem.tag == "pingRequest":
            with lock:
                write(f"<pingReply uid='{elem.get('uid')}'/>".encode())
        if elem.tag == "setNumberVector" and elem.get("state") == "Ok":
            done.set()

    stop, seen = threading.Event(), set()
    sampler = threading.Thread(target=_sample_flags, args=(watched_fd, stop, seen))
    sampler.start()
    reader.start()
    try:
        with lock:
            write(b"<getProperties version='1.7'/>\n")
            write(
                f"<newNumberVector device='Sub Dev' name='BLOB_REQUEST'><oneNumber name='SIZE'>{size}"
                f"</oneNumber><oneNumber name='SEED'>{seed}</oneNumber></newNumberVector>\n".encode()
            )
        assert done.wait(JOIN_S), "no BLOB_REQUEST Ok from the driver"
    finally:
        stop.set()
        sampler.join(JOIN_S)
        if kind == "socketpair":
            ours.shutdown(socket.SHUT_WR)  # end of file on the driver's stdin
            rc = proc.wait(JOIN_S)
            theirs.close()
        else:
            proc.stdin.close()
            rc = proc.wait(JOIN_S)
        reader.join(JOIN_S)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if kind == "socketpair":
            ours.close()
        else:
            proc.stdout.close()
        proc.stderr and proc.stderr.close()
    assert rc == 0, stderr
    assert seen == {0}, "O_NONBLOCK appeared on the driver's stdout"
    info = [e for e in reader.elements if e.get("name") == "TRANSPORT_INFO"]
    assert (info[0].findtext("defText") or "").strip() == ("attached" if kind == "socketpair" else "inline")
    ((elem, data),) = blob_elements(reader)
    assert len(data[0]) == size
    import hashlib

    assert hashlib.sha256(data[0]).hexdigest() == pattern_digest(seed, size)
    assert reader.tags().count("pingRequest") == 1


# --------------------------------------------------------------------------- peer gone, bounds
@pytest.mark.parametrize("kind", ["pipe", "socketpair"])
def test_closed_peer_makes_send_raise_without_hanging(kind: str) -> None:
    chan = Channel(kind)
    chan.close_reader()
    t = Transport(chan.out_fd, flow_control=False)
    t.start()
    deadline = time.monotonic() + 10
    with pytest.raises(TransportClosed):
        while time.monotonic() < deadline:
            t.send(b"<message message='x'/>\n")
            time.sleep(0.001)
    assert t.closed and not t.flush(1)
    assert_refused_blob_closes_its_payload(t, "Ok", TransportClosed)
    t.close()
    chan.close_writer()


@pytest.mark.parametrize("kind", ["pipe", "socketpair"])
def test_queue_is_bounded_and_payloads_are_closed(kind: str) -> None:
    """With a reader that does not read, a sender blocks after max_queue messages (+1 in the
    writer); when the reader starts, everything arrives and no fd is left open."""
    before = fd_count()
    chan = Channel(kind)
    t = Transport(chan.out_fd, blob_mode="inline", max_queue=2, flow_control=False)
    t.start()
    queued: list[SharedPayload] = []
    big = rand_bytes(1_000_000, 3)  # larger than any pipe/socket buffer: the writer blocks

    def sender() -> None:
        for _ in range(8):
            p = SharedPayload.from_bytes(big)
            queued.append(p)
            t.send_blob_vector("Cam", "CCD1", "Ok", [BlobItem("CCD1", ".fits", p)])

    th = threading.Thread(target=sender)
    th.start()
    deadline = time.monotonic() + 10
    while len(queued) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # give an unbounded queue every chance to accept more
    assert len(queued) == 4, "1 in the writer + 2 queued + 1 blocked in send_blob_vector"
    assert th.is_alive()
    reader = chan.reader(max_chunk=1 << 20, pause_every=0).start()
    th.join(JOIN_S)
    assert not th.is_alive()
    assert t.flush(JOIN_S)
    t.close()
    chan.close_writer()
    reader.join(JOIN_S)
    chan.close_reader()
    assert all(p.closed for p in queued)
    assert [b for b in reader.blobs if b] == [[big]] * 8
    assert fd_count() == before


@pytest.mark.parametrize("kind,mode,attached", MODES, ids=MODE_IDS)
def test_no_fd_leak_after_many_blobs(kind: str, mode: str, attached: bool) -> None:
    before = fd_count()

    def body(t: Transport) -> None:
        for i in range(30):
            send_one(t, b"%d" % i)

    reader = run_session(kind, mode, body)
    assert reader.fds_received == (30 if attached else 0)
    assert [b[0] for b in reader.blobs if b] == [b"%d" % i for i in range(30)]
    assert fd_count() == before


def test_blocked_sender_wakes_when_peer_goes_away() -> None:
    chan = Channel("socketpair")
    t = Transport(chan.out_fd, blob_mode="inline", max_queue=1, flow_control=False)
    t.start()
    errors: list[BaseException] = []
    payloads: list[SharedPayload] = []

    def sender() -> None:
        try:
            for _ in range(5):
                payloads.append(SharedPayload.from_bytes(b"\0" * 1_000_000))
                t.send_blob_vector("Cam", "CCD1", "Ok", [BlobItem("CCD1", ".fits", payloads[-1])])
        except TransportClosed as exc:
            errors.append(exc)

    th = threading.Thread(target=sender)
    th.start()
    deadline = time.monotonic() + 10
    while len(payloads) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    chan.close_reader()  # the writer gets EPIPE in the middle of the BLOB
    th.join(JOIN_S)
    assert not th.is_alive() and len(errors) == 1
    assert t.closed and all(p.closed for p in payloads)
    t.close()
    chan.close_writer()


def test_close_gives_up_on_a_reader_that_never_reads() -> None:
    chan = Channel("socketpair")
    t = Transport(chan.out_fd, flow_control=False, blob_mode="inline")
    t.start()
    payloads = [SharedPayload.from_bytes(b"\1" * 1_000_000) for _ in range(3)]
    for p in payloads:
        t.send_blob_vector("Cam", "CCD1", "Ok", [BlobItem("CCD1", ".fits", p)])
    t.close(timeout=0.5)
    assert t.closed and payloads[1].closed and payloads[2].closed
    with pytest.raises(TransportClosed):
        t.send(b"<message/>")
    chan.close_reader()  # the stuck write fails with EPIPE; the daemon writer ends
    deadline = time.monotonic() + 10
    while not payloads[0].closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert payloads[0].closed
    chan.close_writer()


# --------------------------------------------------------------------------- flow control
def test_next_blob_waits_for_the_ping_reply() -> None:
    """The reply to SetBLOB/N is sent 0.3 s after the pingRequest arrives, from another thread; the
    next BLOB must not arrive before it (ping_timeout is 30 s)."""
    chan = Channel("socketpair")
    t = Transport(chan.out_fd, ping_timeout=30)
    replied: set[str] = set()
    order_ok: list[bool] = []
    timers: list[threading.Timer] = []

    def reply(uid: str) -> None:
        replied.add(uid)
        t.ping_reply_received(uid)

    def on_element(elem: ET.Element) -> None:
        if elem.tag == "pingRequest":
            timer = threading.Timer(0.3, reply, args=(elem.get("uid"),))
            timer.start()
            timers.append(timer)
        elif elem.tag == "setBLOBVector":
            k = int(elem.get("name", "B0")[1:])
            order_ok.append(k == 0 or f"SetBLOB/{k}" in replied)

    reader = chan.reader(on_element=on_element).start()
    t.start()
    for k in range(3):
        t.send_blob_vector("Cam", f"B{k}", "Ok", [BlobItem("CCD1", ".bin", SharedPayload.from_bytes(b"ab"))])
    assert t.flush(JOIN_S)
    t.close()
    chan.close_writer()
    reader.join(JOIN_S)
    chan.close_reader()
    for timer in timers:  # all appended: the reader is done
        timer.join(JOIN_S)
    assert order_ok == [True, True, True]
    uids = [e.get("uid") for e in reader.elements if e.tag == "pingRequest"]
    assert len(uids) == 3 and len(set(uids)) == 3 and all(u.startswith("SetBLOB/") for u in uids)


def test_missing_ping_reply_times_out_and_proceeds() -> None:
    chan = Channel("pipe")
    t = Transport(chan.out_fd, ping_timeout=0.1)
    reader = chan.reader().start()
    t.start()
    for _ in range(3):
        t.send_blob_vector("Cam", "B", "Ok", [BlobItem("CCD1", ".bin", SharedPayload.from_bytes(b"z"))])
    assert t.flush(JOIN_S)
    t.close()
    chan.close_writer()
    reader.join(JOIN_S)
    chan.close_reader()
    assert reader.tags() == ["setBLOBVector", "pingRequest"] * 3


# --------------------------------------------------------------------------- mode selection
def test_blob_mode_selection_and_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    sp, pipe = Channel("socketpair"), Channel("pipe")
    try:
        assert Transport(sp.out_fd).attached
        assert not Transport(sp.out_fd, blob_mode="inline").attached
        assert not Transport(pipe.out_fd).attached
        assert not Transport(pipe.out_fd, blob_mode="attached").attached  # no socket: inline
        monkeypatch.setenv(ENV_BLOB_MODE, "inline")
        assert not Transport(sp.out_fd, blob_mode="attached").attached
        monkeypatch.setenv(ENV_BLOB_MODE, "attached")
        assert Transport(sp.out_fd, blob_mode="inline").attached
        monkeypatch.setenv(ENV_BLOB_MODE, "bogus")
        assert Transport(sp.out_fd).attached
        with pytest.raises(ValueError):
            Transport(sp.out_fd, blob_mode="bogus")
    finally:
        for c in (sp, pipe):
            c.close_writer()
            c.close_reader()


def test_send_before_start_is_written_after_start_and_flush_reports_it() -> None:
    chan = Channel("pipe")
    t = Transport(chan.out_fd)
    t.send(b"<a/>")
    assert not t.flush(0)  # not started: nothing written yet
    reader = chan.reader().start()
    t.start()
    assert t.flush(JOIN_S)
    t.close()
    chan.close_writer()
    reader.join(JOIN_S)
    chan.close_reader()
    assert reader.tags() == ["a"]


# --------------------------------------------------------------------------- property-based
_attr_text = st.text(
    st.characters(
        blacklist_categories=("Cs",), blacklist_characters=[chr(i) for i in range(32) if i not in (9, 10, 13)]
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    device=_attr_text, name=_attr_text, message=st.none() | _attr_text, fmt=_attr_text,
    data=st.binary(max_size=20_000), attached=st.booleans(),
)
def test_attributes_and_payload_round_trip(device, name, message, fmt, data, attached) -> None:
    def body(t: Transport) -> None:
        item = BlobItem("CCD1", fmt, SharedPayload.from_bytes(data))
        t.send_blob_vector(device, name, "Alert", [item], message=message)

    reader = run_session("socketpair", "auto" if attached else "inline", body, pause_every=0)
    ((elem, blobs),) = blob_elements(reader)
    assert elem.get("device") == device and elem.get("name") == name
    assert elem.get("message") == message
    assert elem.find("oneBLOB").get("format") == fmt
    assert blobs == [data]


def test_invalid_state_closes_payload() -> None:
    chan = Channel("pipe")
    t = Transport(chan.out_fd)
    assert_refused_blob_closes_its_payload(t, "Done", ValueError)
    t.close()
    chan.close_writer()
    chan.close_reader()
