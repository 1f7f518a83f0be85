"""Rename File, Rename Directory and Lease File.

Rename: the destination is the request URL, the source comes from
x-ms-file-rename-source (a full URL, with or without the account segment on
path-style URLs, or a path). Checks follow the service's order: source
exists, destination parent exists, destination exists without
replace-if-exists -> 409 ResourceAlreadyExists, read-only destination ->
409 ReadOnlyAttribute, leased destination/source without the lease id ->
412 LeaseIdMissing. The entry keeps its file id; its change time and ETag
move. Lease: infinite file leases (acquire/release/change/break).
Called with the store lock held.
"""
from urllib.parse import unquote, urlsplit

from . import common, names, util
from .common import Resp
from .errors import StorageError, invalid_header, missing_header


def _source_components(req):
    raw = req.h("x-ms-file-rename-source")
    if raw is None:
        raise missing_header("x-ms-file-rename-source")
    src = raw.strip()
    if src.lower().startswith(("http://", "https://")):
        parts = urlsplit(src)
        segs = [unquote(s) for s in parts.path.split("/")[1:]]
        host_style = parts.hostname and parts.hostname.lower().startswith(
            req.account.lower() + ".file.")
        if not host_style and segs and segs[0] == req.account:
            segs = segs[1:]
    else:
        path = unquote(src.split("?", 1)[0])
        segs = path.split("/")
        if path.startswith("/"):
            segs = segs[1:]
            if segs and segs[0] == req.account and not req.host_style:
                segs = segs[1:]
        else:
            segs = [req.share] + segs
    segs = [s for s in segs if s != ""]
    if len(segs) < 2:
        raise invalid_header("x-ms-file-rename-source", raw)
    if segs[0] != req.share:
        raise StorageError("InvalidInput", "The source and destination must be in the same "
                                           "share.")
    if not names.keep_trailing_dots(req, "x-ms-source-allow-trailing-dot"):
        return names.trim_trailing_dots(segs[1:])
    return segs[1:]


def _is_within(e, ancestor):
    while e is not None:
        if e is ancestor:
            return True
        e = e.parent
    return False


def _rename(ctx, req, want_dir):
    replace = util.parse_bool_header(req.headers, "x-ms-file-rename-replace-if-exists")
    ignore_ro = util.parse_bool_header(req.headers, "x-ms-file-rename-ignore-readonly")
    names.check_path(req.comps)
    sh = ctx.store.get_share(req.share)
    src_comps = _source_components(req)
    names.check_path(src_comps)
    _sp, src = ctx.store.lookup(sh, src_comps)
    if src is None or src.is_dir != want_dir:
        raise StorageError("ResourceNotFound")
    dparent, dest = ctx.store.lookup(sh, req.comps)
    if want_dir and _is_within(dparent, src):
        raise StorageError("InvalidInput", "The destination is inside the source directory.")
    if dest is not None and dest is not src:
        if not replace:
            raise StorageError("ResourceAlreadyExists")
        if dest.is_dir:
            raise StorageError("ResourceAlreadyExists")
        if "ReadOnly" in dest.p.get("attrs", "") and not ignore_ro:
            raise StorageError("ReadOnlyAttribute")
        common.check_lease(req, dest, "x-ms-destination-lease-id")
    if not want_dir:
        common.check_lease(req, src, "x-ms-source-lease-id")
    now = util.now_ticks()
    common.apply_smb_updates(req, ctx.store, sh, src, now)
    if not want_dir and req.h("x-ms-content-type") is not None:
        src.p["ctype"] = req.h("x-ms-content-type")
    if any(k.lower().startswith("x-ms-meta-") for k in req.headers.keys()):
        src.p["meta"] = common.metadata(req)
    if dest is not None and dest is not src:
        ctx.store.remove_entry(sh, dest)
    ctx.store.move_entry(sh, src, dparent, req.comps[-1])
    src.p["etag"], src.p["mtime"] = util.new_etag(), now
    ctx.store.save_entry(sh, src)
    hdrs = common.etag_headers(src.p) + [("x-ms-request-server-encrypted", "true")]
    return Resp(200, hdrs + common.smb_headers(src))


def rename_file(ctx, req):
    return _rename(ctx, req, False)


def rename_directory(ctx, req):
    return _rename(ctx, req, True)


def _proposed(req, required):
    v = req.h("x-ms-proposed-lease-id")
    if v is None:
        if required:
            raise missing_header("x-ms-proposed-lease-id")
        return util.new_lease_id()
    if not util.is_guid(v.strip()):
        raise invalid_header("x-ms-proposed-lease-id", v)
    return v.strip()


def _lease_id(req):
    v = req.h("x-ms-lease-id")
    if v is None:
        raise missing_header("x-ms-lease-id")
    if not util.is_guid(v.strip()):
        raise invalid_header("x-ms-lease-id", v)
    return v.strip()


def lease_file(ctx, req):
    action = (req.h("x-ms-lease-action") or "").strip().lower()
    if not req.h("x-ms-lease-action"):
        raise missing_header("x-ms-lease-action")
    if action not in ("acquire", "release", "change", "break"):
        raise invalid_header("x-ms-lease-action", req.h("x-ms-lease-action"))
    if action == "acquire":
        dur = req.h("x-ms-lease-duration")
        if dur is None:
            raise missing_header("x-ms-lease-duration")
        if dur.strip() != "-1":
            raise invalid_header("x-ms-lease-duration", dur)
    sh = ctx.store.get_share(req.share)
    e = common.lookup_existing(ctx.store, sh, req, False)
    lease = e.p.get("lease") or {"state": "available", "id": None}
    state = lease["state"]
    hdrs = common.etag_headers(e.p)
    if action == "acquire":
        new_id = _proposed(req, False)
        if state == "leased" and lease["id"].lower() != new_id.lower():
            raise StorageError("LeaseAlreadyPresent")
        e.p["lease"] = {"state": "leased", "id": new_id}
        status = 201
        hdrs.append(("x-ms-lease-id", new_id))
    elif action == "break":
        if state == "available":
            raise StorageError("LeaseNotPresentWithLeaseOperation")
        e.p["lease"] = {"state": "broken", "id": lease["id"]}
        status = 202
        hdrs.append(("x-ms-lease-time", "0"))
    else:
        given = _lease_id(req)
        if state == "available" or (state == "broken" and action == "change"):
            raise StorageError("LeaseNotPresentWithLeaseOperation")
        if lease["id"].lower() != given.lower():
            raise StorageError("LeaseIdMismatchWithLeaseOperation")
        status = 200
        if action == "release":
            e.p["lease"] = {"state": "available", "id": None}
        else:
            new_id = _proposed(req, True)
            e.p["lease"] = {"state": "leased", "id": new_id}
            hdrs.append(("x-ms-lease-id", new_id))
    ctx.store.save_entry(sh, e)
    return Resp(status, hdrs)


OPS = {"RenameFile": rename_file, "RenameDirectory": rename_directory, "LeaseFile": lease_file}
