"""A flaky service (503/500 answers, dropped connections at modest rates):
the mount's retries must still carry a cp -a of a tree through intact."""
import os

import pytest

import emulator
from conftest import new_share
from util import log, make_tree, run, tree_snapshot

FAULTS = "503:0.05,500:0.03,drop:0.03"


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
    log("faults %s: %s" % (FAULTS, stats))
    assert tree_snapshot(out) == want
    emu.set_faults("")
    fresh = mounts.new(share, emu=emu)      # what really reached the share
    assert tree_snapshot(fresh.path("tree")) == want
