"""Small shared helpers: time formats, ETags, ids, header parsing.

Times are kept as integer "ticks" (100 ns units since the Unix epoch), the
service's resolution, so x-ms-file-*-time values round-trip with their 7
fractional digits. ETags are the hex .NET ticks the service sends
("0x8DB67A9F9D295B0"), strictly increasing across the process (protected by
_lock).
"""
import calendar
import email.utils
import functools
import random
import re
import threading
import time
import uuid

from .errors import invalid_header

TICKS_PER_SEC = 10_000_000
DOTNET_EPOCH_OFFSET = 621355968000000000  # 0001-01-01 -> 1970-01-01 in ticks
MAX_FILE_SIZE = 4 * 1024 ** 4               # 4 TiB
MAX_RANGE = 4 * 1024 * 1024                 # 4 MiB per Put Range / Create File body

_lock = threading.Lock()
_last_etag = 0  # protected by _lock
# request ids: a generator seeded from os.urandom once (getrandbits() is one
# C call, atomic under the GIL) instead of an os.urandom() per request, which
# drops the GIL around its getrandom() syscall: a hand-off per request
_ids = random.Random()

_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?"
                     r"(Z|[+-]00:00)$")


def now_ticks():
    return time.time_ns() // 100


# The formatting and parsing helpers below are pure functions of their
# argument; the small caches (functools.lru_cache, thread-safe) only save
# CPU: a request formats the same few seconds over and over.
@functools.lru_cache(maxsize=1024)
def _iso_secs(secs):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))


def iso7(ticks):
    """2023-06-07T22:53:14.1518768Z"""
    secs, frac = divmod(int(ticks), TICKS_PER_SEC)
    return _iso_secs(secs) + ".%07dZ" % frac


@functools.lru_cache(maxsize=1024)
def _rfc1123_secs(secs):
    return email.utils.formatdate(secs, usegmt=True)


def rfc1123(ticks=None):
    if ticks is None:
        ticks = now_ticks()
    return _rfc1123_secs(int(ticks) // TICKS_PER_SEC)


def parse_iso(value):
    """ISO 8601 UTC with up to 7 fractional digits -> ticks, or None."""
    m = _ISO_RE.match(value or "")
    if not m:
        return None
    y, mo, d, h, mi, s, frac, _tz = m.groups()
    try:
        secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s), 0, 0, 0))
        time.strptime("%s-%s-%s" % (y, mo, d), "%Y-%m-%d")
    except (ValueError, OverflowError):
        return None
    return secs * TICKS_PER_SEC + int((frac or "0").ljust(7, "0"))


def parse_sas_time(value):
    """SAS st/se forms: YYYY-MM-DD, YYYY-MM-DDThh:mmZ, ...:ssZ, ...:ss.fffffffZ."""
    v = value or ""
    if re.match(r"^\d{4}-\d{2}-\d{2}$", v):
        v += "T00:00:00Z"
    elif re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$", v):
        v = v[:-1] + ":00Z"
    return parse_iso(v)


@functools.lru_cache(maxsize=256)
def parse_http_date(value):
    try:
        t = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if t is None:
        return None
    return int(t.timestamp()) * TICKS_PER_SEC


def new_etag():
    """A fresh, strictly increasing ETag value (with quotes)."""
    global _last_etag
    with _lock:
        t = now_ticks() + DOTNET_EPOCH_OFFSET
        if t <= _last_etag:
            t = _last_etag + 1
        _last_etag = t
    return '"0x%X"' % t


def request_id():
    """A random version-4 UUID string, as str(uuid.uuid4()) formats it."""
    n = _ids.getrandbits(128)
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)   # variant RFC 4122, as uuid.UUID
    n = (n & ~(0xF000 << 64)) | (4 << 76)        # version 4
    h = "%032x" % n
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def new_lease_id():
    return str(uuid.uuid4())


def is_guid(value):
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return bool(re.match(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                         r"[0-9a-fA-F]{12}$", value))


def bitrev64(n):
    return int(format(n & 0xFFFFFFFFFFFFFFFF, "064b")[::-1], 2)


def parse_int_header(headers, name, lo=None, hi=None, code_range="OutOfRangeInput"):
    """Integer header or None when absent; InvalidHeaderValue when malformed."""
    from .errors import StorageError
    raw = headers.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    if not re.match(r"^-?\d+$", raw):
        raise invalid_header(name, raw)
    v = int(raw)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise StorageError(code_range)
    return v


def parse_bool_header(headers, name, default=False):
    raw = headers.get(name)
    if raw is None:
        return default
    low = raw.strip().lower()
    if low == "true":
        return True
    if low == "false":
        return False
    raise invalid_header(name, raw)


def version_at_least(version, ref):
    return (version or "9999-99-99") >= ref
