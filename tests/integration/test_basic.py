"""The mount's operations, one by one, checked through the mount and on the
share itself (REST) or through a second mount of the same share.

CI also runs this file against the ASan/UBSan build (scripts/test.sh).
"""
import errno
import os
import stat

import pytest

import remote
from conftest import new_share
from util import (RENAME_EXCHANGE, RENAME_NOREPLACE, err_of, read_file, renameat2, wait_for,
                  write_file)


def test_empty_share_root(mnt):
    st = os.stat(mnt.mnt)
    assert stat.S_ISDIR(st.st_mode)
    assert os.listdir(mnt.mnt) == []


def test_create_write_read(mnt, emu):
    p = mnt.path("hello.txt")
    write_file(p, b"hello world\n")
    assert read_file(p) == b"hello world\n"
    st = os.stat(p)
    assert stat.S_ISREG(st.st_mode) and st.st_size == 12
    assert os.listdir(mnt.mnt) == ["hello.txt"]
    # close-to-open: the close returned, so the bytes are on the share
    assert remote.read(emu, mnt.share, "hello.txt") == b"hello world\n"


def test_overwrite_in_place(mnt, emu):
    p = mnt.path("f")
    write_file(p, b"0123456789")
    with open(p, "r+b") as f:
        f.seek(3)
        f.write(b"abc")
    assert read_file(p) == b"012abc6789"
    assert remote.read(emu, mnt.share, "f") == b"012abc6789"


def test_zero_byte_file(mounts, share, emu):
    a = mounts.new(share)
    open(a.path("empty"), "wb").close()
    assert os.stat(a.path("empty")).st_size == 0
    assert remote.read(emu, share, "empty") == b""
    b = mounts.new(share)
    assert os.stat(b.path("empty")).st_size == 0
    assert read_file(b.path("empty")) == b""


def test_truncate_and_ftruncate(mnt, emu):
    p = mnt.path("t")
    write_file(p, b"x" * 1000)
    os.truncate(p, 10)
    assert os.stat(p).st_size == 10
    assert remote.read(emu, mnt.share, "t") == b"x" * 10
    os.truncate(p, 20)
    assert read_file(p) == b"x" * 10 + b"\0" * 10
    with open(p, "r+b") as f:
        os.ftruncate(f.fileno(), 4)
        assert os.fstat(f.fileno()).st_size == 4
        f.seek(0, os.SEEK_END)
        f.write(b"yz")
    assert read_file(p) == b"xxxxyz"
    assert remote.read(emu, mnt.share, "t") == b"xxxxyz"


def test_fsync_uploads_before_close(mnt, emu):
    p = mnt.path("synced")
    fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        os.write(fd, b"durable")
        os.fsync(fd)
        assert remote.read(emu, mnt.share, "synced") == b"durable"
        os.write(fd, b"+more")
        os.fdatasync(fd)
        assert remote.read(emu, mnt.share, "synced") == b"durable+more"
    finally:
        os.close(fd)


def test_unlink(mnt, emu):
    p = mnt.path("gone")
    write_file(p, b"bye")
    os.unlink(p)
    assert not os.path.exists(p)
    assert "gone" not in os.listdir(mnt.mnt)
    assert not remote.exists(emu, mnt.share, "gone")
    assert err_of(os.unlink, p) == "ENOENT"


def test_mkdir_rmdir(mnt, emu):
    d = mnt.path("d")
    os.mkdir(d)
    assert stat.S_ISDIR(os.stat(d).st_mode)
    assert remote.head(emu, mnt.share, "d")[0] == 200
    write_file(os.path.join(d, "f"), b"1")
    assert err_of(os.rmdir, d) == "ENOTEMPTY"
    assert err_of(os.mkdir, d) == "EEXIST"
    assert err_of(os.rmdir, os.path.join(d, "f")) == "ENOTDIR"
    os.unlink(os.path.join(d, "f"))
    os.rmdir(d)
    assert not os.path.exists(d)
    assert not remote.exists(emu, mnt.share, "d")
    os.makedirs(mnt.path("a", "b", "c"))
    write_file(mnt.path("a", "b", "c", "deep"), b"deep")
    assert remote.read(emu, mnt.share, "a/b/c/deep") == b"deep"


def test_rename_over_existing_file(mnt, emu):
    write_file(mnt.path("src"), b"new contents")
    write_file(mnt.path("dst"), b"old")
    os.rename(mnt.path("src"), mnt.path("dst"))
    assert sorted(os.listdir(mnt.mnt)) == ["dst"]
    assert read_file(mnt.path("dst")) == b"new contents"
    assert remote.names(emu, mnt.share) == ["dst"]
    assert remote.read(emu, mnt.share, "dst") == b"new contents"


def test_rename_noreplace_and_exchange(mnt, emu):
    write_file(mnt.path("a"), b"A")
    write_file(mnt.path("b"), b"B")
    with pytest.raises(OSError) as ei:
        renameat2(mnt.path("a"), mnt.path("b"), RENAME_NOREPLACE)
    assert ei.value.errno == errno.EEXIST
    assert read_file(mnt.path("a")) == b"A" and read_file(mnt.path("b")) == b"B"
    renameat2(mnt.path("a"), mnt.path("c"), RENAME_NOREPLACE)
    assert sorted(os.listdir(mnt.mnt)) == ["b", "c"]
    assert remote.names(emu, mnt.share) == ["b", "c"]
    with pytest.raises(OSError) as ei:
        renameat2(mnt.path("b"), mnt.path("c"), RENAME_EXCHANGE)
    assert ei.value.errno == errno.EINVAL
    assert read_file(mnt.path("b")) == b"B" and read_file(mnt.path("c")) == b"A"
    # directories too
    os.mkdir(mnt.path("d1"))
    os.mkdir(mnt.path("d2"))
    write_file(mnt.path("d1", "in1"), b"1")
    with pytest.raises(OSError) as ei:
        renameat2(mnt.path("d1"), mnt.path("d2"), RENAME_NOREPLACE)
    assert ei.value.errno == errno.EEXIST
    with pytest.raises(OSError) as ei:
        renameat2(mnt.path("b"), mnt.path("d2"), RENAME_NOREPLACE)
    assert ei.value.errno == errno.EEXIST
    renameat2(mnt.path("d1"), mnt.path("d3"), RENAME_NOREPLACE)
    assert read_file(mnt.path("d3", "in1")) == b"1"
    assert remote.names(emu, mnt.share) == ["b", "c", "d2", "d3"]
    assert remote.names(emu, mnt.share, "d3") == ["in1"]


def test_rename_directory(mnt, emu):
    os.makedirs(mnt.path("d1", "sub"))
    write_file(mnt.path("d1", "sub", "f"), b"inside")
    os.rename(mnt.path("d1"), mnt.path("d2"))
    assert os.listdir(mnt.mnt) == ["d2"]
    assert read_file(mnt.path("d2", "sub", "f")) == b"inside"
    assert not os.path.exists(mnt.path("d1"))
    assert remote.names(emu, mnt.share) == ["d2"]
    assert remote.read(emu, mnt.share, "d2/sub/f") == b"inside"
    # a file moved into another directory
    os.mkdir(mnt.path("other"))
    os.rename(mnt.path("d2", "sub", "f"), mnt.path("other", "g"))
    assert remote.read(emu, mnt.share, "other/g") == b"inside"
    assert remote.names(emu, mnt.share, "d2/sub") == []


MTIME_NS = 1_500_000_000_123_456_700   # 100 ns resolution, like the service
ATIME_NS = 1_500_000_100_000_000_000


def test_utimens_kept_and_seen_by_second_mount(mounts, share):
    a = mounts.new(share)
    p = a.path("timed")
    write_file(p, b"t")
    os.utime(p, ns=(ATIME_NS, MTIME_NS))
    assert abs(os.stat(p).st_mtime_ns - MTIME_NS) < 1000
    os.mkdir(a.path("dir"))
    os.utime(a.path("dir"), ns=(ATIME_NS, MTIME_NS))
    b = mounts.new(share)
    # the utime of a file A uploaded a moment ago waits up to min(attr_timeout,
    # 1 s) on A (docs/DESIGN.md, deferred attribute changes); B then sees it
    # within its own attr_timeout
    wait_for(lambda: abs(os.stat(b.path("timed")).st_mtime_ns - MTIME_NS) < 1000, 5,
             what="A's utime seen on B")
    assert abs(os.stat(b.path("dir")).st_mtime_ns - MTIME_NS) < 1000
    # an open file's futimens too
    with open(a.path("timed"), "r+b") as f:
        os.utime(f.fileno(), ns=(ATIME_NS, MTIME_NS + 1_000_000_000))
    c = mounts.new(share)
    assert abs(os.stat(c.path("timed")).st_mtime_ns - (MTIME_NS + 1_000_000_000)) < 1000


def _owner_mode(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_chmod_chown_kept_across_mounts(mounts, share):
    a = mounts.new(share)
    write_file(a.path("f"), b"x")
    os.chmod(a.path("f"), 0o640)
    os.chown(a.path("f"), 1234, 5678)
    os.mkdir(a.path("d"), 0o755)
    os.chown(a.path("d"), 4321, 8765)
    os.chmod(a.path("d"), 0o2770)
    assert _owner_mode(a.path("f")) == (1234, 5678, 0o640)
    assert _owner_mode(a.path("d")) == (4321, 8765, 0o2770)
    b = mounts.new(share)
    assert _owner_mode(b.path("f")) == (1234, 5678, 0o640)
    assert _owner_mode(b.path("d")) == (4321, 8765, 0o2770)
    # a remount of the first (fresh cache) shows the same
    a.stop()
    a2 = mounts.new(share)
    assert _owner_mode(a2.path("f")) == (1234, 5678, 0o640)
    assert _owner_mode(a2.path("d")) == (4321, 8765, 0o2770)


def test_new_file_mode_and_owner(mnt):
    old = os.umask(0o022)
    try:
        fd = os.open(mnt.path("m"), os.O_CREAT | os.O_WRONLY, 0o666)
        os.close(fd)
        os.mkdir(mnt.path("dm"), 0o777)
    finally:
        os.umask(old)
    assert _owner_mode(mnt.path("m")) == (0, 0, 0o644)
    assert _owner_mode(mnt.path("dm")) == (0, 0, 0o755)


def test_symlink_seen_by_second_mount(mounts, share, emu):
    a = mounts.new(share)
    write_file(a.path("target.txt"), b"pointed at")
    os.symlink("target.txt", a.path("rel"))
    os.symlink("/etc/hostname", a.path("abs"))
    os.symlink("no/such/thing", a.path("dangling"))
    assert os.readlink(a.path("rel")) == "target.txt"
    assert stat.S_ISLNK(os.lstat(a.path("rel")).st_mode)
    assert read_file(a.path("rel")) == b"pointed at"
    b = mounts.new(share)
    for name, target in [("rel", "target.txt"), ("abs", "/etc/hostname"),
                         ("dangling", "no/such/thing")]:
        assert stat.S_ISLNK(os.lstat(b.path(name)).st_mode), name
        assert os.readlink(b.path(name)) == target
    assert read_file(b.path("rel")) == b"pointed at"
    # on the share: the Minshall+French format (docs/DESIGN.md)
    raw = remote.read(emu, share, "rel")
    assert raw.startswith(b"XSym\n0010\n") and len(raw) == 1067
    assert b"\ntarget.txt\n" in raw
    os.unlink(a.path("rel"))
    assert not remote.exists(emu, share, "rel")
    assert read_file(a.path("target.txt")) == b"pointed at"


def test_statfs_reports_quota(mounts, emu):
    share = new_share(emu, quota_gib=7)
    m = mounts.new(share)
    sv = os.statvfs(m.mnt)
    assert sv.f_blocks * sv.f_frsize == 7 << 30
    assert 0 < sv.f_bavail * sv.f_frsize <= 7 << 30
    assert sv.f_namemax == 255


def test_access(mnt):
    write_file(mnt.path("f"), b"x")
    os.chmod(mnt.path("f"), 0o644)
    assert os.access(mnt.path("f"), os.R_OK | os.W_OK)
    assert not os.access(mnt.path("f"), os.X_OK)
    os.chmod(mnt.path("f"), 0o755)
    assert os.access(mnt.path("f"), os.X_OK)
    assert not os.access(mnt.path("missing"), os.F_OK)


def test_unsupported_kinds_fail_clearly(mnt, emu):
    write_file(mnt.path("f"), b"x")
    allowed = {"EPERM", "EOPNOTSUPP"}
    assert err_of(os.link, mnt.path("f"), mnt.path("hard")) in allowed
    assert err_of(os.mkfifo, mnt.path("fifo")) in allowed
    assert err_of(os.mknod, mnt.path("chr"), stat.S_IFCHR | 0o600,
                  os.makedev(1, 3)) in allowed
    import socket
    s = socket.socket(socket.AF_UNIX)
    try:
        assert err_of(s.bind, mnt.path("sock")) in allowed
    finally:
        s.close()
    # no fake success: nothing was created, locally or on the share
    assert sorted(os.listdir(mnt.mnt)) == ["f"]
    assert remote.names(emu, mnt.share) == ["f"]


@pytest.mark.parametrize("bad", ['a"b', "a\\b", "a:b", "a|b", "a<b", "a>b", "a*b",
                                 "a?b", "ctl\x01", "ctl\x1f"])
def test_forbidden_names(mnt, emu, bad):
    p = mnt.path(bad)
    assert err_of(os.open, p, os.O_CREAT | os.O_WRONLY, 0o644) == "EINVAL"
    assert err_of(os.mkdir, p) == "EINVAL"
    assert err_of(os.symlink, "x", p) == "EINVAL"
    write_file(mnt.path("ok"), b"1")
    assert err_of(os.rename, mnt.path("ok"), p) == "EINVAL"
    assert os.listdir(mnt.mnt) == ["ok"]
    assert remote.names(emu, mnt.share) == ["ok"]


def test_name_and_path_length_limits(mnt, emu):
    ok = "n" * 255
    write_file(mnt.path(ok), b"1")
    assert os.listdir(mnt.mnt) == [ok]
    assert err_of(os.open, mnt.path("n" * 256), os.O_CREAT | os.O_WRONLY, 0o644) \
        == "ENAMETOOLONG"
    assert err_of(os.mkdir, mnt.path("d" * 256)) == "ENAMETOOLONG"
    # share-relative path: 8 levels of 250 chars = 2008 chars with slashes
    parts = [("%d" % i) * 250 for i in range(1, 9)]
    deep = mnt.path(*parts)
    os.makedirs(deep)
    write_file(os.path.join(deep, "f" * 30), b"fits")          # 2039 chars
    assert err_of(os.open, os.path.join(deep, "g" * 60),         # 2069 chars
                  os.O_CREAT | os.O_WRONLY, 0o644) == "ENAMETOOLONG"
    assert os.listdir(deep) == ["f" * 30]
    assert remote.read(emu, mnt.share, "/".join(parts + ["f" * 30])) == b"fits"


def test_case_insensitive_share_one_name_per_file(mnt, emu):
    write_file(mnt.path("foo"), b"original")
    write_file(mnt.path("bar"), b"bar")
    assert err_of(os.open, mnt.path("Foo"), os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                  0o644) == "EEXIST"
    assert err_of(os.open, mnt.path("FOO"), os.O_CREAT | os.O_WRONLY, 0o644) == "EEXIST"
    assert err_of(os.stat, mnt.path("FOO")) == "ENOENT"
    assert err_of(open, mnt.path("Foo"), "rb") == "ENOENT"
    assert err_of(os.mkdir, mnt.path("FOO")) == "EEXIST"
    assert err_of(os.rename, mnt.path("bar"), mnt.path("fOO")) == "EEXIST"
    assert sorted(os.listdir(mnt.mnt)) == ["bar", "foo"]
    assert read_file(mnt.path("foo")) == b"original"
    assert remote.read(emu, mnt.share, "foo") == b"original"
    assert remote.read(emu, mnt.share, "bar") == b"bar"
    os.mkdir(mnt.path("Dir"))
    assert err_of(os.open, mnt.path("dir", "x"), os.O_CREAT | os.O_WRONLY, 0o644) \
        == "ENOENT"


@pytest.mark.slow
def test_big_directory_listing(mounts, big_tree):
    m = mounts.new(big_tree["share"])
    d = m.path(big_tree["dir"])
    listed = os.listdir(d)
    assert len(listed) == len(big_tree["names"])
    assert sorted(listed) == big_tree["names"]
    with os.scandir(d) as it:
        n = 0
        for ent in it:
            st = ent.stat(follow_symlinks=False)
            assert stat.S_ISREG(st.st_mode) and st.st_size == 0
            n += 1
    assert n == len(big_tree["names"])
    st = os.stat(os.path.join(d, "f09999"))
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o644)
    assert err_of(os.stat, os.path.join(d, "f10000")) == "ENOENT"


def _pattern(size):
    """size bytes in which every 4 KiB block starts with its own offset."""
    block = bytes(range(256)) * 16
    out = bytearray(block * (size // len(block)))
    for off in range(0, size, 4096):
        out[off:off + 8] = off.to_bytes(8, "little")
    return bytes(out)


def test_large_file_streamed_reads_with_read_ahead(mounts, share, emu):
    """A file over file_cache_max is read in ranges with windows fetched
    ahead in parallel: sequential, random and concurrent readers and a
    reader that also writes all get exactly the share's bytes, and a
    sequential read costs about one request per window, not per read."""
    size = 40 << 20
    data = _pattern(size)
    remote.write(emu, share, "big.bin", data)
    m = mounts.new(share, opts={"file_cache_max": "1M"})
    emu.reset()
    with open(m.path("big.bin"), "rb") as f:
        got = f.read()
    assert got == data
    gets = emu.ops().get("GetFile", 0)
    assert 5 <= gets <= 20, emu.ops()     # 128 KiB .. 8 MiB windows, two ahead

    import random
    import threading
    errors = []

    def reader(seed):
        r = random.Random(seed)
        with open(m.path("big.bin"), "rb", buffering=0) as f:
            off = 0
            for _ in range(60):
                if r.random() < 0.3:
                    off = r.randrange(size)
                n = r.choice([4096, 65536, 1 << 20, 3 << 20])
                f.seek(off)
                b = f.read(n)
                if b != data[off:off + n]:
                    errors.append((seed, off, n))
                    return
                off = (off + len(b)) % size

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]

    ref = bytearray(data)
    with open(m.path("big.bin"), "r+b", buffering=0) as f:
        for k in range(12):
            f.seek(k << 20)
            assert f.read(1 << 20) == bytes(ref[k << 20:(k + 1) << 20]), k
            pos = ((k + 3) << 20) + 77      # inside a window being fetched ahead
            f.seek(pos)
            f.write(b"W%03d" % k)
            ref[pos:pos + 4] = b"W%03d" % k
        f.seek(0)
        assert f.read() == bytes(ref)
    assert remote.read(emu, share, "big.bin") == bytes(ref)
