"""XML bodies, built as strings in exactly the service's element order.

Every body starts with the UTF-8 BOM and '<?xml version="1.0"
encoding="utf-8"?>' like the recorded responses in tests/fixtures. Empty
elements are written "<Name />" as the service does.
"""
from urllib.parse import quote
from xml.sax.saxutils import escape

from . import names, util

BOM = "\ufeff"
HEAD = '<?xml version="1.0" encoding="utf-8"?>'


def attr(v):
    return escape(v, {'"': "&quot;"})


def el(name, text):
    if text is None or text == "":
        return "<%s />" % name
    return "<%s>%s</%s>" % (name, escape(str(text)), name)


def doc(body):
    return (BOM + HEAD + body).encode("utf-8")


def error_body(code, message, req_id, ticks, details):
    parts = ["<Error>", el("Code", code),
             el("Message", "%s\nRequestId:%s\nTime:%s" % (message, req_id, util.iso7(ticks)))]
    for name, text in details:
        parts.append(el(name, text))
    parts.append("</Error>")
    return doc("".join(parts))


def _meta_xml(meta):
    return "<Metadata>%s</Metadata>" % "".join(el(k, v) for k, v in meta.items())


def share_xml(sh, include_meta):
    p = sh.p
    props = [el("Last-Modified", util.rfc1123(p["mtime"])), el("Etag", p["etag"]),
             el("LeaseStatus", "unlocked"), el("LeaseState", "available"),
             el("Quota", p["quota"]), el("AccessTier", p["tier"]),
             el("AccessTierChangeTime", util.rfc1123(p["tier_time"])),
             el("DefaultEncryptionScope", "$account-encryption-key"),
             el("DenyEncryptionScopeOverride", "false")]
    out = "<Share>%s<Properties>%s</Properties>" % (el("Name", sh.name), "".join(props))
    if include_meta:
        out += _meta_xml(p.get("meta", {}))
    return out + "</Share>"


def list_shares(endpoint, prefix, marker, maxresults, shares, next_marker, include_meta):
    parts = ['<EnumerationResults ServiceEndpoint="%s">' % attr(endpoint)]
    if prefix is not None:
        parts.append(el("Prefix", prefix))
    if marker is not None:
        parts.append(el("Marker", marker))
    if maxresults is not None:
        parts.append(el("MaxResults", maxresults))
    if shares:
        parts.append("<Shares>%s</Shares>" % "".join(share_xml(s, include_meta) for s in shares))
    else:
        parts.append("<Shares />")
    parts.append(el("NextMarker", next_marker))
    parts.append("</EnumerationResults>")
    return doc("".join(parts))


def _name_xml(name):
    if names.needs_encoding(name):
        return '<Name Encoded="true">%s</Name>' % escape(quote(name, safe=""))
    return el("Name", name)


def _times_xml(p, include):
    out = []
    if "timestamps" in include:
        out += [el("CreationTime", util.iso7(p["created"])),
                el("LastAccessTime", util.iso7(p.get("accessed", p["written"]))),
                el("LastWriteTime", util.iso7(p["written"])),
                el("ChangeTime", util.iso7(p["changed"])),
                el("Last-Modified", util.rfc1123(p["mtime"]))]
    if "etag" in include:
        out.append(el("Etag", p["etag"]))
    return out


def entry_xml(e, include, with_ids):
    tag = "Directory" if e.is_dir else "File"
    parts = ["<%s>" % tag, _name_xml(e.name)]
    if with_ids:
        parts.append(el("FileId", e.id))
    props = [] if e.is_dir else [el("Content-Length", e.p["size"])]
    props += _times_xml(e.p, include)
    parts.append("<Properties>%s</Properties>" % "".join(props) if props else "<Properties />")
    if "attributes" in include:
        parts.append(el("Attributes", e.p["attrs"]))
    if "permissionkey" in include:
        parts.append(el("PermissionKey", e.p["perm_key"]))
    parts.append("</%s>" % tag)
    return "".join(parts)


def list_dir(endpoint, share, dir_path, dir_id, prefix, marker, maxresults, entries,
             next_marker, include, with_ids):
    encoded = names.needs_encoding(dir_path) or any(names.needs_encoding(e.name)
                                                    for e in entries)
    dp = quote(dir_path, safe="/") if names.needs_encoding(dir_path) else dir_path
    parts = ['<EnumerationResults ServiceEndpoint="%s" ShareName="%s"%s DirectoryPath="%s">'
             % (attr(endpoint), attr(share), ' Encoded="true"' if encoded else "", attr(dp))]
    if prefix is not None:
        if names.needs_encoding(prefix):
            parts.append('<Prefix Encoded="true">%s</Prefix>' % escape(quote(prefix, safe="")))
        else:
            parts.append(el("Prefix", prefix))
    if marker is not None:
        parts.append(el("Marker", marker))
    if maxresults is not None:
        parts.append(el("MaxResults", maxresults))
    if with_ids:
        parts.append(el("DirectoryId", dir_id))
    if entries:
        parts.append("<Entries>%s</Entries>" % "".join(entry_xml(e, include, with_ids)
                                                       for e in entries))
    else:
        parts.append("<Entries />")
    parts.append(el("NextMarker", next_marker))
    parts.append("</EnumerationResults>")
    return doc("".join(parts))


def range_list(ranges, clear_ranges=None):
    items = []
    for s, e in ranges:
        items.append("<Range>%s%s</Range>" % (el("Start", s), el("End", e - 1)))
    for s, e in clear_ranges or []:
        items.append("<ClearRange>%s%s</ClearRange>" % (el("Start", s), el("End", e - 1)))
    if not items:
        return doc("<Ranges />")
    return doc("<Ranges>%s</Ranges>" % "".join(items))


def share_stats(usage):
    return doc("<ShareStats>%s</ShareStats>" % el("ShareUsageBytes", usage))


def handles_list():
    return doc("<EnumerationResults><HandleList /><NextMarker /></EnumerationResults>")


DEFAULT_SERVICE_PROPERTIES = (
    "<StorageServiceProperties><HourMetrics><Version>1.0</Version><Enabled>false</Enabled>"
    "<RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></HourMetrics>"
    "<MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy>"
    "<Enabled>false</Enabled></RetentionPolicy></MinuteMetrics><Cors />"
    "<ShareDeleteRetentionPolicy><Enabled>false</Enabled></ShareDeleteRetentionPolicy>"
    "</StorageServiceProperties>")
