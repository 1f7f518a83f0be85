"""Real tools on the mount: cp -a, tar, git, an editor's save, appends,
sparse writes, a large file. Trees are compared entry by entry (content,
mode, owner, mtime to the microsecond, symlink targets)."""
import hashlib
import os
import random

import pytest

import remote
from util import (log, make_tree, read_file, run, tree_snapshot, write_file)


def _src_tree(scratch):
    src = os.path.join(scratch, "src")
    made = make_tree(src, seed=7, files=30, max_size=200_000, big=[5 << 20])
    os.chown(made[1], 1001, 1002)
    os.chown(os.path.join(src, "dir1"), 1003, 1003)
    return src


def test_cp_a_in_and_out(mounts, share, scratch):
    src = _src_tree(scratch)
    a = mounts.new(share)
    run(["cp", "-a", src, a.path("copy")])
    want = tree_snapshot(src)
    assert tree_snapshot(a.path("copy")) == want
    out = os.path.join(scratch, "out")
    run(["cp", "-a", a.path("copy"), out])
    assert tree_snapshot(out) == want
    b = mounts.new(share)
    assert tree_snapshot(b.path("copy")) == want


def test_tar_extract_and_create(mounts, share, scratch):
    src = _src_tree(scratch)
    tarball = os.path.join(scratch, "src.tar")
    # pax format keeps sub-second mtimes (the default gnu format has seconds)
    run(["tar", "--format=posix", "-C", src, "-cf", tarball, "."])
    a = mounts.new(share)
    os.mkdir(a.path("t"))
    run(["tar", "-C", a.path("t"), "-xf", tarball])
    want = tree_snapshot(src)
    assert tree_snapshot(a.path("t")) == want
    # tar c from the mount, writing the archive onto the mount too
    run(["tar", "--format=posix", "-C", a.path("t"), "-cf", a.path("again.tar"), "."])
    out = os.path.join(scratch, "x")
    os.mkdir(out)
    b = mounts.new(share)
    run(["tar", "-C", out, "-xf", b.path("again.tar")])
    assert tree_snapshot(out) == want


def _git(args, cwd, home):
    env = {"HOME": home, "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1",
           "LANG": "C"}
    return run(["git", "-c", "user.name=itest", "-c", "user.email=itest@example.invalid",
                "-c", "init.defaultBranch=main"] + args, cwd=cwd, env=env)


@pytest.mark.timeout(180)
def test_git_init_add_commit_clone(mounts, share, scratch):
    a = mounts.new(share)
    repo = a.path("repo")
    _git(["init", "-q", repo], scratch, scratch)
    make_tree(os.path.join(repo, "src"), seed=3, files=15, max_size=20_000)
    write_file(os.path.join(repo, "src", "main.py"), b"print('hello')\n")
    _git(["add", "-A"], repo, scratch)
    _git(["commit", "-q", "-m", "first"], repo, scratch)
    write_file(os.path.join(repo, "src", "main.py"), b"changed\n")
    _git(["commit", "-q", "-am", "second"], repo, scratch)
    assert _git(["status", "--porcelain"], repo, scratch).stdout == ""
    _git(["fsck", "--strict"], repo, scratch)
    _git(["clone", "-q", repo, a.path("clone")], scratch, scratch)
    log1 = _git(["log", "--format=%s"], a.path("clone"), scratch).stdout.split()
    assert log1 == ["second", "first"]
    local = os.path.join(scratch, "local-clone")
    b = mounts.new(share)
    _git(["clone", "-q", b.path("repo"), local], scratch, scratch)
    assert read_file(os.path.join(local, "src", "main.py")) == b"changed\n"
    _git(["fsck", "--strict"], local, scratch)
    assert _git(["status", "--porcelain"], b.path("repo"), scratch).stdout == ""


def test_editor_style_save(mnt, emu):
    p = mnt.path("notes.txt")
    write_file(p, b"version 1\n")
    os.chmod(p, 0o640)
    reader = open(p, "rb")
    try:
        for v in range(2, 6):
            tmp = mnt.path(".notes.txt.swp")
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.write(fd, b"version %d\n" % v)
            os.fsync(fd)
            os.close(fd)
            os.chmod(tmp, 0o640)
            os.rename(tmp, p)
            assert read_file(p) == b"version %d\n" % v
        # the descriptor opened before the saves still sees the old file
        assert reader.read() == b"version 1\n"
    finally:
        reader.close()
    assert sorted(os.listdir(mnt.mnt)) == ["notes.txt"]
    assert oct(os.stat(p).st_mode & 0o777) == oct(0o640)
    assert remote.read(emu, mnt.share, "notes.txt") == b"version 5\n"
    assert remote.names(emu, mnt.share) == ["notes.txt"]


def test_append_from_shell(mnt, emu):
    p = mnt.path("app.log")
    for i in range(20):
        run(["sh", "-c", "echo line%d >> '%s'" % (i, p)])
    want = "".join("line%d\n" % i for i in range(20)).encode()
    assert read_file(p) == want
    assert remote.read(emu, mnt.share, "app.log") == want


@pytest.mark.parametrize("offset", [3 << 20, 20 << 20])
def test_sparse_write_past_eof(mnt, emu, offset):
    p = mnt.path("sparse")
    write_file(p, b"head")
    fd = os.open(p, os.O_WRONLY)
    try:
        os.pwrite(fd, b"tail!", offset)
    finally:
        os.close(fd)
    assert os.stat(p).st_size == offset + 5
    with open(p, "rb") as f:
        assert f.read(4) == b"head"
        f.seek(offset - 100)
        assert f.read(105) == b"\0" * 100 + b"tail!"
    data = remote.read(emu, mnt.share, "sparse")
    assert len(data) == offset + 5
    assert data[:4] == b"head" and data[-5:] == b"tail!"
    assert data[4:-5].count(0) == offset - 4


def _large_size():
    return (1 << 30) if os.environ.get("AZSF_LARGE") == "1" else (256 << 20)


@pytest.mark.slow
@pytest.mark.timeout(900 if os.environ.get("AZSF_LARGE") == "1" else 300)
def test_large_file_sha256(mounts, share, emu):
    size = _large_size()
    rnd = random.Random(42)
    block = bytearray(rnd.randbytes(1 << 20))
    a = mounts.new(share)
    emu.reset()
    h = hashlib.sha256()
    with open(a.path("large.bin"), "wb") as f:
        for i in range(size >> 20):
            block[:8] = i.to_bytes(8, "little")
            f.write(block)
            h.update(block)
    want = h.hexdigest()
    assert os.stat(a.path("large.bin")).st_size == size
    up = emu.ops()
    # on the wire in ranges of at most 4 MiB (the emulator refuses more)
    assert up.get("PutRange", 0) >= size >> 22, up
    b = mounts.new(share)          # fresh cache: the bytes come off the share
    emu.reset()
    got = hashlib.sha256()
    with open(b.path("large.bin"), "rb") as f:
        while True:
            buf = f.read(4 << 20)
            if not buf:
                break
            got.update(buf)
    assert got.hexdigest() == want
    down = emu.ops()
    assert down.get("GetFile", 0) >= 1, down       # really read off the share
    log("large file: %d MiB written and read back, sha256 %s" % (size >> 20, want[:16]))
    # a range in the middle, read through the first mount
    with open(a.path("large.bin"), "rb") as f:
        f.seek((size >> 1) + 12345)
        piece = f.read(1 << 20)
    i = ((size >> 1) + 12345) >> 20
    block[:8] = i.to_bytes(8, "little")
    assert piece[:(1 << 20) - 12345] == bytes(block[12345:])
