"""Command line: azfiles-emulator --port N --data DIR [--host 127.0.0.1]
[--latency-ms N] [--faults SPEC] [--tls-cert F --tls-key F]
[--account devstoreaccount1] [--key BASE64] [--seed N] [--verbose]

Prints exactly one line on stdout, "listening on http(s)://HOST:PORT/ACCOUNT",
flushed at once, then serves until SIGTERM/SIGINT.
"""
import argparse
import base64
import binascii
import logging
import os
import signal
import ssl
import sys

from .faults import FaultSpecError, Faults
from .server import Context, Server
from .store import Store

DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
           "K1SZFPTOtr/KBHBeksoGMGw==")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="azfiles-emulator",
                                description="Azure Files REST API emulator")
    p.add_argument("--port", type=int, required=True, help="TCP port, 0 picks a free one")
    p.add_argument("--data", required=True, help="state directory (created if missing)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    p.add_argument("--latency-ms", type=int, default=0, help="delay every reply by N ms")
    p.add_argument("--faults", default="", help="fault spec, see tests/emulator/README.md")
    p.add_argument("--tls-cert", help="PEM certificate: serve https")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--account", default=DEV_ACCOUNT, help="account name")
    p.add_argument("--key", default=DEV_KEY, help="base64 account key")
    p.add_argument("--seed", type=int, default=None, help="seed for fault randomness")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    a = p.parse_args(argv)
    if bool(a.tls_cert) != bool(a.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if a.latency_ms < 0:
        p.error("--latency-ms must be >= 0")
    try:
        a.key_bytes = base64.b64decode(a.key, validate=True)
    except (binascii.Error, ValueError):
        p.error("--key is not valid base64")
    return a


def _setup_logging(data_dir, verbose):
    log = logging.getLogger("azfiles")
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    fh = logging.FileHandler(os.path.join(data_dir, "emulator.log"))
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(fh)
    if verbose:
        log.addHandler(logging.StreamHandler(sys.stderr))


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        faults = Faults(a.faults, a.seed)
    except FaultSpecError as e:
        sys.stderr.write("azfiles-emulator: bad --faults: %s\n" % e)
        return 2
    os.makedirs(a.data, exist_ok=True)
    _setup_logging(a.data, a.verbose)
    store = Store(a.data)
    ssl_ctx = None
    if a.tls_cert:
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(a.tls_cert, a.tls_key)
    ctx = Context(store, faults, a.key_bytes, a.account, a.latency_ms, ssl_ctx is not None)
    try:
        httpd = Server((a.host, a.port), ctx, ssl_ctx)
    except OSError as e:
        sys.stderr.write("azfiles-emulator: cannot listen on %s:%d: %s\n"
                         % (a.host, a.port, e))
        return 1
    port = httpd.server_address[1]
    host = a.host if a.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    if ":" in host:
        host = "[%s]" % host
    scheme = "https" if ssl_ctx else "http"
    sys.stdout.write("listening on %s://%s:%d/%s\n" % (scheme, host, port, a.account))
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda signum, frame: httpd.stop())
    signal.signal(signal.SIGINT, lambda signum, frame: httpd.stop())
    try:
        httpd.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        httpd.server_close()
        store.close()
    return 0
