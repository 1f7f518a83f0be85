"""A flaky service (503/500 answers, dropped connections at modest rates):
the mount's retries must still carry a cp -a of a tree through intact."""
import os

import pytest

import emulator
from conftest import new_share
from util import log, make_tree, run, tree_snapshot

# sure-fire rules first (count=N, so we can check they fired), then modest
# random rates on every operation
FAULTS = ("503:1.0@CreateFile:count=2,drop:1.0@PutRange:count=1,"
          "500:1.0@GetFile:count=1,drop:1.0@CreateDirectory:count=1,"
          "503:0.05,500:0.03,drop:0.03")


@pytest.fixture
def flaky_emu():
    e = emulator.Emulator()
    e.start()
    yield e
    e.stop()
    import shutil
    shutil.rmtree(e.data_dir, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_cp_a_through_faults(mounts, flaky_emu, scratch):
    emu = flaky_emu
    share = new_share(emu)
    src = os.path.join(scratch, "src")
    make_tree(src, seed=11, files=40, max_size=150_000, big=[6 << 20])
    want = tree_snapshot(src)
    m = mounts.new(share, emu=emu)
    emu.set_faults(FAULTS)
    emu.reset()
    run(["cp", "-a", src, m.path("tree")], timeout=180)
    out = os.path.join(scratch, "out")
    run(["cp", "-a", m.path("tree"), out], timeout=180)
    stats = emu.stats()
    left = emu._control("GET", "/_emulator/faults")
    log("faults %s: %s; rules left %s" % (FAULTS, stats, left))
    assert tree_snapshot(out) == want
    assert all(r["count"] in (None, 0) for r in left["rules"]), \
        "the sure-fire faults did not all fire: %s" % left
    emu.set_faults("")
    fresh = mounts.new(share, emu=emu)      # what really reached the share
    assert tree_snapshot(fresh.path("tree")) == want
