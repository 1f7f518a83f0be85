"""Fixtures for the integration suite: an emulator, shares, real mounts.

Run with: /usr/bin/python3 -m pytest tests/integration -q   (or run.sh)
Env: AZSF_BUILD (build dir holding fs/azsharefs, default build/),
AZSF_LARGE=1 (1 GiB instead of 256 MiB in the large-file test),
AZSF_ITEST_TMP (where mount work dirs go, default /tmp; must be reachable
by other users for the multi-user tests).

Every test gets a default timeout of 120 s (pytest-timeout). A missing
/dev/fuse or fusermount3 skips the mount tests (the summary shows the skips).
A missing emulator or azsharefs binary is an error, never a silent pass.
"""
import itertools
import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import emulator  # noqa: E402
import mount as mountmod  # noqa: E402
import remote  # noqa: E402

DEFAULT_TIMEOUT = 120
_share_ids = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: one of the slower tests (tens of seconds)")
    config.addinivalue_line("markers", "mount: needs /dev/fuse and the azsharefs binary")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT))


def fuse_unavailable():
    """A reason string when real FUSE mounts cannot work here, else None."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing"
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
        os.close(fd)
    except OSError as e:
        return "/dev/fuse cannot be opened: %s" % e
    if shutil.which("fusermount3") is None:
        return "fusermount3 is not installed"
    return None


@pytest.fixture(scope="session")
def fuse_ok():
    reason = fuse_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def azsf_bin():
    b = mountmod.find_binary()
    if b is None:
        pytest.fail("azsharefs binary not found under %s (build it, or set AZSF_BUILD)"
                    % mountmod.build_dir(), pytrace=False)
    return b


def _emulator_or_fail():
    if not os.access(emulator.EMULATOR, os.X_OK):
        pytest.fail("emulator not found at %s" % emulator.EMULATOR, pytrace=False)


@pytest.fixture(scope="session")
def emu_session():
    _emulator_or_fail()
    e = emulator.Emulator()
    e.start()
    yield e
    e.stop()
    shutil.rmtree(e.data_dir, ignore_errors=True)


@pytest.fixture
def emu(emu_session):
    """The session's emulator (restarted if a test killed it), faults off."""
    if emu_session.proc is None or emu_session.proc.poll() is not None:
        emu_session.start()
    emu_session.set_faults("")
    return emu_session


def new_share(emu, prefix="t", quota_gib=100):
    name = "%s%04d" % (prefix, next(_share_ids))
    emu.create_share(name, quota_gib=quota_gib)
    return name


@pytest.fixture
def share(emu):
    return new_share(emu)


class Mounts:
    """Factory for mounts in one test; teardown unmounts them all."""

    def __init__(self, emu, binary):
        self.emu = emu
        self.binary = binary
        self.all = []

    def new(self, share, opts=None, start=True, **kw):
        kw.setdefault("name", "m%d" % len(self.all))
        m = mountmod.Mount(kw.pop("emu", self.emu), share, opts=opts,
                           binary=self.binary, **kw)
        self.all.append(m)
        if start:
            m.start()
        return m

    def teardown(self):
        problems = []
        for m in reversed(self.all):
            try:
                m.cleanup()
            except Exception as e:  # keep cleaning the others
                problems.append("%s: cleanup raised %r" % (m.mnt, e))
            problems += ["%s: %s" % (m.mnt, p) for p in m.problems]
            m.problems = []
            if mountmod.is_fuse_mounted(m.mnt):
                problems.append("%s: still mounted after cleanup" % m.mnt)
        for m in self.all:
            m.dump()
        for m in self.all:
            m.remove_workdir()
        return problems


@pytest.fixture
def mounts(fuse_ok, azsf_bin, emu):
    ms = Mounts(emu, azsf_bin)
    yield ms
    problems = ms.teardown()
    if problems:
        pytest.fail("mount teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def mnt(mounts, share):
    """One default mount of a fresh share."""
    return mounts.new(share)


@pytest.fixture
def scratch():
    """A local directory other users can reach (tmp_path's parents are 0700)."""
    d = tempfile.mkdtemp(prefix="azsf-it-local-", dir=mountmod.WORK_BASE)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


BIG_COUNT = 10_000


@pytest.fixture(scope="session")
def big_tree(emu_session):
    """A share with d10k/ holding 10,000 empty files (f00000..f09999) and
    teach/one, all with the permission key of (root, root, 0644) in the form
    docs/DESIGN.md defines; created straight through REST (fast), once."""
    emu = emu_session
    name = new_share(emu, prefix="big")
    key = remote.create_permission(emu, name, remote.sddl_for(0, 0, 0o100644))
    dkey = remote.create_permission(emu, name, remote.sddl_for(0, 0, 0o040755))
    remote.mkdir(emu, name, "d10k", perm_key=dkey)
    remote.mkdir(emu, name, "teach", perm_key=dkey)
    remote.write(emu, name, "teach/one", b"", perm_key=key)
    names = ["f%05d" % i for i in range(BIG_COUNT)]
    remote.Bulk(emu, name, threads=4).create_files("d10k", names, perm_key=key)
    return {"share": name, "dir": "d10k", "names": names, "perm_key": key}
