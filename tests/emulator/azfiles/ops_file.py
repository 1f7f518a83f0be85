"""File operations: Create File (with an optional body from 2026-02-06), Get
File (whole or ranged), Get File Properties/Metadata, Set File
Properties/Metadata, Delete File, Put Range (update/clear), List Ranges.

Written ranges are tracked per file (sorted disjoint [start, end) lists in
Entry.p["ranges"]) so List Ranges reports what was written and cleared
ranges vanish. Called with the store lock held; Get File returns an open
descriptor that the server streams from after releasing the lock.
"""
import base64
import hashlib
import re

from . import common, names, util, xmlout
from .common import Resp
from .errors import StorageError, invalid_header, missing_header
from .store import ranges_add, ranges_clip, ranges_sub

BODY_ON_CREATE_FROM = "2026-02-06"
SIZE_MSG = "The file size exceeds the maximum permissible limit."
CONTENT_HEADERS = [("ctype", "x-ms-content-type", "Content-Type"),
                   ("cenc", "x-ms-content-encoding", "Content-Encoding"),
                   ("clang", "x-ms-content-language", "Content-Language"),
                   ("ccache", "x-ms-cache-control", "Cache-Control"),
                   ("cdisp", "x-ms-content-disposition", "Content-Disposition"),
                   ("cmd5", "x-ms-content-md5", "Content-MD5")]
SAS_OVERRIDES = {"rscc": "Cache-Control", "rscd": "Content-Disposition",
                 "rsce": "Content-Encoding", "rscl": "Content-Language", "rsct": "Content-Type"}


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def check_md5(req, data):
    """-> md5_b64(data) when Content-MD5 was given (and matched), else None."""
    given = req.h("Content-MD5")
    if given is None:
        return None
    calc = md5_b64(data)
    if given.strip() != calc:
        raise StorageError("Md5Mismatch", details=[("UserSpecifiedMd5", given.strip()),
                                                   ("ServerCalculatedMd5", calc)])
    return calc


def _size_header(req, name, required):
    raw = req.h(name)
    if raw is None:
        if required:
            raise missing_header(name)
        return None
    if not re.match(r"^\s*-?\d+\s*$", raw):
        raise invalid_header(name, raw)
    v = int(raw)
    if v < 0 or v > util.MAX_FILE_SIZE:
        raise StorageError("OutOfRangeInput", SIZE_MSG)
    return v


def _content_props(req):
    out = {}
    first = req._first     # req.h() without a call per header (names are lower case)
    for key, header, _resp in CONTENT_HEADERS:
        v = first.get(header)
        if v is not None:
            out[key] = v
    return out


def _file(ctx, req):
    sh = ctx.store.get_share(req.share)
    return sh, common.lookup_existing(ctx.store, sh, req, False)


def _create_body(req):
    body = req.body or b""
    cl = req.h("Content-Length")
    if body or (cl and cl.strip() not in ("", "0")):
        if not util.version_at_least(req.version, BODY_ON_CREATE_FROM):
            raise invalid_header("Content-Length", cl)
    return body


def create_file(ctx, req):
    common.require_smb_headers(req)
    xtype = req.h("x-ms-type")
    if xtype is None:
        raise missing_header("x-ms-type")
    if xtype.strip().lower() != "file":
        raise invalid_header("x-ms-type", xtype)
    size = _size_header(req, "x-ms-content-length", True)
    body = _create_body(req)
    if body and len(body) != size:
        raise invalid_header("Content-Length", str(len(body)))
    body_md5 = check_md5(req, body)
    names.check_path(req.comps)
    sh = ctx.store.get_share(req.share)
    parent, existing = ctx.store.lookup(sh, req.comps)
    now = util.now_ticks()
    props = common.new_props(req, ctx.store, sh, False, now)
    props.update(_content_props(req))
    props["size"] = size
    props["ranges"] = [[0, len(body)]] if body else []
    if existing is not None:
        if existing.is_dir:
            raise StorageError("ResourceAlreadyExists")
        common.check_lease(req, existing)
        if req.auth and req.auth.get("kind") == "sas" and "w" not in req.auth["perms"]:
            raise StorageError("AuthorizationPermissionMismatch")
        props["lease"] = existing.p.get("lease")
        existing.p = props
        e = existing
        ctx.store.save_entry(sh, e)
    else:
        e = ctx.store.add_entry(sh, parent, req.comps[-1], False, props)
    ctx.store.replace_content(sh, e, size, body, new=existing is None)
    hdrs = common.etag_headers(e.p) + [("x-ms-request-server-encrypted", "true")]
    if body:
        hdrs.append(("Content-MD5", body_md5 or md5_b64(body)))
    return Resp(201, hdrs + common.smb_headers(e))


def _content_headers(req, e):
    out = {}
    for key, _h, resp in CONTENT_HEADERS:
        if key in e.p and key != "cmd5":
            out[resp] = e.p[key]
    out.setdefault("Content-Type", "application/octet-stream")
    for k, resp in SAS_OVERRIDES.items():
        v = ((req.auth or {}).get("overrides") or {}).get(k)
        if v:
            out[resp] = v
    return list(out.items())


def _file_headers(req, e):
    return (common.meta_headers(e.p.get("meta", {})) + common.etag_headers(e.p) +
            _content_headers(req, e) +
            [("x-ms-type", "File"), ("x-ms-server-encrypted", "true")] +
            common.lease_headers(e) + common.smb_headers(e))


def get_file_properties(ctx, req):
    _sh, e = _file(ctx, req)
    common.check_lease(req, e, write=False)
    hdrs = _file_headers(req, e) + [("Content-Length", str(e.p["size"]))]
    if "cmd5" in e.p:
        hdrs.append(("Content-MD5", e.p["cmd5"]))
    return Resp(200, hdrs)


def parse_range(req, size_for_open_end):
    """(header name, start, end-inclusive-or-None) from x-ms-range / Range, or None."""
    name = "x-ms-range" if req.h("x-ms-range") is not None else "Range"
    raw = req.h(name)
    if raw is None:
        return None
    m = re.match(r"^\s*bytes=(\d+)-(\d*)\s*$", raw)
    if not m:
        raise invalid_header(name, raw)
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else None
    if end is not None and end < start:
        raise invalid_header(name, raw)
    return name, start, end


def get_file(ctx, req):
    sh, e = _file(ctx, req)
    common.check_lease(req, e, write=False)
    size = e.p["size"]
    rng = parse_range(req, size)
    want_md5 = util.parse_bool_header(req.headers, "x-ms-range-get-content-md5")
    hdrs = _file_headers(req, e) + [("Accept-Ranges", "bytes")]
    if rng is None:
        if want_md5:
            raise invalid_header("x-ms-range-get-content-md5", "true")
        start, length, status = 0, size, 200
        if "cmd5" in e.p:
            hdrs.append(("Content-MD5", e.p["cmd5"]))
    else:
        _name, start, end = rng
        if start >= size:
            raise StorageError("InvalidRange",
                               headers={"Content-Range": "bytes */%d" % size})
        end = size - 1 if end is None else min(end, size - 1)
        length, status = end - start + 1, 206
        hdrs.append(("Content-Range", "bytes %d-%d/%d" % (start, end, size)))
        if want_md5 and length > util.MAX_RANGE:
            raise StorageError("OutOfRangeInput")
        if "cmd5" in e.p:
            hdrs.append(("x-ms-content-md5", e.p["cmd5"]))
    resp = Resp(status, hdrs)
    resp.stream = (ctx.store.open_read(sh, e), start, length)
    resp.want_md5 = want_md5
    return resp


def get_file_metadata(ctx, req):
    _sh, e = _file(ctx, req)
    return Resp(200, common.meta_headers(e.p.get("meta", {})) + common.etag_headers(e.p))


def set_file_properties(ctx, req):
    common.require_smb_headers(req)
    sh, e = _file(ctx, req)
    common.check_lease(req, e)
    new_size = _size_header(req, "x-ms-content-length", False)
    now = util.now_ticks()
    explicit_write = common.apply_smb_updates(req, ctx.store, sh, e, now)
    for key, header, _resp in CONTENT_HEADERS:
        v = req.h(header)
        if v is None:
            e.p.pop(key, None)
        else:
            e.p[key] = v
    if new_size is not None:
        ctx.store.truncate(sh, e, new_size)
        e.p["ranges"] = ranges_clip(e.p.get("ranges", []), 0, new_size)
        e.p["size"] = new_size
        if not explicit_write:
            e.p["written"] = now
    e.p["etag"], e.p["mtime"] = util.new_etag(), now
    ctx.store.save_entry(sh, e)
    hdrs = common.etag_headers(e.p) + [("x-ms-request-server-encrypted", "true")]
    return Resp(200, hdrs + common.smb_headers(e))


def set_file_metadata(ctx, req):
    sh, e = _file(ctx, req)
    common.check_lease(req, e)
    e.p["meta"] = common.metadata(req)
    common.touch(e, util.now_ticks())
    ctx.store.save_entry(sh, e)
    return Resp(200, common.etag_headers(e.p) + [("x-ms-request-server-encrypted", "true")])


def delete_file(ctx, req):
    sh, e = _file(ctx, req)
    common.check_lease(req, e)
    if "ReadOnly" in e.p.get("attrs", ""):
        raise StorageError("ReadOnlyAttribute")
    ctx.store.remove_entry(sh, e)
    return Resp(202)


def _write_mode(req):
    # Put Range (2021-06-08+): x-ms-file-last-write-time: Now (default) | Preserve
    raw = req.h("x-ms-file-last-write-time")
    if raw is None:
        return "now"
    if raw.strip().lower() not in ("now", "preserve"):
        raise invalid_header("x-ms-file-last-write-time", raw)
    return raw.strip().lower()


def put_range(ctx, req):
    write = req.h("x-ms-write")
    if write is None:
        raise missing_header("x-ms-write")
    if write.strip().lower() not in ("update", "clear"):
        raise invalid_header("x-ms-write", write)
    clear = write.strip().lower() == "clear"
    rng = parse_range(req, None)
    if rng is None:
        raise missing_header("Range")
    name, start, end = rng
    if end is None:
        raise invalid_header(name, req.h(name))
    length = end - start + 1
    body = req.body or b""
    if clear and body:
        raise invalid_header("Content-Length", str(len(body)))
    if not clear:
        if length > util.MAX_RANGE:
            raise StorageError("RequestBodyTooLarge", details=[("MaxLimit", util.MAX_RANGE)])
        if len(body) != length:
            raise invalid_header("Content-Length", str(len(body)))
        body_md5 = check_md5(req, body)
    mode = _write_mode(req)
    sh, e = _file(ctx, req)
    common.check_lease(req, e)
    if end >= e.p["size"]:
        raise StorageError("InvalidRange")
    if clear:
        ctx.store.clear_range(sh, e, start, length)
        e.p["ranges"] = ranges_sub(e.p.get("ranges", []), start, end + 1)
    else:
        ctx.store.write_range(sh, e, start, body)
        e.p["ranges"] = ranges_add(e.p.get("ranges", []), start, end + 1)
    common.touch(e, util.now_ticks(), write=(mode == "now"))
    ctx.store.save_entry(sh, e)
    hdrs = common.etag_headers(e.p)
    if not clear:
        hdrs.append(("Content-MD5", body_md5 or md5_b64(body)))
    hdrs += [("x-ms-request-server-encrypted", "true"),
             ("x-ms-file-last-write-time", util.iso7(e.p["written"]))]
    return Resp(201, hdrs)


def list_ranges(ctx, req):
    _sh, e = _file(ctx, req)
    common.check_lease(req, e, write=False)
    size = e.p["size"]
    rng = parse_range(req, size)
    ranges = e.p.get("ranges", [])
    if rng is not None:
        _n, start, end = rng
        ranges = ranges_clip(ranges, start, size if end is None else end + 1)
    hdrs = common.etag_headers(e.p) + [("x-ms-content-length", str(size))]
    return Resp(200, hdrs, xmlout.range_list(ranges), "application/xml")


OPS = {
    "CreateFile": create_file, "GetFile": get_file, "GetFileProperties": get_file_properties,
    "GetFileMetadata": get_file_metadata, "SetFileProperties": set_file_properties,
    "SetFileMetadata": set_file_metadata, "DeleteFile": delete_file, "PutRange": put_range,
    "ListRanges": list_ranges,
}
