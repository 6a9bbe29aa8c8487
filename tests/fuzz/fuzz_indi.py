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
``-artifact_prefix``) and exits non-zero. Hangs are caught by ``-timeout`` and memory by
``-rss_limit_mb`` (libFuzzer's own flags).

Run (CI runs it for 20 s from ``tests/test_reliability_fuzz.py``; the long variant is
``INDI_PLAYERONE_FUZZ_SECONDS=3600``)::

    .venv/bin/python tests/fuzz/fuzz_indi.py -max_total_time=600 -dict=tests/fuzz/indi.dict \\
        -max_len=16384 -timeout=20 /tmp/fuzz-corpus tests/fuzz/corpus
"""
from __future__ import annotations

import os
import sys
import tempfile
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


def _check(uid: str) -> None:
    out = _TRANSPORT.take()
    if _TRANSPORT.bad:
        raise AssertionError(f"malformed output: {_TRANSPORT.bad}")
    if _LOG.failures:
        raise AssertionError(f"exception inside the driver: {_LOG.failures[-1]}")
    if not any(e.tag == "pingReply" and e.get("uid") == uid for e in out):
        raise AssertionError("the input stream did not resynchronise: pingRequest not answered")


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
    uid = f"fuzz-{_SEQ}"
    loop.feed(indi_target.RESYNC + f"<pingRequest uid='{uid}'/>".encode())
    _check(uid)
    if not _CCD._connected:
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
