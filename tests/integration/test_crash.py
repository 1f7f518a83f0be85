"""A daemon SIGKILLed in the middle of work: every fsync()ed byte, and in
write-back mode every closed (journaled) file, is on the share once the mount
comes back on the same cache_dir, before it serves anything."""
import os
import threading
import time

import mount as mountmod
import remote
from util import log, read_file, write_file


def _burst(m, stop, errors, prefix="burst"):
    """Write unsynced files until the daemon dies (then syscalls fail)."""
    i = 0
    while not stop.is_set():
        try:
            with open(m.path("%s-%04d" % (prefix, i)), "wb") as f:
                f.write(os.urandom(50_000))
        except OSError as e:
            errors.append(e.errno)
            return
        i += 1


def test_kill_during_burst_keeps_fsynced_data(mounts, share, emu):
    m = mounts.new(share)
    synced = {}
    for i in range(10):
        data = os.urandom(1000 + 40_000 * i)
        fd = os.open(m.path("synced-%d" % i), os.O_CREAT | os.O_WRONLY, 0o644)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        synced["synced-%d" % i] = data
    # one file fsynced halfway and then written further, left open
    part1, part2 = os.urandom(70_000), os.urandom(30_000)
    fd = os.open(m.path("half"), os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, part1)
    os.fsync(fd)
    os.write(fd, part2)
    stop, errors = threading.Event(), []
    t = threading.Thread(target=_burst, args=(m, stop, errors), daemon=True)
    t.start()
    time.sleep(0.5)
    m.kill()                                   # SIGKILL + clean the dead mount
    stop.set()
    t.join(30)
    assert not t.is_alive(), "a writer hung on the dead mount"
    try:
        os.close(fd)
    except OSError:
        pass
    assert not mountmod.is_fuse_mounted(m.mnt)
    m.start()                                  # same cache_dir: journal replay
    for name, data in synced.items():
        assert remote.read(emu, share, name) == data, name
        assert read_file(m.path(name)) == data, name
    half = remote.read(emu, share, "half")
    assert half in (part1, part1 + part2), "fsynced prefix of 'half' lost"
    log("crash: %d fsynced files intact; burst writer saw errno %s" % (len(synced), errors))


def test_kill_in_writeback_mode_replays_journal(mounts, share, emu):
    opts = {"writeback_delay": 60}
    remote.write(emu, share, "existing.txt", b"old remote content")
    m = mounts.new(share, opts=opts)
    assert read_file(m.path("existing.txt")) == b"old remote content"
    closed = {}
    os.makedirs(m.path("proj", "src"))
    for i in range(20):
        name = "proj/src/mod%02d.py" % i
        closed[name] = ("# module %d\n" % i).encode() * (i * 50 + 1)
        write_file(m.path(*name.split("/")), closed[name])
    closed["existing.txt"] = b"edited locally, only journaled"
    write_file(m.path("existing.txt"), closed["existing.txt"])
    big = os.urandom(5 << 20)
    closed["proj/data.bin"] = big
    write_file(m.path("proj", "data.bin"), big)
    # a new empty directory with its own mode and times (write-back mkdir and
    # its attributes are journaled, not yet on the share)
    os.makedirs(m.path("proj", "empty", "deeper"))
    os.chmod(m.path("proj", "empty"), 0o700)
    os.utime(m.path("proj", "empty"), ns=(1_400_000_000_000_000_000,) * 2)
    m.kill()
    assert not remote.exists(emu, share, "proj")
    on_share_before = remote.read(emu, share, "existing.txt")
    # with a 60 s delay nothing was uploaded yet: what follows tests the replay
    assert on_share_before == b"old remote content"
    assert not remote.exists(emu, share, "proj/data.bin")
    m.start()                                   # must upload before serving
    for name, data in closed.items():
        assert remote.read(emu, share, name) == data, name
    log("write-back crash: %d journaled files on the share right after remount "
        "(before the kill the share had %r for existing.txt)"
        % (len(closed), on_share_before[:20]))
    for name, data in closed.items():
        assert read_file(m.path(*name.split("/"))) == data, name
    assert not remote.conflict_copies(emu, share, "", "existing.txt")
    assert remote.exists(emu, share, "proj/empty/deeper")
    st = os.stat(m.path("proj", "empty"))
    assert st.st_mode & 0o7777 == 0o700, oct(st.st_mode)
    assert st.st_mtime_ns == 1_400_000_000_000_000_000


def test_kill_then_remount_with_other_node_changes(mounts, share, emu):
    """A journaled edit whose remote base moved while the node was down
    becomes a conflict copy; nothing is lost."""
    m = mounts.new(share, opts={"writeback_delay": 60})
    fd = os.open(m.path("base"), os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"base")
    os.fsync(fd)
    os.close(fd)
    assert remote.read(emu, share, "base") == b"base"
    write_file(m.path("base"), b"local edit")        # journaled only
    m.kill()
    time.sleep(1.1)
    remote.write(emu, share, "base", b"other node's edit")
    m.start()
    assert remote.read(emu, share, "base") == b"other node's edit"
    copies = remote.conflict_copies(emu, share, "", "base")
    assert len(copies) == 1 and remote.read(emu, share, copies[0]) == b"local edit", \
        remote.names(emu, share)
