"""Coverage-guided fuzzer (atheris + libFuzzer) of the driver's INDI input path.

Each input is raw bytes as they could arrive on the driver's stdin. They go, in chunks whose size
the first byte chooses, through a fresh ``XmlStreamReader`` + ``DriverLoop`` that routes to two
devices: the protocol-test device (one vector of every kind, perm and rule; rebuilt per input) and
the real ``PlayerOneCCD`` on a simulated Apollo-M MAX PRO (built once and kept connected, so its
state, exposures and threads carry over between inputs; UPLOAD_DIR is pinned to a temporary
directory, see ``indi_target.ccd_device``). After each input the harness checks:

* no exception escaped and none was caught-and-logged by DriverLoop/Device ("internal error"),
  including on the camera's worker threads;
* every message the driver sent is well-formed XML;
* the stream resynchronises: ``RESYNC`` + ``<pingRequest uid=.../>`` is answered.

A failed check raises, which libFuzzer records as a crash (``crash-<sha1>`` under
``-artifact_prefix``) and exits non-zero. Hangs are caught by libFuzzer's ``-timeout``; memory by
this harness (current RSS <= ``FUZZ_INDI_RSS_LIMIT_MB``, see ``_check_memory``), with
libFuzzer's own ``-rss_limit_mb=0`` (off).

Run (CI runs it for 20 s from ``tests/system/test_reliability_fuzz.py``; the long variant is
``INDI_PLAYERONE_FUZZ_SECONDS=3600``)::

    .venv/bin/python tests/fuzz/fuzz_indi.py -max_total_time=600 -dict=tests/fuzz/indi.dict \\
        -max_len=16384 -timeout=20 -rss_limit_mb=0 /tmp/fuzz-corpus tests/fuzz/corpus
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

import atheris

# Imported before instrumentation: big libraries we do not fuzz (instrumenting them only slows
# every input down).
import numpy  # noqa: F401
import astropy.io.fits  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["indi_playerone", "indi_target"]):
    import indi_target

_HOME = tempfile.mkdtemp(prefix="fuzz-indi-home-")
os.environ["HOME"] = _HOME  # UPLOAD_DIR "" means $HOME
_UPLOADS = Path(_HOME) / "uploads"
_UPLOADS.mkdir()

_TRANSPORT = indi_target.CheckingTransport()
_LOG = indi_target.FailureLog().__enter__()
_CCD = indi_target.ccd_device(_TRANSPORT, _UPLOADS)
_SEQ = 0
_RSS_LIMIT_MB = int(os.environ.get("FUZZ_INDI_RSS_LIMIT_MB", "1024"))


def _check(uid: str) -> None:
    out = _TRANSPORT.take()
    if _TRANSPORT.bad:
        raise AssertionError(f"malformed output: {_TRANSPORT.bad}")
    if _LOG.failures:
        raise AssertionError(f"exception inside the driver: {_LOG.failures[-1]}")
    if not any(e.tag == "pingReply" and e.get("uid") == uid for e in out):
        raise AssertionError("the input stream did not resynchronise: pingRequest not answered")


def _check_memory() -> None:
    """The process's current RSS must stay under ``FUZZ_INDI_RSS_LIMIT_MB`` (default 1024).

    Checked here rather than with libFuzzer's ``-rss_limit_mb``: that one reads the *peak* RSS
    (``getrusage``), which Linux carries over from the parent across fork+exec, so the fuzzer
    started from a pytest process that had grown past 1 GB (late in the full suite) was stopped
    as "out-of-memory" before its first input (measured: 1,047 MB reported at input 0)."""
    status = Path("/proc/self/status").read_text()
    rss_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) // 1024
    if _SEQ % 1000 == 0:
        sys.stderr.write(f"fuzz_indi stats: input {_SEQ} threads {threading.active_count()} "
                         f"rss {rss_mb} MB frames {_TRANSPORT.blobs}\n")
    if rss_mb > _RSS_LIMIT_MB:
        raise AssertionError(f"RSS {rss_mb} MB > {_RSS_LIMIT_MB} MB after {_SEQ} inputs")


def test_one_input(data: bytes) -> None:
    global _SEQ
    _SEQ += 1
    proto = indi_target.protocol_device(_TRANSPORT)
    loop = indi_target.make_loop(_TRANSPORT, proto, _CCD)
    if data:
        step = data[0] * 8 + 1
        body = data[1:]
        for i in range(0, len(body), step):
            loop.feed(body[i:i + step])
    if _SEQ % 100 == 0:
        _check_memory()
    uid = f"fuzz-{_SEQ}"
    loop.feed(indi_target.RESYNC + f"<pingRequest uid='{uid}'/>".encode())
    _check(uid)
    if not _CCD.connected:
        # An input may disconnect the camera: reconnect, so the next one finds its properties.
        _CCD.handle_new("Switch", "CONNECTION", [("CONNECT", "On")])
        _TRANSPORT.take()
    for p in _UPLOADS.iterdir():
        # Saved images only: a temporary ".name.tmp-..." may be in use by the exposure worker,
        # and a file may vanish between listing and unlinking (found by a 600 s run).
        if not p.name.startswith("."):
            p.unlink(missing_ok=True)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
