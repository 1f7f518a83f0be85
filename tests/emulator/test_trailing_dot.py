"""Trailing dots: trimmed from every path component unless the request sends
x-ms-allow-trailing-dot: true (x-ms-source-allow-trailing-dot for a rename
source), version 2022-11-02 on ("Version 2022-11-02": "the ability to not
trim trailing dots (.) from directory and file names"; the SDKs' option
AllowTrailingDot: "If false, the trailing dot will be trimmed")."""
import re

KEEP = {"x-ms-allow-trailing-dot": "true"}


def names(cli, d=""):
    r = cli.request("GET", "share1/" + d if d else "share1", "restype=directory&comp=list")
    assert r.status == 200, r
    return sorted(re.findall(r"<Name>([^<]*)</Name>", r.body.decode("utf-8-sig")))


def test_without_the_header_the_dot_is_trimmed(cli):
    assert cli.create_file("share1/a..", 0).status == 201
    assert names(cli) == ["a"]
    assert cli.request("HEAD", "share1/a").status == 200
    assert cli.request("HEAD", "share1/a.").status == 200  # same entry
    assert cli.request("HEAD", "share1/a.", headers=KEEP).status == 404
    assert cli.mkdir("share1/d.").status == 201
    assert cli.create_file("share1/d./f.", 0).status == 201
    assert names(cli, "d") == ["f"]
    # nothing left of a name made only of dots
    r = cli.create_file("share1/...", 0)
    assert r.status == 400 and r.code == "InvalidResourceName"
    # "false" is the default; anything else is a bad header
    r = cli.create_file("share1/b.", 0, {"x-ms-allow-trailing-dot": "false"})
    assert r.status == 201 and "b" in names(cli)
    r = cli.create_file("share1/c.", 0, {"x-ms-allow-trailing-dot": "yes"})
    assert r.status == 400 and r.code == "InvalidHeaderValue"


def test_with_the_header_names_are_literal(cli):
    assert cli.create_file("share1/x.", 3, KEEP, b"dot").status == 201
    assert cli.create_file("share1/x", 2, KEEP, b"no").status == 201
    assert names(cli) == ["x", "x."]
    assert cli.get("share1/x.", KEEP).body == b"dot"
    assert cli.get("share1/x.").body == b"no"  # trimmed: the other file
    assert cli.request("PUT", "share1/d..", "restype=directory", KEEP).status == 201
    assert cli.create_file("share1/d../y.", 0, KEEP).status == 201
    r = cli.request("GET", "share1/d..", "restype=directory&comp=list", KEEP)
    assert "<Name>y.</Name>" in r.body.decode("utf-8-sig")
    # before 2022-11-02 the header does not exist: trimmed
    r = cli.request("PUT", "share1/old.", "", {"x-ms-type": "file", "x-ms-content-length": "0",
                                               "x-ms-file-permission": "inherit",
                                               "x-ms-file-attributes": "None",
                                               "x-ms-file-creation-time": "now",
                                               "x-ms-file-last-write-time": "now",
                                               **KEEP}, version="2021-12-02")
    assert r.status == 201 and "old" in names(cli)


def test_rename_source_follows_its_own_header(cli):
    src_url = "http://127.0.0.1:%d/devstoreaccount1/share1/s." % cli.emu.port
    assert cli.create_file("share1/s.", 1, KEEP, b"1").status == 201
    assert cli.create_file("share1/s", 1, KEEP, b"2").status == 201
    # source trimmed: "s" moves, "s." stays
    h = dict(KEEP, **{"x-ms-file-rename-source": src_url})
    assert cli.request("PUT", "share1/t.", "comp=rename", h).status == 200
    assert names(cli) == ["s.", "t."]
    assert cli.get("share1/t.", KEEP).body == b"2"
    # source kept literally
    h["x-ms-source-allow-trailing-dot"] = "true"
    assert cli.request("PUT", "share1/u.", "comp=rename", h).status == 200
    assert names(cli) == ["t.", "u."]
    assert cli.get("share1/u.", KEEP).body == b"1"
