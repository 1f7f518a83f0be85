"""Cheaper request-header parsing for http.server (a pure speed-up).

http.server parses every request's headers with http.client.parse_headers,
which runs the general email FeedParser: about a fifth of the emulator's
CPU per request. parse_headers() here reads the lines exactly as the
stdlib does (same line and count limits, same exceptions) and, when every
line is a plain "Name: value" line, builds the very same message object
directly: same header list (name, value with leading blanks and the line
end stripped, in order), same empty payload, no defects. Any other input
(continuation lines, bare CRs, a line that is not a header, "From " lines,
multipart/message content types) goes to the stdlib parser unchanged, so
the result is identical either way (tests/emulator/test_fasthttp.py checks
both paths against the stdlib).

simple_headers() is the same check for the event loop (evloop.py), which
has the header lines in hand: it returns a small Headers object answering
every lookup the emulator makes as the stdlib message would, or None
(the loop then hands the connection to http.server).

install() points http.client.parse_headers, which http.server looks up on
every request, at this function; the emulator process uses http.client for
nothing else. No state, no locks.
"""
import email.parser
import http.client
import re

_STD_PARSE = http.client.parse_headers
_READ = getattr(http.client, "_read_headers", None)
# a header line FeedParser takes as-is: a non-empty name of printable
# characters other than ':' (headerRE without its "From " and continuation
# forms), then the value; no CR or LF inside (FeedParser splits lines on bare
# CRs as well), and ends with CRLF or LF
_SIMPLE = re.compile(r"([\041-\071\073-\176]+):[ \t]*([^\r\n]*)\r?\n\Z")


def _fast(lines, cls):
    """The message for `lines` (as bytes, ending with the blank line), or None."""
    if not lines or lines[-1] not in (b"\r\n", b"\n"):
        return None
    msg = cls()
    for raw in lines[:-1]:
        m = _SIMPLE.match(raw.decode("iso-8859-1"))
        if m is None:
            return None
        msg.set_raw(m.group(1), m.group(2))
    ctype = (msg.get("Content-Type") or "").strip().lower()
    if ctype.startswith("multipart/") or ctype.startswith("message/"):
        return None
    msg.set_payload("")
    return msg


class Headers:
    """The parts of email.message.Message (as http.server builds it) that the
    emulator's modules use, over a list of (name, value): get() and
    __getitem__ (first value of a case-insensitive name, or the default),
    get_all(), items(), keys(), values(), `in`, len() and iteration over the
    names. For values decoded from latin-1 (no surrogates) Message returns
    them unchanged, as here."""

    __slots__ = ("_items",)

    def __init__(self, items):
        self._items = items

    def get(self, name, failobj=None):
        name = name.lower()
        for k, v in self._items:
            if k.lower() == name:
                return v
        return failobj

    def __getitem__(self, name):
        return self.get(name)

    def get_all(self, name, failobj=None):
        name = name.lower()
        vals = [v for k, v in self._items if k.lower() == name]
        return vals or failobj

    def __contains__(self, name):
        return self.get(name) is not None

    def items(self):
        return list(self._items)

    def keys(self):
        return [k for k, _v in self._items]

    def values(self):
        return [v for _k, v in self._items]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._items)


# the same lines as _SIMPLE, for a whole CRLF-separated block at once (the
# value may not start with a blank, so a line splits one way only: no
# backtracking over blanks when a later line does not match)
_LINE = r"[\041-\071\073-\176]+:[ \t]*(?:[^ \t\r\n][^\r\n]*)?"
_BLOCK = re.compile(r"(?:%s\r\n)*%s\Z" % (_LINE, _LINE))
_PAIR = re.compile(r"([\041-\071\073-\176]+):[ \t]*([^\r\n]*)")


def simple_headers(block):
    """Headers for a request's header lines (bytes between the request line's
    CRLF and the blank line, CRLF-separated) when _fast() would build the
    stdlib's message for them; None otherwise."""
    text = block.decode("iso-8859-1")
    if text and _BLOCK.match(text) is None:
        return None
    items = _PAIR.findall(text)
    if len(items) > 99:    # with the blank line, more than http.client takes
        return None
    out = Headers(items)
    ctype = (out.get("Content-Type") or "").strip().lower()
    if ctype.startswith("multipart/") or ctype.startswith("message/"):
        return None
    return out


def parse_headers(fp, _class=http.client.HTTPMessage):
    """http.client.parse_headers, with a fast path for plain header lines."""
    lines = _READ(fp)
    msg = _fast(lines, _class)
    if msg is not None:
        return msg
    hstring = b"".join(lines).decode("iso-8859-1")
    return email.parser.Parser(_class=_class).parsestr(hstring)


def install():
    """Use parse_headers() for http.server's requests (no-op on an unknown
    stdlib without http.client._read_headers)."""
    if _READ is not None:
        http.client.parse_headers = parse_headers
