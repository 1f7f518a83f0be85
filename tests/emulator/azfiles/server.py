"""HTTP front end: HTTP/1.1 keep-alive (and TLS) over http.server, and the
request path both front ends share.

Per request: parse and route (operation name), count it, draw faults
(begin), read the body (Content-Length or chunked), check x-ms-version,
authenticate, then run the operation with the store lock held (execute).
Every reply is delayed by --latency-ms plus slow faults, outside the store
lock. Faulted requests (503/500/drop) never reach an operation, so they
change nothing. /_emulator/{stats,reset,faults} need no auth, are not
counted, not delayed.

Threads: plain HTTP is served by one event loop thread (evloop.py: the
delay is a timer counted from when the request was read); a connection it
does not take (TLS, chunked or large bodies, Expect, odd request lines,
control endpoints) runs Handler below in a thread of its own, which sleeps
the delay after the operation. Shared state: Context.stats (protected by
Context.stats_lock), the store (store.lock), faults (own lock). SIGTERM
ends the loop between operations (Server.stop).
Nothing is written to stdout after the "listening on" line and nothing to
stderr unless --verbose; unexpected errors go to DATA/emulator.log. Logged
request lines and paths never carry a SAS signature (redact()).
"""
import base64
import email.utils
import hashlib
import json
import os
import logging
import re
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import auth, common, fasthttp, names, router, util, xmlout
from . import ops_dir, ops_file, ops_move, ops_share
from .errors import StorageError, invalid_header
from .faults import FaultSpecError
from .store import read_exact

SERVER = "Windows-Azure-File/1.0 Microsoft-HTTPAPI/2.0"
FRONT_SERVER = "Microsoft-HTTPAPI/2.0"
MAX_VERSION = "2026-04-06"
MAX_BODY = util.MAX_RANGE
# replies whose body is at most this long go out in one send() with the
# status line and headers (Get File bodies included, read before sending)
ONE_SEND_MAX = 256 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024
OPS = {}
for _m in (ops_share, ops_dir, ops_file, ops_move):
    OPS.update(_m.OPS)

log = logging.getLogger("azfiles")
fasthttp.install()
_RESPONSES = BaseHTTPRequestHandler.responses
_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SIG_RE = re.compile(r"([?&]sig=)[^&\s\"]*", re.IGNORECASE)


def redact(text):
    """A request line or path with any SAS signature (sig=...) blanked."""
    return _SIG_RE.sub(r"\1REDACTED", text)


class Context:
    def __init__(self, store, faults, key, account, latency_ms, tls):
        self.store = store
        self.faults = faults
        self.key = key
        self.account = account
        self.latency_ms = latency_ms
        self.tls = tls
        self.service_props = None
        self.stats_lock = threading.Lock()
        self.total = 0          # protected by stats_lock
        self.ops = {}           # protected by stats_lock
        self.connections = 0    # protected by stats_lock

    def count(self, op):
        with self.stats_lock:
            self.total += 1
            self.ops[op] = self.ops.get(op, 0) + 1

    def stats(self):
        with self.stats_lock:
            return {"total": self.total, "ops": dict(self.ops),
                    "connections": self.connections}

    def reset(self):
        with self.stats_lock:
            self.total, self.ops, self.connections = 0, {}, 0


class Dropped(Exception):
    """Close the connection without answering (drop fault)."""


def begin(ctx, req):
    """Name and count the request, draw its fault -> (fault, extra delay ms);
    raises StorageError (bad URL) or Dropped (drop fault). The body is read
    after this (not at all when it raises)."""
    try:
        router.parse_location(req)
        router.route(req)
    finally:
        ctx.count(req.op)
    fault, extra = ctx.faults.decide(req.op)
    if fault == "drop":
        raise Dropped()
    return fault, extra


def execute(ctx, req, fault, too_large):
    """The reply to a request whose body (req.body) was read; raises StorageError."""
    if fault in ("503", "500"):
        code = "ServerBusy" if fault == "503" else "OperationTimedOut"
        return error_resp(req, StorageError(code))
    if too_large:
        raise StorageError("RequestBodyTooLarge", details=[("MaxLimit", MAX_BODY)])
    check_version(req)
    if req.q("si") and req.share:
        with ctx.store.lock:
            sh = ctx.store.shares.get(req.share)
            req.policies = auth.parse_policies(sh.p.get("acl") if sh else None)
    auth.authenticate(req, ctx.key)
    if req.kind in ("dir", "file"):
        common.reject_conditions(req)
        if not names.keep_trailing_dots(req):
            req.comps = names.trim_trailing_dots(req.comps)
    with ctx.store.lock:
        return OPS[req.op](ctx, req)


def check_version(req):
    v = req.h("x-ms-version")
    if v is None:
        req.version = req.q("sv")
        return
    v = v.strip()
    if not _VERSION_RE.match(v) or v > MAX_VERSION or v < "2014-02-14":
        raise invalid_header("x-ms-version", v)
    req.version = v


def error_resp(req, err):
    ticks = util.now_ticks()
    body = xmlout.error_body(err.code, err.message, req.rid, ticks, err.details)
    resp = common.Resp(err.status, list(err.headers.items()) +
                       [("x-ms-error-code", err.code)], body, "application/xml")
    resp.reason = err.message.split("\n")[0]
    resp.front_end = err.front_end
    return resp


def internal_error(req, method, path):
    """Log an unexpected exception (being handled) -> the 500 reply."""
    log.error("internal error on %s %s\n%s", method, redact(path), traceback.format_exc())
    return error_resp(req, StorageError(
        "InternalError", "Server encountered an internal error. Please try again "
        "after some time.", status=500))


_date_cache = (None, "")   # (second, text), replaced as a whole


def http_date():
    """BaseHTTPRequestHandler.date_time_string() for now, formatted once a second."""
    global _date_cache
    now = int(time.time())
    sec, text = _date_cache
    if sec != now:
        text = email.utils.formatdate(now, usegmt=True)
        _date_cache = (now, text)
    return text


def track_connection(value, close):
    """send_header()'s handling of a Connection header -> close_connection."""
    if value.lower() == "close":
        return True
    if value.lower() == "keep-alive":
        return False
    return close


def head_bytes(req, resp, server, date, front, is_head, length, close):
    """-> (status line and headers without the blank line, close_connection):
    the bytes send_response() + send_header() per header would produce (same
    order, latin-1 strict, Connection tracking) for an HTTP/1.x request."""
    code = resp.status
    reason = getattr(resp, "reason", None)
    if reason is None:
        reason = _RESPONSES[code][0] if code in _RESPONSES else ""
    first = req._first
    lines = ["HTTP/1.1 %d %s\r\n" % (code, reason), "Server: %s\r\n" % server,
             "Date: %s\r\n" % date, "x-ms-request-id: %s\r\n" % req.rid]
    version = first.get("x-ms-version")
    if not front and version:
        lines.append("x-ms-version: %s\r\n" % version.strip())
    client_id = first.get("x-ms-client-request-id")
    if client_id:
        lines.append("x-ms-client-request-id: %s\r\n" % client_id)
    failed_head = is_head and code >= 400
    has_length = False
    for k, v in resp.headers:
        low = k.lower()
        if low == "content-length":
            has_length = True
        elif low == "connection":
            close = track_connection(v, close)
        if failed_head and k == "Content-Type":
            continue
        lines.append("%s: %s\r\n" % (k, v))
    if failed_head:
        lines.append("Transfer-Encoding: chunked\r\n")  # as the service does
    elif not has_length:
        lines.append("Content-Length: %s\r\n" % length)
    if close:
        lines.append("Connection: close\r\n")
    return "".join(lines).encode("latin-1", "strict"), close


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300
    # read buffer: a request with a small body usually arrives in one recv()
    rbufsize = 64 * 1024
    # Small replies go out in one send() (_end_headers_with); larger bodies
    # follow the headers in a second one, and without TCP_NODELAY Nagle would
    # hold that back until the client's delayed ACK (40 ms) on kept-alive
    # connections, a stall the real service does not have.
    disable_nagle_algorithm = True
    server_value = SERVER

    def version_string(self):
        return self.server_value

    def log_message(self, fmt, *args):
        if log.isEnabledFor(logging.INFO):
            log.info("%s - %s", self.client_address[0], redact(fmt % args))

    def date_time_string(self, timestamp=None):
        """The stdlib's Date value, formatted once a second."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return http_date()

    def setup(self):
        ctx = self.server.ctx
        if ctx.tls:
            self.request.settimeout(30)
            try:
                self.request.do_handshake()
            except (OSError, ValueError) as e:
                log.info("tls handshake failed: %s", e)
                raise
        with ctx.stats_lock:
            ctx.connections += 1
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, socket.timeout, OSError):
            pass

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = do_OPTIONS = \
        lambda self: self.dispatch()

    # ---------------- body ----------------
    def _read_chunked(self, limit):
        """-> (body, too_large); reads (and drops) everything past `limit`."""
        out = bytearray()
        too_large = False
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise Dropped()
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise StorageError("InvalidInput")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out), too_large
            data = self.rfile.read(size)
            if len(out) + len(data) > limit:
                too_large = True
            else:
                out += data
            self.rfile.readline(16)

    def read_body(self, req=None):
        """-> (body, too_large). `req`: read its headers from req._first (the
        same first values as self.headers.get(), without the linear scan)."""
        get = self.headers.get if req is None else req._first.get
        if "chunked" in (get("transfer-encoding") or "").lower():
            body, big = self._read_chunked(MAX_BODY)
            return body, big
        raw = get("content-length")
        if raw is None or not raw.strip():
            return b"", False
        if not re.match(r"^\s*\d+\s*$", raw):
            raise invalid_header("Content-Length", raw)
        n = int(raw)
        if n > MAX_BODY:
            if n > DRAIN_LIMIT:
                self.close_connection = True
            else:
                left = n
                while left > 0:
                    got = self.rfile.read(min(left, 1 << 20))
                    if not got:
                        break
                    left -= len(got)
            return b"", True
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise Dropped()
        return data, False

    # ---------------- main path ----------------
    def dispatch(self):
        ctx = self.server.ctx
        if self.path.startswith("/_emulator/") or self.path == "/_emulator":
            return self.control()
        scheme = "https" if ctx.tls else "http"
        req = router.Req(self.command, self.path, self.headers, scheme,
                         self.client_address[0], ctx.account)
        req.rid = util.request_id()
        delay_ms = ctx.latency_ms
        try:
            resp, extra = self.process(ctx, req)
            delay_ms += extra
        except Dropped:
            self.drop()
            return
        except StorageError as err:
            resp = error_resp(req, err)
        except Exception:
            resp = internal_error(req, self.command, self.path)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        self.send(req, resp)

    def process(self, ctx, req):
        """-> (Resp, extra delay ms); raises StorageError / Dropped."""
        fault, extra = begin(ctx, req)
        body, too_large = self.read_body(req)
        req.body = body
        return execute(ctx, req, fault, too_large), extra

    def drop(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---------------- writing ----------------
    def send(self, req, resp):
        front = getattr(resp, "front_end", False)
        self.server_value = FRONT_SERVER if front else SERVER
        payload = resp.body
        if resp.stream is not None and getattr(resp, "want_md5", False):
            fd, off, n = resp.stream
            payload = read_exact(fd, off, n)
            self._close_fd(resp)
            resp.stream = None
            resp.headers.append(("Content-MD5", base64.b64encode(
                hashlib.md5(payload).digest()).decode("ascii")))
        is_head = self.command == "HEAD"
        length = resp.stream[2] if resp.stream is not None else len(payload)
        self._put_head(req, resp, front, is_head, length)
        try:
            if not is_head and resp.stream is not None and length <= ONE_SEND_MAX:
                payload = read_exact(resp.stream[0], resp.stream[1], length)
                self._close_fd(resp)
                resp.stream = None
            self._end_headers_with(b"" if is_head or resp.stream is not None else payload)
            if not is_head and resp.stream is not None:
                self._write_stream(resp)
        finally:
            self._close_fd(resp)

    def _put_head(self, req, resp, front, is_head, length):
        """Status line and headers into _headers_buffer: the bytes and side
        effects of send_response() + send_header() per header (same order,
        latin-1 strict, Connection tracking), built as one string."""
        self.log_request(resp.status)
        if self.request_version == "HTTP/0.9":
            for k, v in resp.headers:
                if k.lower() == "connection":
                    self.close_connection = track_connection(v, self.close_connection)
            return
        head, self.close_connection = head_bytes(
            req, resp, self.version_string(), self.date_time_string(), front, is_head,
            length, self.close_connection)
        if not hasattr(self, "_headers_buffer"):
            self._headers_buffer = []
        self._headers_buffer.append(head)

    def _end_headers_with(self, payload):
        """end_headers() with a small body in the same send() (one segment:
        no Nagle/delayed-ACK stall, one syscall); larger bodies follow in
        their own write."""
        if self.request_version != "HTTP/0.9":    # as end_headers()
            self._headers_buffer.append(b"\r\n")
            if payload and len(payload) <= ONE_SEND_MAX:
                self._headers_buffer.append(payload)
                payload = b""
            self.flush_headers()
        if payload:
            self.wfile.write(payload)

    def _write_stream(self, resp):
        fd, off, n = resp.stream
        pos = 0
        while pos < n:
            chunk = read_exact(fd, off + pos, min(1 << 20, n - pos))
            self.wfile.write(chunk)
            pos += len(chunk)

    @staticmethod
    def _close_fd(resp):
        if resp.stream is not None and resp.stream[0] is not None:
            os.close(resp.stream[0])
            resp.stream = (None,) + tuple(resp.stream[1:])

    # ---------------- control endpoints ----------------
    def control(self):
        ctx = self.server.ctx
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            body, _big = self.read_body()
        except (StorageError, Dropped):
            body = b""
        status, out = 200, None
        if path == "/_emulator/stats" and self.command == "GET":
            out = ctx.stats()
        elif path == "/_emulator/reset" and self.command in ("POST", "PUT"):
            ctx.reset()
            out = {}
        elif path == "/_emulator/faults" and self.command == "GET":
            out = ctx.faults.show()
        elif path == "/_emulator/faults" and self.command in ("POST", "PUT"):
            try:
                ctx.faults.set(body.decode("utf-8", "replace"))
                out = ctx.faults.show()
            except FaultSpecError as e:
                status, out = 400, {"error": str(e)}
        else:
            status, out = 404, {"error": "unknown control endpoint %s %s"
                                % (self.command, path)}
        data = json.dumps(out).encode("utf-8")
        self.server_value = SERVER
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self._end_headers_with(data if self.command != "HEAD" else b"")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, ctx, ssl_context=None):
        self.ctx = ctx
        self.stopping = False
        self.looping = False
        super().__init__(addr, Handler)
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True,
                                                  do_handshake_on_connect=False)

    def serve_forever(self, poll_interval=0.5):
        """Plain HTTP: the event loop (evloop.py); TLS: a thread per connection."""
        if self.ctx.tls:
            super().serve_forever(poll_interval)
            return
        from . import evloop   # imports this module
        self.looping = True
        evloop.Loop(self).run(poll_interval)

    def stop(self):
        """From a signal handler in the serving thread: the event loop ends at
        its next turn (never inside an operation); the TLS server at once."""
        self.stopping = True
        if not self.looping:
            raise SystemExit(0)

    def handle_error(self, request, client_address):
        log.info("connection error from %s:\n%s", client_address, traceback.format_exc())
