"""Two mounts (two daemons, two cache dirs) of one share, as two nodes of a
pool: close-to-open visibility, conflicts never lose data, write-back mode
becomes visible within its delay."""
import os
import time

import remote
from util import err_of, log, read_file, wait_for, write_file


def test_close_to_open_existing_file(mounts, share):
    a = mounts.new(share)
    b = mounts.new(share)
    write_file(a.path("doc"), b"version one")
    assert read_file(b.path("doc")) == b"version one"      # B caches it
    os.stat(b.path("doc"))                                  # and its attributes
    for i in range(2, 6):
        want = (b"version %d " % i) * (i * 1000)            # grows every time
        write_file(a.path("doc"), want)                     # close returned
        assert read_file(b.path("doc")) == want, "B did not see A's close (%d)" % i
        want_b = b"B says %d" % i
        write_file(b.path("doc"), want_b)
        assert read_file(a.path("doc")) == want_b


def test_close_to_open_after_a_fresh_listing(mounts, share):
    """B's attributes come from a listing made just before A's close: B's
    next open must still see A's data (a listing is no revalidation for a
    later open)."""
    a = mounts.new(share)
    b = mounts.new(share)
    write_file(a.path("doc"), b"first version")
    assert read_file(b.path("doc")) == b"first version"
    for i in range(4):
        time.sleep(2.5)                                   # B's caches expire
        if i % 2:
            os.listdir(b.mnt)                             # B lists again ...
        os.stat(b.path("doc"))                            # (a lookup that lists)
        want = b"edit %d from A" % i
        write_file(a.path("doc"), want)                   # ... then A closes
        assert read_file(b.path("doc")) == want, "B served its cached copy (%d)" % i


def test_close_to_open_fsync_without_close(mounts, share):
    a = mounts.new(share)
    b = mounts.new(share)
    write_file(a.path("f"), b"old")
    assert read_file(b.path("f")) == b"old"
    fd = os.open(a.path("f"), os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b"fsynced but still open")
        os.fsync(fd)
        assert read_file(b.path("f")) == b"fsynced but still open"
    finally:
        os.close(fd)


def test_new_and_removed_entries_show_up(mounts, share):
    a = mounts.new(share, opts={"dir_timeout": 1, "attr_timeout": 1})
    b = mounts.new(share, opts={"dir_timeout": 1, "attr_timeout": 1})
    assert os.listdir(b.mnt) == []
    write_file(a.path("new"), b"hello")
    os.mkdir(a.path("dir"))
    wait_for(lambda: sorted(os.listdir(b.mnt)) == ["dir", "new"], 5, what="B's listing")
    assert read_file(b.path("new")) == b"hello"
    os.rename(a.path("new"), a.path("dir", "moved"))
    wait_for(lambda: os.path.exists(b.path("dir", "moved")), 5, what="rename on B")
    assert read_file(b.path("dir", "moved")) == b"hello"
    wait_for(lambda: not os.path.exists(b.path("new")), 5, what="old name gone on B")
    os.chmod(a.path("dir", "moved"), 0o600)
    wait_for(lambda: os.stat(b.path("dir", "moved")).st_mode & 0o777 == 0o600, 5,
             what="chmod on B")
    os.unlink(a.path("dir", "moved"))
    wait_for(lambda: err_of(os.stat, b.path("dir", "moved")) == "ENOENT", 5,
             what="unlink on B")
    assert err_of(open, b.path("dir", "moved"), "rb") == "ENOENT"


def test_concurrent_writers_make_a_conflict_copy(mounts, share, emu):
    a = mounts.new(share)
    b = mounts.new(share)
    write_file(a.path("shared.txt"), b"base version\n")
    assert read_file(b.path("shared.txt")) == b"base version\n"
    assert read_file(a.path("shared.txt")) == b"base version\n"
    fb = open(b.path("shared.txt"), "r+b")          # B opens on the base version
    try:
        write_file(a.path("shared.txt"), b"A's edit\n")   # A writes and closes
        time.sleep(1.5)                                   # past the conflict slack
        fb.seek(0)
        fb.write(b"B's edit, made without seeing A's\n")
        fb.truncate()
    finally:
        fb.close()                                        # must not fail: data kept
    assert remote.read(emu, share, "shared.txt") == b"A's edit\n"
    copies = remote.conflict_copies(emu, share, "", "shared.txt")
    assert len(copies) == 1, remote.names(emu, share)
    assert remote.read(emu, share, copies[0]) == b"B's edit, made without seeing A's\n"
    log("conflict copy: %s" % copies[0])
    # B's view follows the share afterwards
    wait_for(lambda: read_file(b.path("shared.txt")) == b"A's edit\n", 5,
             what="B to follow the remote version")
    wait_for(lambda: copies[0] in os.listdir(b.mnt), 5, what="conflict copy on B")
    text = b.last_log()
    assert "conflict" in text and "shared.txt" in text, "the conflict must be logged"


def test_new_file_created_on_both_sides(mounts, share, emu):
    a = mounts.new(share, opts={"writeback_delay": 1})
    b = mounts.new(share)
    os.listdir(a.mnt)
    write_file(a.path("clash"), b"from A (write-back)")    # A: queued
    write_file(b.path("clash"), b"from B")                 # B: uploaded at close
    time.sleep(4)
    a.stop()
    names = remote.names(emu, share)
    data = {n: remote.read(emu, share, n) for n in names}
    assert data.get("clash") == b"from B", data
    others = [n for n in names if n != "clash"]
    assert len(others) == 1 and others[0].startswith("clash.conflict-"), names
    assert data[others[0]] == b"from A (write-back)"


def test_writeback_visible_after_delay(mounts, share, emu):
    a = mounts.new(share, opts={"writeback_delay": 1})
    b = mounts.new(share, opts={"dir_timeout": 1, "attr_timeout": 1})
    os.listdir(b.mnt)
    t0 = time.monotonic()
    write_file(a.path("wb.txt"), b"written back")
    took_close = time.monotonic() - t0
    wait_for(lambda: os.path.exists(b.path("wb.txt")) and
             read_file(b.path("wb.txt")) == b"written back", 8, interval=0.1,
             what="write-back data on the second mount")
    seen = time.monotonic() - t0
    log("write-back: close took %.3f s, visible on the other mount after %.2f s"
        % (took_close, seen))
    assert remote.read(emu, share, "wb.txt") == b"written back"
    # later edits too
    write_file(a.path("wb.txt"), b"edited")
    wait_for(lambda: read_file(b.path("wb.txt")) == b"edited", 8, what="the edit on B")
    # fsync always uploads at once
    fd = os.open(a.path("now.txt"), os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        os.write(fd, b"synced")
        os.fsync(fd)
        assert remote.read(emu, share, "now.txt") == b"synced"
    finally:
        os.close(fd)


def test_writeback_temp_file_never_reaches_share(mounts, share, emu):
    a = mounts.new(share, opts={"writeback_delay": 2})
    os.listdir(a.mnt)
    emu.reset()
    write_file(a.path(".tmp-123"), b"scratch")
    os.rename(a.path(".tmp-123"), a.path("final"))
    write_file(a.path("junk"), b"junk")
    os.unlink(a.path("junk"))
    time.sleep(4)
    ops = emu.ops()
    assert remote.names(emu, share) == ["final"]
    assert remote.read(emu, share, "final") == b"scratch"
    log("COUNT write-back: create tmp, rename to final, create+unlink junk: %s" % ops)
    assert not ops.get("DeleteFile") and not ops.get("RenameFile"), ops


def test_other_nodes_namespace_changes_through_kernel_caches(mounts, share):
    """B has looked everything up (its kernel holds the names); A then
    deletes, renames, changes case, replaces a file by a directory. Once B's
    timeouts passed, every path-based call on B sees A's namespace, and
    creating a name A removed works (no stale kernel entry says it exists)."""
    fast = {"attr_timeout": 1, "dir_timeout": 1}
    a = mounts.new(share, opts=fast)
    b = mounts.new(share, opts=fast)
    for n in ("gone", "recreate", "excl", "renamed", "Case", "kind"):
        write_file(a.path(n), n.encode())
    for d in ("dir", "dir2"):
        os.mkdir(a.path(d))
        write_file(a.path(d, "x"), b"x")
    # B learns every name, attribute and the listings
    for n in ("gone", "recreate", "excl", "renamed", "Case", "kind", "dir", "dir2"):
        os.stat(b.path(n))
    assert read_file(b.path("dir", "x")) == b"x"
    assert read_file(b.path("dir2", "x")) == b"x"
    assert len(os.listdir(b.mnt)) == 8
    # A changes the namespace
    for n in ("gone", "recreate", "excl"):
        os.unlink(a.path(n))
    os.rename(a.path("renamed"), a.path("renamed.new"))
    os.rename(a.path("Case"), a.path("case"))
    os.unlink(a.path("kind"))
    os.mkdir(a.path("kind"))
    os.unlink(a.path("dir", "x"))
    os.rmdir(a.path("dir"))
    os.rename(a.path("dir2"), a.path("dir3"))
    time.sleep(1.5)                       # B's attributes and listings expired
    assert err_of(os.stat, b.path("gone")) == "ENOENT"
    with open(b.path("recreate"), "w") as f:    # O_CREAT|O_TRUNC, no O_EXCL
        f.write("B made it again")
    assert read_file(a.path("recreate")) == b"B made it again"
    fd = os.open(b.path("excl"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.close(fd)
    assert err_of(os.stat, b.path("renamed")) == "ENOENT"
    assert read_file(b.path("renamed.new")) == b"renamed"
    with open(b.path("renamed"), "w") as f:
        f.write("new file under the old name")
    assert err_of(os.stat, b.path("Case")) == "ENOENT"
    assert read_file(b.path("case")) == b"Case"
    assert os.path.isdir(b.path("kind"))
    assert err_of(os.stat, b.path("dir", "x")) == "ENOENT"
    assert err_of(os.listdir, b.path("dir")) == "ENOENT"
    os.mkdir(b.path("dir"))
    assert err_of(read_file, b.path("dir2", "x")) == "ENOENT"
    assert read_file(b.path("dir3", "x")) == b"x"
    assert sorted(os.listdir(b.mnt)) == sorted(
        ["recreate", "excl", "renamed", "renamed.new", "case", "kind", "dir", "dir3"])
    wait_for(lambda: sorted(os.listdir(a.mnt)) == sorted(os.listdir(b.mnt)), 5,
             what="B's new names on A")


def test_close_to_open_after_a_failed_open_of_the_same_buffer(mounts, share):
    """fuse_preopen.c revalidates an open(2) during its permission check and
    keeps the handle for the OPEN of the same system call. An open that
    looked the file up and then failed (ENOTDIR: the file was only a step on
    its path) must leave nothing a later open reuses, even one made from the
    same call site with the same buffer (same /proc/<tid>/syscall line)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    a = mounts.new(share, opts={"attr_timeout": 1, "dir_timeout": 1})
    b = mounts.new(share, opts={"attr_timeout": 1, "dir_timeout": 1})
    write_file(a.path("f"), b"version one")
    assert read_file(b.path("f")) == b"version one"
    buf = ctypes.create_string_buffer(4096)

    def c_open(path):
        buf.value = path.encode()
        return libc.open(buf, os.O_RDONLY)   # same call site, same buffer

    for i in range(3):
        time.sleep(1.5)                      # B's attributes expired
        assert c_open(b.path("f", "x")) == -1
        assert ctypes.get_errno() == 20      # ENOTDIR, after looking "f" up
        want = b"version from A %d" % i
        write_file(a.path("f"), want)        # A's close returned
        fd = c_open(b.path("f"))
        assert fd >= 0
        try:
            assert os.read(fd, 100) == want, "B reused a revalidation older than A's close"
        finally:
            os.close(fd)
