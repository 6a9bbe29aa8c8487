"""Hostile input end to end: the real driver process (`indi_playerone_ccd`) on two pipes, as
indiserver runs it in builds without shared memory (issue 8, part 1).

Each test sends something no client should, then proves the driver is still alive and serving
(a ``pingRequest`` is answered and an exposure works where it matters), and that its memory stayed
bounded: ``VmHWM`` (peak resident set) from ``/proc/PID/status`` is compared with the value before.
What the driver wrote must stay a sequence of well-formed INDI elements throughout.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from helpers.pipe_driver import MiB, PipeDriver, connected_driver, expose

DEV = "PlayerOne CCD Apollo-M MAX PRO"  # connected_driver's default model


def status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    assert m, text
    return int(m.group(1))


def messages(driver: PipeDriver) -> str:
    return "\n".join(e.get("message", "") for e in driver.elements() if e.tag == "message")


def stream_element(driver: PipeDriver, head: bytes, filler: bytes, total: int, tail: bytes) -> None:
    driver.send(head)
    block = filler * (MiB // len(filler))
    for _ in range(total // len(block)):
        driver.send(block)
    driver.send(tail)


def test_a_1_gib_text_element_is_streamed_past_with_bounded_memory(tmp_path: Path) -> None:
    driver = connected_driver(tmp_path)
    try:
        pid = driver.proc.pid
        peak_before = status_kb(pid, "VmHWM")
        stream_element(driver, f"<newTextVector device='{DEV}' name='UPLOAD_SETTINGS'>"
                               "<oneText name='UPLOAD_PREFIX'>".encode(),
                       b"A", 1024 * MiB, b"</oneText></newTextVector>")
        driver.alive()
        peak_after = status_kb(pid, "VmHWM")
        growth_mb = (peak_after - peak_before) / 1024
        print(f"\n1 GiB text element: driver peak RSS {peak_before / 1024:.0f} -> {peak_after / 1024:.0f} MB "
              f"(+{growth_mb:.0f} MB)")
        # The reader buffers an element up to its 64 MiB limit, then discards the rest as it arrives.
        assert growth_mb < 200
        expose(driver, DEV)
        assert driver.close() == 0
    finally:
        driver.close()
    text = messages(driver)
    assert "discarded: element longer than" in text
    settings = [e for e in driver.elements() if e.get("name") == "UPLOAD_SETTINGS"]
    assert all(len(c.text or "") < 1000 for e in settings for c in e)   # nothing stored


def test_huge_attribute_deep_nesting_dtds_and_invalid_utf8_are_survived(tmp_path: Path) -> None:
    driver = connected_driver(tmp_path)
    try:
        pid = driver.proc.pid
        peak_before = status_kb(pid, "VmHWM")
        # A 256 MiB attribute: the tag limit (64 KiB) applies long before the element limit.
        stream_element(driver, f"<newTextVector device='{DEV}' name='".encode(), b"N", 256 * MiB,
                       b"'><oneText name='UPLOAD_PREFIX'>x</oneText></newTextVector>")
        driver.alive()
        # 4 million levels of nesting (16 MiB), then the closing tags.
        stream_element(driver, f"<newNumberVector device='{DEV}' name='CCD_EXPOSURE'>".encode(),
                       b"<a>", 12 * MiB, b"</a>" * 1000 + b"</newNumberVector>")
        driver.alive()
        # "Billion laughs": ten levels of tenfold entity expansion, and an external entity.
        laughs = "<!DOCTYPE lolz [<!ENTITY lol0 'lol'>" + "".join(
            f"<!ENTITY lol{i} '{('&lol' + str(i - 1) + ';') * 10}'>" for i in range(1, 10)) + "]>"
        driver.send(laughs + f"<newTextVector device='{DEV}' name='UPLOAD_SETTINGS'>"
                    "<oneText name='UPLOAD_PREFIX'>&lol9;</oneText></newTextVector>")
        driver.send("<!DOCTYPE x [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
                    f"<newTextVector device='{DEV}' name='UPLOAD_SETTINGS'>"
                    "<oneText name='UPLOAD_PREFIX'>&xxe;</oneText></newTextVector>")
        driver.alive()
        # Invalid UTF-8 (a lone continuation byte, an overlong NUL, a surrogate), and NUL itself.
        # Reader errors are reported at most once a second on the driver's clock: each bad input
        # goes a second after the previous report was *seen* (so at least a second after it was
        # made, however late the driver read the input), not a second after the previous send.
        invalid = b"not well-formed (invalid token)"
        seen = driver.out.count(invalid)
        time.sleep(1.05)  # the reports above came before the ping's reply
        for bad in (b"\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\x00", b"\xff\xfe"):
            driver.send(f"<newTextVector device='{DEV}' name='UPLOAD_SETTINGS'><oneText name='UPLOAD_PREFIX'>"
                        .encode() + b"IMG" + bad + b"</oneText></newTextVector>")
            seen += 1
            driver.wait_count(invalid, seen)
            time.sleep(1.05)
        driver.alive()
        peak_after = status_kb(pid, "VmHWM")
        print(f"\nattribute/nesting/DTD/UTF-8: driver peak RSS +{(peak_after - peak_before) / 1024:.0f} MB")
        assert (peak_after - peak_before) / 1024 < 200
        expose(driver, DEV)
    finally:
        assert driver.close() == 0
    text = messages(driver)
    assert "tag longer than" in text and "nested deeper than" in text
    assert "DTDs are not accepted" in text
    assert text.count("malformed <newTextVector>: not well-formed (invalid token)") == 5
    prefixes = [c.text for e in driver.elements() if e.get("name") == "UPLOAD_SETTINGS" for c in e
                if c.get("name") == "UPLOAD_PREFIX"]
    assert prefixes and set(prefixes) == {"IMAGE_XXX"}  # no entity expanded, no bad text stored
    assert b"root:" not in driver.out                   # /etc/passwd never read


def test_stdin_closed_mid_message_exits_cleanly(tmp_path: Path) -> None:
    driver = connected_driver(tmp_path)
    driver.send(f"<newNumberVector device='{DEV}' name='CCD_EXPOSURE'><oneNumber name='CCD_EXPOSURE_VALUE'>1")
    started = time.monotonic()
    code = driver.close(timeout=15)
    assert code == 0 and time.monotonic() - started < 10
    driver.elements()  # everything written is well-formed, the last element complete
    assert b"Traceback" not in driver.err, bytes(driver.err[-3000:])
    assert b"stream ended inside <newNumberVector>" in driver.err
