"""The event loop front end (azfiles/evloop.py): pipelined requests are
answered in order, one after another, and a connection whose request the
loop does not take (chunked body) is handed to the thread path mid-stream
with the bytes already read, answering the same."""
import socket
import time

from conftest import ACCOUNT, VERSION, http_date, sign, string_to_sign


def raw_request(method, path, query="", headers=None, body=b""):
    h = {"x-ms-version": VERSION, "x-ms-date": http_date(), "Host": "127.0.0.1"}
    h.update(headers or {})
    if body and "Transfer-Encoding" not in h:
        h["Content-Length"] = str(len(body))
    upath = "/%s/%s" % (ACCOUNT, path)
    h["Authorization"] = "SharedKey %s:%s" % (ACCOUNT, sign(string_to_sign(method, upath,
                                                                           query, h)))
    target = upath + ("?" + query if query else "")
    head = "%s %s HTTP/1.1\r\n" % (method, target)
    head += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    return head.encode("latin-1") + body


def read_replies(sock, n, timeout=20):
    """-> [(status, headers dict lower-cased, body)] of n replies (Content-Length framed)."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while len(out) < n:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            lines = buf[:end].decode("latin-1").split("\r\n")
            hdrs = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
            size = int(hdrs.get("content-length", "0"))
            if len(buf) >= end + 4 + size:
                out.append((int(lines[0].split()[1]), hdrs, buf[end + 4:end + 4 + size]))
                buf = buf[end + 4 + size:]
                continue
        data = sock.recv(65536)
        assert data, "connection closed after %d replies" % len(out)
        buf += data
    return out


def test_pipelined_requests_answered_in_order(make_emu):
    emu = make_emu(["--latency-ms", "100"])
    emu.client().create_share("pipe")
    reqs = [raw_request("PUT", "pipe/f%d" % i, "", {"x-ms-type": "file",
                                                    "x-ms-content-length": "3"}, b"ab%d" % i)
            for i in range(3)]
    reqs.append(raw_request("GET", "pipe/f1"))
    with socket.create_connection(("127.0.0.1", emu.port), timeout=20) as s:
        t0 = time.monotonic()
        s.sendall(b"".join(reqs))
        replies = read_replies(s, 4)
        # one at a time, each held for its latency, as http.server did
        assert time.monotonic() - t0 >= 0.38
    assert [r[0] for r in replies] == [201, 201, 201, 200]
    assert replies[3][2] == b"ab1"
    assert len({r[1]["x-ms-request-id"] for r in replies}) == 4


def test_handoff_mid_connection_keeps_order_and_bytes(make_emu):
    emu = make_emu()
    c = emu.client()
    c.create_share("hand")
    assert c.create_file("hand/c", 6).status == 201
    chunked = raw_request("PUT", "hand/c", "comp=range",
                          {"x-ms-write": "update", "x-ms-range": "bytes=0-5",
                           "Transfer-Encoding": "chunked"}, b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n")
    before = emu.stats()["ops"].get("PutRange", 0)
    with socket.create_connection(("127.0.0.1", emu.port), timeout=20) as s:
        s.sendall(raw_request("GET", "hand", "restype=share") + chunked +
                  raw_request("GET", "hand/c"))
        replies = read_replies(s, 3)
    assert [r[0] for r in replies] == [200, 201, 200]
    assert replies[2][2] == b"abcdef"
    assert emu.stats()["ops"]["PutRange"] == before + 1
    assert c.get("hand/c").body == b"abcdef"


def test_sigterm_keeps_acknowledged_state(make_emu, tmp_path):
    emu = make_emu(data_dir=str(tmp_path / "d"))
    c = emu.client()
    c.create_share("term")
    for i in range(20):
        assert c.create_file("term/f%d" % i, 1, body=b"x").status == 201
    emu.stop()
    emu.start()
    c = emu.client()
    for i in range(20):
        assert c.get("term/f%d" % i).body == b"x"


def test_slow_fault_delays_only_replies_that_did_not_fail(make_emu):
    """As the thread-per-connection server did: a slow fault's delay is added
    when the operation answers, not when it raises (here: 404)."""
    emu = make_emu(["--faults", "slow:1.0:800@GetFile"])
    c = emu.client()
    c.create_share("slow")
    assert c.create_file("slow/f", 1, body=b"x").status == 201
    t0 = time.monotonic()
    assert c.get("slow/missing").status == 404
    assert time.monotonic() - t0 < 0.6
    t0 = time.monotonic()
    assert c.get("slow/f").body == b"x"
    assert time.monotonic() - t0 >= 0.79
