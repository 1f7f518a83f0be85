"""azfiles/fasthttp.py builds exactly the message the stdlib parser builds."""
import email.parser
import http.client
import io
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from azfiles import fasthttp  # noqa: E402

CASES = [
    b"Host: x\r\nContent-Length: 5\r\n\r\n",
    b"Host: x\r\nx-ms-meta-A:  padded value  \r\nX-MS-META-a: second\r\n\r\n",
    b"Host:x\r\nEmpty:\r\nTabbed:\t\tv\r\n\r\n",
    b"Host: x\nLF-Only: yes\n\n",
    b"\r\n",
    b"Latin: caf\xe9\r\n\r\n",
    b"Colon: a:b:c\r\n\r\n",
    # these take the slow path; the result must still be the same
    b"Folded: a\r\n  continued\r\n\r\n",
    b"Bare: a\rb\r\n\r\n",
    b"Bad Name: v\r\nAfter: x\r\n\r\n",
    b": no name\r\nX: y\r\n\r\n",
    b"From someone\r\nX: y\r\n\r\n",
    b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Truncated: at eof",
]


def _std(data):
    lines = http.client._read_headers(io.BytesIO(data))
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(
        b"".join(lines).decode("iso-8859-1"))


def _state(msg):
    d = dict(vars(msg))
    d["defects"] = [type(x).__name__ for x in d.get("defects", [])]
    d.pop("policy", None)
    if isinstance(d.get("_payload"), list):
        d["_payload"] = [_state(m) for m in d["_payload"]]
    return d, msg.items(), msg.policy is _std(b"\r\n").policy


@pytest.mark.parametrize("data", CASES)
def test_same_message_as_stdlib(data):
    fast = fasthttp.parse_headers(io.BytesIO(data + b"BODY"))
    std = _std(data + b"BODY")
    assert type(fast) is type(std)
    assert _state(fast) == _state(std)


def test_fast_path_taken_for_plain_lines():
    lines = http.client._read_headers(io.BytesIO(CASES[1]))
    assert fasthttp._fast(lines, http.client.HTTPMessage) is not None
    for data in CASES[7:]:
        lines = http.client._read_headers(io.BytesIO(data))
        assert fasthttp._fast(lines, http.client.HTTPMessage) is None, data


def test_limits_kept():
    with pytest.raises(http.client.LineTooLong):
        fasthttp.parse_headers(io.BytesIO(b"X: " + b"a" * 70000 + b"\r\n\r\n"))
    many = b"".join(b"H%d: v\r\n" % i for i in range(150)) + b"\r\n"
    with pytest.raises(http.client.HTTPException):
        fasthttp.parse_headers(io.BytesIO(many))


@pytest.mark.parametrize("data", CASES)
def test_simple_headers_answer_as_the_message(data):
    """The event loop's Headers answer every lookup as the stdlib message;
    whatever the fast path refuses, simple_headers refuses too."""
    if not data.endswith(b"\r\n\r\n") and data != b"\r\n":
        return      # not a CRLF head: the loop hands it to http.server
    block = data[:-4] if data != b"\r\n" else b""
    got = fasthttp.simple_headers(block)
    lines = http.client._read_headers(io.BytesIO(data))
    if fasthttp._fast(lines, http.client.HTTPMessage) is None:
        assert got is None, data
        return
    std = _std(data)
    assert got is not None, data
    assert got.items() == std.items()
    assert got.keys() == std.keys() and got.values() == std.values()
    assert list(got) == list(std) and len(got) == len(std)
    for name in ["host", "X-MS-META-A", "x-ms-meta-a", "Empty", "missing", "Colon"]:
        assert got.get(name) == std.get(name)
        assert got.get(name, "dflt") == std.get(name, "dflt")
        assert got[name] == std[name]
        assert got.get_all(name) == std.get_all(name)
        assert (name in got) == (name in std)


def test_simple_headers_limits():
    assert fasthttp.simple_headers(b"".join(b"H%d: v\r\n" % i for i in range(98)) +
                                   b"H: v") is not None
    assert fasthttp.simple_headers(b"".join(b"H%d: v\r\n" % i for i in range(99)) +
                                   b"H: v") is None


def test_simple_headers_never_differs_from_the_fast_path():
    """Random blocks: whenever simple_headers() takes a block, http.client
    reads exactly those lines and _fast() builds the same headers."""
    import random
    rng = random.Random(1234)
    alphabet = [b"a", b"B", b"-", b":", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\xe9", b"\x7f",
                b"x-ms-meta-k", b"Content-Type", b"multipart/x", b"From "]
    taken = 0
    for _ in range(3000):
        lines = []
        for _ in range(rng.randint(0, 4)):
            lines.append(b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))))
        block = b"\r\n".join(lines)
        if b"\r\n\r\n" in block or block.endswith(b"\r\n"):
            continue
        got = fasthttp.simple_headers(block)
        if got is None:
            continue
        taken += 1
        read = http.client._read_headers(io.BytesIO(block + b"\r\n\r\nBODY"))
        assert b"".join(read) == block + b"\r\n\r\n" if block else read == [b"\r\n"], block
        msg = fasthttp._fast(read, http.client.HTTPMessage)
        assert msg is not None and msg.items() == got.items(), block
    assert taken > 100


def test_component_check_matches_bad_char():
    from azfiles import names
    for o in range(0x300):
        ch = chr(o)
        assert bool(names._BAD_RE.search("a%sb" % ch)) == names._bad_char(ch), hex(o)
