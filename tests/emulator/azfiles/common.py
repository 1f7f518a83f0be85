"""Pieces shared by the operation modules: the response object, SMB
properties (attributes, times, permission keys), metadata, leases, and the
x-ms-file-* response headers. Called with the store lock held.
"""
import base64
import binascii
import functools
import hashlib
import re

from . import names, util
from .errors import StorageError, invalid_header, missing_header

ATTR_BITS = [("ReadOnly", 0x1), ("Hidden", 0x2), ("System", 0x4), ("None", 0x80),
             ("Directory", 0x10), ("Archive", 0x20), ("Temporary", 0x100),
             ("Offline", 0x1000), ("NotContentIndexed", 0x2000), ("NoScrubData", 0x20000)]
ATTR_ORDER = ["ReadOnly", "Hidden", "System", "None", "Directory", "Archive", "Temporary",
              "Offline", "NotContentIndexed", "NoScrubData"]
ATTR_LOOKUP = {n.lower(): n for n, _ in ATTR_BITS}

DEFAULT_DIR_SDDL = ("O:SYG:SYD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;AU)"
                    "(A;OICI;0x1200a9;;;BU)")
DEFAULT_FILE_SDDL = "O:SYG:SYD:(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1301bf;;;AU)(A;;0x1200a9;;;BU)"

_SID = r"(?:[A-Z]{2}|S(?:-\d+)+)"
_ACL = r"[PAIRNO]*(?:\([^()]*\))*"
SDDL_RE = re.compile(r"^(?:O:%s)?(?:G:%s)?(?:D:%s)?(?:S:%s)?$" % (_SID, _SID, _ACL, _ACL))
SMB_DEFAULTS_FROM = "2021-06-08"


class Resp:
    """status, headers (list of pairs), body bytes, or a stream (fd, offset, length)."""

    def __init__(self, status, headers=None, body=b"", content_type=None):
        self.status = status
        self.headers = list(headers or [])
        self.body = body
        self.stream = None
        if content_type:
            self.headers.append(("Content-Type", content_type))


# ---------------- permissions ----------------
@functools.lru_cache(maxsize=1024)   # pure; cached to save CPU per create
def _h64(text):
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@functools.lru_cache(maxsize=1024)   # pure; cached to save CPU per create
def valid_sddl(s):
    if not s or not SDDL_RE.match(s):
        return False
    for ace in re.findall(r"\(([^()]*)\)", s):
        if ace.count(";") < 5:
            return False
    return True


def store_permission(store, sh, text, fmt="sddl"):
    """Permission text -> deterministic key "<h64(text)>*<h64(share)>"."""
    if fmt == "binary":
        try:
            base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise StorageError("FileInvalidPermission")
    elif not valid_sddl(text):
        raise StorageError("FileInvalidPermission")
    key = "%d*%d" % (_h64(fmt + ":" + text), _h64(sh.name))
    perms = sh.p.setdefault("perms", {})
    if key not in perms:
        perms[key] = {"permission": text, "format": fmt}
        store.save_share(sh)
    return key


def known_key(sh, key):
    """A permission key of this share: malformed -> InvalidHeaderValue,
    well formed but never created -> FileInvalidPermissionKey (documented)."""
    if not re.fullmatch(r"\d+\*\d+", key.strip()):
        raise invalid_header("x-ms-file-permission-key", key)
    if key.strip() not in sh.p.get("perms", {}):
        raise StorageError("FileInvalidPermissionKey")
    return key.strip()


def default_key(store, sh, is_dir):
    return store_permission(store, sh, DEFAULT_DIR_SDDL if is_dir else DEFAULT_FILE_SDDL)


def resolve_permission(req, store, sh, is_dir, creating):
    """-> new key, or None for preserve."""
    perm = req.h("x-ms-file-permission")
    key = req.h("x-ms-file-permission-key")
    fmt = (req.h("x-ms-file-permission-format") or "sddl").lower()
    if fmt not in ("sddl", "binary"):
        raise invalid_header("x-ms-file-permission-format", req.h("x-ms-file-permission-format"))
    if perm is not None and key is not None:
        raise invalid_header("x-ms-file-permission-key", key)
    if key is not None:
        return known_key(sh, key)
    if perm is None or perm.lower() == ("inherit" if creating else "preserve"):
        return default_key(store, sh, is_dir) if creating else None
    if perm.lower() in ("inherit", "preserve"):
        raise invalid_header("x-ms-file-permission", perm)
    if len(perm.encode("utf-8")) > 8 * 1024:
        raise invalid_header("x-ms-file-permission", perm[:64])
    return store_permission(store, sh, perm, fmt)


# ---------------- attributes and times ----------------
def parse_attributes(raw, is_dir, allow_preserve):
    if raw is None:
        return None
    if raw.strip().lower() == "preserve":
        if not allow_preserve:
            raise invalid_header("x-ms-file-attributes", raw)
        return None
    seen = set()
    for part in raw.split("|"):
        name = ATTR_LOOKUP.get(part.strip().lower())
        if name is None:
            raise invalid_header("x-ms-file-attributes", raw)
        seen.add(name)
    if "None" in seen and len(seen) > 1:
        raise invalid_header("x-ms-file-attributes", raw)
    if is_dir:
        seen.discard("None")
        seen.add("Directory")
    else:
        if "Directory" in seen:
            raise invalid_header("x-ms-file-attributes", raw)
        if seen == {"None"} or not seen:
            seen = {"Archive"}
    return " | ".join(n for n in ATTR_ORDER if n in seen)


def parse_time(req, name, allow_preserve, now):
    raw = req.h(name)
    if raw is None:
        return None
    low = raw.strip().lower()
    if low == "now":
        return now
    if low == "preserve":
        if not allow_preserve:
            raise invalid_header(name, raw)
        return None
    t = util.parse_iso(raw.strip())
    if t is None:
        raise invalid_header(name, raw)
    return t


def require_smb_headers(req):
    """Before 2021-06-08 the SMB properties are required on create/set."""
    if util.version_at_least(req.version, SMB_DEFAULTS_FROM):
        return
    for name in ("x-ms-file-attributes", "x-ms-file-creation-time",
                 "x-ms-file-last-write-time"):
        if req.h(name) is None:
            raise missing_header(name)
    if req.h("x-ms-file-permission") is None and req.h("x-ms-file-permission-key") is None:
        raise missing_header("x-ms-file-permission")


def new_props(req, store, sh, is_dir, now):
    """Properties of a newly created file or directory."""
    attrs = parse_attributes(req.h("x-ms-file-attributes"), is_dir, False)
    created = parse_time(req, "x-ms-file-creation-time", False, now) or now
    written = parse_time(req, "x-ms-file-last-write-time", False, now) or now
    changed = parse_time(req, "x-ms-file-change-time", False, now) or now
    key = resolve_permission(req, store, sh, is_dir, True)
    return {"created": created, "written": written, "changed": changed, "accessed": now,
            "attrs": attrs or ("Directory" if is_dir else "Archive"), "perm_key": key,
            "etag": util.new_etag(), "mtime": now, "meta": metadata(req)}


def apply_smb_updates(req, store, sh, e, now, change_default_now=True):
    """Set Properties / Rename: apply the given SMB properties (preserve by default)."""
    attrs = parse_attributes(req.h("x-ms-file-attributes"), e.is_dir, True)
    created = parse_time(req, "x-ms-file-creation-time", True, now)
    written = parse_time(req, "x-ms-file-last-write-time", True, now)
    changed = parse_time(req, "x-ms-file-change-time", True, now)
    key = resolve_permission(req, store, sh, e.is_dir, False)
    if attrs is not None:
        e.p["attrs"] = attrs
    if created is not None:
        e.p["created"] = created
    if written is not None:
        e.p["written"] = written
    if key is not None:
        e.p["perm_key"] = key
    if changed is not None:
        e.p["changed"] = changed
    elif change_default_now:
        e.p["changed"] = now
    return written is not None


def touch(e, now, write=False):
    e.p["etag"] = util.new_etag()
    e.p["mtime"] = now
    e.p["changed"] = now
    if write:
        e.p["written"] = now


# ---------------- metadata ----------------
def metadata(req):
    meta = {}
    for low, (name, value) in zip(req.header_lows, req.header_items):
        if low.startswith("x-ms-meta-"):
            meta[name[10:]] = value.strip()
    names.check_metadata(meta)
    return meta


def meta_headers(meta):
    return [("x-ms-meta-" + k, v) for k, v in meta.items()]


# ---------------- leases ----------------
def lease_state(e):
    return (e.p.get("lease") or {}).get("state", "available")


def check_lease(req, e, header="x-ms-lease-id", write=True):
    given = req.h(header)
    leased = lease_state(e) == "leased"
    if leased:
        if given is None:
            if write:
                raise StorageError("LeaseIdMissing")
            return
        if given.strip().lower() != e.p["lease"]["id"].lower():
            raise StorageError("LeaseIdMismatchWithFileOperation")
    elif given is not None:
        raise StorageError("LeaseNotPresentWithFileOperation")


def lease_headers(e):
    state = lease_state(e)
    out = [("x-ms-lease-state", state),
           ("x-ms-lease-status", "locked" if state == "leased" else "unlocked")]
    if state == "leased":
        out.append(("x-ms-lease-duration", "infinite"))
    return out


# ---------------- response headers ----------------
def etag_headers(p):
    return [("ETag", p["etag"]), ("Last-Modified", util.rfc1123(p["mtime"]))]


def smb_headers(e):
    p = e.p
    parent = 0 if e.parent is None else e.parent.id
    return [("x-ms-file-permission-key", p["perm_key"]), ("x-ms-file-attributes", p["attrs"]),
            ("x-ms-file-creation-time", util.iso7(p["created"])),
            ("x-ms-file-last-write-time", util.iso7(p["written"])),
            ("x-ms-file-change-time", util.iso7(p["changed"])),
            ("x-ms-file-id", str(e.id)), ("x-ms-file-parent-id", str(parent))]


def reject_conditions(req):
    first = req._first
    for h in ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since"):
        if first.get(h) is not None:
            raise StorageError("ConditionHeadersNotSupported")


def lookup_existing(store, sh, req, want_dir):
    """Entry for req.comps or ResourceNotFound/ParentNotFound."""
    names.check_path(req.comps)
    _parent, e = store.lookup(sh, req.comps)
    if e is None or e.is_dir != want_dir:
        raise StorageError("ResourceNotFound")
    return e
