"""The share seen directly through the REST API (not through the mount).

Tests use this to check what really reached the share, and to create many
entries fast. Signed with the emulator's dev key (emulator.sign); keep-alive
connections for bulk work. Paths are share-relative, "" is the root.
"""
import datetime
import http.client
import json
import re
import threading
import urllib.parse
import xml.etree.ElementTree as ET

import emulator

CHUNK = 4 << 20   # the service refuses bigger ranges


def sddl_for(uid, gid, mode):
    """The SDDL form docs/DESIGN.md defines for (uid, gid, mode-with-type)."""
    return ("O:S-1-5-88-1-{u}G:S-1-5-88-2-{g}D:P(A;;FA;;;S-1-5-88-1-{u})"
            "(A;;FR;;;S-1-5-88-3-{m})").format(u=uid, g=gid, m=mode)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")


def _check(st, body, what, ok=(200, 201, 202, 206)):
    if st not in ok:
        raise RuntimeError("%s: HTTP %s %r" % (what, st, body[:300]))


def _rpath(share, path):
    return share + ("/" + path.strip("/") if path.strip("/") else "")


def head(emu, share, path):
    """(status, headers) of Get File Properties, falling back to a directory."""
    st, hdrs, _ = emu.request("HEAD", _rpath(share, path))
    if st == 404:
        st2, hdrs2, _ = emu.request("HEAD", _rpath(share, path), "restype=directory")
        if st2 == 200:
            return st2, hdrs2
    return st, hdrs


def exists(emu, share, path):
    return head(emu, share, path)[0] == 200


def read(emu, share, path):
    """Whole file bytes via ranged Get File calls; None if it does not exist."""
    st, hdrs, body = emu.request("HEAD", _rpath(share, path))
    if st == 404:
        return None
    _check(st, body, "head %s" % path)
    size = int({k.lower(): v for k, v in hdrs.items()}["content-length"])
    out = bytearray()
    off = 0
    while off < size:
        end = min(off + CHUNK, size) - 1
        st, _, body = emu.request("GET", _rpath(share, path), "",
                                  {"x-ms-range": "bytes=%d-%d" % (off, end)})
        _check(st, body, "get %s" % path)
        out += body
        off = end + 1
    return bytes(out)


def list_dir(emu, share, path=""):
    """[(name, is_dir)] of one directory, all pages."""
    out, marker = [], ""
    while True:
        q = "restype=directory&comp=list"
        if marker:
            q += "&marker=" + urllib.parse.quote(marker, safe="")
        st, _, body = emu.request("GET", _rpath(share, path), q)
        _check(st, body, "list %s" % path)
        root = ET.fromstring(body.lstrip(b"\xef\xbb\xbf"))
        for ent in root.iter():
            if ent.tag in ("File", "Directory"):
                out.append((ent.findtext("Name"), ent.tag == "Directory"))
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return out


def names(emu, share, path=""):
    return sorted(n for n, _ in list_dir(emu, share, path))


def mkdir(emu, share, path, perm_key=None):
    h = {"x-ms-file-attributes": "Directory"}
    h.update(_perm_headers(perm_key))
    st, _, body = emu.request("PUT", _rpath(share, path), "restype=directory", h)
    _check(st, body, "mkdir %s" % path, ok=(201,))


def _perm_headers(perm_key):
    if perm_key:
        return {"x-ms-file-permission-key": perm_key}
    return {"x-ms-file-permission": "inherit"}


def write(emu, share, path, data, perm_key=None):
    """Create File of len(data) then Put Range in 4 MiB pieces."""
    h = {"x-ms-type": "file", "x-ms-content-length": str(len(data)),
         "x-ms-file-attributes": "None"}
    h.update(_perm_headers(perm_key))
    st, _, body = emu.request("PUT", _rpath(share, path), "", h)
    _check(st, body, "create %s" % path, ok=(201,))
    for off in range(0, len(data), CHUNK):
        piece = data[off:off + CHUNK]
        st, _, body = emu.request(
            "PUT", _rpath(share, path), "comp=range",
            {"x-ms-write": "update", "Content-Type": "application/octet-stream",
             "x-ms-range": "bytes=%d-%d" % (off, off + len(piece) - 1)}, piece)
        _check(st, body, "put range %s" % path, ok=(201,))


def delete(emu, share, path):
    st, _, body = emu.request("DELETE", _rpath(share, path))
    _check(st, body, "delete %s" % path, ok=(202,))


def create_permission(emu, share, sddl):
    body = json.dumps({"permission": sddl}).encode()
    st, hdrs, rbody = emu.request("PUT", share, "restype=share&comp=filepermission",
                                  {"Content-Type": "application/json"}, body)
    _check(st, rbody, "create permission", ok=(201,))
    return {k.lower(): v for k, v in hdrs.items()}["x-ms-file-permission-key"]


def permission_key(emu, share, path):
    st, hdrs = head(emu, share, path)
    if st != 200:
        return None
    return {k.lower(): v for k, v in hdrs.items()}.get("x-ms-file-permission-key")


def conflict_copies(emu, share, dirpath, name):
    pat = re.compile(re.escape(name) + r"\.conflict-.+")
    return [n for n, d in list_dir(emu, share, dirpath) if not d and pat.fullmatch(n)]


class Bulk:
    """Create many empty files fast: keep-alive connections, several threads."""

    def __init__(self, emu, share, threads=4):
        self.emu, self.share, self.threads = emu, share, threads

    def _conn(self):
        host_port = self.emu.base.split("://", 1)[1]
        return http.client.HTTPConnection(host_port, timeout=30)

    def _create(self, conn, path, headers):
        url_path = "/%s/%s" % (emulator.ACCOUNT, _rpath(self.share, path))
        h = dict(headers)
        h["x-ms-date"] = _now()
        h["x-ms-version"] = emulator.API_VERSION
        h["Authorization"] = "SharedKey %s:%s" % (
            emulator.ACCOUNT, emulator.sign("PUT", url_path, "", h, 0))
        h["Content-Length"] = "0"
        conn.request("PUT", urllib.parse.quote(url_path), body=b"", headers=h)
        r = conn.getresponse()
        body = r.read()
        if r.status != 201:
            raise RuntimeError("bulk create %s: %s %r" % (path, r.status, body[:200]))

    def create_files(self, dirpath, names, perm_key=None):
        headers = {"x-ms-type": "file", "x-ms-content-length": "0",
                   "x-ms-file-attributes": "None"}
        headers.update(_perm_headers(perm_key))
        errors = []

        def work(chunk):
            conn = self._conn()
            try:
                for n in chunk:
                    self._create(conn, dirpath.rstrip("/") + "/" + n, headers)
            except Exception as e:  # reported below
                errors.append(e)
            finally:
                conn.close()

        chunks = [names[i::self.threads] for i in range(self.threads)]
        ts = [threading.Thread(target=work, args=(c,)) for c in chunks]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            raise errors[0]
