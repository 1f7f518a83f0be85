"""Service- and share-level operations: List Shares, Create/Get/Delete Share,
Get Share Stats, Set Share Properties/Metadata, Create/Get Permission,
share ACLs and file service properties. Called with the store lock held.
"""
import json

from . import common, names, util, xmlout
from .common import Resp
from .errors import StorageError, invalid_header, invalid_query, missing_header

MAX_QUOTA = 102400
DEFAULT_QUOTA = 5120
TIERS = ("TransactionOptimized", "Hot", "Cool")


def parse_maxresults(req):
    raw = req.q("maxresults")
    if raw is None:
        return None, 5000
    if not raw.isdigit() and not (raw.startswith("-") and raw[1:].isdigit()):
        raise invalid_query("maxresults", raw)
    v = int(raw)
    if v <= 0:
        raise StorageError("OutOfRangeQueryParameterValue",
                           details=[("QueryParameterName", "maxresults"),
                                    ("QueryParameterValue", raw), ("MinimumAllowed", "1"),
                                    ("MaximumAllowed", "2147483647")])
    return v, min(v, 5000)


def list_shares(ctx, req):
    prefix, marker = req.q("prefix"), req.q("marker")
    given_max, maxr = parse_maxresults(req)
    include = [i.strip().lower() for i in (req.q("include") or "").split(",") if i.strip()]
    for i in include:
        if i not in ("metadata", "snapshots", "deleted"):
            raise invalid_query("include", req.q("include"))
    start = ""
    if marker:
        pre = "/%s/" % req.account
        if not marker.startswith(pre):
            raise invalid_query("marker", marker)
        start = marker[len(pre):]
    shares = [s for n, s in sorted(ctx.store.shares.items())
              if n >= start and (not prefix or n.startswith(prefix))]
    page, rest = shares[:maxr], shares[maxr:]
    next_marker = "/%s/%s" % (req.account, rest[0].name) if rest else None
    body = xmlout.list_shares(req.endpoint, prefix, marker, given_max, page, next_marker,
                              "metadata" in include)
    return Resp(200, body=body, content_type="application/xml")


def _share_quota(req):
    q = util.parse_int_header(req.headers, "x-ms-share-quota")
    if q is not None and not 1 <= q <= MAX_QUOTA:
        raise invalid_header("x-ms-share-quota", req.h("x-ms-share-quota"))
    return q


def _tier(req):
    t = req.h("x-ms-access-tier")
    if t is None:
        return None
    for name in TIERS:
        if name.lower() == t.lower():
            return name
    raise invalid_header("x-ms-access-tier", t)


def create_share(ctx, req):
    names.check_share_name(req.share)
    quota = _share_quota(req) or DEFAULT_QUOTA
    tier = _tier(req) or "TransactionOptimized"
    meta = common.metadata(req)
    if req.share in ctx.store.shares:
        raise StorageError("ShareAlreadyExists")
    now = util.now_ticks()
    props = {"quota": quota, "tier": tier, "tier_time": now, "etag": util.new_etag(),
             "mtime": now, "meta": meta, "perms": {}}
    root = {"created": now, "written": now, "changed": now, "accessed": now,
            "attrs": "Directory", "perm_key": "", "etag": util.new_etag(), "mtime": now,
            "meta": {}}
    sh = ctx.store.create_share(req.share, props, root)
    root["perm_key"] = common.default_key(ctx.store, sh, True)
    ctx.store.save_entry(sh, sh.root)
    return Resp(201, common.etag_headers(props))


def _share_headers(sh):
    p = sh.p
    return (common.meta_headers(p.get("meta", {})) + common.etag_headers(p) +
            [("x-ms-share-quota", str(p["quota"])), ("x-ms-access-tier", p["tier"]),
             ("x-ms-access-tier-change-time", util.rfc1123(p["tier_time"])),
             ("x-ms-lease-state", "available"), ("x-ms-lease-status", "unlocked"),
             ("x-ms-has-immutability-policy", "false"), ("x-ms-has-legal-hold", "false")])


def get_share_properties(ctx, req):
    sh = ctx.store.get_share(req.share)
    return Resp(200, _share_headers(sh))


def get_share_metadata(ctx, req):
    sh = ctx.store.get_share(req.share)
    return Resp(200, common.meta_headers(sh.p.get("meta", {})) + common.etag_headers(sh.p))


def delete_share(ctx, req):
    ctx.store.get_share(req.share)
    ctx.store.delete_share(req.share)
    return Resp(202)


def get_share_stats(ctx, req):
    sh = ctx.store.get_share(req.share)
    body = xmlout.share_stats(ctx.store.usage_bytes(sh))
    return Resp(200, common.etag_headers(sh.p), body, "application/xml")


def set_share_properties(ctx, req):
    sh = ctx.store.get_share(req.share)
    quota, tier = _share_quota(req), _tier(req)
    now = util.now_ticks()
    if quota is not None:
        sh.p["quota"] = quota
    if tier is not None:
        sh.p["tier"], sh.p["tier_time"] = tier, now
    sh.p["etag"], sh.p["mtime"] = util.new_etag(), now
    ctx.store.save_share(sh)
    return Resp(200, common.etag_headers(sh.p))


def set_share_metadata(ctx, req):
    sh = ctx.store.get_share(req.share)
    sh.p["meta"] = common.metadata(req)
    sh.p["etag"], sh.p["mtime"] = util.new_etag(), util.now_ticks()
    ctx.store.save_share(sh)
    return Resp(200, common.etag_headers(sh.p))


def create_permission(ctx, req):
    sh = ctx.store.get_share(req.share)
    try:
        doc = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise StorageError("FileInvalidPermission")
    if not isinstance(doc, dict) or not isinstance(doc.get("permission"), str):
        raise StorageError("FileInvalidPermission")
    fmt = str(doc.get("format") or "sddl").lower()
    if fmt not in ("sddl", "binary"):
        raise StorageError("FileInvalidPermission")
    key = common.store_permission(ctx.store, sh, doc["permission"], fmt)
    return Resp(201, [("x-ms-file-permission-key", key)])


def get_permission(ctx, req):
    sh = ctx.store.get_share(req.share)
    key = req.h("x-ms-file-permission-key")
    if key is None:
        raise missing_header("x-ms-file-permission-key")
    perm = sh.p["perms"][common.known_key(sh, key)]
    out = {"permission": perm["permission"]}
    if util.version_at_least(req.version, "2024-11-04"):
        out["format"] = perm.get("format", "sddl")
    body = json.dumps(out).encode("utf-8")
    return Resp(200, body=body, content_type="application/json; charset=utf-8")


def get_share_acl(ctx, req):
    sh = ctx.store.get_share(req.share)
    body = sh.p.get("acl") or "<SignedIdentifiers />"
    return Resp(200, common.etag_headers(sh.p), xmlout.doc(body), "application/xml")


def set_share_acl(ctx, req):
    sh = ctx.store.get_share(req.share)
    text = req.body.decode("utf-8", "replace").lstrip("\ufeff")
    if text.startswith("<?xml"):
        text = text[text.find("?>") + 2:]
    sh.p["acl"] = text.strip() or "<SignedIdentifiers />"
    sh.p["etag"], sh.p["mtime"] = util.new_etag(), util.now_ticks()
    ctx.store.save_share(sh)
    return Resp(200, common.etag_headers(sh.p))


def get_service_properties(ctx, req):
    body = ctx.service_props or xmlout.DEFAULT_SERVICE_PROPERTIES
    return Resp(200, body=xmlout.doc(body), content_type="application/xml")


def set_service_properties(ctx, req):
    text = req.body.decode("utf-8", "replace").lstrip("\ufeff")
    if text.startswith("<?xml"):
        text = text[text.find("?>") + 2:]
    if "<StorageServiceProperties" not in text:
        raise StorageError("InvalidXmlDocument", "XML specified is not syntactically valid.",
                           status=400)
    ctx.service_props = text.strip()
    return Resp(202)


OPS = {
    "ListShares": list_shares, "CreateShare": create_share,
    "GetShareProperties": get_share_properties, "GetShareMetadata": get_share_metadata,
    "DeleteShare": delete_share, "GetShareStats": get_share_stats,
    "SetShareProperties": set_share_properties, "SetShareMetadata": set_share_metadata,
    "CreatePermission": create_permission, "GetPermission": get_permission,
    "GetShareAcl": get_share_acl, "SetShareAcl": set_share_acl,
    "GetFileServiceProperties": get_service_properties,
    "SetFileServiceProperties": set_service_properties,
}
