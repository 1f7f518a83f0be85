"""Shares, share listing and permissions."""
import json
import re


def test_share_lifecycle(emu):
    c = emu.client()
    r = c.create_share("lifeshare", headers={"x-ms-share-quota": "32", "x-ms-meta-Owner": "me"})
    assert r.status == 201 and r.h("ETag").startswith('"0x8')
    r = c.create_share("lifeshare")
    assert r.status == 409 and r.code == "ShareAlreadyExists"
    r = c.request("GET", "lifeshare", "restype=share")
    assert r.status == 200 and r.h("x-ms-share-quota") == "32"
    assert r.h("x-ms-meta-Owner") == "me"
    assert r.h("x-ms-version") == "2026-02-06"
    assert r.h("Server") == "Windows-Azure-File/1.0 Microsoft-HTTPAPI/2.0"
    assert r.h("x-ms-request-id")
    r = c.request("PUT", "lifeshare", "restype=share&comp=properties",
                  {"x-ms-share-quota": "64"})
    assert r.status == 200
    assert c.request("HEAD", "lifeshare", "restype=share").h("x-ms-share-quota") == "64"
    assert c.request("DELETE", "lifeshare", "restype=share").status == 202
    r = c.request("DELETE", "lifeshare", "restype=share")
    assert r.status == 404 and r.code == "ShareNotFound"
    r = c.request("GET", "lifeshare/x", "")
    assert r.status == 404 and r.code == "ShareNotFound"


def test_share_name_rules(emu):
    c = emu.client()
    assert c.create_share("Upper").code == "InvalidResourceName"
    assert c.create_share("a--b").code == "InvalidResourceName"
    assert c.create_share("ab").code == "OutOfRangeInput"
    assert c.create_share("ok-share-1").status == 201
    r = c.create_share("quota", headers={"x-ms-share-quota": "0"})
    assert r.status == 400 and r.code == "InvalidHeaderValue"


def test_share_stats(cli):
    cli.upload("share1/a", b"12345")
    cli.create_file("share1/b", 100)
    r = cli.request("GET", "share1", "restype=share&comp=stats")
    assert r.status == 200
    assert b"<ShareStats><ShareUsageBytes>105</ShareUsageBytes></ShareStats>" in r.body


def test_list_shares_paging_prefix_metadata(emu):
    c = emu.client()
    for n in ("lista0", "lista1", "lista2", "other"):
        assert c.create_share(n, headers={"x-ms-meta-k": n}).status == 201
    r = c.request("GET", "", "comp=list&prefix=lista&maxresults=2")
    body = r.body.decode("utf-8-sig")
    assert r.status == 200 and body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert re.findall(r"<Name>([^<]+)</Name>", body) == ["lista0", "lista1"]
    assert "<Prefix>lista</Prefix><MaxResults>2</MaxResults>" in body
    marker = re.search(r"<NextMarker>([^<]+)</NextMarker>", body).group(1)
    assert marker == "/devstoreaccount1/lista2"
    r = c.request("GET", "", "comp=list&prefix=lista&marker=" + marker + "&include=metadata")
    body = r.body.decode("utf-8-sig")
    assert re.findall(r"<Name>([^<]+)</Name>", body) == ["lista2"]
    assert "<Metadata><k>lista2</k></Metadata>" in body and "<NextMarker />" in body
    assert "<Quota>5120</Quota>" in body
    r = c.request("GET", "", "comp=list&maxresults=0")
    assert r.status == 400 and r.code == "OutOfRangeQueryParameterValue"


SDDL = ("O:S-1-5-88-1-1000G:S-1-5-88-2-1000D:P(A;;FA;;;S-1-5-88-1-1000)"
        "(A;;FR;;;S-1-5-88-3-33188)")


def test_permissions(cli):
    body = json.dumps({"permission": SDDL}).encode()
    r1 = cli.request("PUT", "share1", "restype=share&comp=filepermission",
                     {"Content-Type": "application/json"}, body)
    assert r1.status == 201
    key = r1.h("x-ms-file-permission-key")
    assert re.match(r"^\d+\*\d+$", key)
    r2 = cli.request("PUT", "share1", "restype=share&comp=filepermission",
                     {"Content-Type": "application/json"}, body)
    assert r2.h("x-ms-file-permission-key") == key
    r = cli.request("GET", "share1", "restype=share&comp=filepermission",
                    {"x-ms-file-permission-key": key})
    assert r.status == 200 and json.loads(r.body)["permission"] == SDDL
    r = cli.request("GET", "share1", "restype=share&comp=filepermission",
                    {"x-ms-file-permission-key": "1*2"})
    assert r.status == 400 and r.code == "FileInvalidPermissionKey"
    r = cli.request("GET", "share1", "restype=share&comp=filepermission",
                    {"x-ms-file-permission-key": "not-a-key"})
    assert r.status == 400 and r.code == "InvalidHeaderValue"
    for bad in (b'{"permission": "garbage"}', b"not json", b'{"permission": "O:BAG:"}',
                b'{"permission": "D:(A;;FA)"}'):
        r = cli.request("PUT", "share1", "restype=share&comp=filepermission", {}, bad)
        assert r.status == 400 and r.code == "FileInvalidPermission", bad
    # used by create with a key, reported back in listings
    r = cli.create_file("share1/owned", 0, {"x-ms-file-permission-key": key})
    assert r.status == 201 and r.h("x-ms-file-permission-key") == key
    r = cli.create_file("share1/inline", 0, {"x-ms-file-permission": SDDL})
    assert r.h("x-ms-file-permission-key") == key
    r = cli.create_file("share1/default", 0)
    assert r.h("x-ms-file-permission-key") != key
    r = cli.request("GET", "share1", "restype=directory&comp=list&include=PermissionKey")
    assert r.body.count(("<PermissionKey>%s</PermissionKey>" % key).encode()) == 2
    r = cli.create_file("share1/badkey", 0, {"x-ms-file-permission-key": "9*9"})
    assert r.status == 400 and r.code == "FileInvalidPermissionKey"
    r = cli.create_file("share1/badkey", 0, {"x-ms-file-permission-key": "9-9"})
    assert r.status == 400 and r.code == "InvalidHeaderValue"
    r = cli.create_file("share1/badsddl", 0, {"x-ms-file-permission": "nonsense"})
    assert r.status == 400 and r.code == "FileInvalidPermission"
