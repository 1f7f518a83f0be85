"""Request budgets, measured on the emulator's per-operation counters
(emu.reset(), act, emu.ops()). Run with -s to see the measured counts:

    stat within the attribute timeout        0 requests
    re-open of an unchanged cached file     <= 1 (<= 2 once the listing expired)
    ls -l of 10,000 entries                 the listing pages only (2)
    Jupyter save (jupyter-server 1.23)      <= 4 (close-to-open), <= 2 (write-back)

The Jupyter save budget: the issue asks for <= 4 in close-to-open mode.
jupyter-server 1.23 copies with shutil.copyfile and only then calls
shutil.copystat, i.e. utime() and chmod() arrive AFTER the copy was closed
and uploaded; the chmod changes nothing (no request) and the cache defers
the utime of a file it uploaded a moment ago (docs/DESIGN.md, "Deferred
utimens") and drops it when the copy is deleted. So: the open of the original revalidates (one
listing or HEAD, which also serves as the conflict check of the save within
conflict_slack), the copy is uploaded at close (Create File), the original
at fsync (Create File), the copy is deleted (Delete File).
"""
import os
import shutil
import subprocess
import time

import pytest

import remote
from util import log, read_file, write_file


def _total(ops):
    return sum(ops.values())


def _measure(emu, fn, settle=0.0):
    emu.reset()
    fn()
    if settle:
        time.sleep(settle)
    return emu.ops()


def test_stat_within_attr_timeout_costs_nothing(mnt, emu):
    p = mnt.path("f")
    write_file(p, b"x" * 100)
    os.mkdir(mnt.path("d"))
    os.stat(p)
    os.stat(mnt.path("d"))

    def again():
        for _ in range(10):
            os.stat(p)
            os.stat(mnt.path("d"))
            os.listdir(mnt.mnt)
    ops = _measure(emu, again)
    log("COUNT stat x10 + listdir x10 within attr timeout: %d %s" % (_total(ops), ops))
    assert _total(ops) == 0, ops


def test_reopen_unchanged_cached_file(mounts, share, emu):
    m = mounts.new(share, opts={"attr_timeout": 1, "dir_timeout": 1})
    p = m.path("data.bin")
    data = os.urandom(300_000)
    write_file(p, data)
    assert read_file(p) == data
    ops = _measure(emu, lambda: read_file(p))
    log("COUNT re-open+read of a cached file, attrs fresh: %d %s" % (_total(ops), ops))
    assert _total(ops) <= 1, ops
    # Attributes and listing expired: the kernel's lookup refreshes the name
    # (one listing) before the open revalidates (one request). Close-to-open
    # forbids taking that listing as the open's revalidation (the cache
    # cannot tell it from an earlier stat; see test_two_mounts.py::
    # test_close_to_open_after_a_fresh_listing), so 2 is the floor here;
    # what must not happen is a second download of unchanged data.
    time.sleep(1.5)
    got = []
    ops = _measure(emu, lambda: got.append(read_file(p)))
    log("COUNT re-open+read of a cached file, attrs expired: %d %s" % (_total(ops), ops))
    assert got == [data]
    assert _total(ops) <= 2, ops
    assert ops.get("GetFile", 0) == 0, "unchanged data must not be downloaded again"


@pytest.mark.parametrize("mode", [{"writeback_delay": 1}, {"nocto": True}],
                         ids=["writeback", "nocto"])
def test_reopen_writeback_hot_is_free(mounts, share, emu, mode):
    # Write-back mode trusts attributes validated within attr_timeout on
    # open (other nodes' changes are promised only after their delay), and
    # so does close-to-open mode with nocto: a hot re-read of many files
    # costs nothing; once the attributes expire an open asks again and sees
    # another node's change.
    m = mounts.new(share, opts=dict(mode, attr_timeout=2, dir_timeout=2))
    remote.mkdir(emu, share, "hot")
    names = ["f%02d" % i for i in range(20)]
    for n in names:
        remote.write(emu, share, "hot/" + n, n.encode() * 100)
    for n in names:
        assert read_file(m.path("hot/" + n)) == n.encode() * 100

    def reread():
        for _ in range(3):
            for n in names:
                read_file(m.path("hot/" + n))
    ops = _measure(emu, reread)
    log("COUNT write-back hot re-read of 20 files x3: %d %s" % (_total(ops), ops))
    assert _total(ops) == 0, ops
    remote.write(emu, share, "hot/f00", b"changed elsewhere")
    time.sleep(2.5)
    assert read_file(m.path("hot/f00")) == b"changed elsewhere"


def test_tar_directory_attrs_that_change_nothing_are_free(mounts, share, emu):
    # tar sets owner, mode and times of each directory after its members;
    # owner and mode equal to what mkdir gave cost nothing, the times one
    # request
    m = mounts.new(share)
    d = m.path("t")
    os.mkdir(d, 0o755)
    st = os.stat(d)

    def tar_like():
        os.chown(d, st.st_uid, st.st_gid)
        os.chmod(d, 0o755)
        os.utime(d, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    ops = _measure(emu, tar_like)
    log("COUNT directory chown+chmod (no change)+utime: %d %s" % (_total(ops), ops))
    assert ops.get("SetDirectoryProperties", 0) == 1 and _total(ops) == 1, ops
    assert os.stat(d).st_mtime_ns == 1_600_000_000_000_000_000
    ops = _measure(emu, lambda: os.chmod(d, 0o700))
    assert ops.get("SetDirectoryProperties", 0) == 1, ops


def test_writeback_untar_directories_one_request_each(mounts, share, emu, tmp_path):
    # Write-back mode: tar's mkdir and its later chown/chmod/utimens of each
    # directory fold into one Create Directory after the delay; the share
    # then has the archive's modes and times, and so does another node.
    src = tmp_path / "src"
    for d in ("a", "a/b", "c"):
        (src / d).mkdir(parents=True)
        (src / d / "f.txt").write_bytes(d.encode() * 10)
        os.chmod(src / d, 0o750)
    for d in ("a/b", "a", "c"):
        os.utime(src / d, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    tarball = tmp_path / "t.tar"
    subprocess.run(["tar", "cf", str(tarball), "-C", str(src), "."], check=True, timeout=60)
    m = mounts.new(share, opts={"writeback_delay": 1})
    os.mkdir(m.path("x"))
    os.listdir(m.path("x"))
    emu.reset()
    subprocess.run(["tar", "xf", str(tarball), "-C", m.path("x")], check=True, timeout=60)
    ops_sync = emu.ops()
    time.sleep(2.5)
    ops = emu.ops()
    log("COUNT write-back untar of 3 dirs + 3 files: during %s, after the delay %s"
        % (ops_sync, ops))
    assert not ops_sync.get("CreateDirectory") and not ops_sync.get("SetDirectoryProperties")
    # x itself (made just before, also pending; tar sets its attributes as
    # those of ".") and the three from the archive
    assert ops.get("CreateDirectory", 0) == 4 and not ops.get("SetDirectoryProperties"), ops
    other = mounts.new(share)
    for d in ("a", "a/b", "c"):
        st = os.stat(other.path("x/" + d))
        assert st.st_mode & 0o7777 == 0o750, (d, oct(st.st_mode))
        assert st.st_mtime_ns == 1_500_000_000_000_000_000, d
        assert read_file(other.path("x/%s/f.txt" % d)) == d.encode() * 10


def test_writeback_fsync_of_a_directory_makes_it_now(mounts, share, emu):
    # write-back: a new directory reaches the share after the delay, or at
    # once when the directory is fsynced (as a file's fsync uploads it)
    m = mounts.new(share, opts={"writeback_delay": 30})
    os.makedirs(m.path("p/q"))
    assert not remote.exists(emu, share, "p")
    fd = os.open(m.path("p/q"), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    assert remote.exists(emu, share, "p/q")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_ls_l_of_10000_entries_is_listing_pages_only(mounts, big_tree, emu):
    m = mounts.new(big_tree["share"])
    # learn the (one) owner triple the entries carry: normally zero requests
    # when the mount created that permission itself, one Get Permission else
    subprocess.run(["ls", "-l", m.path("teach")], check=True, capture_output=True,
                   timeout=30)
    os.stat(m.path(big_tree["dir"]))
    emu.reset()
    t0 = time.monotonic()
    p = subprocess.run(["ls", "-l", m.path(big_tree["dir"])], capture_output=True,
                       text=True, timeout=180)
    took = time.monotonic() - t0
    ops = emu.ops()
    assert p.returncode == 0, p.stderr
    lines = [x for x in p.stdout.splitlines() if not x.startswith("total")]
    log("COUNT ls -l of %d entries: %d requests %s in %.1f s"
        % (len(lines), _total(ops), ops, took))
    assert len(lines) == len(big_tree["names"])
    assert all(x.startswith("-rw-r--r--") and " root root " in x for x in lines), lines[:3]
    assert ops == {"ListDirectoriesAndFiles": 2}, ops


def jupyter_save(path, text):
    """What jupyter-server 1.23's FileContentsManager does on save
    (services/contents/fileio.py atomic_writing + copy2_safe), call for call."""
    if os.path.islink(path):
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    tmp_path = os.path.join(os.path.dirname(path), ".~" + os.path.basename(path))
    if os.path.isfile(path):
        shutil.copyfile(path, tmp_path)          # sendfile on Linux
        try:
            shutil.copystat(path, tmp_path)      # utime, chmod (and xattrs)
        except OSError:
            pass
    fileobj = open(path, "w", encoding="utf-8", newline="\n")
    fileobj.write(text)
    fileobj.flush()
    os.fsync(fileobj.fileno())
    fileobj.close()
    if os.path.isfile(tmp_path):
        os.remove(tmp_path)


def _nb_text(i):
    return '{\n "cells": [],\n "metadata": {"save": %d},\n "nbformat": 4,\n' \
           ' "nbformat_minor": 5\n}\n%s' % (i, "x" * (1000 * i))


# Long attribute/listing timeouts: no cache expires in the middle of the
# measurement, so the count is the save's own cost (listing refreshes after
# dir_timeout are the ls budget's business) and does not depend on timing.
STEADY = {"attr_timeout": 60, "dir_timeout": 60}


def _jupyter_counts(mounts, share, emu, opts, settle):
    opts = dict(STEADY, **opts)
    m = mounts.new(share, opts=opts)
    os.mkdir(m.path("nb"))
    path = m.path("nb", "analysis.ipynb")
    jupyter_save(path, _nb_text(0))      # creates the notebook (no copy yet)
    time.sleep(1.2)
    # one full save (copy, save, copy removed) to reach the steady state: a
    # lookup of ".~name" that this node has not removed itself lately asks
    # the share (names made elsewhere must show up, docs/DESIGN.md "Names
    # created elsewhere"), so the first save of a session costs one more
    jupyter_save(path, _nb_text(0))
    time.sleep(settle + 0.5)
    counts = []
    for i in range(1, 4):
        time.sleep(1.2)   # past conflict_slack: the conflict check is included
        ops = _measure(emu, lambda: jupyter_save(path, _nb_text(i)), settle=settle)
        counts.append(ops)
        assert read_file(path) == _nb_text(i).encode()
        assert remote.read(emu, share, "nb/analysis.ipynb") == _nb_text(i).encode()
        assert remote.names(emu, share, "nb") == ["analysis.ipynb"]
    return counts


def test_jupyter_save_close_to_open(mounts, share, emu):
    counts = _jupyter_counts(mounts, share, emu, {}, settle=0)
    for c in counts:
        log("COUNT jupyter save, close-to-open: %d %s" % (_total(c), c))
    assert max(_total(c) for c in counts) <= 4, counts
    for c in counts:
        assert "SetFileProperties" not in c, "the copy's utime must not reach the share"


def test_jupyter_save_writeback(mounts, share, emu):
    counts = _jupyter_counts(mounts, share, emu, {"writeback_delay": 1.5}, settle=3.5)
    for c in counts:
        log("COUNT jupyter save, write-back (1.5 s): %d %s" % (_total(c), c))
    assert max(_total(c) for c in counts) <= 2, counts
    for c in counts:
        assert "DeleteFile" not in c, "the .~ copy must never reach the share"


def test_create_write_chmod_utime_close_is_one_upload(mounts, share, emu):
    m = mounts.new(share)
    os.stat(m.mnt)
    os.listdir(m.mnt)

    def work(name, excl):
        flags = os.O_CREAT | os.O_WRONLY | (os.O_EXCL if excl else os.O_TRUNC)
        fd = os.open(m.path(name), flags, 0o644)
        os.write(fd, b"payload")
        os.fchmod(fd, 0o600)
        os.utime(fd, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
        os.close(fd)
    ops = _measure(emu, lambda: work("new.txt", False))
    log("COUNT create+write+chmod+utime+close (new file): %d %s" % (_total(ops), ops))
    # one upload carrying body, mode and mtime (plus at most a Create
    # Permission for the new owner triple and a conflict check)
    assert ops.get("CreateFile", 0) == 1, ops
    assert not ops.get("PutRange") and not ops.get("SetFileProperties"), ops
    assert _total(ops) <= 3, ops
    assert remote.read(emu, share, "new.txt") == b"payload"
    # O_EXCL on a plain name (tar, cp, mkstemp): exclusive on this node and
    # checked at upload, so the same single upload
    ops = _measure(emu, lambda: work("excl.txt", True))
    log("COUNT O_EXCL create+write+chmod+utime+close: %d %s" % (_total(ops), ops))
    assert ops.get("CreateFile", 0) == 1 and not ops.get("RenameFile"), ops
    assert not ops.get("PutRange") and not ops.get("SetFileProperties"), ops
    assert _total(ops) <= 3, ops
    assert remote.read(emu, share, "excl.txt") == b"payload"
    # O_EXCL on a lock file takes the name on the share before open returns
    # (exclusive across nodes): the empty file under a temp name and a
    # rename without replace, then the same one upload at close
    ops = _measure(emu, lambda: work("index.lock", True))
    log("COUNT O_EXCL lock file create+write+chmod+utime+close: %d %s" % (_total(ops), ops))
    assert ops.get("CreateFile", 0) == 2 and ops.get("RenameFile", 0) == 1, ops
    assert not ops.get("PutRange") and not ops.get("SetFileProperties"), ops
    assert _total(ops) <= 4, ops
    assert remote.read(emu, share, "index.lock") == b"payload"
