"""Names created on another node: close-to-open for new files. A node's
"no such name" (a listing without it, a 404) is trusted for the negative
window only (neg_timeout_ms in the cache, 200 ms by default; see
docs/DESIGN.md, "Names created elsewhere"), however long its listing of the
directory stays fresh (dir_timeout); after that a lookup that misses asks
the share again, one listing per directory per window."""
import os
import time

from util import log, read_file, write_file

NEG_WINDOW = 0.2   # the cache's default neg_timeout_ms
LONG = {"attr_timeout": 30, "dir_timeout": 30}


def test_name_created_elsewhere_is_seen_after_the_window(mounts, share):
    a = mounts.new(share)
    b = mounts.new(share, opts=LONG)
    os.mkdir(a.path("d"))
    assert os.listdir(b.path("d")) == []            # B: a listing fresh for 30 s
    for i in range(4):
        name = "new%d.ipynb" % i
        assert not os.path.exists(b.path("d", name))    # B's own "no" for this name
        write_file(a.path("d", name), b"data %d" % i)   # A: close returned
        time.sleep(NEG_WINDOW + 0.15)
        assert os.stat(b.path("d", name)).st_size == len(b"data %d" % i), i
        assert read_file(b.path("d", name)) == b"data %d" % i
    # a new directory too, and a file in it
    os.mkdir(a.path("d", "sub"))
    write_file(a.path("d", "sub", "f"), b"deep")
    time.sleep(NEG_WINDOW + 0.15)
    assert read_file(b.path("d", "sub", "f")) == b"deep"


def test_misses_cost_one_listing_per_window(mounts, share, emu):
    b = mounts.new(share, opts=LONG)
    os.mkdir(b.path("d"))
    for i in range(3):
        write_file(b.path("d", "f%d" % i), b"x")
    os.listdir(b.path("d"))
    time.sleep(NEG_WINDOW + 0.1)
    emu.reset()
    t0 = time.monotonic()
    for i in range(50):
        assert not os.path.exists(b.path("d", "missing%d" % i))
    took = time.monotonic() - t0
    ops = emu.ops()
    log("COUNT 50 lookups of missing names in %.3f s: %s" % (took, ops))
    assert set(ops) <= {"ListDirectoriesAndFiles"}, ops
    assert ops.get("ListDirectoriesAndFiles", 0) <= 1 + int(took / NEG_WINDOW), ops
    # names that exist cost nothing while the listing is fresh
    emu.reset()
    for i in range(3):
        assert os.path.exists(b.path("d", "f%d" % i))
    assert emu.ops() == {}, emu.ops()
