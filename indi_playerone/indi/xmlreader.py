"""Streaming reader: an INDI byte stream in, parsed top-level elements out.

INDI has no envelope: the stream is a sequence of top-level elements. A small
scanner (``bytes.find`` and compiled regexes only, never a per-byte Python loop)
cuts the stream into top-level elements by tracking tag depth; each complete
element is then parsed on its own with expat. That design gives:

* bounded memory: an element is buffered only while it is within
  ``max_element_bytes``/``max_tag_bytes``/``max_depth``; beyond a limit the reader
  reports one :class:`ReaderError` and discards the rest of the element *as it
  arrives* (a skip mode that only tracks depth), so a 1 GB text costs nothing;
* clean resynchronisation: a malformed element costs that element only;
* no entity expansion: DTDs (``<!DOCTYPE``/any ``<!`` declaration) are refused by
  the scanner, so expat never sees one and every entity other than XML's five is
  an "undefined entity" error. "Billion laughs" and external entities cannot expand.

Resynchronisation after truncated input (a client that died mid-message, then
reconnected through indiserver) uses two facts of XML: a raw ``<`` can never
appear inside a tag, so a ``<`` while scanning a tag means the tag was cut; and
INDI's top-level element names never nest, so a start tag with one of
``resync_names`` at depth >= 1 means the enclosing element was cut. Inside a cut
comment or CDATA section there is nothing to resynchronise on: the element limit
bounds the damage.

The scan position is kept between ``feed`` calls, so feeding N bytes costs O(N)
regardless of how the stream is chunked (apart from buffer compaction, which
CPython's bytearray does in O(1) for deletions at the front).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

__all__ = ["XmlStreamReader", "ParsedElement", "ReaderError", "ReaderEvent", "INDI_TOP_LEVEL_NAMES"]

INDI_TOP_LEVEL_NAMES = frozenset(
    f"{p}{k}Vector".encode()
    for p in ("def", "set", "new")
    for k in ("Number", "Switch", "Text", "Light", "BLOB")
) | frozenset({
    b"getProperties", b"delProperty", b"message", b"enableBLOB", b"pingRequest", b"pingReply",
})


@dataclass
class ParsedElement:
    element: ET.Element


@dataclass
class ReaderError:
    message: str


ReaderEvent = ParsedElement | ReaderError

_NAME_END_RE = re.compile(rb"[\s/>'\"<=]")
_TAG_SPECIAL_RE = re.compile(rb"[<>'\"]")
_NAME_START_RE = re.compile(rb"[A-Za-z_:\x80-\xff]")
_SQ_RE = re.compile(rb"[<']")
_DQ_RE = re.compile(rb'[<"]')

_COMMENT, _CDATA, _PI = b"-->", b"]]>", b"?>"
_TOP_PI = b"?> (top level)"   # a distinct object: compared with 'is'
_TOP_PI_END_RE = re.compile(rb"\?>|<")


def _show(name: bytes) -> str:
    """A tag name for an error message: decoded leniently and length-limited."""
    return name[:64].decode("utf-8", "replace")


class XmlStreamReader:
    """Incremental splitter/parser of a stream of top-level XML elements.

    Not thread-safe: one reader thread owns it.
    """

    def __init__(self, max_element_bytes: int = 64 * 1024 * 1024, max_tag_bytes: int = 64 * 1024,
                 max_depth: int = 8, resync_names: frozenset[bytes] | None = INDI_TOP_LEVEL_NAMES) -> None:
        self.max_element_bytes = max_element_bytes
        self.max_tag_bytes = max_tag_bytes
        self.max_depth = max_depth
        self.resync_names = resync_names or frozenset()
        self._reset()
        self._events: list[ReaderEvent] = []

    def _reset(self) -> None:
        self._buf = bytearray()
        self._pos = 0              # next unscanned index in _buf
        self._depth = 0
        self._elem_start = -1      # start of the buffered element, -1 if none
        self._elem_name = b""
        self._skipping = False     # discarding the current element (limit exceeded)
        self._dtd = False          # skipping a declaration until the next start tag
        self._pending = b""        # terminator of a comment/CDATA/PI being skipped
        self._in_tag = False       # scanning a tag for its closing '>'
        self._tag_start = -1       # its '<' (-1 once dropped in skip mode)
        self._tag_end_tag = False  # it is an end tag
        self._tag_quote = 0        # quote byte while inside an attribute value

    # ------------------------------------------------------------------ API
    def feed(self, data: bytes) -> list[ReaderEvent]:
        """Add bytes; returns the elements (and errors) completed by them, in order."""
        if data:
            self._buf += data
            self._scan()
            self._compact()
        events, self._events = self._events, []
        return events

    def close(self) -> list[ReaderEvent]:
        """End of stream: reports an element left incomplete, then resets."""
        if self._depth > 0 or self._in_tag:
            if not self._skipping and not self._dtd:
                what = _show(self._elem_name) if self._elem_name else "tag"
                self._error(f"stream ended inside <{what}>")
        events, self._events = self._events, []
        self._reset()
        return events

    # ------------------------------------------------------------ internals
    def _error(self, text: str) -> None:
        self._events.append(ReaderError(text))

    def _abandon(self) -> None:
        """Forget the current element and tag; back to top level."""
        self._depth = 0
        self._elem_start = -1
        self._elem_name = b""
        self._skipping = False
        self._in_tag = False
        self._tag_start = -1
        self._tag_quote = 0

    def _start_skipping(self, reason: str) -> None:
        """Report once, then discard the rest of the current element as it arrives."""
        if not self._skipping:
            self._error(f"<{_show(self._elem_name)}> discarded: {reason}")
        self._skipping = True
        self._elem_start = -1
        if self._in_tag:
            self._tag_start = -1

    def _compact(self) -> None:
        """Drop bytes nobody needs any more and check the buffering limits."""
        buf = self._buf
        if self._elem_start >= 0 and len(buf) - self._elem_start > self.max_element_bytes:
            self._start_skipping(f"element longer than {self.max_element_bytes} bytes")
        if self._in_tag and self._tag_start >= 0 and len(buf) - self._tag_start > self.max_tag_bytes:
            self._start_skipping(f"tag longer than {self.max_tag_bytes} bytes")
            # In skip mode only the quote state and the byte before '>' matter.
        if self._elem_start >= 0:
            keep = self._elem_start
        elif self._in_tag and self._tag_start >= 0:
            keep = self._tag_start
        elif self._in_tag:
            keep = max(self._pos - 1, 0)
        else:
            keep = self._pos
        if keep > 0:
            del buf[:keep]
            self._pos -= keep
            if self._elem_start >= 0:
                self._elem_start -= keep
            if self._tag_start >= 0:
                self._tag_start -= keep

    def _scan(self) -> None:
        buf = self._buf
        while True:
            if self._pending is _TOP_PI:
                m = _TOP_PI_END_RE.search(buf, self._pos)
                if m is None:
                    self._pos = max(self._pos, len(buf) - 1)
                    return
                self._pos = m.end() if m.group() == b"?>" else m.start()
                self._pending = b""
                continue
            if self._pending:
                term = self._pending
                j = buf.find(term, self._pos)
                if j < 0:
                    self._pos = max(self._pos, len(buf) - len(term) + 1)
                    return
                self._pos = j + len(term)
                self._pending = b""
                continue
            if self._in_tag:
                if not self._scan_tag():
                    return
                continue
            j = buf.find(b"<", self._pos)
            if j < 0:
                self._pos = len(buf)
                return
            if not self._at_lt(j):
                self._pos = j     # need more bytes to classify this '<'
                return

    def _at_lt(self, j: int) -> bool:
        """Classify the markup at ``buf[j] == '<'``; False if more bytes are needed."""
        buf = self._buf
        n = len(buf)
        if j + 1 >= n:
            return False
        c = buf[j + 1]
        if c == 0x2F:                                          # '</'
            if self._dtd or self._depth == 0:
                self._pos = j + 2                              # stray end tag: ignore
                return True
            self._begin_tag(j, end_tag=True, scan_from=j + 2)
            return True
        if c == 0x3F:                                          # '<?'
            if self._depth == 0:
                # A top-level PI (an XML declaration, at most) never holds '<':
                # look for either, so a cut-off "<?" cannot swallow what follows.
                self._pending, self._pos = _TOP_PI, j + 2
            else:
                self._pending, self._pos = _PI, j + 2
            return True
        if c == 0x21:                                          # '<!'
            head = bytes(buf[j:j + 9])
            if head.startswith(b"<!--"):
                self._pending, self._pos = _COMMENT, j + 4
                return True
            if head == b"<![CDATA[":
                if self._depth == 0 and not self._dtd:
                    self._error("CDATA outside an element ignored")
                self._pending, self._pos = _CDATA, j + 9
                return True
            if len(head) < 9 and (b"<!--".startswith(head) or b"<![CDATA[".startswith(head)):
                return False
            self._pos = j + 2
            if self._depth > 0:
                # Inside an element: drop that element, keep tracking its depth.
                self._start_skipping("DTDs are not accepted")
                return True
            if not self._dtd:
                self._error("DTDs are not accepted (a <! declaration at top level)")
            self._dtd = True
            return True
        if not _NAME_START_RE.match(buf, j + 1):
            # '< ', '<1', ...: not markup. Inside an element expat will report it.
            self._pos = j + 1
            return True
        m = _NAME_END_RE.search(buf, j + 1)
        if m is None:
            if n - j > self.max_tag_bytes:
                name_end = n
            else:
                return False
        else:
            name_end = m.start()
        name = bytes(buf[j + 1:min(name_end, j + 1 + 256)])
        if self._dtd:
            self._dtd = False
        elif self._depth > 0 and name in self.resync_names:
            if not self._skipping:
                self._error(f"<{_show(self._elem_name)}> was cut off by <{_show(name)}>; dropped")
            self._abandon()
        if self._depth == 0:
            self._elem_start = j
            self._elem_name = name
        self._begin_tag(j, end_tag=False, scan_from=name_end)
        return True

    def _begin_tag(self, j: int, end_tag: bool, scan_from: int) -> None:
        self._in_tag = True
        self._tag_start = -1 if self._skipping else j
        self._tag_end_tag = end_tag
        self._tag_quote = 0
        self._pos = scan_from

    def _scan_tag(self) -> bool:
        """Find the tag's closing '>' (outside quotes); False if more bytes are needed."""
        buf = self._buf
        while True:
            if self._tag_quote == 0x27:
                m = _SQ_RE.search(buf, self._pos)
            elif self._tag_quote == 0x22:
                m = _DQ_RE.search(buf, self._pos)
            else:
                m = _TAG_SPECIAL_RE.search(buf, self._pos)
            if m is None:
                self._pos = len(buf)
                return False
            k = m.start()
            ch = buf[k]
            if ch == 0x3C:                                     # '<': the tag was cut off
                if self._skipping:
                    self._in_tag = False       # keep skipping; rescan this '<'
                else:
                    self._error(f"<{_show(self._elem_name)}> was cut off inside a tag; dropped")
                    self._abandon()
                self._pos = k
                return True
            if ch != 0x3E:                                     # a quote
                self._tag_quote = 0 if self._tag_quote else ch
                self._pos = k + 1
                continue
            # '>' outside quotes: the tag is complete.
            self._pos = k + 1
            self._in_tag = False
            empty = not self._tag_end_tag and buf[k - 1] == 0x2F
            if self._tag_start >= 0 and k + 1 - self._tag_start > self.max_tag_bytes:
                self._start_skipping(f"tag longer than {self.max_tag_bytes} bytes")
            if self._tag_end_tag:
                self._depth -= 1
            elif not empty:
                self._depth += 1
                if self._depth > self.max_depth:
                    self._start_skipping(f"nested deeper than {self.max_depth} levels")
            if self._depth == 0:
                self._element_done(k + 1)
            return True

    def _element_done(self, end: int) -> None:
        if self._skipping or self._elem_start < 0:
            self._abandon()
            return
        start, name = self._elem_start, self._elem_name
        self._abandon()
        if end - start > self.max_element_bytes:
            self._error(f"<{_show(name)}> discarded: element longer than {self.max_element_bytes} bytes")
            return
        data = bytes(self._buf[start:end])
        try:
            # A fresh expat parser per element: no DTD ever reaches it, so only the
            # five predefined entities and character references are expanded.
            element = ET.fromstring(data)
        except ET.ParseError as exc:
            self._error(f"malformed <{_show(name)}>: {exc}")
            return
        self._events.append(ParsedElement(element))
