"""Leases and renames."""
import uuid


def lease(c, path, action, headers=None):
    h = {"x-ms-lease-action": action}
    h.update(headers or {})
    return c.request("PUT", path, "comp=lease", h)


def test_lease_cycle_and_enforcement(cli):
    cli.upload("share1/f", b"data")
    r = lease(cli, "share1/f", "acquire", {"x-ms-lease-duration": "60"})
    assert r.status == 400 and r.code == "InvalidHeaderValue"
    r = lease(cli, "share1/f", "acquire", {"x-ms-lease-duration": "-1"})
    assert r.status == 201
    lid = r.h("x-ms-lease-id")
    uuid.UUID(lid)
    r = cli.request("HEAD", "share1/f")
    assert (r.h("x-ms-lease-state"), r.h("x-ms-lease-status"), r.h("x-ms-lease-duration")) == \
        ("leased", "locked", "infinite")
    r = cli.put_range("share1/f", 0, b"DATA")
    assert r.status == 412 and r.code == "LeaseIdMissing"
    r = cli.put_range("share1/f", 0, b"DATA", {"x-ms-lease-id": str(uuid.uuid4())})
    assert r.status == 412 and r.code == "LeaseIdMismatchWithFileOperation"
    assert cli.put_range("share1/f", 0, b"DATA", {"x-ms-lease-id": lid}).status == 201
    assert cli.request("DELETE", "share1/f").code == "LeaseIdMissing"
    assert cli.request("PUT", "share1/f", "comp=metadata").code == "LeaseIdMissing"
    assert cli.get("share1/f").body == b"DATA"          # reads need no lease id
    other = str(uuid.uuid4())
    r = lease(cli, "share1/f", "acquire", {"x-ms-lease-duration": "-1",
                                           "x-ms-proposed-lease-id": other})
    assert r.status == 409 and r.code == "LeaseAlreadyPresent"
    r = lease(cli, "share1/f", "change", {"x-ms-lease-id": lid, "x-ms-proposed-lease-id": other})
    assert r.status == 200 and r.h("x-ms-lease-id") == other
    r = lease(cli, "share1/f", "release", {"x-ms-lease-id": lid})
    assert r.status == 409 and r.code == "LeaseIdMismatchWithLeaseOperation"
    r = lease(cli, "share1/f", "break")
    assert r.status == 202 and r.h("x-ms-lease-time") == "0"
    assert cli.request("HEAD", "share1/f").h("x-ms-lease-state") == "broken"
    assert cli.put_range("share1/f", 0, b"free").status == 201
    r = lease(cli, "share1/f", "release", {"x-ms-lease-id": other})
    assert r.status == 200 and r.h("x-ms-lease-id") is None
    r = lease(cli, "share1/f", "release", {"x-ms-lease-id": other})
    assert r.status == 409 and r.code == "LeaseNotPresentWithLeaseOperation"
    r = cli.put_range("share1/f", 0, b"DATA", {"x-ms-lease-id": other})
    assert r.status == 412 and r.code == "LeaseNotPresentWithFileOperation"
    r = lease(cli, "share1/f", "steal")
    assert r.status == 400 and r.code == "InvalidHeaderValue"


def rename(c, dest, src, headers=None):
    h = {"x-ms-file-rename-source": src}
    h.update(headers or {})
    return c.request("PUT", dest, "comp=rename", h)


def test_rename_file(cli):
    cli.mkdir("share1/d")
    r = cli.upload("share1/d/a", b"A")
    fid = cli.request("HEAD", "share1/d/a").h("x-ms-file-id")
    etag = cli.request("HEAD", "share1/d/a").h("ETag")
    src = "http://127.0.0.1:%d/devstoreaccount1/share1/d/a" % cli.emu.port
    r = rename(cli, "share1/b", src)
    assert r.status == 200
    assert r.h("x-ms-file-id") == fid and r.h("x-ms-file-parent-id") == "0"
    assert r.h("ETag") != etag
    assert cli.get("share1/b").body == b"A"
    assert cli.request("HEAD", "share1/d/a").status == 404
    # a path relative to the share works too; missing source
    assert rename(cli, "share1/c", "b").status == 200
    r = rename(cli, "share1/x", "nope")
    assert r.status == 404 and r.code == "ResourceNotFound"
    r = rename(cli, "share1/nodir/x", "c")
    assert r.status == 404 and r.code == "ParentNotFound"
    # destination exists
    cli.upload("share1/dest", b"old")
    r = rename(cli, "share1/dest", "c")
    assert r.status == 409 and r.code == "ResourceAlreadyExists"
    cli.request("PUT", "share1/dest", "comp=properties", {"x-ms-file-attributes": "ReadOnly"})
    r = rename(cli, "share1/dest", "c", {"x-ms-file-rename-replace-if-exists": "true"})
    assert r.status == 409 and r.code == "ReadOnlyAttribute"
    cli.request("PUT", "share1/dest", "comp=properties", {"x-ms-file-attributes": "None"})
    lid = lease(cli, "share1/dest", "acquire", {"x-ms-lease-duration": "-1"}).h("x-ms-lease-id")
    r = rename(cli, "share1/dest", "c", {"x-ms-file-rename-replace-if-exists": "true"})
    assert r.status == 412 and r.code == "LeaseIdMissing"
    r = rename(cli, "share1/dest", "c", {"x-ms-file-rename-replace-if-exists": "true",
                                          "x-ms-destination-lease-id": lid})
    assert r.status == 200
    assert cli.get("share1/dest").body == b"A"
    # leased source
    slid = lease(cli, "share1/dest", "acquire", {"x-ms-lease-duration": "-1"}).h("x-ms-lease-id")
    assert rename(cli, "share1/moved", "dest").code == "LeaseIdMissing"
    assert rename(cli, "share1/moved", "dest", {"x-ms-source-lease-id": slid}).status == 200


def test_rename_case_only_and_sdk_style_destination(cli):
    cli.upload("share1/name.txt", b"n")
    assert rename(cli, "share1/NAME.txt", "name.txt").status == 200
    body = cli.request("GET", "share1", "restype=directory&comp=list").body
    assert b"<Name>NAME.txt</Name>" in body and b"<Name>name.txt</Name>" not in body
    # the JS SDK sends the destination without the account segment (path-style)
    r = cli.request("PUT", "", "comp=rename",
                    {"x-ms-file-rename-source": "http://127.0.0.1:%d/devstoreaccount1/share1/"
                     "NAME.txt" % cli.emu.port}, raw_path="/share1/sdk.txt")
    assert r.status == 200, r
    assert cli.get("share1/sdk.txt").body == b"n"
