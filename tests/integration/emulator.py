"""Start the bundled Azure Files emulator for a test and stop it by PID.

Used by every integration test (client, mount, provisioner, benchmarks):

    with Emulator(latency_ms=0, faults=None) as emu:
        emu.conn_string()      # connection string for the C client / the mount
        emu.create_share("s")  # via the REST API, signed with the dev key
        emu.stats(); emu.reset(); emu.set_faults("503:0.1")
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR = os.path.join(ROOT, "tests", "emulator", "azfiles-emulator")
ACCOUNT = "devstoreaccount1"
KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
       "K1SZFPTOtr/KBHBeksoGMGw==")
API_VERSION = "2026-02-06"


class Emulator:
    def __init__(self, latency_ms=0, faults=None, data_dir=None, tls=None,
                 start_timeout=20):
        self.latency_ms = latency_ms
        self.faults = faults
        self.tls = tls  # (cert_file, key_file) or None
        self.start_timeout = start_timeout
        self._own_data = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="azsf-emu-")
        self.proc = None
        self.url = None
        self.port = None

    def start(self):
        cmd = [EMULATOR, "--port", "0", "--data", self.data_dir]
        if self.latency_ms:
            cmd += ["--latency-ms", str(self.latency_ms)]
        if self.faults:
            cmd += ["--faults", self.faults]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line or self.proc.poll() is not None:
                break
        if not line.startswith("listening on "):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.stop()
            raise RuntimeError("emulator did not start: %r %s" % (line, err))
        self.url = line.split()[2].strip()          # .../devstoreaccount1
        self.base = self.url.rsplit("/", 1)[0]      # scheme://127.0.0.1:PORT
        self.port = int(self.base.rsplit(":", 1)[1])
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self):
        """Stop and start on a new port with the same data directory."""
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self._own_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- connection strings ----
    def conn_string(self, key=KEY, sas=None):
        proto = "https" if self.tls else "http"
        parts = ["DefaultEndpointsProtocol=%s" % proto, "AccountName=%s" % ACCOUNT]
        if sas:
            parts.append("SharedAccessSignature=%s" % sas)
        else:
            parts.append("AccountKey=%s" % key)
        parts.append("FileEndpoint=%s" % self.url)
        return ";".join(parts)

    def write_conn_file(self, path, **kw):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.conn_string(**kw) + "\n")
        return path

    # ---- control endpoints ----
    def _control(self, method, path, body=None):
        req = urllib.request.Request(self.base + path, method=method, data=body)
        with urllib.request.urlopen(req, timeout=10, context=self._ssl_ctx()) as r:
            data = r.read()
        return json.loads(data) if data else None

    def _ssl_ctx(self):
        if not self.tls:
            return None
        import ssl
        ctx = ssl.create_default_context(cafile=self.tls[0])
        ctx.check_hostname = False
        return ctx

    def stats(self):
        return self._control("GET", "/_emulator/stats")

    def reset(self):
        self._control("POST", "/_emulator/reset", b"")

    def set_faults(self, spec):
        self._control("POST", "/_emulator/faults", (spec or "").encode())

    def ops(self):
        """Request counts per operation since the last reset."""
        return dict(self.stats().get("ops", {}))

    # ---- a minimal signed REST call (tests' own, not the C client) ----
    def request(self, method, path, query="", headers=None, body=b""):
        headers = dict(headers or {})
        if body and not any(k.lower() == "content-type" for k in headers):
            # urllib would add a form Content-Type that the signature never saw
            headers["Content-Type"] = "application/octet-stream"
        headers["x-ms-date"] = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%a, %d %b %Y %H:%M:%S GMT")
        headers["x-ms-version"] = API_VERSION
        url_path = "/%s/%s" % (ACCOUNT, path.lstrip("/"))
        headers["Authorization"] = "SharedKey %s:%s" % (
            ACCOUNT, sign(method, url_path, query, headers, len(body)))
        url = self.base + urllib.parse.quote(url_path) + ("?" + query if query else "")
        req = urllib.request.Request(url, method=method, data=body or None,
                                     headers=headers)
        if body:
            req.add_header("Content-Length", str(len(body)))
        try:
            with urllib.request.urlopen(req, timeout=30, context=self._ssl_ctx()) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def create_share(self, name, quota_gib=100):
        st, _, body = self.request("PUT", name, "restype=share",
                                   {"x-ms-share-quota": str(quota_gib)})
        if st not in (201, 409):
            raise RuntimeError("create share %s: %s %r" % (name, st, body))


def account_sas(permissions="rwdlc", services="f", resource_types="sco",
                expiry_minutes=60, start_minutes=-5, protocol="https,http",
                version="2022-11-02", key=KEY, account=ACCOUNT):
    """An account SAS token (query string without '?'), per "Create an
    account SAS" (string-to-sign with the encryption-scope line from
    2020-12-06 on). Negative expiry_minutes gives an expired token."""
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    st = (now + datetime.timedelta(minutes=start_minutes)).strftime(fmt)
    se = (now + datetime.timedelta(minutes=expiry_minutes)).strftime(fmt)
    fields = [account, permissions, services, resource_types, st, se, "", protocol,
              version]
    if version >= "2020-12-06":
        fields.append("")
    sts = "\n".join(fields) + "\n"
    mac = hmac.new(base64.b64decode(key), sts.encode("utf-8"), hashlib.sha256)
    sig = base64.b64encode(mac.digest()).decode()
    q = [("sv", version), ("ss", services), ("srt", resource_types),
         ("sp", permissions), ("st", st), ("se", se), ("spr", protocol), ("sig", sig)]
    return "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="")) for k, v in q)


def make_tls_cert(directory, ip="127.0.0.1", days=2):
    """A self-signed certificate for ip (and localhost) made with the openssl
    CLI: returns (cert_file, key_file); the cert is its own CA file."""
    cert = os.path.join(directory, "emu-cert.pem")
    keyf = os.path.join(directory, "emu-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", keyf, "-out", cert, "-days", str(days),
                    "-subj", "/CN=azsf-test-emulator",
                    "-addext", "subjectAltName=IP:%s,DNS:localhost" % ip,
                    "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True, timeout=60)
    return cert, keyf


def sign(method, url_path, query, headers, content_length):
    """Shared Key signature, per "Authorize with Shared Key"."""
    low = {k.lower(): v for k, v in headers.items()}
    std = ["content-encoding", "content-language", "content-length", "content-md5",
           "content-type", "date", "if-modified-since", "if-match", "if-none-match",
           "if-unmodified-since", "range"]
    lines = [method]
    for h in std:
        if h == "content-length":
            lines.append(str(content_length) if content_length else "")
        else:
            lines.append(low.get(h, ""))
    xms = sorted((k, v.strip()) for k, v in low.items() if k.startswith("x-ms-"))
    canon_headers = "".join("%s:%s\n" % kv for kv in xms)
    resource = "/%s%s" % (ACCOUNT, url_path)
    params = {}
    for part in filter(None, query.split("&")):
        k, _, v = part.partition("=")
        params.setdefault(urllib.parse.unquote(k).lower(), []).append(
            urllib.parse.unquote(v))
    for k in sorted(params):
        resource += "\n%s:%s" % (k, ",".join(sorted(params[k])))
    sts = "\n".join(lines) + "\n" + canon_headers + resource
    mac = hmac.new(base64.b64decode(KEY), sts.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()

