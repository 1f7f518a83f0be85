"""Fixtures for the emulator's own tests: start azfiles-emulator on a free
port in a temp --data directory, stop it by PID (process group) in teardown,
and a small Shared Key signing client over http.client (keep-alive).

Run: /usr/bin/python3 -m pytest tests/emulator -q
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote, unquote

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "azfiles-emulator")
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
ACCOUNT = "devstoreaccount1"
KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
       "K1SZFPTOtr/KBHBeksoGMGw==")
VERSION = "2026-02-06"
STD = ["content-encoding", "content-language", "content-length", "content-md5",
       "content-type", "date", "if-modified-since", "if-match", "if-none-match",
       "if-unmodified-since", "range"]


def http_date(delta_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%a, %d %b %Y %H:%M:%S GMT")


def string_to_sign(method, path, query, headers, account=ACCOUNT):
    """Shared Key string-to-sign, written from "Authorize with Shared Key"."""
    low = {k.lower(): v for k, v in headers.items()}
    lines = [method]
    for h in STD:
        v = low.get(h, "")
        if h == "content-length" and v == "0":
            v = ""
        if h == "date" and "x-ms-date" in low:
            v = ""
        lines.append(v)
    xms = sorted((k, v.strip()) for k, v in low.items() if k.startswith("x-ms-"))
    res = "/%s%s" % (account, path)
    params = {}
    for part in filter(None, query.split("&")):
        k, _, v = part.partition("=")
        params.setdefault(unquote(k).lower(), []).append(unquote(v))
    for k in sorted(params):
        res += "\n%s:%s" % (k, ",".join(sorted(params[k])))
    return "\n".join(lines) + "\n" + "".join("%s:%s\n" % kv for kv in xms) + res


def sign(sts, key=KEY):
    mac = hmac.new(base64.b64decode(key), sts.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class Result:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def h(self, name):
        return self.headers.get(name)

    @property
    def code(self):
        return self.headers.get("x-ms-error-code")

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.code, self.body[:300])


class Client:
    """Signs with Shared Key unless sign=False; path is "share/dir/file"."""

    def __init__(self, emu, host_style=False, key=KEY):
        self.emu, self.host_style, self.key = emu, host_style, key
        self.conn = None

    def _connect(self):
        if self.conn is None:
            if self.emu.tls:
                ctx = ssl.create_default_context(cafile=self.emu.tls[0])
                ctx.check_hostname = False
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.emu.port,
                                                        timeout=30, context=ctx)
            else:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=30)
        return self.conn

    def url_path(self, path):
        p = quote(path.lstrip("/"), safe="/!*'()~")
        return "/" + p if self.host_style else "/%s/%s" % (ACCOUNT, p)

    def request(self, method, path="", query="", headers=None, body=b"", sign_it=True,
                version=VERSION, raw_path=None, retry=True):
        headers = dict(headers or {})
        if version is not None:
            headers.setdefault("x-ms-version", version)
        headers.setdefault("x-ms-date", http_date())
        if body or method in ("PUT", "POST"):
            headers.setdefault("Content-Length", str(len(body)))
        if self.host_style:
            headers["Host"] = "%s.file.localhost:%d" % (ACCOUNT, self.emu.port)
        upath = raw_path or self.url_path(path)
        if sign_it:
            sts = string_to_sign(method, upath, query, headers)
            headers["Authorization"] = "SharedKey %s:%s" % (ACCOUNT, sign(sts, self.key))
        target = upath + ("?" + query if query else "")
        for attempt in (0, 1):
            conn = self._connect()
            try:
                conn.putrequest(method, target, skip_host="Host" in headers,
                                skip_accept_encoding=True)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders(body or None)
                r = conn.getresponse()
                data = r.read()
                return Result(r.status, r.reason, r.headers, data)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt or not retry:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # convenience wrappers
    def create_share(self, name, **kw):
        return self.request("PUT", name, "restype=share", **kw)

    def mkdir(self, path, headers=None):
        return self.request("PUT", path, "restype=directory", headers)

    def create_file(self, path, size=0, headers=None, body=b""):
        h = {"x-ms-type": "file", "x-ms-content-length": str(size)}
        h.update(headers or {})
        return self.request("PUT", path, "", h, body)

    def put_range(self, path, offset, data, headers=None):
        h = {"x-ms-write": "update", "x-ms-range": "bytes=%d-%d" % (offset, offset + len(data) - 1),
             "Content-Type": "application/octet-stream"}
        h.update(headers or {})
        return self.request("PUT", path, "comp=range", h, data)

    def upload(self, path, data):
        r = self.create_file(path, len(data))
        assert r.status == 201, r
        if data:
            r = self.put_range(path, 0, data)
            assert r.status == 201, r
        return r

    def get(self, path, headers=None):
        return self.request("GET", path, "", headers)


class Emu:
    def __init__(self, data_dir, extra=(), tls=None):
        self.data_dir, self.extra, self.tls = data_dir, list(extra), tls
        self.proc = None
        self.port = None
        self.clients = []

    def start(self, timeout=20):
        cmd = [sys.executable, EMULATOR, "--port", "0", "--data", self.data_dir] + self.extra
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline and not line:
            line = self.proc.stdout.readline()
            if self.proc.poll() is not None:
                break
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError("emulator did not start: %r" % line)
        self.first_line = line.rstrip("\n")
        self.port = int(line.split(":")[2].split("/")[0])
        return self

    def stop(self):
        for c in self.clients:
            c.close()
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            for f in (self.proc.stdout, self.proc.stderr):
                if f:
                    f.close()
        self.proc = None

    def client(self, **kw):
        c = Client(self, **kw)
        self.clients.append(c)
        return c

    def control(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10) if not self.tls \
            else http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                             context=ssl._create_unverified_context())
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def stats(self):
        return self.control("GET", "/_emulator/stats")[1]


@pytest.fixture
def make_emu():
    started = []
    dirs = []

    def make(extra=(), tls=None, data_dir=None):
        if data_dir is None:
            data_dir = tempfile.mkdtemp(prefix="azfiles-test-")
            dirs.append(data_dir)
        e = Emu(data_dir, extra, tls).start()
        started.append(e)
        return e

    yield make
    for e in started:
        e.stop()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def emu(make_emu):
    return make_emu()


@pytest.fixture
def cli(emu):
    c = emu.client()
    assert c.create_share("share1").status == 201
    return c


def load_fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


def pytest_collection_modifyitems(config, items):
    """Every emulator test has a timeout (pytest-timeout), 60 s unless marked."""
    for item in items:
        if str(item.fspath).startswith(HERE) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(60))
