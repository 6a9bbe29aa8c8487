"""A real ``indiserver`` of either INDI generation started for one test, with its drivers.

Debian's libindi 1.9.9 (``indi1``) or libindi 2.2.4.2 built by ``.ci/libindi2`` (``indi2``): see
:mod:`harness.generations` for how one is chosen.  The traps of indiserver this module handles
(measured on this project's machines with 1.9.9; 2.2.4.2 behaves the same in each, except where
said):

* There is no bind option: indiserver listens on every interface.  We pick a free port by binding
  127.0.0.1:0 and closing it, hand that to ``-p``, and retry with a new port if indiserver then
  fails with ``bind: Address already in use`` (another process took the port in between).  Clients
  connect to 127.0.0.1 only.
* Every server also opens the *abstract* Unix socket ``/tmp/indiserver``; a second server at the
  same time exits at once ("Local server: bind: Address already in use"; 2.2.4.2 logs just
  "bind: Address already in use") unless it gets its own ``-u PATH``.  Each server gets a unique
  abstract name (no file is created, nothing to clean up).
* indiserver kills a client that falls more than ``-m`` MB behind (default 128); 122 MB frames need
  ``-m 1024``.
* ``indi_getprop`` never lists BLOB vectors (it only saves a BLOB that happens to arrive while it
  waits, into the current directory: it runs in the server's work directory), nor write-only
  vectors unless asked (``-w``).  With a wildcard it always waits the full ``-t`` timeout.
* Drivers and simulators write ``~/.indi/<device>_config.xml``: every server gets its own ``HOME``.
* indiserver restarts a dying driver up to ``-r`` times (default 10), which hides crashes from a
  test.  We default to ``-r 0``: measured, indiserver 1.9.9 then logs "Terminated after #0
  restarts." and exits, so the client sees the disconnect.
* An aborted test run must not leave servers behind: indiserver is started through ``setpriv
  --pdeathsig TERM`` (util-linux), so it gets SIGTERM when the test process dies, and its drivers
  then see end of file on stdin.
* Drivers that outlive indiserver are re-parented.  In this project's containers PID 1 does not
  reap, so they stay zombies forever; we make the test process a child subreaper (Linux
  ``PR_SET_CHILD_SUBREAPER``) so orphaned drivers come back to us and ``stop()`` can reap them.

Driver stderr is logged by indiserver ("Driver <name>: <line>") to its own stderr, which goes,
together with its stdout, to :attr:`IndiServer.log_path`.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from . import generations

__all__ = ["IndiServer", "ProcessRef", "started_processes", "descendant_processes", "socket_inodes"]

_PR_SET_CHILD_SUBREAPER = 36
_subreaper_lock = threading.Lock()
_subreaper_done = False

# Every process any IndiServer in this interpreter started (indiserver itself and the drivers it
# forked), so the test suite can check that none is left running after a test.
_registry_lock = threading.Lock()
_registry: dict[tuple[int, int], "ProcessRef"] = {}


@dataclass(frozen=True)
class ProcessRef:
    """A process identified by pid *and* start time, so a recycled pid is never mistaken for it.

    The name is not part of its identity: a driver indiserver has forked but not yet exec'd is
    named "indiserver" a moment, then "indi_playerone_ccd". Comparing names made a test that
    started just after a module-scoped server take that server's driver for its own leak and
    kill it (seen once under -n 4: every later test of the module lost its camera)."""

    pid: int
    start_ticks: int
    name: str = field(compare=False)

    @classmethod
    def of(cls, pid: int) -> "ProcessRef | None":
        stat = _read_stat(pid)
        if stat is None:
            return None
        return cls(pid, stat.start_ticks, stat.comm)

    def is_alive(self) -> bool:
        """True while the process runs; a zombie (exited, not yet reaped) counts as gone."""
        stat = _read_stat(self.pid)
        return stat is not None and stat.start_ticks == self.start_ticks and stat.state != "Z"

    def try_reap(self) -> None:
        """Reap it if it is our child (directly, or re-parented to us as subreaper)."""
        try:
            os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pass

    def signal(self, sig: int) -> None:
        """Send ``sig`` by pid, only if the pid still names this very process."""
        if self.is_alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass


@dataclass(frozen=True)
class _Stat:
    comm: str
    state: str
    ppid: int
    start_ticks: int


def _read_stat(pid: int) -> _Stat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm is in parentheses and may contain spaces or ')': split at the last ')'.
    lpar, rpar = raw.index("("), raw.rindex(")")
    fields = raw[rpar + 2 :].split()
    return _Stat(comm=raw[lpar + 1 : rpar], state=fields[0], ppid=int(fields[1]), start_ticks=int(fields[19]))


def _all_stats() -> dict[int, _Stat]:
    out: dict[int, _Stat] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read_stat(int(entry))
            if stat is not None:
                out[int(entry)] = stat
    return out


def descendant_processes(root: int | None = None) -> list[ProcessRef]:
    """Live (non-zombie) descendants of ``root`` (default: this process)."""
    root = os.getpid() if root is None else root
    stats = _all_stats()
    children: dict[int, list[int]] = {}
    for pid, st in stats.items():
        children.setdefault(st.ppid, []).append(pid)
    out: list[ProcessRef] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        st = stats[pid]
        if st.state != "Z":
            out.append(ProcessRef(pid, st.start_ticks, st.comm))
        todo.extend(children.get(pid, []))
    return out


def started_processes() -> list[ProcessRef]:
    """Every indiserver and driver process started through :class:`IndiServer` so far."""
    with _registry_lock:
        return list(_registry.values())


def _register(ref: ProcessRef) -> None:
    with _registry_lock:
        _registry[(ref.pid, ref.start_ticks)] = ref


def _become_subreaper() -> None:
    """Make this process the reaper of orphaned descendants (drivers that outlive indiserver)."""
    global _subreaper_done
    with _subreaper_lock:
        if _subreaper_done:
            return
        _subreaper_done = True
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # not Linux: orphans go to init as usual


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes in LISTEN state (0A) on ``port`` from /proc/net/tcp and tcp6."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process ``pid`` holds open (``/proc/<pid>/fd``); an OSError
    (FileNotFoundError: the process is gone) when its fds cannot be listed."""
    out: set[str] = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def _socket_inodes_of(pid: int) -> set[str]:
    try:
        return socket_inodes(pid)
    except (FileNotFoundError, PermissionError):
        return set()


class IndiServer:
    """One indiserver process on a free loopback port with its own HOME and Unix socket name.

    Use as a context manager (``with IndiServer([...]) as srv:``) or call :meth:`start` and
    :meth:`stop`.  ``drivers`` are executable names or absolute paths, as indiserver takes them.
    ``env`` is added to this process's environment for indiserver and its drivers (``HOME`` is
    always set to :attr:`home`).  ``generation`` ("indi1" or "indi2"; default
    :func:`harness.generations.current`) picks indiserver, the command-line tools and the drivers
    started by bare name.  ``workdir`` holds the log and the default HOME; when not given a
    temporary one is made and removed on :meth:`stop` (unless ``INDI_HARNESS_KEEP=1``), after the
    log has been read into memory so :meth:`log_text` still works.
    """

    def __init__(
        self,
        drivers: list[str],
        env: dict[str, str] | None = None,
        home: Path | None = None,
        max_mb: int = 1024,
        verbose: bool = True,
        *,
        workdir: Path | None = None,
        restarts: int = 0,
        generation: str | None = None,
    ) -> None:
        if not drivers:
            raise ValueError("indiserver needs at least one driver")
        self.generation = generations.get(generation)
        self.drivers = list(drivers)
        self.env = dict(env or {})
        self.max_mb = max_mb
        self.verbose = verbose
        self.restarts = restarts
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="indi-harness-")) if workdir is None else Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.home: Path = Path(home) if home is not None else self.workdir / "home"
        self.log_path: Path = self.workdir / "indiserver.log"
        self.port: int = 0
        self.unix_socket: str = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._refs: dict[int, ProcessRef] = {}
        self._final_log: str | None = None
        self.returncode: int | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "IndiServer":
        if self._proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def local_host(self) -> str:
        """Host string that makes libindiclient (pyindi-client 2.3.0) use this server's Unix socket.

        Measured: ``"localhost:" + path`` connects to the abstract socket ``path``; a bare
        ``"localhost:"`` means the default ``/tmp/indiserver`` (someone else's server).
        """
        return "localhost:" + self.unix_socket

    def start(self, timeout: float = 15.0) -> None:
        """Start indiserver and wait until it listens on its port and accepts a connection."""
        if self.running:
            raise RuntimeError("indiserver already running")
        why = self.generation.unavailable()
        if why is not None:
            raise FileNotFoundError(why)
        _become_subreaper()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self._final_log = None
        deadline = time.monotonic() + timeout
        last_error = ""
        for _attempt in range(8):
            self.port = _free_loopback_port()
            self.unix_socket = f"/tmp/indi-harness-{os.getpid()}-{uuid.uuid4().hex[:12]}"
            outcome = self._launch_and_wait(deadline)
            if outcome == "ok":
                return
            last_error = outcome
            if outcome not in ("port in use", "socket in use"):
                break
        tail = self.log_text()[-4000:]
        self.stop()
        if last_error == "timeout":
            raise TimeoutError(f"indiserver not accepting on port {self.port} after {timeout} s; log:\n{tail}")
        raise RuntimeError(f"indiserver failed to start ({last_error}); log:\n{tail}")

    def _launch_and_wait(self, deadline: float) -> str:
        # setpriv (util-linux) sets PR_SET_PDEATHSIG and execs indiserver: SIGTERM when the thread
        # that started it dies, so an aborted or killed test run does not leave servers behind.
        # (Not a preexec_fn: that is unsafe once pyindi-client's listener threads exist.)  Linux
        # sends it when the creating *thread* exits: start servers from a long-lived thread.
        cmd = ["setpriv", "--pdeathsig", "TERM"] if shutil.which("setpriv") else []
        cmd.append(self.generation.program("indiserver"))
        if self.verbose:
            cmd.append("-v")
        cmd += ["-p", str(self.port), "-u", self.unix_socket, "-m", str(self.max_mb), "-r", str(self.restarts)]
        cmd += self.drivers
        env = dict(os.environ)
        env.update(self.env)
        env["HOME"] = str(self.home)
        env["PATH"] = self.generation.path_env(env.get("PATH"))
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        if self._log_file is not None:
            self._log_file.close()
        self._log_file = open(self.log_path, "ab")
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.workdir,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the server
        )
        ref = ProcessRef.of(self._proc.pid)
        if ref is not None:
            self._refs[ref.pid] = ref
            _register(ref)
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._reap_after_exit()
                text = self._read_log(log_offset)
                if "Local server: bind" in text:
                    return "socket in use"
                if "bind: Address already in use" in text:  # TCP port, or 2.2.4.2's Unix socket
                    return "port in use"
                return f"exited with status {self._proc.returncode}"
            # Listening socket must belong to *our* process: another server may own the port.
            if _listening_inodes(self.port) & _socket_inodes_of(self._proc.pid) and self._accepts():
                self._track_drivers()
                return "ok"
            time.sleep(0.02)
        return "timeout"

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate indiserver (SIGKILL after ``timeout``), then make sure every driver is gone.

        Drivers should exit on their own when indiserver closes their stdin; any that do not within
        ``timeout`` get SIGTERM, then SIGKILL, by pid.  Idempotent.
        """
        if self._proc is not None:
            self._track_drivers()
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout)
            self.returncode = self._proc.returncode
            self._proc = None
            self._reap_after_exit(timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._own_workdir and os.environ.get("INDI_HARNESS_KEEP") != "1" and self.workdir.exists():
            self._final_log = self.log_text()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _reap_after_exit(self, timeout: float = 5.0) -> None:
        drivers = [r for pid, r in self._refs.items() if self._proc is None or pid != self._proc.pid]
        deadline = time.monotonic() + timeout
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                for ref in drivers:
                    ref.signal(sig)
                deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                done = not any(ref.is_alive() for ref in drivers)
                for ref in drivers:  # after the check: a zombie found "not alive" is reaped too
                    ref.try_reap()
                if done:
                    return
                time.sleep(0.02)

    def _track_drivers(self) -> None:
        """Record indiserver's children (the drivers, including restarted ones) while it runs."""
        if self._proc is None or self._proc.poll() is not None:
            return
        own = ProcessRef.of(self._proc.pid)  # re-read: it was "setpriv" until that exec'd indiserver
        for ref in [own, *descendant_processes(self._proc.pid)] if own is not None else []:
            known = self._refs.get(ref.pid)
            if known is None or (known.start_ticks == ref.start_ticks and known.name != ref.name):
                self._refs[ref.pid] = ref
                _register(ref)

    def processes(self) -> list[ProcessRef]:
        """indiserver and every driver process seen so far (alive or not)."""
        self._track_drivers()
        return list(self._refs.values())

    # ------------------------------------------------------------------ logs and command-line tools
    def _read_log(self, offset: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_text(self) -> str:
        """indiserver's log so far: its events and every driver's stderr."""
        if self._final_log is not None:
            return self._final_log
        return self._read_log()

    def getprop(self, pattern: str = "*.*.*", timeout: float = 5, *, write_only: bool = False) -> dict[str, str]:
        """``indi_getprop`` → ``{"Device.PROP.ELEM": "value"}``.

        A pattern with a wildcard always takes the full ``timeout`` (indi_getprop cannot know it has
        seen everything).  BLOB vectors are never listed; write-only ones only with ``write_only``.
        A value is everything after the first ``=``; repeated definitions keep the last value.
        """
        cmd = [self.generation.program("indi_getprop"), "-h", "127.0.0.1", "-p", str(self.port), "-t", str(timeout)]
        if write_only:
            cmd.append("-w")
        cmd.append(pattern)
        res = subprocess.run(cmd, cwd=self.workdir, capture_output=True, timeout=timeout + 15)
        if res.returncode == 2:
            raise RuntimeError(f"indi_getprop failed: {res.stderr.decode(errors='replace')}")
        out: dict[str, str] = {}
        for line in res.stdout.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                out[key] = value
        return out

    def setprop(self, assignment: str, timeout: float = 5) -> None:
        """``indi_setprop 'Dev.PROP.ELEM=value'``; raises RuntimeError unless it exits 0."""
        cmd = [self.generation.program("indi_setprop"), "-h", "127.0.0.1", "-p", str(self.port), "-t", str(timeout), assignment]
        res = subprocess.run(cmd, cwd=self.workdir, capture_output=True, timeout=timeout + 15)
        if res.returncode != 0:
            raise RuntimeError(
                f"indi_setprop {assignment!r} exited {res.returncode}: {res.stderr.decode(errors='replace')}"
            )
