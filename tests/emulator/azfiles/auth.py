"""Authentication and authorization, as "Authorize with Shared Key",
"Create an account SAS" and "Create a service SAS" describe them.

Shared Key (and Shared Key Lite): rebuild the string-to-sign from the
request and compare HMAC-SHA256 with the account key. The canonicalized
resource is "/" + account + the URI path as sent, so path-style URLs name
the account twice ("/devstoreaccount1/devstoreaccount1/share/..."), as
Azurite does; the percent-decoded path is accepted too (clients differ on
encoding and the service is lenient about it).

SAS: account SAS (ss/srt) and service SAS for shares and files (sr=s|f);
signature, time window, protocol, IP, service, resource type and permission
are checked in that order. A stored access policy (si) is looked up in
req.policies (the share's ACL, filled by the server) and supplies sp/st/se
that the SAS itself leaves out. No state; pure functions of the request.
"""
import base64
import hmac
import ipaddress
import re
from urllib.parse import unquote

from . import util
from .errors import StorageError

CLOCK_SKEW = 15 * 60 * util.TICKS_PER_SEC

STD_HEADERS = ["Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
               "Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
               "If-Unmodified-Since", "Range"]

# op -> (account SAS resource type, acceptable permission letters)
OP_PERMS = {
    "ListShares": ("s", "l"), "GetFileServiceProperties": ("s", "r"),
    "SetFileServiceProperties": ("s", "w"),
    "CreateShare": ("c", "cw"), "GetShareProperties": ("c", "r"),
    "GetShareMetadata": ("c", "r"), "GetShareStats": ("c", "r"), "GetShareAcl": ("c", "r"),
    "GetPermission": ("c", "r"), "SetShareProperties": ("c", "w"),
    "SetShareMetadata": ("c", "w"), "SetShareAcl": ("c", "w"), "CreatePermission": ("c", "cw"),
    "DeleteShare": ("c", "d"), "ListDirectoriesAndFiles": ("c", "l"),
    "CreateDirectory": ("o", "cw"), "GetDirectoryProperties": ("o", "r"),
    "GetDirectoryMetadata": ("o", "r"), "SetDirectoryMetadata": ("o", "w"),
    "SetDirectoryProperties": ("o", "w"), "DeleteDirectory": ("o", "d"),
    "RenameDirectory": ("o", "w"), "RenameFile": ("o", "w"), "CreateFile": ("o", "cw"),
    "GetFile": ("o", "r"), "GetFileProperties": ("o", "r"), "GetFileMetadata": ("o", "r"),
    "ListRanges": ("o", "r"), "SetFileProperties": ("o", "w"), "SetFileMetadata": ("o", "w"),
    "PutRange": ("o", "w"), "LeaseFile": ("o", "w"), "DeleteFile": ("o", "d"),
    "ListHandles": ("o", "l"), "ForceCloseHandles": ("o", "w"),
}
# share-level operations a share SAS (sr=s) may call
SHARE_SAS_SHARE_OPS = {"GetShareProperties", "GetShareMetadata", "GetShareStats",
                       "GetPermission", "CreatePermission"}


def _fail(detail):
    return StorageError("AuthenticationFailed", front_end=True,
                        details=[("AuthenticationErrorDetail", detail)])


def _hmac(key, text):
    return base64.b64encode(hmac.digest(key, text.encode("utf-8"), "sha256")).decode("ascii")


def canonical_headers(req):
    items = {}
    for low, (_name, value) in zip(req.header_lows, req.header_items):
        if low.startswith("x-ms-"):
            items.setdefault(low, []).append(value.strip())
    return "".join("%s:%s\n" % (k, ",".join(items[k])) for k in sorted(items))


def canonical_resource(req, path):
    res = "/%s%s" % (req.account, path or "/")
    for k in sorted(req.query):
        res += "\n%s:%s" % (k, ",".join(sorted(req.query[k])))
    return res


_STD_LOWER = [h.lower() for h in STD_HEADERS]


def string_to_sign(req, path, date_line):
    first = req._first  # what req.h() reads, without a call per header
    vals = [req.method]
    for h in _STD_LOWER:
        v = first.get(h, "")
        if h == "content-length" and v.strip() == "0":
            v = ""
        if h == "date":
            v = date_line
        vals.append(v)
    return "\n".join(vals) + "\n" + canonical_headers(req) + canonical_resource(req, path)


def string_to_sign_lite(req, path, date_line):
    res = "/%s%s" % (req.account, path or "/")
    if "comp" in req.query:
        res += "?comp=" + req.query["comp"][-1]
    return "\n".join([req.method, req.h("Content-MD5", ""), req.h("Content-Type", ""),
                      date_line]) + "\n" + canonical_headers(req) + res


def _check_date(req):
    raw = req.h("x-ms-date") or req.h("Date")
    if not raw:
        raise _fail("Request date header not specified.")
    t = util.parse_http_date(raw)
    if t is None:
        raise _fail("The Date header in the request is incorrect.")
    if abs(util.now_ticks() - t) > CLOCK_SKEW:
        raise _fail("Request date header too old: '%s'" % raw)


def shared_key(req, key):
    scheme, _, cred = req.h("Authorization").strip().partition(" ")
    account, _, sig = cred.strip().partition(":")
    if scheme not in ("SharedKey", "SharedKeyLite") or not sig:
        raise _fail("The authorization header is not in the correct format.")
    if account != req.account:
        raise _fail("Issuer account name '%s' does not match the account '%s' of the "
                    "request." % (account, req.account))
    _check_date(req)
    build = string_to_sign if scheme == "SharedKey" else string_to_sign_lite
    dates = [""] if req.h("x-ms-date") else []
    if req.h("Date"):
        dates.append(req.h("Date"))
    paths = [req.raw_path]
    if unquote(req.raw_path) != req.raw_path:
        paths.append(unquote(req.raw_path))
    first = None
    for path in paths:
        for d in dates:
            sts = build(req, path, d)
            first = first or sts
            if hmac.compare_digest(_hmac(key, sts), sig):
                req.auth = {"kind": "key"}
                return
    raise _fail("The MAC signature found in the HTTP request '%s' is not the same as any "
                "computed signature. Server used following string to sign: '%s'."
                % (sig, first))


def _time_window(q):
    now = util.now_ticks()
    st_raw, se_raw = q.get("st"), q.get("se")
    st = util.parse_sas_time(st_raw) if st_raw else None
    se = util.parse_sas_time(se_raw) if se_raw else None
    if (st_raw and st is None) or (se_raw and se is None):
        raise _fail("Signature fields not well formed.")
    if se is None:
        raise _fail("Signed expiry time is missing.")
    if st is not None and se <= st:
        raise _fail("Signed expiry time [%s] must be after signed start time [%s]"
                    % (util.rfc1123(se), util.rfc1123(st)))
    if now > se or (st is not None and now < st):
        raise _fail("Signature not valid in the specified time frame: Start [%s] - Expiry "
                    "[%s] - Current [%s]" % (util.rfc1123(st) if st else "",
                                             util.rfc1123(se), util.rfc1123(now)))


def _check_protocol_ip(req, q):
    spr = q.get("spr", "")
    if spr not in ("", "https", "https,http", "http,https"):
        raise _fail("Signature fields not well formed.")
    if spr == "https" and req.scheme != "https":
        raise StorageError("AuthorizationProtocolMismatch", front_end=True)
    sip = q.get("sip")
    if sip:
        try:
            lo, _, hi = sip.partition("-")
            lo_a = ipaddress.ip_address(lo)
            hi_a = ipaddress.ip_address(hi) if hi else lo_a
            ok = lo_a <= ipaddress.ip_address(req.client_ip) <= hi_a
        except ValueError:
            raise _fail("Signature fields not well formed.")
        if not ok:
            msg = "This request is not authorized to perform this operation using this " \
                  "source IP %s." % req.client_ip
            raise StorageError("AuthorizationSourceIPMismatch", msg, front_end=True)


def _account_sas(req, key, q):
    fields = [req.account, q.get("sp", ""), q.get("ss", ""), q.get("srt", ""),
              q.get("st", ""), q.get("se", ""), q.get("sip", ""), q.get("spr", ""), q["sv"]]
    if q["sv"] >= "2020-12-06":
        fields.append(q.get("ses", ""))
    sts = "\n".join(fields) + "\n"
    if not hmac.compare_digest(_hmac(key, sts), q["sig"]):
        raise _fail("Signature did not match. String to sign used was %s" % sts)
    _time_window(q)
    _check_protocol_ip(req, q)
    if "f" not in q.get("ss", ""):
        raise StorageError("AuthorizationServiceMismatch", front_end=True)
    rtype, letters = OP_PERMS.get(req.op, ("o", "rwdlc"))
    if rtype not in q.get("srt", ""):
        raise StorageError("AuthorizationResourceTypeMismatch", front_end=True)
    if not any(c in q.get("sp", "") for c in letters):
        raise StorageError("AuthorizationPermissionMismatch", front_end=True)
    req.auth = {"kind": "sas", "perms": q.get("sp", "")}


def _service_sas(req, key, q):
    sr = q.get("sr")
    if sr not in ("s", "f") or req.share is None:
        raise _fail("Signature fields not well formed.")
    resource = "/file/%s/%s" % (req.account, req.share)
    if sr == "f":
        resource += "/" + "/".join(req.comps)
    signed = q
    if q.get("si"):
        pol = (getattr(req, "policies", None) or {}).get(q["si"])
        if pol is None:
            raise _fail("Signature did not match. Stored access policy '%s' was not found."
                        % q["si"])
        for k in ("sp", "st", "se"):
            if q.get(k) and pol.get(k):
                raise _fail("Signature fields not well formed: %s is given both in the "
                            "SAS and in the stored access policy." % k)
        signed = dict(q)
        signed.update({k: v for k, v in pol.items() if v and not q.get(k)})
    sts = "\n".join([q.get("sp", ""), q.get("st", ""), q.get("se", ""), resource,
                     q.get("si", ""), q.get("sip", ""), q.get("spr", ""), q["sv"],
                     q.get("rscc", ""), q.get("rscd", ""), q.get("rsce", ""),
                     q.get("rscl", ""), q.get("rsct", "")])
    if not hmac.compare_digest(_hmac(key, sts), q["sig"]):
        raise _fail("Signature did not match. String to sign used was %s" % sts)
    _time_window(signed)
    _check_protocol_ip(req, q)
    if sr == "f" and req.kind != "file":
        raise StorageError("AuthorizationResourceTypeMismatch", front_end=True)
    if sr == "s" and req.kind == "share" and req.op not in SHARE_SAS_SHARE_OPS:
        raise StorageError("AuthorizationResourceTypeMismatch", front_end=True)
    _, letters = OP_PERMS.get(req.op, ("o", "rwdlc"))
    if not any(c in signed.get("sp", "") for c in letters):
        raise StorageError("AuthorizationPermissionMismatch", front_end=True)
    req.auth = {"kind": "sas", "perms": signed.get("sp", ""),
                "overrides": {k: q[k] for k in ("rscc", "rscd", "rsce", "rscl", "rsct")
                              if q.get(k)}}


def parse_policies(acl_xml):
    """{id: {"sp", "st", "se"}} from a share's stored SignedIdentifiers XML."""
    out = {}
    for block in re.findall(r"<SignedIdentifier>(.*?)</SignedIdentifier>", acl_xml or "", re.S):
        ident = re.search(r"<Id>(.*?)</Id>", block, re.S)
        if not ident:
            continue
        pol = {}
        for tag, key in (("Permission", "sp"), ("Start", "st"), ("Expiry", "se")):
            m = re.search(r"<%s>(.*?)</%s>" % (tag, tag), block, re.S)
            pol[key] = m.group(1).strip() if m else ""
        out[ident.group(1).strip()] = pol
    return out


def sas(req, key):
    q = {k: v[-1] for k, v in req.query.items()}
    if not q.get("sv") or not q.get("sig"):
        raise _fail("Signature fields not well formed.")
    if q["sv"] < "2015-04-05":
        raise _fail("Signed version %s is not supported by this emulator." % q["sv"])
    if "ss" in q or "srt" in q:
        _account_sas(req, key, q)
    else:
        _service_sas(req, key, q)


def authenticate(req, key):
    if req.h("Authorization"):
        shared_key(req, key)
    elif "sig" in req.query:
        sas(req, key)
    else:
        raise StorageError("NoAuthenticationInformation", front_end=True,
                           headers={"WWW-Authenticate": "Bearer"})
