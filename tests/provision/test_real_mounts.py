"""Two simulated nodes (separate --root trees) each mounting one emulator
share for real through `azsharefs-provision node`: users added on one node
appear on the other, notebooks cross over, and the storage key shows up in
no command line and no file but the root-only credentials files."""
import glob
import os
import stat
import time

import pytest

from conftest import KEY, ACCOUNT, _alive, run_as


def real_conf(emu, share, azsf_bin, **over):
    conf = {"account": ACCOUNT, "share": share, "endpoint": emu.url,
            "azsharefs": azsf_bin, "options": "allow_other", "mount_timeout": "30"}
    conf.update(over)
    return conf


@pytest.fixture
def two_nodes(fuse_ok, azsf_bin, emu_session, share, nodes):
    n1 = nodes.new("n1", real_conf(emu_session, share, azsf_bin))
    n2 = nodes.new("n2", real_conf(emu_session, share, azsf_bin))
    return n1, n2


def _key_in_cmdlines():
    hits = []
    needle = KEY.encode()
    for p in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if needle in data or needle[:20] in data:
            hits.append((p, data.replace(b"\0", b" ")[:200]))
    return hits


def _files_with_key(root):
    hits = []
    for d, dirs, files in os.walk(root):
        # Do not descend into the mounted share itself: its content is the
        # service's, and walking it would go through FUSE.
        dirs[:] = [x for x in dirs if not os.path.ismount(os.path.join(d, x))]
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                if KEY.encode()[:20] in fh.read():
                    hits.append(p)
    return hits


def test_two_nodes_share_users_and_notebooks(two_nodes):
    n1, n2 = two_nodes
    out1 = n1.run("node").stdout
    assert "mount: share %s mounted at %s" % (n1.conf["share"], n1.mountpoint()) in out1
    n2.run("node")
    for n in (n1, n2):
        assert os.path.ismount(n.mountpoint())
        assert n.daemon_pid()

    # Running node again on a live node changes nothing.
    again = n1.run("node").stdout
    assert "mount: %s unchanged (already mounted)" % n1.mountpoint() in again
    assert " written" not in again and " installed" not in again

    out = n1.run("add-user", "alice").stdout
    assert "roster: alice added (uid 2000)" in out
    out = n2.run("sync-users").stdout
    assert "user alice: created with uid 2000" in out
    assert n1.passwd("alice")[2:4] == n2.passwd("alice")[2:4] == ["2000", "2000"]
    for n in (n1, n2):
        link = n.path("/home/alice/notebooks/remote")
        assert os.readlink(link) == os.path.join(n.mountpoint(), "notebooks", "alice")

    # alice writes a notebook through node 1's link; node 2's link reads it.
    nb = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    w = run_as(2000, 2000, ["sh", "-c", "printf '%%s' '%s' > '%s/analysis.ipynb'"
                            % (nb, n1.path("/home/alice/notebooks/remote"))])
    assert w.returncode == 0, w.stderr
    r = run_as(2000, 2000, ["cat", n2.path("/home/alice/notebooks/remote/analysis.ipynb")])
    assert r.returncode == 0, r.stderr
    assert r.stdout == nb
    st = os.stat(n2.path("/home/alice/notebooks/remote"))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (2000, 0o700)

    # The key is on no command line while both mounts run ...
    assert _key_in_cmdlines() == []
    # ... and in no file but the two 0600 root-only credentials files (the
    # one the node was given and the one it installed), logs included.
    for n in (n1, n2):
        hits = sorted(_files_with_key(n.root))
        assert hits == sorted([n.path("/etc/azsharefs/credentials"),
                               n.path("/etc/azsharefs/%s.conn" % n.conf["share"])])
        for h in hits:
            st = os.stat(h)
            assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0
        assert os.path.getsize(n.path("/var/log/azsharefs/mount.log")) > 0
    for _, out, err in n1.outputs + n2.outputs:
        assert KEY[:20] not in out and KEY[:20] not in err


def test_remove_user_propagates_over_the_share(two_nodes):
    n1, n2 = two_nodes
    n1.run("node")
    n2.run("node")
    n1.run("add-user", "bob")
    n2.run("sync-users")
    assert n2.shadow("bob")[7] == ""
    out = n2.run("remove-user", "bob").stdout
    assert "roster: bob marked removed" in out
    out = n1.run("sync-users").stdout
    assert "user bob: locked" in out
    assert n1.shadow("bob")[7] == "1"
    # Data kept: the notebooks dir is still on the share.
    assert os.path.isdir(os.path.join(n1.mountpoint(), "notebooks", "bob"))


def test_dead_mount_is_cleared_and_remounted(two_nodes):
    n1, _ = two_nodes
    n1.run("node")
    pid = n1.daemon_pid()
    os.kill(pid, 9)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(OSError):
        os.statvfs(n1.mountpoint())  # ENOTCONN: the mount is dead
    out = n1.run("node").stdout
    assert "mount: cleared a dead mount at %s" % n1.mountpoint() in out
    assert "mount: share" in out and n1.daemon_pid() != pid
    assert os.path.ismount(n1.mountpoint())


def test_mount_failure_names_the_log(fuse_ok, azsf_bin, emu_session, nodes):
    n = nodes.new("n1", real_conf(emu_session, "nosuchshare", azsf_bin, mount_timeout="15"))
    p = n.run("node", check=False)
    assert p.returncode == 1
    assert "before mounting; see '%s'" % n.path("/var/log/azsharefs/mount.log") in p.stderr \
        or "did not mount within" in p.stderr
    assert not os.path.ismount(n.mountpoint())
