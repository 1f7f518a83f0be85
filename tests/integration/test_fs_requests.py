"""Requests per user action through the mount (fs/backend.c over the REST
client), counted on the emulator's per-operation counters. Owner: fs/.

Run: AZSF_BUILD=<build> /usr/bin/python3 -m pytest tests/integration/test_fs_requests.py -s
(-s prints the measured counts, lines starting with COUNT).

Each test measures one action on a file or directory whose attributes this
mount already holds (attr/dir timeouts of 60 s, so nothing expires during
the measurement) and asserts the exact operations the share sees.
"""
import os
import time

import pytest

import remote
from util import log, read_file, write_file

MiB = 1 << 20
STEADY = {"attr_timeout": 60, "dir_timeout": 60}


def _measure(emu, fn):
    emu.reset()
    fn()
    return emu.ops()


# The cache may hold back attribute changes of a file it uploaded moments
# ago (folding them into one later request); the files measured here are
# past that window, so a change goes to the share at once.
DEFER_WINDOW = 1.2


def _clean_file(m, name, data):
    """A file uploaded by this mount a while ago and stat'ed: clean, attrs
    fresh, no upload in flight or just behind it."""
    p = m.path(name)
    write_file(p, data)
    time.sleep(DEFER_WINDOW)
    os.stat(p)
    return p


@pytest.fixture
def steady(mounts, share):
    return mounts.new(share, opts=STEADY)


def test_chmod_of_clean_file_is_one_set_properties(steady, emu):
    # a mode this mount never used: the SDDL rides inline (no Create Permission)
    p = _clean_file(steady, "f", b"hello" * 100)
    ops = _measure(emu, lambda: os.chmod(p, 0o600))
    log("COUNT chmod of a clean file: %s" % ops)
    assert ops == {"SetFileProperties": 1}, ops
    st = os.stat(p)
    assert st.st_mode & 0o7777 == 0o600 and st.st_size == 500
    assert read_file(p) == b"hello" * 100


def test_utimens_of_clean_file_is_one_set_properties(steady, emu):
    p = _clean_file(steady, "f", b"x" * 12345)
    ops = _measure(emu, lambda: os.utime(p, (1600000000, 1600000000.25)))
    log("COUNT utimens of a clean file: %s" % ops)
    assert ops == {"SetFileProperties": 1}, ops
    st = os.stat(p)
    assert st.st_size == 12345 and abs(st.st_mtime - 1600000000.25) < 1e-6


def test_chown_of_clean_file_is_one_set_properties(steady, mounts, share, emu):
    p = _clean_file(steady, "f", b"y" * 777)
    ops = _measure(emu, lambda: os.chown(p, 1234, 4321))
    log("COUNT chown of a clean file (new owner): %s" % ops)
    assert ops == {"SetFileProperties": 1}, ops
    st = os.stat(p)
    assert (st.st_uid, st.st_gid, st.st_size) == (1234, 4321, 777)
    # the same owner on another file: the key the first reply carried
    q = _clean_file(steady, "g", b"z")
    ops = _measure(emu, lambda: os.chown(q, 1234, 4321))
    assert ops == {"SetFileProperties": 1}, ops
    assert len(set(remote.permission_key(emu, share, n) for n in ("f", "g"))) == 1
    # another node resolves it (one Get Permission) to the same owner
    other = mounts.new(share)
    st = os.stat(other.path("f"))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 4321, 0o644)


def test_large_upload_is_create_ranges_rename(steady, emu):
    data = os.urandom(9 * MiB + 5)  # 3 ranges
    p = steady.path("big.bin")
    mtime = 1650000000.5

    def save():
        with open(p, "wb") as f:
            f.write(data)
            f.flush()
            os.utime(f.fileno(), (mtime, mtime))
    ops = _measure(emu, save)
    log("COUNT large upload (9 MiB + 5): %s" % ops)
    ops.pop("ListDirectoriesAndFiles", None)  # the cache's check of the new name
    assert ops == {"CreateFile": 1, "PutRange": 3, "RenameFile": 1}, ops
    st = os.stat(p)
    assert st.st_size == len(data) and abs(st.st_mtime - mtime) < 1e-6
    assert read_file(p) == data


def test_chmod_after_a_write_elsewhere_sees_the_new_data(steady, share, emu):
    """The size the cache knows is only trusted when the Set File Properties
    reply shows the last-write time it knows; a file rewritten by another
    node meanwhile is asked for, and its cached copy is not taken for the
    new version."""
    p = _clean_file(steady, "f", b"old" * 100)
    assert read_file(p) == b"old" * 100
    time.sleep(0.05)
    remote.write(emu, share, "f", b"new data from elsewhere" * 7)
    ops = _measure(emu, lambda: os.chmod(p, 0o600))
    log("COUNT chmod of a file rewritten elsewhere: %s" % ops)
    assert ops.get("SetFileProperties") == 1 and ops.get("GetFileProperties") == 1, ops
    assert os.stat(p).st_size == 23 * 7
    assert read_file(p) == b"new data from elsewhere" * 7


def test_statfs_is_one_request(steady, emu):
    """The quota comes from the mount's start-up check (re-read every 5
    minutes), so df costs one Get Share Stats (was: + Get Share Properties)."""
    ops = _measure(emu, lambda: os.statvfs(steady.mnt))
    log("COUNT statfs: %s" % ops)
    assert ops == {"GetShareStats": 1}, ops
    sv = os.statvfs(steady.mnt)
    assert sv.f_blocks * sv.f_frsize == 100 << 30  # the share's quota: 100 GiB


def test_rename_directory_over_empty_directory(steady, emu):
    """The service replaces files only: refused rename, Delete Directory,
    rename (was: plus a Get Directory Properties before the delete)."""
    os.mkdir(steady.path("src"))
    write_file(steady.path("src", "f"), b"1")
    os.mkdir(steady.path("dst"))
    os.listdir(steady.mnt)
    ops = _measure(emu, lambda: os.rename(steady.path("src"), steady.path("dst")))
    log("COUNT rename of a directory over an empty one: %s" % ops)
    assert ops == {"RenameDirectory": 2, "DeleteDirectory": 1}, ops
    assert os.listdir(steady.path("dst")) == ["f"]
    assert not os.path.exists(steady.path("src"))


def test_symlink_and_mkdir_are_one_request(steady, emu):
    os.listdir(steady.mnt)
    ops = _measure(emu, lambda: os.symlink("some/where", steady.path("ln")))
    log("COUNT symlink (new owner triple): %s" % ops)
    assert ops == {"CreateFile": 1}, ops
    ops = _measure(emu, lambda: os.mkdir(steady.path("d")))
    log("COUNT mkdir: %s" % ops)
    assert ops == {"CreateDirectory": 1}, ops
    assert os.readlink(steady.path("ln")) == "some/where"
