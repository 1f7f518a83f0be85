"""Request parsing and operation naming.

Turns method + URL (path-style /account/share/path or host-style
Host: account.file.<suffix> with /share/path) + restype/comp into the REST
operation name (CreateFile, PutRange, ...). The name is known before
authentication so that stats, faults and SAS permission checks can use it.
No state but a bounded cache of lower-cased header names; no locks.
"""
from urllib.parse import unquote_to_bytes

from .errors import StorageError, invalid_query

# header name -> lower case, for the constant names the modules ask for
# (bounded; concurrent writers store the same value, so no lock is needed)
_LOWER = {}
_LOWER_MAX = 512


class Req:
    """One parsed request (fields filled by parse() and the server)."""

    def __init__(self, method, target, headers, scheme, client_ip, account):
        self.method = method
        self.headers = headers
        # the header list, and a lower-cased name -> first value map, taken once:
        # headers.get() is a linear, case-folding scan, and h() runs ~40 times
        # a request (same answers; the headers never change afterwards)
        self.header_items = headers.items()
        # lower-cased names, parallel to header_items (Shared Key, metadata)
        self.header_lows = [k.lower() for k, _v in self.header_items]
        self._first = {}
        for low, (_k, v) in zip(self.header_lows, self.header_items):
            self._first.setdefault(low, v)
        self.scheme = scheme
        self.client_ip = client_ip
        self.account = account
        raw_path, _, raw_query = target.partition("?")
        if raw_path.startswith("http://") or raw_path.startswith("https://"):
            raw_path = "/" + raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else "/"
        self.raw_path = raw_path or "/"
        self.raw_query = raw_query
        self.query = parse_query(raw_query)
        self.host_style = False
        self.share = None
        self.comps = []
        self.op = "Unknown"
        self.kind = None
        self.body = b""
        self.version = None
        self.endpoint = ""
        self.auth = None  # filled by auth.authenticate

    def q(self, name, default=None):
        vals = self.query.get(name)
        return vals[-1] if vals else default

    def h(self, name, default=None):
        low = _LOWER.get(name)
        if low is None:
            low = name.lower()
            if len(_LOWER) < _LOWER_MAX:
                _LOWER[name] = low
        v = self._first.get(low)
        return default if v is None else v


def _unquote(s):
    if "%" not in s:
        return s    # what unquote_to_bytes(s).decode("utf-8") gives back
    try:
        return unquote_to_bytes(s).decode("utf-8")
    except UnicodeDecodeError:
        raise StorageError("InvalidUri", front_end=True)


def parse_query(raw):
    out = {}
    for part in raw.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        out.setdefault(_unquote(k.replace("+", "%20")).lower(), []).append(_unquote(v))
    return out


def parse_location(req):
    """Fill share/comps/host_style/endpoint from Host and the path."""
    host = (req.h("Host") or "").strip()
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    segs = [_unquote(s) for s in req.raw_path.split("/")[1:]]
    if hostname.lower().startswith(req.account.lower() + ".file."):
        req.host_style = True
        req.endpoint = "%s://%s/" % (req.scheme, host)
    else:
        if segs and segs[0] == req.account:
            segs = segs[1:]
        elif not (segs and segs[0] and req.q("comp") == "rename"):
            raise StorageError("InvalidUri", front_end=True)
        # else: the JS SDK's rename destination URL drops the account segment
        # on path-style URLs (it sets the path to /share/dest); Azurite and we
        # accept it, and the client signs that path as sent.
        req.endpoint = "%s://%s/%s/" % (req.scheme, host, req.account)
    while segs and segs[-1] == "":
        segs.pop()
    if segs and segs[0] == "":
        raise StorageError("InvalidUri", front_end=True)
    if segs:
        req.share = segs[0]
        req.comps = segs[1:]
    if any(c == "" for c in req.comps):
        raise StorageError("InvalidResourceName")


SERVICE_OPS = {
    ("GET", None, "list"): "ListShares",
    ("GET", "service", "properties"): "GetFileServiceProperties",
    ("PUT", "service", "properties"): "SetFileServiceProperties",
}

SHARE_OPS = {
    ("PUT", "share", None): "CreateShare",
    ("GET", "share", None): "GetShareProperties",
    ("HEAD", "share", None): "GetShareProperties",
    ("DELETE", "share", None): "DeleteShare",
    ("GET", "share", "stats"): "GetShareStats",
    ("PUT", "share", "properties"): "SetShareProperties",
    ("PUT", "share", "metadata"): "SetShareMetadata",
    ("GET", "share", "metadata"): "GetShareMetadata",
    ("HEAD", "share", "metadata"): "GetShareMetadata",
    ("PUT", "share", "filepermission"): "CreatePermission",
    ("GET", "share", "filepermission"): "GetPermission",
    ("GET", "share", "acl"): "GetShareAcl",
    ("HEAD", "share", "acl"): "GetShareAcl",
    ("PUT", "share", "acl"): "SetShareAcl",
}

DIR_OPS = {
    ("PUT", None): "CreateDirectory",
    ("GET", None): "GetDirectoryProperties",
    ("HEAD", None): "GetDirectoryProperties",
    ("DELETE", None): "DeleteDirectory",
    ("PUT", "metadata"): "SetDirectoryMetadata",
    ("GET", "metadata"): "GetDirectoryMetadata",
    ("HEAD", "metadata"): "GetDirectoryMetadata",
    ("PUT", "properties"): "SetDirectoryProperties",
    ("GET", "list"): "ListDirectoriesAndFiles",
    ("PUT", "rename"): "RenameDirectory",
    ("GET", "listhandles"): "ListHandles",
    ("PUT", "forceclosehandles"): "ForceCloseHandles",
}

FILE_OPS = {
    ("PUT", None): "CreateFile",
    ("GET", None): "GetFile",
    ("HEAD", None): "GetFileProperties",
    ("DELETE", None): "DeleteFile",
    ("PUT", "properties"): "SetFileProperties",
    ("PUT", "metadata"): "SetFileMetadata",
    ("GET", "metadata"): "GetFileMetadata",
    ("HEAD", "metadata"): "GetFileMetadata",
    ("PUT", "range"): "PutRange",
    ("GET", "rangelist"): "ListRanges",
    ("PUT", "rename"): "RenameFile",
    ("PUT", "lease"): "LeaseFile",
    ("GET", "listhandles"): "ListHandles",
    ("PUT", "forceclosehandles"): "ForceCloseHandles",
}

# operations on the share's root directory (no path, restype=directory)
ROOT_DIR_OPS = {"GetDirectoryProperties", "SetDirectoryMetadata", "GetDirectoryMetadata",
                "SetDirectoryProperties", "ListDirectoriesAndFiles", "ListHandles",
                "ForceCloseHandles"}

KNOWN_COMPS = {"list", "properties", "metadata", "stats", "filepermission", "acl", "range",
               "rangelist", "rename", "lease", "listhandles", "forceclosehandles",
               "snapshot", "copy", "undelete"}


def _bad_verb():
    return StorageError("UnsupportedHttpVerb", front_end=True)


def route(req):
    """Set req.op and req.kind ('service', 'share', 'dir', 'file')."""
    m = req.method
    restype = req.q("restype")
    comp = req.q("comp")
    if restype is not None and restype not in ("share", "directory", "service"):
        raise invalid_query("restype", restype)
    if comp is not None and comp not in KNOWN_COMPS:
        # what the service answers for an unknown comp (error_invalid_query_parameter_value)
        raise StorageError("InvalidQueryParameterValue", front_end=True,
                           details=[("QueryParameterName", "restype"),
                                    ("QueryParameterValue", comp), ("Reason", None)])
    if req.share is None:
        op = SERVICE_OPS.get((m, restype, comp))
        if op is None:
            raise _bad_verb() if comp in ("list", "properties") else \
                StorageError("InvalidQueryParameterValue", front_end=True,
                             details=[("QueryParameterName", "comp"),
                                      ("QueryParameterValue", comp), ("Reason", None)])
        req.op, req.kind = op, "service"
        return
    if not req.comps:
        if restype == "directory":
            op = DIR_OPS.get((m, comp))
            if op not in ROOT_DIR_OPS:
                raise _bad_verb()
            req.op, req.kind = op, "dir"
            return
        op = SHARE_OPS.get((m, restype, comp))
        if op is None:
            if restype is None and comp is None:
                raise StorageError("InvalidUri", front_end=True)
            raise _bad_verb()
        req.op, req.kind = op, "share"
        return
    if restype == "share":
        raise StorageError("InvalidUri", front_end=True)
    table = DIR_OPS if restype == "directory" else FILE_OPS
    op = table.get((m, comp))
    if op is None:
        raise _bad_verb()
    req.op, req.kind = op, ("dir" if restype == "directory" else "file")
