"""The REST client (fs/http.c, fs/client*.c) against the emulator, through
tests/tools/azsf-cli. Run: /usr/bin/python3 -m pytest tests/integration/test_client.py -q
Env: AZSF_BUILD (build dir holding tests/tools/azsf-cli, default build/).

Every test starts its own emulator (or shares the module's) on a free port
in a temp dir and stops it by PID; every CLI call has a timeout.
"""
import errno
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
import urllib.parse

import pytest

import emulator

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MiB = 1 << 20


def cli_path():
    d = os.environ.get("AZSF_BUILD", "build")
    if not os.path.isabs(d):
        d = os.path.join(ROOT, d)
    return os.path.join(d, "tests", "tools", "azsf-cli")


@pytest.fixture(scope="module")
def cli_bin():
    p = cli_path()
    if not os.access(p, os.X_OK):
        pytest.fail("azsf-cli not found at %s (build target azsf-cli, or set AZSF_BUILD)" % p,
                    pytrace=False)
    if not os.access(emulator.EMULATOR, os.X_OK):
        pytest.fail("emulator not found at %s" % emulator.EMULATOR, pytrace=False)
    return p


class Cli:
    """Runs azsf-cli against one emulator and share."""

    def __init__(self, binary, emu, share, tmp, conn_kw=None, extra=None):
        self.binary, self.emu, self.share, self.tmp = binary, emu, share, tmp
        self.conn_file = os.path.join(tmp, "conn-%s-%d" % (share, random.getrandbits(32)))
        emu.write_conn_file(self.conn_file, **(conn_kw or {}))
        self.extra = list(extra or [])

    def run(self, *args, stdin=None, timeout=120, check=True, extra=()):
        cmd = [self.binary, "--conn-file", self.conn_file, "--share", self.share,
               "--stats"] + self.extra + list(extra) + [str(a) for a in args]
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("%s -> %d\nstdout: %s\nstderr: %s" % (
                args, p.returncode, p.stdout[-2000:], p.stderr.decode(errors="replace")[-4000:]))
        return p

    def json(self, *args, **kw):
        p = self.run(*args, **kw)
        return [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]

    def one(self, *args, **kw):
        out = self.json(*args, **kw)
        assert len(out) == 1, out
        return out[0]

    def rc(self, *args, **kw):
        return self.run(*args, check=False, **kw).returncode

    def batch(self, lines, jobs=1, **kw):
        p = self.run("batch", "--jobs", jobs, stdin="\n".join(lines).encode() + b"\n",
                     check=False, **kw)
        res = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        res.sort(key=lambda r: r["line"])
        return p, res


def stats_of(p):
    for line in p.stderr.decode().splitlines():
        if line.startswith("stats: "):
            return dict(kv.split("=") for kv in line[7:].split())
    raise AssertionError("no stats line in %r" % p.stderr)


@pytest.fixture(scope="module")
def emu():
    with emulator.Emulator() as e:
        yield e


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="azsf-client-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


_n = [0]


@pytest.fixture
def cli(cli_bin, emu, tmp):
    _n[0] += 1
    name = "c%03d" % _n[0]
    emu.create_share(name)
    return Cli(cli_bin, emu, name, tmp)


def wfile(tmp, name, data):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def rfile(p):
    with open(p, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- shares

def test_share_lifecycle(cli_bin, emu, tmp):
    c = Cli(cli_bin, emu, "lifecycle", tmp)
    assert c.rc("share-props") == errno.ENOENT
    c.run("share-create", 7)
    assert c.rc("share-create", 7) == errno.EEXIST
    assert c.one("share-props")["quota_gib"] == 7
    assert c.one("share-usage")["usage_bytes"] == 0
    c.run("upload", wfile(tmp, "u", os.urandom(5000)), "u")
    assert c.one("share-usage")["usage_bytes"] >= 5000
    c.run("share-delete")
    assert c.rc("share-props") == errno.ENOENT
    assert c.rc("share-delete") == errno.ENOENT


def test_permissions(cli):
    sddl = emulator_sddl(1000, 1000, 0o100640)
    key = cli.one("perm-create", sddl)["key"]
    assert key
    assert cli.one("perm-create", sddl)["key"] == key  # same SDDL, same key
    assert cli.one("perm-get", key)["sddl"] == sddl
    st = cli.one("create", "f", 0, "--perm-key", key)
    assert st["perm_key"] == key
    assert cli.one("props", "f")["perm_key"] == key
    d = cli.one("mkdir", "d", "--perm-sddl", emulator_sddl(5, 6, 0o40700))
    assert d["is_dir"] == 1 and d["perm_key"] and d["perm_key"] != key
    assert cli.one("perm-get", d["perm_key"])["sddl"] == emulator_sddl(5, 6, 0o40700)
    ls = {e["name"]: e for e in cli.json("ls")}
    assert ls["f"]["perm_key"] == key and ls["d"]["perm_key"] == d["perm_key"]
    assert cli.rc("perm-get", "1234*5678") in (errno.ENOENT, errno.EINVAL)
    assert cli.rc("perm-create", "not an sddl") == errno.EINVAL


def emulator_sddl(uid, gid, mode):
    return ("O:S-1-5-88-1-{u}G:S-1-5-88-2-{g}D:P(A;;FA;;;S-1-5-88-1-{u})"
            "(A;;FR;;;S-1-5-88-3-{m})").format(u=uid, g=gid, m=mode)


# ---------------------------------------------------------------- dirs and files

def test_directories(cli):
    st = cli.one("mkdir", "a", "--mtime", "1600000000.5")
    assert st["is_dir"] == 1 and st["etag"] and st["file_id"] > 0
    assert abs(st["mtime"] - 1600000000.5) < 1e-6
    assert cli.rc("mkdir", "a") == errno.EEXIST
    assert cli.rc("mkdir", "missing/b") == errno.ENOENT
    cli.run("mkdir", "a/b")
    assert cli.one("dir-props", "a/b")["is_dir"] == 1
    assert cli.one("dir-props", "")["is_dir"] == 1  # share root
    assert cli.rc("dir-props", "nope") == errno.ENOENT
    cli.run("dir-meta", "a", "k1=v1", "k2=v2")
    st = cli.one("dir-set", "a", "--mtime", "1700000000")
    assert int(st["mtime"]) == 1700000000
    assert int(cli.one("dir-props", "a")["mtime"]) == 1700000000
    assert cli.rc("rmdir", "a") == errno.ENOTEMPTY
    cli.run("rmdir", "a/b")
    cli.run("rmdir", "a")
    assert cli.rc("rmdir", "a") == errno.ENOENT


def test_files(cli, tmp):
    data = os.urandom(300000)
    st = cli.one("create", "f.bin", len(data), "--body-file", wfile(tmp, "b", data),
                 "--mtime", "1650000000.25")
    assert st["size"] == len(data) and st["etag"].startswith('"')
    assert abs(st["mtime"] - 1650000000.25) < 1e-6
    props = cli.one("props", "f.bin")
    assert props["size"] == len(data) and props["etag"] == st["etag"]
    assert props["attrs"] & 0x20  # Archive
    # ranged reads, and past EOF
    out = os.path.join(tmp, "r")
    r = cli.one("read", "f.bin", 1000, 5000, "--out", out)
    assert r == {"got": 5000, "size": len(data)} and rfile(out) == data[1000:6000]
    r = cli.one("read", "f.bin", len(data) - 10, 100, "--out", out)
    assert r["got"] == 10 and rfile(out) == data[-10:]
    assert cli.one("read", "f.bin", len(data), 100, "--out", out)["got"] == 0
    assert cli.one("read", "f.bin", len(data) + 5000, 1, "--out", out)["got"] == 0
    # whole download over a longer stale file
    dl = wfile(tmp, "dl", b"x" * (len(data) + 999))
    assert cli.one("download", "f.bin", dl)["size"] == len(data)
    assert rfile(dl) == data
    # put range, clear range, range list
    patch = os.urandom(4096)
    p = cli.run("put-range", "f.bin", 8192, wfile(tmp, "p", patch), "--known-size", len(data))
    st2 = json.loads(p.stdout)
    assert stats_of(p)["requests"] == "1"  # the reply fills what it knows, no HEAD
    assert st2["etag"] != st["etag"] and st2["size"] == len(data)
    assert st2["etag"] == cli.one("props", "f.bin")["etag"]
    data = data[:8192] + patch + data[8192 + 4096:]
    cli.run("download", "f.bin", dl)
    assert rfile(dl) == data
    cli.run("clear-range", "f.bin", 0, 65536)
    ranges = cli.one("ranges", "f.bin")["ranges"]
    assert ranges and all(s >= 65536 for s, e in ranges)
    cli.run("download", "f.bin", dl)
    assert rfile(dl) == bytes(65536) + data[65536:]
    # resize and times, metadata, delete
    st3 = cli.one("set-props", "f.bin", "--size", 10, "--mtime", "1234567890")
    assert st3["size"] == 10 and int(st3["mtime"]) == 1234567890
    # ReadOnly; the size is the caller's (the reply has none): one request
    p = cli.run("set-props", "f.bin", "--attrs", 1, "--known-size", 10)
    st4 = json.loads(p.stdout)
    assert stats_of(p)["requests"] == "1"
    assert st4["size"] == 10 and st4["attrs"] & 1 and int(st4["mtime"]) == 1234567890
    props = cli.one("props", "f.bin")
    for k in ("etag", "perm_key", "attrs", "file_id", "mtime", "ctime", "btime"):
        assert st4[k] == props[k], k
    cli.run("set-props", "f.bin", "--attrs", 0x20)
    cli.run("file-meta", "f.bin", "a=1", "b=two")
    cli.run("rm", "f.bin")
    assert cli.rc("props", "f.bin") == errno.ENOENT
    assert cli.rc("rm", "f.bin") == errno.ENOENT
    assert cli.rc("read", "f.bin", 0, 10, "--out", out) == errno.ENOENT
    assert cli.rc("download", "nope", dl) == errno.ENOENT


def test_create_sizes_and_limits(cli, tmp):
    # empty, sparse (size without body), exactly 4 MiB with body
    assert cli.one("create", "empty", 0)["size"] == 0
    st = cli.one("create", "sparse", 10 * MiB)
    assert st["size"] == 10 * MiB
    out = os.path.join(tmp, "o")
    assert cli.one("read", "sparse", 5 * MiB, 100, "--out", out)["got"] == 100
    assert rfile(out) == bytes(100)
    big = os.urandom(4 * MiB)
    assert cli.one("create", "four", 4 * MiB, "--body-file", wfile(tmp, "4m", big))["size"] \
        == 4 * MiB
    dl = os.path.join(tmp, "dl")
    cli.run("download", "four", dl)
    assert rfile(dl) == big
    # the client refuses bodies over 4 MiB or not matching the size
    assert cli.rc("create", "x", 4 * MiB + 1, "--body-file",
                  wfile(tmp, "4m1", big + b"!")) == errno.EINVAL
    assert cli.rc("create", "x", 5, "--body-file", wfile(tmp, "3", b"abc")) == errno.EINVAL
    assert cli.rc("put-range", "four", 0, wfile(tmp, "4m1b", big + b"!")) == errno.EINVAL


def test_names_are_encoded(cli, tmp):
    names = ["sp ace", "pct%41", "plus+amp&eq=q", "caf\u00e9 \u20ac", "semi;colon,comma",
             "hash#tilde~", "'quote'"]
    cli.run("mkdir", "d ir")
    for i, n in enumerate(names):
        cli.run("create", "d ir/" + n, 1, "--body-file", wfile(tmp, "n%d" % i, bytes([i])))
    got = {e["name"]: e for e in cli.json("ls", "d ir")}
    assert sorted(got) == sorted(names)
    for i, n in enumerate(names):
        out = os.path.join(tmp, "o%d" % i)
        cli.run("read", "d ir/" + n, 0, 1, "--out", out)
        assert rfile(out) == bytes([i])
    cli.run("rename", "d ir/" + names[3], "d ir/" + names[4] + " 2")
    assert cli.one("props", "d ir/" + names[4] + " 2")["size"] == 1


def test_trailing_dots_are_kept(cli, emu, tmp):
    """x-ms-allow-trailing-dot on every file/directory request: "a." and "a"
    are two entries, and a rename keeps the dots of both names."""
    cli.run("mkdir", "d.")
    cli.run("create", "d./a.", 2, "--body-file", wfile(tmp, "a1", b"A."))
    cli.run("create", "d./a", 1, "--body-file", wfile(tmp, "a2", b"A"))
    assert sorted(e["name"] for e in cli.json("ls", "d.")) == ["a", "a."]
    assert cli.one("props", "d./a.")["size"] == 2
    cli.run("rename", "d./a.", "d./b..", "--known-size", 2)
    assert sorted(e["name"] for e in cli.json("ls", "d.")) == ["a", "b.."]
    out = os.path.join(tmp, "o")
    cli.run("download", "d./b..", out)
    assert rfile(out) == b"A."
    cli.run("rename", "d.", "e.", "--dir")
    assert [e["name"] for e in cli.json("ls") if e["is_dir"]] == ["e."]
    cli.run("rm", "e./b..")
    assert [e["name"] for e in cli.json("ls", "e.")] == ["a"]


# ---------------------------------------------------------------- listing

def test_listing_pages(cli, emu, tmp):
    cli.run("mkdir", "many")
    cli.run("mkdir", "many/sub")
    lines = ["create many/f%03d %d" % (i, i) for i in range(53)]
    p, res = cli.batch(lines, jobs=4)
    assert p.returncode == 0 and all(r["rc"] == 0 for r in res), res[:3]
    emu.reset()
    ents = cli.json("ls", "many", "--max", 10)
    assert emu.ops().get("ListDirectoriesAndFiles") == 6  # 54 entries, 10 a page
    names = [e["name"] for e in ents]
    assert sorted(names) == sorted(["f%03d" % i for i in range(53)] + ["sub"])
    assert len(set(names)) == 54
    by = {e["name"]: e for e in ents}
    assert by["sub"]["is_dir"] == 1 and by["sub"]["size"] == 0
    for i in (0, 17, 52):
        e = by["f%03d" % i]
        assert e["is_dir"] == 0 and e["size"] == i and e["etag"] and e["file_id"] > 0
        assert e["mtime"] > 1.6e9 and e["btime"] > 1.6e9 and e["perm_key"]
    assert len(cli.json("ls", "many")) == 54  # one page with the default max
    pre = cli.json("ls", "many", "--prefix", "f01", "--max", 3)
    assert sorted(e["name"] for e in pre) == ["f%03d" % i for i in range(10, 20)]
    assert cli.json("ls", "many", "--prefix", "zzz") == []
    assert cli.rc("ls", "nope") == errno.ENOENT


# ---------------------------------------------------------------- rename and leases

def test_rename(cli, tmp):
    cli.run("create", "a", 3, "--body-file", wfile(tmp, "a", b"AAA"))
    cli.run("create", "b", 2, "--body-file", wfile(tmp, "b", b"BB"))
    assert cli.rc("rename", "a", "b") == errno.EEXIST
    p = cli.run("rename", "a", "b", "--replace", "--known-size", 3)
    st = json.loads(p.stdout)
    assert stats_of(p)["requests"] == "1"  # the reply describes the result
    props = cli.one("props", "b")
    assert st["size"] == 3 and props["size"] == 3
    for k in ("etag", "perm_key", "attrs", "file_id", "mtime", "ctime", "btime"):
        assert st[k] == props[k], k
    assert cli.rc("props", "a") == errno.ENOENT
    out = os.path.join(tmp, "o")
    cli.run("download", "b", out)
    assert rfile(out) == b"AAA"
    cli.run("rename", "b", "c")
    assert cli.rc("rename", "nope", "d") == errno.ENOENT
    cli.run("mkdir", "d1")
    cli.run("create", "d1/x", 0)
    d2 = cli.one("rename", "d1", "d2", "--dir")
    assert d2["is_dir"] == 1 and d2["etag"] == cli.one("dir-props", "d2")["etag"]
    assert cli.one("props", "d2/x")["size"] == 0
    assert cli.rc("dir-props", "d1") == errno.ENOENT


def test_leases(cli, tmp):
    cli.run("create", "l", 4, "--body-file", wfile(tmp, "l", b"1234"))
    lease = cli.one("lease", "l", "acquire")["lease"]
    assert len(lease) == 36
    p4 = wfile(tmp, "p", b"zz")
    assert cli.rc("put-range", "l", 0, p4) == errno.EBUSY
    assert cli.rc("rm", "l") == errno.EBUSY
    cli.run("put-range", "l", 0, p4, "--lease", lease)
    mine = "11111111-2222-4333-8444-555555555555"
    assert cli.one("lease", "l", "change", "--lease", lease, "--proposed", mine)["lease"] == mine
    assert cli.rc("put-range", "l", 0, p4, "--lease", lease) == errno.EBUSY
    cli.run("create", "dst", 0)
    dl = cli.one("lease", "dst", "acquire", "--proposed",
                 "99999999-2222-4333-8444-555555555555")["lease"]
    assert cli.rc("rename", "l", "dst", "--replace", "--src-lease", mine) == errno.EBUSY
    cli.run("lease", "dst", "release", "--lease", dl)
    cli.run("lease", "l", "break")
    cli.run("lease", "l", "release", "--lease", mine, check=False)
    cli.run("rename", "l", "dst", "--replace")
    out = os.path.join(tmp, "o")
    cli.run("download", "dst", out)
    assert rfile(out) == b"zz34"


# ---------------------------------------------------------------- auth

def sig_of(sas):
    return urllib.parse.unquote(sas.split("sig=")[1].split("&")[0])


def secrets_absent(text, key):
    """No account key, SAS signature (raw or %-encoded) or Authorization."""
    for k in (key, urllib.parse.quote(key, safe="")):
        assert k not in text
    assert emulator.KEY not in text
    assert "SharedKey devstoreaccount1:" not in text
    for part in text.split("sig=")[1:]:
        assert part.startswith("REDACTED"), text


def test_wrong_key_is_eacces_and_never_logged(cli_bin, emu, tmp):
    emu.create_share("wrongkey")
    bad = "QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QQ=="
    c = Cli(cli_bin, emu, "wrongkey", tmp, conn_kw={"key": bad})
    for args in (("props", "x"), ("create", "x", 0), ("ls",), ("share-props",)):
        p = c.run(*args, check=False, extra=["-v"])
        assert p.returncode == errno.EACCES, (args, p.stderr)
        err = p.stderr.decode()
        assert "403" in err and "AuthenticationFailed" in err
        secrets_absent(err + p.stdout.decode(), bad)
    # not retried: one request
    assert stats_of(c.run("props", "x", check=False))["requests"] == "1"
    # a quiet client (the mount's start-up check) leaves the telling to its
    # caller: no line of its own, same errno; -v still shows it
    p = c.run("share-props", check=False, extra=["--quiet"])
    assert p.returncode == errno.EACCES
    assert [x for x in p.stderr.decode().splitlines() if not x.startswith("stats:")] == \
        ["azsf-cli: share-props: Permission denied"], p.stderr
    p = c.run("share-props", check=False, extra=["--quiet", "-v"])
    assert b"403" in p.stderr and b"AuthenticationFailed" in p.stderr


def test_sas(cli_bin, emu, tmp):
    emu.create_share("sas")
    sas = emulator.account_sas()
    c = Cli(cli_bin, emu, "sas", tmp, conn_kw={"sas": sas})
    data = os.urandom(70000)
    c.run("mkdir", "d")
    c.run("upload", wfile(tmp, "u", data), "d/f")
    c.run("rename", "d/f", "d/g")  # the rename source carries the SAS
    out = os.path.join(tmp, "o")
    c.run("download", "d/g", out)
    assert rfile(out) == data
    assert [e["name"] for e in c.json("ls", "d")] == ["g"]
    sddl = emulator_sddl(1, 2, 0o100600)
    assert c.one("perm-get", c.one("perm-create", sddl)["key"])["sddl"] == sddl
    c.run("rm", "d/g")
    # read-only SAS: reads work, writes are refused
    ro_sas = emulator.account_sas(permissions="rl")
    ro = Cli(cli_bin, emu, "sas", tmp, conn_kw={"sas": ro_sas})
    assert ro.json("ls", "d") == []
    p = ro.run("create", "d/x", 0, check=False, extra=["-v"])
    assert p.returncode == errno.EACCES
    secrets_absent(p.stderr.decode(), sig_of(ro_sas))
    # expired
    old_sas = emulator.account_sas(expiry_minutes=-1, start_minutes=-10)
    old = Cli(cli_bin, emu, "sas", tmp, conn_kw={"sas": old_sas})
    p = old.run("ls", check=False, extra=["-v"])
    assert p.returncode == errno.EACCES
    secrets_absent(p.stderr.decode(), sig_of(old_sas))


def test_https_with_ca_file(cli_bin, tmp):
    cert, key = emulator.make_tls_cert(tmp)
    with emulator.Emulator(tls=(cert, key)) as e:
        assert e.url.startswith("https://")
        e.create_share("tls")
        c = Cli(cli_bin, e, "tls", tmp, extra=["--ca-file", cert])
        c.run("create", "f", 3, "--body-file", wfile(tmp, "f", b"abc"))
        assert c.one("props", "f")["size"] == 3
        bare = Cli(cli_bin, e, "tls", tmp)  # system CAs only: refused
        p = bare.run("props", "f", check=False)
        assert p.returncode == errno.EPROTO, p.stderr
        assert b"certificate" in p.stderr.lower()
        assert stats_of(p)["requests"] == "1"  # a bad certificate is not retried
        e.stats()


def test_connection_refused_fails_fast(cli_bin, emu, tmp):
    c = Cli(cli_bin, emu, "refused", tmp)
    with open(c.conn_file, "w") as f:
        f.write(emu.conn_string().replace(":%d/" % emu.port, ":1/"))
    p = c.run("share-props", check=False, timeout=30)
    assert p.returncode == errno.ECONNREFUSED
    assert stats_of(p)["requests"] == "1"
    assert b"127.0.0.1:1" in p.stderr


# ---------------------------------------------------------------- keep-alive

def test_keepalive_reuses_connections(cli, emu, tmp):
    cli.run("create", "k", 5, "--body-file", wfile(tmp, "k", b"hello"))
    out = os.path.join(tmp, "o")
    lines = []
    for i in range(50):
        lines += ["props k", "read k 0 5 --out %s" % out]
    before = emu.stats()["connections"]
    p, res = cli.batch(lines, jobs=1)
    assert len(res) == 100 and all(r["rc"] == 0 for r in res)
    used = emu.stats()["connections"] - before
    assert stats_of(p)["requests"] == "100"
    assert used <= 2, used
    before = emu.stats()["connections"]
    p, res = cli.batch(lines, jobs=4, extra=["--max-conns", "4"])
    assert all(r["rc"] == 0 for r in res)
    used = emu.stats()["connections"] - before
    assert used <= 5, used


# ---------------------------------------------------------------- lost replies

@pytest.mark.parametrize("op,setup,args,check", [
    ("CreateDirectory", [], ("mkdir", "d"), ("dir-props", "d")),
    ("DeleteFile", [("create", "f", 0)], ("rm", "f"), None),
    ("DeleteDirectory", [("mkdir", "e")], ("rmdir", "e"), None),
    ("RenameFile", [("create", "s", 0)], ("rename", "s", "t"), ("props", "t")),
    ("CreateShare", None, ("share-create",), ("share-props",)),
])
def test_lost_reply_of_non_idempotent_ops(cli_bin, tmp, op, setup, args, check):
    """The service acts, the reply is lost (client timeout during a slow
    reply), the retry meets "already exists"/"not found": success."""
    with emulator.Emulator() as e:
        if setup is not None:
            e.create_share("lostreply")
        c = Cli(cli_bin, e, "lostreply", tmp, extra=["--op-timeout-ms", "700"])
        for s in setup or []:
            c.run(*s)
        e.set_faults("slow:1.0:2500@%s:count=1" % op)
        p = c.run(*args)
        assert int(stats_of(p)["retries"]) >= 1, p.stderr
        assert e.ops()[op] >= 2
        if check:
            c.run(*check)
        # without a lost reply the same conflict is an error
        if args[0] in ("mkdir", "share-create"):
            assert c.rc(*args) == errno.EEXIST
        elif args[0] in ("rm", "rmdir"):
            assert c.rc(*args) == errno.ENOENT


def test_retry_budget_is_bounded(cli_bin, tmp):
    with emulator.Emulator(faults="503:1.0@GetFileProperties") as e:
        e.create_share("budget")
        c = Cli(cli_bin, e, "budget", tmp, extra=["--retry-budget-ms", "1500"])
        c.run("create", "f", 0)
        p = c.run("props", "f", check=False, timeout=30)
        assert p.returncode == errno.EAGAIN
        st = stats_of(p)
        assert int(st["retries"]) >= 2 and int(st["requests"]) == int(st["retries"]) + 1
        assert b"503 ServerBusy" in p.stderr


# ---------------------------------------------------------------- faults

def sha(b):
    return hashlib.sha256(b).hexdigest()


@pytest.mark.timeout(600)
def test_workload_under_faults_is_byte_identical(cli_bin, tmp):
    rng = random.Random(1234)
    sizes = [rng.choice([0, 1, 100, 4095, 65536, 200000, 1000000])
             for _ in range(190)]
    sizes += [4 * MiB, 4 * MiB - 1, 4 * MiB + 1, 3 * MiB, 6 * MiB, 2 * MiB, 1, 7, 9 * MiB,
              20 * MiB]
    assert len(sizes) == 200
    local = {}
    for i, n in enumerate(sizes):
        data = rng.randbytes(n)
        local["w/f%03d" % i] = (wfile(tmp, "src%03d" % i, data), data)
    faults = "503:0.1,500:0.05,drop:0.05,slow:0.03:1500"
    with emulator.Emulator() as e:
        e.create_share("faults")
        e.set_faults(faults)  # from here on, through the client only
        c = Cli(cli_bin, e, "faults", tmp, extra=["--retry-budget-ms", "120000",
                                                "--max-conns", "8"])
        c.run("mkdir", "w")
        lines = ["upload %s %s" % (src, name) for name, (src, _) in local.items()]
        p, res = c.batch(lines, jobs=8, timeout=500)
        bad = [r for r in res if r["rc"] != 0]
        assert not bad and len(res) == 200, bad[:5]
        up = stats_of(p)
        # whole downloads and ranged reads of up to 4 MiB
        lines, expect = [], []
        for name, (src, data) in local.items():
            dst = os.path.join(tmp, "dl-" + name.replace("/", "_"))
            lines.append("download %s %s" % (name, dst))
            expect.append((dst, data))
            if len(data) > 10:
                off = rng.randrange(len(data))
                ln = rng.randrange(1, 4 * MiB + 1)
                rd = os.path.join(tmp, "rd-" + name.replace("/", "_"))
                lines.append("read %s %d %d --out %s" % (name, off, ln, rd))
                expect.append((rd, data[off:off + ln]))
        p2, res = c.batch(lines, jobs=8, timeout=500)
        bad = [r for r in res if r["rc"] != 0]
        assert not bad and len(res) == len(lines), bad[:5]
        for dst, data in expect:
            got = rfile(dst)
            assert len(got) == len(data) and sha(got) == sha(data), dst
        listing = c.json("ls", "w", "--max", 50)
        assert sorted(x["name"] for x in listing) == sorted(n[2:] for n in local)
        for x in listing:
            assert x["size"] == len(local["w/" + x["name"]][1])
        down = stats_of(p2)
        ops = e.ops()
    print("fault workload: upload %s, download %s, ops %s" % (up, down, ops))
    # the faults really fired, and were retried through
    assert int(up["retries"]) + int(down["retries"]) >= 40, (up, down)
    assert ops.get("PutRange", 0) >= 12  # 4 MiB+1: 2, 6 MiB: 2, 9 MiB: 3, 20 MiB: 5


# ---------------------------------------------------------------- wire format

class RawServer:
    """A loopback HTTP/1.1 server that records request heads and bodies and
    answers every request 404 ResourceNotFound (keep-alive)."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = []  # (head lines, body bytes)
        self.stop_flag = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop_flag:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            c.settimeout(5)
            try:
                self.serve(c)
            except OSError:
                pass
            finally:
                c.close()

    def serve(self, c):
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = c.recv(1 << 20)
                if not chunk:
                    return
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            hdrs = {k.lower(): v.strip() for k, _, v in
                    (line.partition(":") for line in lines[1:])}
            n = int(hdrs.get("content-length", "0"))
            while len(buf) < n:
                chunk = c.recv(1 << 20)
                if not chunk:
                    return
                buf += chunk
            self.requests.append((lines, buf[:n]))
            buf = buf[n:]
            c.sendall(b"HTTP/1.1 404 The specified resource does not exist.\r\n"
                      b"x-ms-error-code: ResourceNotFound\r\nContent-Length: 0\r\n\r\n")

    def close(self):
        self.stop_flag = True
        self.thread.join(5)
        self.sock.close()


def test_wire_format(cli_bin, tmp):
    srv = RawServer()
    try:
        conn = os.path.join(tmp, "conn")
        with open(conn, "w") as f:
            f.write("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                    "AccountKey=%s;FileEndpoint=http://127.0.0.1:%d/devstoreaccount1"
                    % (emulator.KEY, srv.port))
        body = os.urandom(4 * MiB)
        src = wfile(tmp, "body", body)
        cmds = [("rm", "a b/c+d%"), ("put-range", "f", "0", src), ("mkdir", "d"),
                ("ls", "d/\u00e9"), ("props", "x"), ("create", "g", str(len(body)),
                                                    "--body-file", src)]
        for cmd in cmds:
            p = subprocess.run([cli_bin, "--conn-file", conn, "--share", "wire"] + list(cmd),
                               capture_output=True, timeout=60)
            assert p.returncode == errno.ENOENT, (cmd, p.stderr)
    finally:
        srv.close()
    reqs = srv.requests
    assert len(reqs) == len(cmds)  # a 404 is not retried
    for lines, data in reqs:
        method = lines[0].split()[0]
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            assert k.lower() not in hdrs, "duplicate header %s" % k
            hdrs[k.lower()] = v.strip()
        assert hdrs["x-ms-version"] == "2026-02-06"
        assert hdrs["x-ms-date"].endswith(" GMT")
        assert hdrs["authorization"].startswith("SharedKey devstoreaccount1:")
        assert "expect" not in hdrs and "transfer-encoding" not in hdrs
        if method in ("PUT", "DELETE"):
            assert hdrs["content-length"] == str(len(data))
    assert reqs[0][0][0] == "DELETE /devstoreaccount1/wire/a%20b/c%2Bd%25 HTTP/1.1"
    assert reqs[0][0][0] and "content-length: 0" in [x.lower() for x in reqs[0][0]]
    assert reqs[1][0][0] == "PUT /devstoreaccount1/wire/f?comp=range HTTP/1.1"
    assert reqs[1][1] == body
    h1 = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in reqs[1][0][1:])}
    assert h1["x-ms-range"] == "bytes=0-%d" % (len(body) - 1)
    assert h1["x-ms-write"] == "update"
    assert h1["content-md5"] == base64_md5(body)
    assert reqs[2][0][0] == "PUT /devstoreaccount1/wire/d?restype=directory HTTP/1.1"
    assert reqs[3][0][0].startswith("GET /devstoreaccount1/wire/d/%C3%A9?restype=directory"
                                    "&comp=list&include=Timestamps,ETag,Attributes,"
                                    "PermissionKey&maxresults=")
    assert "x-ms-file-extended-info: true" in reqs[3][0]
    assert reqs[4][0][0] == "HEAD /devstoreaccount1/wire/x HTTP/1.1"
    h5 = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in reqs[5][0][1:])}
    assert reqs[5][1] == body and h5["x-ms-content-length"] == str(len(body))
    assert h5["x-ms-type"] == "file" and h5["content-md5"] == base64_md5(body)


def base64_md5(b):
    import base64
    return base64.b64encode(hashlib.md5(b).digest()).decode()
