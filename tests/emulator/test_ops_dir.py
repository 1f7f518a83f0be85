"""Directories and listings."""
import re


def names_in(body):
    return re.findall(r"<(File|Directory)><Name>([^<]*)</Name>", body.decode("utf-8-sig"))


def test_directory_lifecycle(cli):
    r = cli.mkdir("share1/d1")
    assert r.status == 201
    for h in ("x-ms-file-id", "x-ms-file-parent-id", "x-ms-file-permission-key",
              "x-ms-file-attributes", "x-ms-file-creation-time", "ETag", "Last-Modified"):
        assert r.h(h), h
    assert r.h("x-ms-file-attributes") == "Directory" and r.h("x-ms-file-parent-id") == "0"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", r.h("x-ms-file-creation-time"))
    d1 = r.h("x-ms-file-id")
    assert cli.mkdir("share1/d1").code == "ResourceAlreadyExists"
    assert cli.mkdir("share1/D1").code == "ResourceAlreadyExists"     # case-insensitive
    r = cli.mkdir("share1/nope/d2")
    assert r.status == 404 and r.code == "ParentNotFound"
    r = cli.mkdir("share1/d1/d2")
    assert r.h("x-ms-file-parent-id") == d1
    r = cli.request("GET", "share1/D1", "restype=directory")
    assert r.status == 200 and r.h("x-ms-file-id") == d1
    r = cli.request("PUT", "share1/d1", "restype=directory&comp=metadata", {"x-ms-meta-k": "v"})
    assert r.status == 200
    assert cli.request("HEAD", "share1/d1", "restype=directory").h("x-ms-meta-k") == "v"
    r = cli.request("DELETE", "share1/d1", "restype=directory")
    assert r.status == 409 and r.code == "DirectoryNotEmpty"
    assert cli.request("DELETE", "share1/d1/d2", "restype=directory").status == 202
    assert cli.request("DELETE", "share1/d1", "restype=directory").status == 202
    r = cli.request("DELETE", "share1/d1", "restype=directory")
    assert r.status == 404 and r.code == "ResourceNotFound"
    r = cli.request("HEAD", "share1/d1", "restype=directory")
    assert r.status == 404 and r.code == "ResourceNotFound" and r.body == b""


def test_root_directory_properties(cli):
    r = cli.request("GET", "share1", "restype=directory")
    assert r.status == 200 and r.h("x-ms-file-id") == "0"
    assert r.h("x-ms-file-attributes") == "Directory"


def test_list_order_is_merged_case_insensitive(cli):
    cli.mkdir("share1/dirA")
    for n in ("file0", "file1"):
        cli.create_file("share1/dirA/" + n, 1024)
    for n in ("ListFiles0", "ListFiles1", "apple"):
        cli.mkdir("share1/dirA/" + n)
    cli.create_file("share1/dirA/Zeta", 1)
    r = cli.request("GET", "share1/dirA", "restype=directory&comp=list")
    assert names_in(r.body) == [("Directory", "apple"), ("File", "file0"), ("File", "file1"),
                                ("Directory", "ListFiles0"), ("Directory", "ListFiles1"),
                                ("File", "Zeta")]
    body = r.body.decode("utf-8-sig")
    assert 'ShareName="share1" DirectoryPath="dirA"><DirectoryId>' in body
    assert "<Properties><Content-Length>1024</Content-Length></Properties>" in body
    assert "<Properties /></Directory>" in body and body.endswith("<NextMarker /></EnumerationResults>")


def test_list_paging_markers(cli):
    for i in range(7):
        cli.create_file("share1/pre%d" % i, 1)
    cli.create_file("share1/zzz", 1)
    seen, marker, pages = [], None, 0
    while True:
        q = "restype=directory&comp=list&prefix=pre&maxresults=3"
        if marker:
            q += "&marker=" + marker
        body = cli.request("GET", "share1", q).body.decode("utf-8-sig")
        pages += 1
        seen += [n for _k, n in re.findall(r"<(File)><Name>([^<]*)</Name>", body)]
        m = re.search(r"<NextMarker>([^<]+)</NextMarker>", body)
        if not m:
            break
        marker = m.group(1)
        assert re.match(r"^1!\d+![A-Za-z0-9+/]+-*$", marker)
        assert "<Marker>" not in body or ("<Marker>%s</Marker>" % marker) not in body
    assert seen == ["pre%d" % i for i in range(7)] and pages == 3
    r = cli.request("GET", "share1", "restype=directory&comp=list&marker=junk")
    assert r.status == 400 and r.code == "InvalidQueryParameterValue"


def test_list_include_extended(cli):
    cli.mkdir("share1/d")
    cli.upload("share1/d/f", b"abc")
    r = cli.request("GET", "share1/d",
                    "restype=directory&comp=list&include=Timestamps,Etag,Attributes,PermissionKey",
                    {"x-ms-file-extended-info": "true"})
    body = r.body.decode("utf-8-sig")
    m = re.search(r"<File><Name>f</Name><FileId>\d+</FileId><Properties><Content-Length>3"
                  r"</Content-Length><CreationTime>[^<]+Z</CreationTime><LastAccessTime>"
                  r"[^<]+</LastAccessTime><LastWriteTime>[^<]+</LastWriteTime><ChangeTime>"
                  r"[^<]+</ChangeTime><Last-Modified>[^<]+GMT</Last-Modified><Etag>"
                  r"&quot;0x[0-9A-F]+&quot;|\"0x[0-9A-F]+\"", body)
    assert m, body
    assert "<Attributes>Archive</Attributes><PermissionKey>" in body
    r = cli.request("GET", "share1/d", "restype=directory&comp=list&include=Bogus")
    assert r.status == 400 and r.code == "InvalidQueryParameterValue"


def test_list_legacy_version_has_no_ids(cli):
    cli.create_file("share1/f", 1)
    r = cli.request("GET", "share1", "restype=directory&comp=list", version="2018-11-09")
    assert r.status == 200 and b"FileId" not in r.body and b"DirectoryId" not in r.body


def test_encoded_names(cli):
    name = "file\ufffe"
    r = cli.create_file("share1/" + name, 5)
    assert r.status == 201
    body = cli.request("GET", "share1", "restype=directory&comp=list").body.decode("utf-8-sig")
    assert 'Encoded="true"' in body and '<Name Encoded="true">file%EF%BF%BE</Name>' in body


def test_rename_directory(cli):
    cli.mkdir("share1/src")
    cli.upload("share1/src/f", b"x")
    src_url = "http://127.0.0.1:%d/devstoreaccount1/share1/src" % cli.emu.port
    r = cli.request("PUT", "share1/dst", "restype=directory&comp=rename",
                    {"x-ms-file-rename-source": src_url})
    assert r.status == 200, r
    assert cli.get("share1/dst/f").body == b"x"
    assert cli.request("HEAD", "share1/src", "restype=directory").status == 404
    cli.mkdir("share1/dst/sub")
    r = cli.request("PUT", "share1/dst/sub/inner", "restype=directory&comp=rename",
                    {"x-ms-file-rename-source": "dst"})
    assert r.status == 400
