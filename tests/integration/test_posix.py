"""POSIX behaviour through the mount: open flags, truncation, rename cases,
unlink of open files, and the times a write/truncate/chmod/rename changes."""
import os
import time

import pytest

import remote
from util import err_of, read_file, wait_for, write_file

OLD_NS = 1_400_000_000_000_000_000


def test_o_creat_o_excl(mnt):
    p = mnt.path("x")
    fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"first")
    os.close(fd)
    assert err_of(os.open, p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644) == "EEXIST"
    assert read_file(p) == b"first"
    # O_CREAT without O_EXCL opens the existing file untouched
    fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
    assert os.read(fd, 100) == b"first"
    os.close(fd)
    assert err_of(os.open, mnt.path("missing"), os.O_RDONLY) == "ENOENT"
    os.mkdir(mnt.path("d"))
    assert err_of(os.open, mnt.path("d"), os.O_WRONLY) == "EISDIR"
    assert err_of(os.open, mnt.path("x", "y"), os.O_CREAT | os.O_WRONLY) == "ENOTDIR"


def test_o_trunc(mnt, emu):
    p = mnt.path("t")
    write_file(p, b"a long original content")
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    try:
        assert os.fstat(fd).st_size == 0
        assert os.stat(p).st_size == 0
        os.write(fd, b"short")
    finally:
        os.close(fd)
    assert read_file(p) == b"short"
    assert remote.read(emu, mnt.share, "t") == b"short"
    # O_TRUNC alone (nothing written) leaves an empty file on the share
    os.close(os.open(p, os.O_WRONLY | os.O_TRUNC))
    assert read_file(p) == b""
    assert remote.read(emu, mnt.share, "t") == b""


def test_o_append(mnt, emu):
    p = mnt.path("log")
    write_file(p, b"one\n")
    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, b"two\n")          # still at the end
        os.write(fd, b"three\n")
    finally:
        os.close(fd)
    with open(p, "ab") as f:
        f.write(b"four\n")
    assert read_file(p) == b"one\ntwo\nthree\nfour\n"
    assert remote.read(emu, mnt.share, "log") == b"one\ntwo\nthree\nfour\n"
    # two appenders through two descriptors interleave, nothing is overwritten
    f1 = os.open(p, os.O_WRONLY | os.O_APPEND)
    f2 = os.open(p, os.O_WRONLY | os.O_APPEND)
    try:
        for i in range(5):
            os.write(f1, b"a%d\n" % i)
            os.write(f2, b"b%d\n" % i)
    finally:
        os.close(f1)
        os.close(f2)
    lines = read_file(p).split(b"\n")
    assert len([x for x in lines if x]) == 14


def test_wrong_access_mode_is_ebadf(mnt):
    p = mnt.path("ro")
    write_file(p, b"data")
    fd = os.open(p, os.O_RDONLY)
    try:
        assert err_of(os.write, fd, b"x") == "EBADF"
        assert err_of(os.ftruncate, fd, 0) in ("EBADF", "EINVAL")
    finally:
        os.close(fd)
    fd = os.open(p, os.O_WRONLY)
    try:
        assert err_of(os.read, fd, 1) == "EBADF"
    finally:
        os.close(fd)
    assert read_file(p) == b"data"


def test_pread_pwrite(mnt, emu):
    p = mnt.path("rw")
    write_file(p, bytes(range(256)) * 16)
    fd = os.open(p, os.O_RDWR)
    try:
        assert os.pread(fd, 4, 1000) == bytes([1000 % 256 + i for i in range(4)])
        os.pwrite(fd, b"XYZ", 4094)      # straddles the end
        assert os.fstat(fd).st_size == 4097
        assert os.pread(fd, 10, 4090) == bytes([250, 251, 252, 253]) + b"XYZ"
    finally:
        os.close(fd)
    data = remote.read(emu, mnt.share, "rw")
    assert len(data) == 4097 and data[4094:] == b"XYZ"


def test_truncate_up_and_down(mnt, emu):
    p = mnt.path("tr")
    write_file(p, b"abcdef")
    os.truncate(p, 5 << 20)
    assert os.stat(p).st_size == 5 << 20
    data = read_file(p)
    assert data[:6] == b"abcdef" and data[6:] == b"\0" * ((5 << 20) - 6)
    assert remote.head(emu, mnt.share, "tr")[0] == 200
    os.truncate(p, 3)
    assert read_file(p) == b"abc"
    os.truncate(p, 0)
    assert read_file(p) == b""
    assert remote.read(emu, mnt.share, "tr") == b""


def test_rename_cases(mnt, emu):
    write_file(mnt.path("f1"), b"one")
    write_file(mnt.path("f2"), b"two")
    os.mkdir(mnt.path("full"))
    write_file(mnt.path("full", "x"), b"x")
    os.mkdir(mnt.path("empty"))
    os.mkdir(mnt.path("dsrc"))
    write_file(mnt.path("dsrc", "y"), b"y")

    os.rename(mnt.path("f1"), mnt.path("f1"))                        # to itself
    assert read_file(mnt.path("f1")) == b"one"
    assert err_of(os.rename, mnt.path("f1"), mnt.path("full")) == "EISDIR"
    assert err_of(os.rename, mnt.path("dsrc"), mnt.path("f2")) == "ENOTDIR"
    assert err_of(os.rename, mnt.path("dsrc"), mnt.path("full")) in ("ENOTEMPTY", "EEXIST")
    assert err_of(os.rename, mnt.path("dsrc"), mnt.path("dsrc", "inner")) == "EINVAL"
    assert err_of(os.rename, mnt.path("nope"), mnt.path("n2")) == "ENOENT"
    os.rename(mnt.path("f1"), mnt.path("f2"))                        # file over file
    assert read_file(mnt.path("f2")) == b"one"
    os.rename(mnt.path("dsrc"), mnt.path("empty"))                   # dir over empty dir
    assert read_file(mnt.path("empty", "y")) == b"y"
    assert sorted(os.listdir(mnt.mnt)) == ["empty", "f2", "full"]
    assert remote.names(emu, mnt.share) == ["empty", "f2", "full"]
    assert remote.read(emu, mnt.share, "f2") == b"one"
    assert remote.read(emu, mnt.share, "empty/y") == b"y"
    assert remote.read(emu, mnt.share, "full/x") == b"x"


def test_rmdir_non_empty(mnt):
    os.makedirs(mnt.path("d", "sub"))
    assert err_of(os.rmdir, mnt.path("d")) == "ENOTEMPTY"
    os.rmdir(mnt.path("d", "sub"))
    os.rmdir(mnt.path("d"))
    assert os.listdir(mnt.mnt) == []


def test_unlink_open_file_keeps_working(mnt, emu):
    p = mnt.path("open-unlinked")
    write_file(p, b"still here")
    fd = os.open(p, os.O_RDWR)
    try:
        os.unlink(p)
        assert not os.path.exists(p)
        assert os.listdir(mnt.mnt) == []
        assert not remote.exists(emu, mnt.share, "open-unlinked")
        assert os.pread(fd, 100, 0) == b"still here"
        os.pwrite(fd, b"STILL", 0)
        assert os.pread(fd, 100, 0) == b"STILL here"
        assert os.fstat(fd).st_size == 10
        # a new file under the same name is a different file
        write_file(p, b"new")
        assert os.pread(fd, 100, 0) == b"STILL here"
    finally:
        os.close(fd)
    assert read_file(p) == b"new"
    assert remote.read(emu, mnt.share, "open-unlinked") == b"new"
    assert remote.names(emu, mnt.share) == ["open-unlinked"]


def test_unlinked_open_file_fstat_fchmod_ftruncate(mnt, emu):
    """The descriptor of an unlinked file keeps working for metadata too,
    and nothing of it (no hidden name) ever reaches the share or a listing."""
    os.mkdir(mnt.path("d"))
    p = mnt.path("d", "gone")
    write_file(p, b"0123456789")
    fd = os.open(p, os.O_RDWR)
    try:
        ino = os.fstat(fd).st_ino
        emu.reset()
        os.unlink(p)
        assert emu.ops() == {"DeleteFile": 1}
        os.write(fd, b"abc")
        os.pwrite(fd, b"tail", 20)
        st = os.fstat(fd)
        assert st.st_size == 24 and st.st_nlink >= 0
        os.ftruncate(fd, 5)
        assert os.fstat(fd).st_size == 5
        assert os.pread(fd, 100, 0) == b"abc34"
        os.fchmod(fd, 0o600)
        assert os.fstat(fd).st_mode & 0o777 == 0o600
        os.utime(fd, ns=(OLD_NS, OLD_NS))
        assert os.fstat(fd).st_mtime_ns == pytest.approx(OLD_NS, abs=1000)
        assert os.fstat(fd).st_ino != 0
        assert os.listdir(mnt.path("d")) == []
        assert remote.names(emu, mnt.share, "d") == []
        # the directory holding it can be renamed and the handle follows
        os.rename(mnt.path("d"), mnt.path("e"))
        assert os.fstat(fd).st_size == 5
        assert os.listdir(mnt.path("e")) == []
        del ino
    finally:
        os.close(fd)
    assert os.listdir(mnt.path("e")) == []
    assert remote.names(emu, mnt.share, "e") == []
    # the directory is empty on the share and here: rmdir works
    os.rmdir(mnt.path("e"))
    assert remote.names(emu, mnt.share) == []


def test_tempfile_on_the_mount(mnt, emu):
    """Python's TemporaryFile: create, unlink at once, use, close."""
    import tempfile
    with tempfile.TemporaryFile(dir=mnt.mnt) as f:
        f.write(b"x" * 100_000)
        f.flush()
        assert os.fstat(f.fileno()).st_size == 100_000
        f.seek(0)
        assert f.read() == b"x" * 100_000
        assert os.listdir(mnt.mnt) == []
    assert os.listdir(mnt.mnt) == []
    assert remote.names(emu, mnt.share) == []


def test_rename_over_open_file_is_one_rename(mnt, emu):
    """An atomic save over a file someone has open: one Rename File on the
    share (no delete first), the reader keeps the old data and can fstat."""
    p = mnt.path("doc.txt")
    write_file(p, b"old version")
    reader = os.open(p, os.O_RDONLY)
    try:
        assert os.read(reader, 3) == b"old"
        tmp = mnt.path(".doc.txt.tmp")
        write_file(tmp, b"the new version")
        emu.reset()
        os.rename(tmp, p)
        ops = emu.ops()
        assert ops == {"RenameFile": 1}, ops
        assert read_file(p) == b"the new version"
        assert os.pread(reader, 100, 0) == b"old version"
        assert os.fstat(reader).st_size == len(b"old version")
        assert os.fstat(reader).st_ino != os.stat(p).st_ino
        assert sorted(os.listdir(mnt.mnt)) == ["doc.txt"]
        assert remote.names(emu, mnt.share) == ["doc.txt"]
    finally:
        os.close(reader)
    assert sorted(os.listdir(mnt.mnt)) == ["doc.txt"]
    assert remote.names(emu, mnt.share) == ["doc.txt"]
    assert remote.read(emu, mnt.share, "doc.txt") == b"the new version"
    # the same again while the reader of the first replacement is open,
    # through a writer that also keeps its file open across the rename
    r2 = os.open(p, os.O_RDONLY)
    w = os.open(mnt.path("next"), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.write(w, b"third")
        os.fsync(w)
        os.rename(mnt.path("next"), p)
        os.write(w, b" edit")
        assert os.fstat(w).st_size == len(b"third edit")
        assert os.pread(r2, 100, 0) == b"the new version"
    finally:
        os.close(w)
        os.close(r2)
    assert read_file(p) == b"third edit"
    assert remote.read(emu, mnt.share, "doc.txt") == b"third edit"
    assert remote.names(emu, mnt.share) == ["doc.txt"]


def test_hidden_names_are_reserved(mnt, emu):
    """libfuse's .fuse_hidden* names belong to the mount: they cannot be
    created or renamed to, and one that exists on the share (written by
    another client) is neither listed nor reachable."""
    name = ".fuse_hidden0000000100000001"
    assert err_of(write_file, mnt.path(name), b"x") == "EINVAL"
    assert err_of(os.mkdir, mnt.path(name + "d")) == "EINVAL"
    write_file(mnt.path("a"), b"a")
    fd = os.open(mnt.path("a"), os.O_RDONLY)
    try:
        assert err_of(os.rename, mnt.path("a"), mnt.path(name)) == "EINVAL"
    finally:
        os.close(fd)
    assert err_of(os.rename, mnt.path("a"), mnt.path(name)) == "EINVAL"
    remote.write(emu, mnt.share, ".fuse_hidden_foreign", b"smb")
    time.sleep(2.5)   # past the listing's validity
    assert sorted(os.listdir(mnt.mnt)) == ["a"]
    assert not os.path.exists(mnt.path(".fuse_hidden_foreign"))
    assert remote.read(emu, mnt.share, "a") == b"a"


def test_ino_stable_across_rewrite_upload_and_nodes(mounts, share, emu):
    """st_ino of a name does not change when the file is rewritten (each
    save is a new file on the share), when it is first uploaded, or on
    another mount of the share; different names have different numbers."""
    a = mounts.new(share, opts={"attr_timeout": 1, "dir_timeout": 1})
    p = a.path("f")
    fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        os.write(fd, b"first")
        ino = os.fstat(fd).st_ino            # not on the share yet
        assert not remote.exists(emu, share, "f")
    finally:
        os.close(fd)                         # uploaded here
    assert remote.exists(emu, share, "f")
    time.sleep(1.2)                          # attributes re-read from the share
    assert os.stat(p).st_ino == ino
    for i in range(3):                       # rewrites: a new FileId each time
        write_file(p, b"version %d" % i)
        assert os.stat(p).st_ino == ino
        time.sleep(1.2)
        assert os.stat(p).st_ino == ino
    os.mkdir(a.path("d"))
    dino = os.stat(a.path("d")).st_ino
    write_file(a.path("d", "g"), b"g")
    inos = {ino, dino, os.stat(a.path("d", "g")).st_ino, os.stat(a.mnt).st_ino}
    assert len(inos) == 4
    assert {e.inode() for e in os.scandir(a.mnt)} == {ino, dino}
    b = mounts.new(share)
    assert os.stat(b.path("f")).st_ino == ino
    assert os.stat(b.path("d")).st_ino == dino


def test_ino_stable_across_first_writeback_upload(mounts, share, emu):
    m = mounts.new(share, opts={"writeback_delay": 1, "attr_timeout": 1,
                                "dir_timeout": 1})
    p = m.path("wb")
    write_file(p, b"later")
    ino = os.stat(p).st_ino
    assert not remote.exists(emu, share, "wb")
    wait_for(lambda: remote.exists(emu, share, "wb"), 20, what="the write-back upload")
    time.sleep(1.2)
    assert os.stat(p).st_ino == ino


def _near_now(ns, slack=10):
    return abs(ns / 1e9 - time.time()) < slack


def test_write_and_truncate_update_mtime_ctime(mnt):
    p = mnt.path("times")
    write_file(p, b"x")
    os.utime(p, ns=(OLD_NS, OLD_NS))
    assert os.stat(p).st_mtime_ns == pytest.approx(OLD_NS, abs=1000)
    with open(p, "ab") as f:
        f.write(b"y")
    st = os.stat(p)
    assert _near_now(st.st_mtime_ns) and _near_now(st.st_ctime_ns)
    os.utime(p, ns=(OLD_NS, OLD_NS))
    os.truncate(p, 1)
    st = os.stat(p)
    assert _near_now(st.st_mtime_ns)
    os.utime(p, ns=(OLD_NS, OLD_NS))
    with open(p, "r+b") as f:
        os.ftruncate(f.fileno(), 0)
    assert _near_now(os.stat(p).st_mtime_ns)


def test_chmod_and_rename_change_ctime_not_mtime(mnt):
    p = mnt.path("c")
    write_file(p, b"x")
    os.utime(p, ns=(OLD_NS, OLD_NS))
    c0 = os.stat(p).st_ctime_ns
    time.sleep(1.1)
    os.chmod(p, 0o600)
    st = os.stat(p)
    assert st.st_mtime_ns == pytest.approx(OLD_NS, abs=1000)
    assert st.st_ctime_ns > c0 and _near_now(st.st_ctime_ns)
    c1 = st.st_ctime_ns
    os.rename(p, mnt.path("c2"))
    st = os.stat(mnt.path("c2"))
    assert st.st_mtime_ns == pytest.approx(OLD_NS, abs=1000)
    assert st.st_ctime_ns >= c1
    assert oct(st.st_mode & 0o777) == oct(0o600)


def test_fsync_on_directory_and_readonly_fd(mnt):
    os.mkdir(mnt.path("d"))
    dfd = os.open(mnt.path("d"), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    write_file(mnt.path("f"), b"1")
    fd = os.open(mnt.path("f"), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def test_errno_of_missing_parent(mnt):
    assert err_of(os.open, mnt.path("no", "f"), os.O_CREAT | os.O_WRONLY, 0o644) == "ENOENT"
    assert err_of(os.mkdir, mnt.path("no", "d")) == "ENOENT"
    assert err_of(os.rename, mnt.path("no"), mnt.path("yes")) == "ENOENT"
