"""Directory operations: Create/Get/Delete Directory, Set Directory
Metadata/Properties, List Directories and Files, List/Force Close Handles.

Listing order is the service's: files and directories merged, by
case-insensitive name (tests/fixtures/list_plain.json). Continuation markers
look like the service's: "1!<len>!<base64 of the next name, '=' as '-'>".
Called with the store lock held.
"""
import base64
import binascii
import re

from . import common, names, util, xmlout
from .common import Resp
from .errors import StorageError, invalid_query
from .ops_share import parse_maxresults

INCLUDE_VALUES = ("timestamps", "etag", "attributes", "permissionkey")
IDS_FROM = "2020-04-08"


def encode_marker(name):
    b64 = base64.b64encode(name.encode("utf-8")).decode("ascii").replace("=", "-")
    return "1!%d!%s" % (len(b64), b64)


def decode_marker(marker):
    m = re.match(r"^1!(\d+)!(.*)$", marker or "")
    if not m or int(m.group(1)) != len(m.group(2)):
        raise invalid_query("marker", marker)
    try:
        return base64.b64decode(m.group(2).replace("-", "="), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid_query("marker", marker)


def create_directory(ctx, req):
    common.require_smb_headers(req)
    names.check_path(req.comps)
    sh = ctx.store.get_share(req.share)
    parent, existing = ctx.store.lookup(sh, req.comps)
    now = util.now_ticks()
    props = common.new_props(req, ctx.store, sh, True, now)
    if existing is not None:
        raise StorageError("ResourceAlreadyExists")
    e = ctx.store.add_entry(sh, parent, req.comps[-1], True, props)
    hdrs = common.etag_headers(e.p) + [("x-ms-request-server-encrypted", "true")]
    return Resp(201, hdrs + common.smb_headers(e))


def _dir(ctx, req):
    sh = ctx.store.get_share(req.share)
    if not req.comps:
        return sh, sh.root
    return sh, common.lookup_existing(ctx.store, sh, req, True)


def get_directory_properties(ctx, req):
    _sh, e = _dir(ctx, req)
    hdrs = (common.meta_headers(e.p.get("meta", {})) + common.etag_headers(e.p) +
            [("x-ms-server-encrypted", "true")] + common.smb_headers(e))
    return Resp(200, hdrs)


def get_directory_metadata(ctx, req):
    _sh, e = _dir(ctx, req)
    return Resp(200, common.meta_headers(e.p.get("meta", {})) + common.etag_headers(e.p))


def set_directory_metadata(ctx, req):
    sh, e = _dir(ctx, req)
    e.p["meta"] = common.metadata(req)
    common.touch(e, util.now_ticks())
    ctx.store.save_entry(sh, e)
    return Resp(200, common.etag_headers(e.p) + [("x-ms-request-server-encrypted", "true")])


def set_directory_properties(ctx, req):
    common.require_smb_headers(req)
    sh, e = _dir(ctx, req)
    now = util.now_ticks()
    common.apply_smb_updates(req, ctx.store, sh, e, now)
    e.p["etag"], e.p["mtime"] = util.new_etag(), now
    ctx.store.save_entry(sh, e)
    hdrs = common.etag_headers(e.p) + [("x-ms-request-server-encrypted", "true")]
    return Resp(200, hdrs + common.smb_headers(e))


def delete_directory(ctx, req):
    sh, e = _dir(ctx, req)
    if e.children:
        raise StorageError("DirectoryNotEmpty")
    ctx.store.remove_entry(sh, e)
    return Resp(202)


def _include(req):
    raw = req.q("include")
    if raw is None:
        return set()
    out = set()
    for part in raw.split(","):
        v = part.strip().lower()
        if v not in INCLUDE_VALUES:
            raise invalid_query("include", raw)
        out.add(v)
    return out


def list_directory(ctx, req):
    include = _include(req)
    given_max, maxr = parse_maxresults(req)
    prefix, marker = req.q("prefix"), req.q("marker")
    start = names.fold(decode_marker(marker)) if marker else None
    sh, d = _dir(ctx, req)
    fp = names.fold(prefix) if prefix else ""
    items = sorted(d.children.items())
    items = [e for k, e in items if k.startswith(fp) and (start is None or k >= start)]
    page, rest = items[:maxr], items[maxr:]
    next_marker = encode_marker(rest[0].name) if rest else None
    body = xmlout.list_dir(req.endpoint, sh.name, "/".join(req.comps), d.id,
                           prefix, marker, given_max, page, next_marker, include,
                           util.version_at_least(req.version, IDS_FROM))
    return Resp(200, body=body, content_type="application/xml")


def list_handles(ctx, req):
    sh = ctx.store.get_share(req.share)
    if req.comps:
        names.check_path(req.comps)
        _p, e = ctx.store.lookup(sh, req.comps)
        if e is None:
            raise StorageError("ResourceNotFound")
    return Resp(200, body=xmlout.handles_list(), content_type="application/xml")


def force_close_handles(ctx, req):
    list_handles(ctx, req)
    return Resp(200, [("x-ms-number-of-handles-closed", "0"),
                      ("x-ms-number-of-handles-failed", "0")])


OPS = {
    "CreateDirectory": create_directory, "GetDirectoryProperties": get_directory_properties,
    "GetDirectoryMetadata": get_directory_metadata,
    "SetDirectoryMetadata": set_directory_metadata,
    "SetDirectoryProperties": set_directory_properties, "DeleteDirectory": delete_directory,
    "ListDirectoriesAndFiles": list_directory, "ListHandles": list_handles,
    "ForceCloseHandles": force_close_handles,
}
