"""Process-level behaviour: restart persistence, faults, stats, latency,
TLS, host-style addressing, the command line."""
import os
import subprocess
import sys
import time

import pytest

from conftest import EMULATOR


def test_first_line_and_restart_persistence(make_emu, tmp_path):
    data = str(tmp_path / "data")
    e1 = make_emu(data_dir=data)
    assert e1.first_line == "listening on http://127.0.0.1:%d/devstoreaccount1" % e1.port
    c = e1.client()
    c.create_share("keep", headers={"x-ms-meta-m": "v"})
    c.mkdir("keep/d")
    payload = os.urandom(300000)
    c.upload("keep/d/f.bin", payload)
    c.request("PUT", "keep/d/f.bin", "comp=metadata", {"x-ms-meta-x": "y"})
    lid = c.request("PUT", "keep/d/f.bin", "comp=lease",
                    {"x-ms-lease-action": "acquire", "x-ms-lease-duration": "-1"}).h("x-ms-lease-id")
    before = c.request("HEAD", "keep/d/f.bin")
    e1.stop()
    e2 = make_emu(data_dir=data)
    c2 = e2.client()
    after = c2.request("HEAD", "keep/d/f.bin")
    for h in ("ETag", "Last-Modified", "x-ms-file-id", "x-ms-file-creation-time",
              "x-ms-file-last-write-time", "x-ms-file-change-time", "x-ms-file-permission-key",
              "x-ms-meta-x", "Content-Length", "x-ms-lease-state"):
        assert after.h(h) == before.h(h), h
    assert c2.get("keep/d/f.bin").body == payload
    assert c2.request("GET", "keep", "restype=share").h("x-ms-meta-m") == "v"
    assert c2.put_range("keep/d/f.bin", 0, b"z").code == "LeaseIdMissing"
    assert c2.put_range("keep/d/f.bin", 0, b"z", {"x-ms-lease-id": lid}).status == 201
    # new entries after restart get fresh ids
    r = c2.create_file("keep/d/g", 1)
    assert r.h("x-ms-file-id") != after.h("x-ms-file-id")


def test_stats_reset_and_connections(emu):
    c = emu.client()
    c.create_share("stats")
    c.create_file("stats/a", 1)
    c.create_file("stats/b", 1)
    c.get("stats/a")
    s = emu.stats()
    assert s["ops"]["CreateFile"] == 2 and s["ops"]["GetFile"] == 1
    assert s["ops"]["CreateShare"] == 1 and s["total"] == 4 and s["connections"] >= 1
    conns = s["connections"]
    assert emu.control("POST", "/_emulator/reset", b"")[0] == 200
    s = emu.stats()
    # each control call is itself one new TCP connection
    assert s["total"] == 0 and s["ops"] == {} and s["connections"] == 1
    c.get("stats/a")       # the client's keep-alive connection: no new connection
    assert emu.stats()["connections"] == 2 and conns >= 1
    emu.client().get("stats/a")
    assert emu.stats()["connections"] == 4


def test_fault_rates_scoped_and_counted(make_emu):
    emu = make_emu(["--seed", "7", "--faults", "503:1.0@PutRange"])
    c = emu.client()
    c.create_share("faults")
    c.create_file("faults/f", 4)
    r = c.put_range("faults/f", 0, b"abcd")
    assert r.status == 503 and r.code == "ServerBusy"
    assert r.body.decode("utf-8-sig").startswith('<?xml version="1.0" encoding="utf-8"?><Error>'
                                                  '<Code>ServerBusy</Code><Message>')
    assert c.request("GET", "faults/f", "comp=rangelist").body.endswith(b"<Ranges />")
    assert c.get("faults/f").body == b"\0" * 4           # nothing was applied
    st, shown = emu.control("POST", "/_emulator/faults", b"500:1.0@PutRange:count=2")
    assert st == 200 and shown["rules"][0]["count"] == 2
    assert c.put_range("faults/f", 0, b"abcd").code == "OperationTimedOut"
    assert c.put_range("faults/f", 0, b"abcd").status == 500
    assert c.put_range("faults/f", 0, b"abcd").status == 201
    assert emu.control("GET", "/_emulator/faults")[1]["rules"][0]["count"] == 0
    emu.control("POST", "/_emulator/faults", b"503:0.3")
    codes = [c.request("GET", "faults", "restype=share").status for _ in range(200)]
    n503 = codes.count(503)
    assert 30 <= n503 <= 95 and codes.count(200) == 200 - n503
    st, shown = emu.control("POST", "/_emulator/faults", b"bogus:1")
    assert st == 400 and "unknown fault kind" in shown["error"]
    emu.control("POST", "/_emulator/faults", b"")
    assert c.request("GET", "faults", "restype=share").status == 200


def test_drop_and_slow(make_emu):
    emu = make_emu(["--faults", "drop:1.0@CreateFile:count=1,slow:1.0:600@GetFile"])
    c = emu.client()
    c.create_share("drops")
    import http.client
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        c.request("PUT", "drops/f", "", {"x-ms-type": "file", "x-ms-content-length": "1"},
                  retry=False)
    c.close()
    assert c.request("HEAD", "drops/f").status == 404        # the dropped create did nothing
    assert c.create_file("drops/f", 1).status == 201         # count=1 is spent
    t0 = time.monotonic()
    assert c.get("drops/f").status == 200
    assert time.monotonic() - t0 >= 0.55
    t0 = time.monotonic()
    c.request("HEAD", "drops/f")
    assert time.monotonic() - t0 < 0.5


def test_latency(make_emu):
    emu = make_emu(["--latency-ms", "300"])
    c = emu.client()
    t0 = time.monotonic()
    c.create_share("lat")
    c.request("GET", "lat", "restype=share")
    assert time.monotonic() - t0 >= 0.58
    t0 = time.monotonic()
    emu.stats()                                   # control endpoints are not delayed
    assert time.monotonic() - t0 < 0.25


def test_latency_does_not_serialize_requests(make_emu):
    import threading
    emu = make_emu(["--latency-ms", "500"])
    emu.client().create_share("par")
    results = []

    def one():
        results.append(emu.client().request("GET", "par", "restype=share").status)
    threads = [threading.Thread(target=one) for _ in range(6)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == [200] * 6 and time.monotonic() - t0 < 2.0


def test_tls(make_emu, tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    emu = make_emu(tls=(cert, key))
    assert emu.first_line.startswith("listening on https://127.0.0.1:")
    c = emu.client()
    assert c.create_share("tlsshare").status == 201
    assert c.upload("tlsshare/f", b"secret").status == 201
    assert c.get("tlsshare/f").body == b"secret"
    assert emu.stats()["ops"]["CreateShare"] == 1


def test_bad_command_lines(tmp_path):
    r = subprocess.run([sys.executable, EMULATOR, "--port", "0", "--data", str(tmp_path),
                        "--faults", "nope:1"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "bad --faults" in r.stderr
    r = subprocess.run([sys.executable, EMULATOR, "--data", str(tmp_path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2


def test_version_header_checked(cli):
    r = cli.request("GET", "share1", "restype=share", version="2099-01-01")
    assert r.status == 400 and r.code == "InvalidHeaderValue"
    assert b"<HeaderName>x-ms-version</HeaderName>" in r.body


def test_unknown_comp(cli):
    cli.create_file("share1/f", 1)
    r = cli.request("PUT", "share1/f", "comp=lease1")
    assert r.status == 400 and r.code == "InvalidQueryParameterValue"
    assert r.reason == "Value for one of the query parameters specified in the request URI " \
                       "is invalid."


def test_concurrent_clients_and_chunked_upload(emu):
    import threading
    c0 = emu.client()
    c0.create_share("conc")
    errors = []

    def worker(i):
        c = emu.client()
        try:
            for j in range(20):
                path = "conc/f%d_%d" % (i, j)
                data = bytes([i]) * (1000 + j)
                assert c.upload(path, data).status == 201
                assert c.get(path).body == data
                assert c.request("GET", "conc", "restype=directory&comp=list").status == 200
        except Exception as e:     # noqa: BLE001 - reported below
            errors.append(repr(e))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(50)
    assert not errors
    body = c0.request("GET", "conc", "restype=directory&comp=list").body
    assert body.count(b"<File>") == 160
    # a chunked (no Content-Length) Put Range body is accepted
    c0.create_file("conc/chunked", 6)
    import http.client
    from conftest import ACCOUNT, http_date, sign, string_to_sign
    h = {"x-ms-date": http_date(), "x-ms-version": "2026-02-06", "x-ms-write": "update",
         "x-ms-range": "bytes=0-5", "Transfer-Encoding": "chunked"}
    path = "/%s/conc/chunked" % ACCOUNT
    h["Authorization"] = "SharedKey %s:%s" % (ACCOUNT, sign(string_to_sign("PUT", path,
                                                                         "comp=range", h)))
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    conn.request("PUT", path + "?comp=range", body=iter([b"abc", b"def"]), headers=h,
                 encode_chunked=True)
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 201
    assert c0.get("conc/chunked").body == b"abcdef"
