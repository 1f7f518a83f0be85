"""Several users on one mount (setpriv): ownership and modes are kept per
file, enforced (default_permissions), and the same after a remount and on a
second mount of the share."""
import os
import shutil
import stat
import tempfile

import pytest

from util import ops_as, read_file, write_file

A, B, G = 2001, 2002, 3000
OK = ("ok", None)


@pytest.fixture
def shared(mnt):
    d = mnt.path("home")
    os.mkdir(d)
    os.chmod(d, 0o1777)
    return d


def _om(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_private_file_is_private(mounts, share, mnt, shared):
    f = os.path.join(shared, "a.txt")
    r = ops_as(A, [["umask", 0o077], ["write", f, "secret of A"], ["stat", f]])
    assert r[1] == OK, r
    assert r[2] == ("ok", [A, A, stat.S_IFREG | 0o600])
    assert _om(f) == (A, A, 0o600)
    r = ops_as(B, [["read", f], ["write", f, "B was here", "ab"], ["chmod", f, 0o666],
                   ["chown", f, B, B], ["unlink", f], ["rename", f, f + ".b"],
                   ["access", f, os.R_OK]])
    assert r == [("err", "EACCES"), ("err", "EACCES"), ("err", "EPERM"),
                 ("err", "EPERM"), ("err", "EPERM"), ("err", "EPERM"), ("ok", False)]
    assert read_file(f) == b"secret of A"              # root still reads it
    # the owner may not give the file away, nor chgrp to a group it is not in
    r = ops_as(A, [["chown", f, B, -1], ["chown", f, -1, G], ["read", f]])
    assert r == [("err", "EPERM"), ("err", "EPERM"), ("ok", "secret of A")]
    # ... but may chgrp to a group it belongs to
    r = ops_as(A, [["chown", f, -1, G], ["stat", f]], groups=[G])
    assert r == [OK, ("ok", [A, G, stat.S_IFREG | 0o600])]
    # and open it up
    assert ops_as(A, [["chmod", f, 0o644]]) == [OK]
    assert ops_as(B, [["read", f]]) == [("ok", "secret of A")]
    assert ops_as(B, [["write", f, "x", "ab"]]) == [("err", "EACCES")]


def test_private_directory(mnt, shared):
    d = os.path.join(shared, "a-private")
    f = os.path.join(d, "inner")
    r = ops_as(A, [["mkdir", d, 0o700], ["write", f, "in"], ["listdir", d]])
    assert r == [OK, OK, ("ok", ["inner"])]
    assert _om(d) == (A, A, 0o700)
    r = ops_as(B, [["listdir", d], ["read", f], ["stat", f],
                   ["create", os.path.join(d, "b")]])
    assert r == [("err", "EACCES")] * 4
    assert sorted(os.listdir(d)) == ["inner"]


def test_new_entries_belong_to_their_creator(mnt, shared):
    fb = os.path.join(shared, "b.txt")
    db = os.path.join(shared, "bdir")
    r = ops_as(B, [["umask", 0o022], ["write", fb, "mine"], ["mkdir", db, 0o777],
                   ["stat", fb], ["stat", db]])
    assert r[3] == ("ok", [B, B, stat.S_IFREG | 0o644])
    assert r[4] == ("ok", [B, B, stat.S_IFDIR | 0o755])
    # a setgid directory hands its group down
    sg = mnt.path("team")
    os.mkdir(sg)
    os.chown(sg, 0, G)
    os.chmod(sg, 0o2777)
    f = os.path.join(sg, "report")
    d = os.path.join(sg, "sub")
    r = ops_as(A, [["umask", 0o002], ["write", f, "r"], ["mkdir", d, 0o775],
                   ["stat", f], ["stat", d]])
    assert r[3] == ("ok", [A, G, stat.S_IFREG | 0o664])
    assert r[4][1][:2] == [A, G] and r[4][1][2] & stat.S_ISGID


def test_ownership_survives_remount_and_second_mount(mounts, share, mnt, shared):
    f = os.path.join(shared, "a.txt")
    d = os.path.join(shared, "adir")
    r = ops_as(A, [["umask", 0o077], ["write", f, "A only"], ["mkdir", d, 0o750]])
    assert r == [OK, OK, OK]
    other = mounts.new(share)
    f2 = other.path("home", "a.txt")
    assert _om(f2) == (A, A, 0o600)
    assert _om(other.path("home", "adir")) == (A, A, 0o700)     # 0750 & ~077
    assert _om(other.path("home")) == (0, 0, 0o1777)
    assert ops_as(B, [["read", f2]]) == [("err", "EACCES")]
    assert ops_as(A, [["read", f2]]) == [("ok", "A only")]
    mnt.stop()
    again = mounts.new(share)
    f3 = again.path("home", "a.txt")
    assert _om(f3) == (A, A, 0o600)
    assert ops_as(B, [["read", f3], ["listdir", again.path("home", "adir")]]) == \
        [("err", "EACCES"), ("err", "EACCES")]
    assert ops_as(A, [["read", f3]]) == [("ok", "A only")]


def test_users_cannot_touch_root_owned_tree(mnt):
    os.mkdir(mnt.path("etc"), 0o755)
    write_file(mnt.path("etc", "conf"), b"root's")
    os.chmod(mnt.path("etc", "conf"), 0o644)
    c = mnt.path("etc", "conf")
    r = ops_as(A, [["read", c], ["write", c, "x", "ab"], ["unlink", c],
                   ["create", mnt.path("etc", "new")], ["mkdir", mnt.path("top")]])
    assert r == [("ok", "root's"), ("err", "EACCES"), ("err", "EACCES"),
                 ("err", "EACCES"), ("err", "EACCES")]
    assert read_file(c) == b"root's"


def _setid_cases(root):
    """setuid/setgid files, then a chown by root, a write and a truncate by
    their owner A, and a write by root; returns every file's mode."""
    names = ("chown", "write", "trunc", "root_write", "sgid_nox")
    for n in names:
        p = os.path.join(root, n)
        write_file(p, b"data")
        os.chown(p, A, A)
        os.chmod(p, 0o2745 if n == "sgid_nox" else 0o6755)
    os.chown(os.path.join(root, "chown"), B, B)
    r = ops_as(A, [["write", os.path.join(root, "write"), "more", "ab"],
                   ["truncate", os.path.join(root, "trunc"), 1],
                   ["write", os.path.join(root, "sgid_nox"), "more", "ab"]])
    assert r == [OK, OK, OK], r
    with open(os.path.join(root, "root_write"), "ab") as f:
        f.write(b"more")
    return {n: stat.S_IMODE(os.stat(os.path.join(root, n)).st_mode) for n in names}


def test_setuid_setgid_cleared_like_the_kernel(mounts, share, mnt):
    """chown clears setuid (and setgid with group exec), a write or truncate
    by a user who is not root clears them, root's write keeps them: exactly
    what the kernel does on a local filesystem, and the share keeps it. (The
    kernel does the clearing: libfuse 3.14 never passes FUSE_HANDLE_KILLPRIV
    on, libfuse issue #884, so the mode is asked for before each chown.)"""
    local = tempfile.mkdtemp(dir="/dev/shm")   # other users may enter it
    try:
        os.chmod(local, 0o777)
        want = _setid_cases(local)
    finally:
        shutil.rmtree(local)
    d = mnt.path("setid")
    os.mkdir(d)
    os.chmod(d, 0o777)
    assert want["chown"] == 0o755 and want["root_write"] == 0o6755, want  # the oracle itself
    assert _setid_cases(d) == want
    other = mounts.new(share)   # what reached the share
    assert {n: stat.S_IMODE(os.stat(other.path("setid", n)).st_mode) for n in want} == want
