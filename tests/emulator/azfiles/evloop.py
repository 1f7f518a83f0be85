"""Event loop front end for plain HTTP (no TLS): one thread serves every
connection.

Why: with a thread per connection, each request dropped and re-took the GIL
several times (recv, sleep, send, sqlite, file I/O), and at 16 busy
connections those hand-offs cost about as much CPU as the requests
themselves. Here the serving thread reads requests from non-blocking
sockets (selectors), runs each operation at once (server.begin/execute,
store lock held as before) and keeps the reply until its latency timer
fires (--latency-ms plus slow faults, counted from when the request was
read; replies due within TIMER_SLACK of each other leave together), then
writes it; large replies and streamed Get File bodies drain as
the socket accepts them.

A connection is served here only while its requests are plain: request
line "METHOD /path HTTP/1.1" with a method http.server dispatches, CRLF
"Name: value" header lines (the fasthttp fast path), at most 64 KiB of
headers, no Transfer-Encoding, no Expect, a valid Content-Length of at most
MAX_BODY, not /_emulator. Anything else (and every connection's bytes from
that request on) is handed to a thread running server.Handler exactly as
before (Handoff: the bytes already read come first), so odd input gets the
stdlib's answers unchanged. Requests on one connection are handled one at
a time in order, the next read only after the previous reply was written,
as http.server does (pipelining). A connection idle for Handler.timeout is
closed.

Threads: only the serving thread touches Loop and _Conn. Shared with
hand-off threads: Context stats (stats_lock), the store (store.lock),
faults (own lock).
"""
import base64
import hashlib
import heapq
import io
import logging
import re
import select
import selectors
import socket
import threading
import time
import traceback
from socketserver import StreamRequestHandler

from . import fasthttp, router, server as front, util
from .errors import StorageError
from .store import read_exact

METHODS = frozenset(("GET", "PUT", "HEAD", "DELETE", "POST", "OPTIONS"))
MAX_HEAD = 64 * 1024
RECV = 256 * 1024
PAUSE_AT = 2 * front.MAX_BODY      # stop reading a busy connection past this
STREAM_CHUNK = 1 << 20
TIMER_SLACK = 0.0002   # s a reply may wait for others due just after it
_CL_RE = re.compile(r"^\s*\d+\s*$")
_R, _W = selectors.EVENT_READ, selectors.EVENT_WRITE
log = front.log


class _Conn:
    __slots__ = ("sock", "addr", "buf", "req", "line", "target", "need", "fault", "extra",
                 "close", "busy", "out", "stream", "eof", "mask", "last", "resp")

    def __init__(self, sock, addr):
        self.sock, self.addr = sock, addr
        self.buf = bytearray()
        self.req = None        # request whose body is awaited / reply pending
        self.line = ""         # its request line (log)
        self.target = ""       # its request target
        self.need = 0          # its body length
        self.fault, self.extra = None, 0
        self.close = False     # close_connection after this reply
        self.busy = False      # a reply is pending or being written
        self.out = None        # memoryview still to send
        self.stream = None     # [fd, offset, left] still to send
        self.eof = False
        self.mask = _R
        self.last = time.monotonic()
        self.resp = None


class _Prefixed(io.RawIOBase):
    """A socket's input with the bytes the loop already read in front."""

    def __init__(self, prefix, sock):
        super().__init__()
        self._pre = memoryview(bytes(prefix))
        self._sock = sock

    def readable(self):
        return True

    def readinto(self, b):
        if len(self._pre):
            n = min(len(b), len(self._pre))
            b[:n] = self._pre[:n]
            self._pre = self._pre[n:]
            return n
        return self._sock.recv_into(b)


class Handoff(front.Handler):
    """server.Handler on a connection the loop accepted (and counted)."""

    def __init__(self, sock, addr, server, prefix):
        self._prefix = prefix
        super().__init__(sock, addr, server)

    def setup(self):
        StreamRequestHandler.setup(self)
        self.rfile.close()
        self.rfile = io.BufferedReader(_Prefixed(self._prefix, self.connection),
                                       self.rbufsize)


def _handoff_thread(httpd, sock, addr, prefix):
    """socketserver's process_request_thread for a Handoff."""
    try:
        Handoff(sock, addr, httpd, prefix)
    except Exception:
        httpd.handle_error(sock, addr)
    finally:
        httpd.shutdown_request(sock)


def _parse_head(head):
    """-> (method, target, request line, headers) for a plain request head
    (bytes before the blank line), or None."""
    line, _, block = head.partition(b"\r\n")
    line = line.decode("iso-8859-1")
    words = line.split()
    if (len(words) != 3 or words[2] != "HTTP/1.1" or words[0] not in METHODS
            or "\n" in line or "\r" in line):
        return None
    target = words[1]
    if not target.startswith("/") or target.startswith("//") or \
            target.startswith("/_emulator"):
        return None
    headers = fasthttp.simple_headers(block)
    if headers is None:
        return None
    return words[0], target, line, headers


class Loop:
    """The serving thread's state: selector, connections, reply timers."""

    def __init__(self, httpd):
        self.httpd = httpd
        self.ctx = httpd.ctx
        self.sel = selectors.DefaultSelector()
        # the epoll fd (select() on it waits to the microsecond); none elsewhere
        self.epfd = self.sel.fileno() if hasattr(self.sel, "fileno") else 1 << 30
        self.timers = []      # heap of (due, seq, conn)
        self.seq = 0
        self.conns = set()
        self.idle = front.Handler.timeout
        # one receive buffer (a fresh 256 KiB bytes per recv() would be an
        # mmap + munmap each)
        self.rbuf = bytearray(RECV)
        self.rview = memoryview(self.rbuf)

    def run(self, poll_interval):
        lsock = self.httpd.socket
        lsock.setblocking(False)
        self.sel.register(lsock, _R, None)
        sweep = time.monotonic() + 1.0
        try:
            while not self.httpd.stopping:
                for key, mask in self._select(poll_interval):
                    if key.data is None:
                        self._accept(lsock)
                    else:
                        self._guard(self._on_event, key.data, mask)
                now = time.monotonic()
                while self.timers and self.timers[0][0] <= now:
                    self._guard(self._reply, heapq.heappop(self.timers)[2])
                if now >= sweep:
                    sweep = now + 1.0
                    self._sweep(now)
        finally:
            for conn in list(self.conns):
                self._close(conn)
            self.sel.close()

    def _select(self, poll_interval):
        """Ready (key, mask) pairs, waiting at most until the next reply is
        due (+ TIMER_SLACK, so replies due close together leave in one
        wake-up). epoll waits whole milliseconds rounded up (a reply would
        leave up to 1 ms late): a shorter wait is a select() on the epoll fd,
        which waits to the microsecond."""
        if not self.timers:
            return self.sel.select(poll_interval)
        left = self.timers[0][0] + TIMER_SLACK - time.monotonic()
        if left >= poll_interval:
            return self.sel.select(poll_interval)
        if left > 0:
            if self.epfd < 1024:    # select()'s limit; a low fd, opened at start
                select.select([self.epfd], [], [], left)
            else:
                return self.sel.select(left)
        return self.sel.select(0)

    def _on_event(self, conn, mask):
        if mask & _W:
            self._on_write(conn)
        if mask & _R and conn.sock is not None:
            self._on_read(conn)

    def _guard(self, fn, conn, *args):
        """fn(conn, ...); an unexpected error closes that connection only
        (logged as socketserver's handle_error did for its thread)."""
        try:
            fn(conn, *args)
        except Exception:
            log.info("connection error from %s:\n%s", conn.addr, traceback.format_exc())
            self._close(conn)

    def _sweep(self, now):
        for conn in list(self.conns):
            if not conn.busy and now - conn.last > self.idle:
                self._close(conn)

    def _accept(self, lsock):
        for _ in range(64):
            try:
                sock, addr = lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.info("accept failed: %s", e)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
            with self.ctx.stats_lock:
                self.ctx.connections += 1
            conn = _Conn(sock, addr)
            self.conns.add(conn)
            self.sel.register(sock, _R, conn)

    # ---------------- connection bookkeeping ----------------
    def _set_mask(self, conn, mask):
        if mask == conn.mask or conn.sock is None:
            return
        if conn.mask == 0:
            self.sel.register(conn.sock, mask, conn)
        elif mask == 0:
            self.sel.unregister(conn.sock)
        else:
            self.sel.modify(conn.sock, mask, conn)
        conn.mask = mask

    def _detach(self, conn):
        self._set_mask(conn, 0)
        self.conns.discard(conn)
        if conn.resp is not None:
            front.Handler._close_fd(conn.resp)
        conn.stream = None
        sock, conn.sock = conn.sock, None
        return sock

    def _close(self, conn, how=None):
        """socketserver's shutdown_request (after shutdown(how) for a drop)."""
        sock = self._detach(conn)
        if sock is None:
            return
        for h in (how, socket.SHUT_WR):
            try:
                if h is not None:
                    sock.shutdown(h)
            except OSError:
                pass
        sock.close()

    def _handoff(self, conn):
        """Serve the rest of this connection with server.Handler in a thread."""
        prefix = bytes(conn.buf)
        sock = self._detach(conn)
        sock.setblocking(True)
        threading.Thread(target=_handoff_thread, args=(self.httpd, sock, conn.addr, prefix),
                         daemon=True).start()

    # ---------------- reading ----------------
    def _on_read(self, conn):
        try:
            n = conn.sock.recv_into(self.rbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        conn.last = time.monotonic()
        if not n:
            conn.eof = True
            if conn.busy:
                self._set_mask(conn, conn.mask & ~_R)
            else:
                self._advance(conn)
            return
        conn.buf += self.rview[:n]
        if not conn.busy:
            self._advance(conn)
        elif len(conn.buf) > PAUSE_AT:
            self._set_mask(conn, conn.mask & ~_R)

    def _advance(self, conn):
        """Start the next request in conn.buf if it is all there."""
        if conn.req is None:
            end = conn.buf.find(b"\r\n\r\n")
            if end < 0:
                if conn.eof or len(conn.buf) > MAX_HEAD or b"\n\n" in conn.buf:
                    if conn.buf:
                        self._handoff(conn)
                    else:
                        self._close(conn)
                return
            if end > MAX_HEAD:
                self._handoff(conn)
                return
            if not self._start(conn, end):
                return
        if len(conn.buf) < conn.need:
            if conn.eof:
                self._close(conn, socket.SHUT_RDWR)    # as Dropped on a short body
            return
        req = conn.req
        req.body = bytes(conn.buf[:conn.need])
        del conn.buf[:conn.need]
        extra = 0     # as Handler.dispatch: slow faults delay replies that did not raise
        try:
            resp = front.execute(self.ctx, req, conn.fault, False)
            extra = conn.extra
        except StorageError as err:
            resp = front.error_resp(req, err)
        except Exception:
            resp = front.internal_error(req, req.method, conn.target)
        self._schedule(conn, req, resp, extra)

    def _start(self, conn, end):
        """Parse the head ending at `end`, name and count the request, draw
        its fault (server.begin) -> True when its body is awaited; False when
        the connection was handed off or closed, or an error reply is due."""
        parsed = _parse_head(bytes(conn.buf[:end]))
        req = None
        if parsed is not None:
            try:
                req = router.Req(parsed[0], parsed[1], parsed[3], "http", conn.addr[0],
                                 self.ctx.account)
            except Exception:   # as before: the stdlib path's answer (none)
                req = None
        get = req._first.get if req is not None else None
        n = -1
        if get is not None and get("transfer-encoding") is None and get("expect") is None:
            raw = get("content-length")
            if raw is None or not raw.strip():
                n = 0
            elif _CL_RE.match(raw) and int(raw) <= front.MAX_BODY:
                n = int(raw)
        if n < 0:
            self._handoff(conn)
            return False
        del conn.buf[:end + 4]
        conn.line, conn.target = parsed[2], parsed[1]
        conn.close = (get("connection") or "").lower() == "close"
        req.rid = util.request_id()
        try:
            conn.fault, conn.extra = front.begin(self.ctx, req)
        except front.Dropped:
            self._close(conn, socket.SHUT_RDWR)
            return False
        except StorageError as err:
            self._schedule(conn, req, front.error_resp(req, err), 0)
            return False
        except Exception:
            self._schedule(conn, req, front.internal_error(req, req.method, conn.target), 0)
            return False
        conn.req, conn.need = req, n
        return True

    # ---------------- replying ----------------
    def _schedule(self, conn, req, resp, extra):
        """Hold the reply until latency + extra ms after now (request read)."""
        conn.req, conn.resp, conn.busy, conn.need = req, resp, True, 0
        delay = self.ctx.latency_ms + extra
        due = time.monotonic() + delay / 1000.0 if delay > 0 else 0.0
        self.seq += 1
        heapq.heappush(self.timers, (due, self.seq, conn))

    def _reply(self, conn):
        if conn.sock is None:
            return
        try:
            data, conn.stream, conn.close = _reply_bytes(conn)
        except Exception:      # e.g. a header value that is not latin-1
            log.info("connection error from %s:\n%s", conn.addr, traceback.format_exc())
            self._close(conn)
            return
        conn.out = memoryview(data)
        self._on_write(conn)

    def _on_write(self, conn):
        while True:
            if conn.out is not None and len(conn.out):
                try:
                    n = conn.sock.send(conn.out)
                except (BlockingIOError, InterruptedError):
                    n = 0
                except OSError:
                    self._close(conn)
                    return
                conn.out = conn.out[n:]
                if len(conn.out):
                    self._set_mask(conn, conn.mask | _W)
                    return
            if conn.stream is None:
                break
            fd, off, left = conn.stream
            chunk = read_exact(fd, off, min(STREAM_CHUNK, left))
            conn.stream = [fd, off + len(chunk), left - len(chunk)] if left > len(chunk) \
                else None
            conn.out = memoryview(chunk)
        self._done(conn)

    def _done(self, conn):
        """The reply is written: next request, or close."""
        front.Handler._close_fd(conn.resp)
        conn.req = conn.resp = conn.out = None
        conn.busy = False
        conn.last = time.monotonic()
        if conn.close:
            self._close(conn)
            return
        self._set_mask(conn, 0 if conn.eof else _R)
        if conn.buf or conn.eof:
            self._advance(conn)


def _reply_bytes(conn):
    """-> (status line, headers, blank line and body up to ONE_SEND_MAX,
    [fd, offset, length] of a larger streamed body or None, close_connection):
    what server.Handler.send writes for the same reply."""
    req, resp = conn.req, conn.resp
    is_head = req.method == "HEAD"
    front_end = getattr(resp, "front_end", False)
    payload = resp.body
    if resp.stream is not None and getattr(resp, "want_md5", False):
        fd, off, n = resp.stream
        payload = read_exact(fd, off, n)
        front.Handler._close_fd(resp)
        resp.stream = None
        resp.headers.append(("Content-MD5", base64.b64encode(
            hashlib.md5(payload).digest()).decode("ascii")))
    length = resp.stream[2] if resp.stream is not None else len(payload)
    if log.isEnabledFor(logging.INFO):
        log.info("%s - %s", conn.addr[0],
                 front.redact('"%s" %s %s' % (conn.line, resp.status, "-")))
    head, close = front.head_bytes(
        req, resp, front.FRONT_SERVER if front_end else front.SERVER, front.http_date(),
        front_end, is_head, length, conn.close)
    stream = None
    if is_head:
        payload = b""
        front.Handler._close_fd(resp)
    elif resp.stream is not None:
        fd, off, n = resp.stream
        if n <= front.ONE_SEND_MAX:
            payload = read_exact(fd, off, n)
            front.Handler._close_fd(resp)
        else:
            stream, payload = [fd, off, n], b""
    return b"".join((head, b"\r\n", payload)), stream, close
