"""Files: create (with body), get, properties, metadata, ranges, names."""
import base64
import hashlib
import re
import time




def md5(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def test_create_get_ranges(cli):
    r = cli.create_file("share1/f", 10)
    assert r.status == 201 and r.h("x-ms-file-attributes") == "Archive"
    fid = r.h("x-ms-file-id")
    r = cli.put_range("share1/f", 0, b"HelloWorld")
    assert r.status == 201 and r.h("Content-MD5") == md5(b"HelloWorld")
    assert r.h("x-ms-file-last-write-time")
    r = cli.get("share1/f")
    assert r.status == 200 and r.body == b"HelloWorld" and r.h("Content-Length") == "10"
    assert r.h("x-ms-type") == "File" and r.h("Accept-Ranges") == "bytes"
    assert r.h("x-ms-file-id") == fid and r.h("x-ms-lease-state") == "available"
    r = cli.get("share1/f", {"x-ms-range": "bytes=0-1"})
    assert r.status == 206 and r.body == b"He" and r.h("Content-Range") == "bytes 0-1/10"
    r = cli.get("share1/f", {"Range": "bytes=5-"})
    assert r.status == 206 and r.body == b"World"
    r = cli.get("share1/f", {"x-ms-range": "bytes=8-100"})
    assert r.body == b"ld" and r.h("Content-Range") == "bytes 8-9/10"
    r = cli.get("share1/f", {"x-ms-range": "bytes=10-20"})
    assert r.status == 416 and r.code == "InvalidRange"
    assert r.h("Content-Range") == "bytes */10"
    r = cli.get("share1/f", {"x-ms-range": "bytes=2-5", "x-ms-range-get-content-md5": "true"})
    assert r.status == 206 and r.h("Content-MD5") == md5(b"lloW")
    r = cli.get("share1/f", {"x-ms-range-get-content-md5": "true"})
    assert r.status == 400


def test_create_with_body_new_version(cli):
    data = b"x" * 1000
    r = cli.create_file("share1/b", len(data), {"Content-MD5": md5(data)}, data)
    assert r.status == 201, r
    assert cli.get("share1/b").body == data
    r = cli.request("GET", "share1/b", "comp=rangelist")
    assert b"<Ranges><Range><Start>0</Start><End>999</End></Range></Ranges>" in r.body
    r = cli.create_file("share1/b2", 5, {"Content-MD5": md5(b"other")}, b"abcde")
    assert r.status == 400 and r.code == "Md5Mismatch"
    assert cli.request("HEAD", "share1/b2").status == 404          # nothing created
    r = cli.create_file("share1/b3", 7, {}, b"abcde")
    assert r.status == 400 and r.code == "InvalidHeaderValue"
    r = cli.request("PUT", "share1/b4", "", {"x-ms-type": "file", "x-ms-content-length": "3"},
                    b"abc", version="2025-11-05")
    assert r.status == 400 and r.code == "InvalidHeaderValue"
    big = b"z" * (4 * 1024 * 1024 + 1)
    r = cli.create_file("share1/big", len(big), {}, big)
    assert r.status == 413 and r.code == "RequestBodyTooLarge"


def test_create_errors(cli):
    r = cli.create_file("share1/neg", -1)
    assert r.status == 400 and r.code == "OutOfRangeInput"
    assert "The file size exceeds the maximum permissible limit." in r.body.decode("utf-8-sig")
    r = cli.create_file("share1/huge", 4 * 1024 ** 4 + 1)
    assert r.code == "OutOfRangeInput"
    r = cli.request("PUT", "share1/nolen", "", {"x-ms-type": "file"})
    assert r.status == 400 and r.code == "MissingRequiredHeader"
    r = cli.create_file("share1/missing/f", 1)
    assert r.status == 404 and r.code == "ParentNotFound"
    r = cli.request("PUT", "share1/old", "", {"x-ms-type": "file", "x-ms-content-length": "1"},
                    version="2020-02-10")
    assert r.status == 400 and r.code == "MissingRequiredHeader"
    r = cli.create_file("share1/attr", 1, {"x-ms-file-attributes": "Bogus"})
    assert r.code == "InvalidHeaderValue"
    r = cli.create_file("share1/t", 1, {"x-ms-file-creation-time": "yesterday"})
    assert r.code == "InvalidHeaderValue"
    r = cli.get("share1/f", {"If-Match": "*"})
    assert r.status == 400 and r.code == "ConditionHeadersNotSupported"


def test_names(cli):
    for bad in ("a:b", 'a"b', "a|b", "a<b", "a>b", "a*b", "a?b", "a\\b", "tab\tname", ".", ".."):
        r = cli.create_file("share1/" + bad, 1)
        assert r.status == 400 and r.code == "InvalidResourceName", (bad, r)
    r = cli.create_file("share1/" + "n" * 256, 1)
    assert r.status == 400
    assert cli.create_file("share1/" + "n" * 255, 1).status == 201
    long_path = "/".join(["d" * 200] * 11)
    r = cli.create_file("share1/" + long_path, 1)
    assert r.status == 400 and r.code == "InvalidFileOrDirectoryPathName"
    # case-insensitive, case-preserving
    assert cli.upload("share1/MiXed.txt", b"one").status == 201
    assert cli.get("share1/mixed.TXT").body == b"one"
    cli.create_file("share1/MIXED.txt", 3)            # replaces the same entry
    body = cli.request("GET", "share1", "restype=directory&comp=list").body
    assert len(re.findall(rb"(?i)<Name>mixed\.txt</Name>", body)) == 1
    assert b"<Name>MiXed.txt</Name>" in body


def test_properties_and_metadata(cli):
    r = cli.create_file("share1/p", 4, {"x-ms-content-type": "text/plain",
                                        "x-ms-meta-Color": "blue",
                                        "x-ms-file-last-write-time": "2020-01-02T03:04:05.1234567Z"})
    assert r.h("x-ms-file-last-write-time") == "2020-01-02T03:04:05.1234567Z"
    r = cli.request("HEAD", "share1/p")
    assert r.status == 200 and r.h("Content-Length") == "4" and r.h("Content-Type") == "text/plain"
    assert r.h("x-ms-meta-Color") == "blue" and r.body == b""
    etag = r.h("ETag")
    r = cli.request("PUT", "share1/p", "comp=metadata", {"x-ms-meta-a": "1"})
    assert r.status == 200 and r.h("ETag") != etag
    r = cli.request("HEAD", "share1/p")
    assert r.h("x-ms-meta-a") == "1" and r.h("x-ms-meta-Color") is None
    assert r.h("x-ms-file-last-write-time") == "2020-01-02T03:04:05.1234567Z"
    r = cli.request("PUT", "share1/p", "comp=metadata", {"x-ms-meta-1bad": "x"})
    assert r.status == 400 and r.code == "InvalidMetadata"
    # set properties: resize, explicit times, attributes; omitted content headers clear
    r = cli.request("PUT", "share1/p", "comp=properties",
                    {"x-ms-content-length": "100", "x-ms-file-attributes": "ReadOnly|Archive",
                     "x-ms-file-creation-time": "2019-05-06T07:08:09Z",
                     "x-ms-file-last-write-time": "preserve"})
    assert r.status == 200
    assert r.h("x-ms-file-attributes") == "ReadOnly | Archive"
    assert r.h("x-ms-file-creation-time") == "2019-05-06T07:08:09.0000000Z"
    r = cli.request("HEAD", "share1/p")
    assert r.h("Content-Length") == "100" and r.h("Content-Type") == "application/octet-stream"
    assert r.h("x-ms-file-last-write-time") != "2020-01-02T03:04:05.1234567Z"  # resize writes
    r = cli.request("DELETE", "share1/p")
    assert r.status == 409 and r.code == "ReadOnlyAttribute"
    cli.request("PUT", "share1/p", "comp=properties", {"x-ms-file-attributes": "None"})
    assert cli.request("DELETE", "share1/p").status == 202
    r = cli.request("DELETE", "share1/p")
    assert r.status == 404 and r.code == "ResourceNotFound"


def test_put_range_rules(cli):
    cli.create_file("share1/r", 16)
    r = cli.put_range("share1/r", 14, b"abcd")
    assert r.status == 416 and r.code == "InvalidRange"
    r = cli.put_range("share1/r", 0, b"abcd", {"Content-MD5": md5(b"dcba")})
    assert r.status == 400 and r.code == "Md5Mismatch"
    body = r.body.decode("utf-8-sig")
    assert "<UserSpecifiedMd5>%s</UserSpecifiedMd5><ServerCalculatedMd5>%s</ServerCalculatedMd5>" \
        % (md5(b"dcba"), md5(b"abcd")) in body
    r = cli.request("PUT", "share1/r", "comp=range", {"x-ms-range": "bytes=0-3"}, b"abcd")
    assert r.status == 400 and r.code == "MissingRequiredHeader"
    r = cli.request("PUT", "share1/r", "comp=range",
                    {"x-ms-range": "bytes=0-3", "x-ms-write": "update"}, b"abc")
    assert r.status == 400
    assert cli.request("GET", "share1/r", "comp=rangelist").body.endswith(b"<Ranges />")
    cli.put_range("share1/r", 0, b"abcd")
    cli.put_range("share1/r", 8, b"efgh")
    r = cli.request("PUT", "share1/r", "comp=range", {"x-ms-write": "clear",
                                                      "x-ms-range": "bytes=0-3"})
    assert r.status == 201
    r = cli.request("GET", "share1/r", "comp=rangelist")
    assert r.h("x-ms-content-length") == "16"
    assert r.body.endswith(b"<Ranges><Range><Start>8</Start><End>11</End></Range></Ranges>")
    assert cli.get("share1/r").body == b"\0" * 8 + b"efgh" + b"\0" * 4
    # Put Range keeps the last-write time only with x-ms-file-last-write-time:
    # Preserve (2021-06-08+); x-ms-file-last-write-mode is not a service header
    written = cli.request("HEAD", "share1/r").h("x-ms-file-last-write-time")
    time.sleep(0.02)
    r = cli.put_range("share1/r", 12, b"ijkl", {"x-ms-file-last-write-time": "Preserve"})
    assert r.status == 201 and r.h("x-ms-file-last-write-time") == written
    assert cli.request("HEAD", "share1/r").h("x-ms-file-last-write-time") == written
    r = cli.put_range("share1/r", 12, b"ijkl", {"x-ms-file-last-write-mode": "preserve"})
    assert r.status == 201 and r.h("x-ms-file-last-write-time") > written
    r = cli.put_range("share1/r", 12, b"ijkl", {"x-ms-file-last-write-time": "later"})
    assert r.status == 400 and r.code == "InvalidHeaderValue"
    big = b"q" * (4 * 1024 * 1024 + 1)
    cli.request("PUT", "share1/r", "comp=properties", {"x-ms-content-length": str(len(big))})
    r = cli.put_range("share1/r", 0, big)
    assert r.status == 413 and r.code == "RequestBodyTooLarge"
    r = cli.get("share1/r", {"x-ms-range": "bytes=12-15"})
    assert r.body == b"ijkl"     # connection still usable after the 413


def test_large_file_sparse_streaming(cli):
    size = 64 * 1024 * 1024
    cli.create_file("share1/sparse", size)
    chunk = b"\x5a" * (4 * 1024 * 1024)
    assert cli.put_range("share1/sparse", size - len(chunk), chunk).status == 201
    r = cli.get("share1/sparse")
    assert len(r.body) == size and r.body[-len(chunk):] == chunk and r.body[:10] == b"\0" * 10
