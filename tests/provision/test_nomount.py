"""Provisioner behaviour with a plain directory standing in for the share
(--mountpoint DIR --no-mount): node set-up, users across two nodes, locks,
and that nothing existing is clobbered. Real mounts: test_real_mounts.py."""
import os
import stat
import subprocess
import threading
import time

from conftest import KEY, base_conf, run_as

SSH_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJg5cVq3+Tk0kqAJmDa0XKc4mB0dc2E8"
           "QwV8bS0l3C1A alice@laptop")


def share_opts(shared):
    return ["--mountpoint", shared, "--no-mount"]


def lines(text):
    return [l for l in text.splitlines() if l.strip()]


def test_node_sets_up_and_second_run_changes_nothing(nodes, shared_dir):
    n = nodes.new("n1", base_conf())
    first = n.run("node", extra=share_opts(shared_dir)).stdout
    assert "installed (root only, 0600)" in first
    assert first.count(" written") == 3
    assert "enabled azsharefs-sync-users.timer (timers.target)" in first
    assert "systemd: not running" in first and "mounting directly" in first
    conn = n.path("/etc/azsharefs/pool.conn")
    st = os.stat(conn)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0
    text = open(conn).read()
    assert text == ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                    "AccountKey=%s;FileEndpoint=http://127.0.0.1:1/devstoreaccount1\n" % KEY)
    wants = n.path("/etc/systemd/system/timers.target.wants/azsharefs-sync-users.timer")
    assert os.readlink(wants) == "/etc/systemd/system/azsharefs-sync-users.timer"
    assert os.path.exists(os.path.join(shared_dir, ".azsharefs", "roster"))
    before = {p: open(p, "rb").read() for p in _files(n.root)}

    second = n.run("node", extra=share_opts(shared_dir)).stdout
    for l in lines(second):
        assert not any(w in l for w in (" written", " installed", " created", "unit: enabled")), l
    assert second.count("unchanged") == 4  # credentials + three units
    after = {p: open(p, "rb").read() for p in _files(n.root)}
    assert before == after


def _files(root):
    for d, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                yield p


def test_node_errors_name_what_failed(nodes, shared_dir):
    n = nodes.new("n1", base_conf(bogus="1"))
    p = n.run("node", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1
    assert "pool.conf:5: unknown key 'bogus'" in p.stderr

    n.conf.pop("bogus")
    n.write_conf()
    os.chmod(n.path("/etc/azsharefs/credentials"), 0o644)
    p = n.run("node", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1
    assert "credentials" in p.stderr and "readable by others (mode 0644)" in p.stderr
    assert not os.path.exists(n.path("/etc/azsharefs/pool.conn"))

    os.chmod(n.path("/etc/azsharefs/credentials"), 0o600)
    with open(n.path("/etc/azsharefs/credentials"), "w") as f:
        f.write("AccountName=someoneelse;AccountKey=%s\n" % KEY)
    p = n.run("node", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1
    assert "'someoneelse'" in p.stderr and KEY not in p.stderr

    os.unlink(n.path("/etc/azsharefs/pool.conf"))
    p = n.run("node", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1
    assert "cannot read pool config '%s'" % n.path("/etc/azsharefs/pool.conf") in p.stderr

    p = n.run("frobnicate", check=False)
    assert p.returncode == 2 and "unknown subcommand 'frobnicate'" in p.stderr
    p = n.run("add-user", check=False)
    assert p.returncode == 2 and "expected one user NAME" in p.stderr
    p = n.run("sync-users", "--purge", check=False)
    assert p.returncode == 2 and "'--purge' is not valid here" in p.stderr


def test_user_added_on_one_node_appears_on_the_other(nodes, shared_dir, tmp_path):
    n1 = nodes.new("n1", base_conf())
    n2 = nodes.new("n2", base_conf())
    for n in (n1, n2):
        n.run("node", extra=share_opts(shared_dir))
    keyfile = tmp_path / "alice.pub"
    keyfile.write_text("# alice's laptop\n" + SSH_KEY + "\n")
    out = n1.run("add-user", "alice", "--ssh-key", str(keyfile), "--groups", "users",
                 extra=share_opts(shared_dir)).stdout
    assert "roster: alice added (uid 2000)" in out
    assert "user alice: created with uid 2000" in out

    roster = open(os.path.join(shared_dir, ".azsharefs", "roster")).read()
    assert "alice\t2000\t2000\t/bin/bash\tactive\tusers\t" + SSH_KEY + "\n" in roster

    out = n2.run("sync-users", extra=share_opts(shared_dir)).stdout
    assert "user alice: created with uid 2000" in out
    for n in (n1, n2):
        pw = n.passwd("alice")
        assert pw[2:4] == ["2000", "2000"] and pw[5] == "/home/alice"
        link = n.path("/home/alice/notebooks/remote")
        assert os.readlink(link) == os.path.join(shared_dir, "notebooks", "alice")
        keys = open(n.path("/home/alice/.ssh/authorized_keys")).read()
        assert keys == SSH_KEY + "\n"
        assert "alice" in open(n.path("/etc/group")).read().split("users:x:100:")[1]
    nbdir = os.path.join(shared_dir, "notebooks", "alice")
    st = os.stat(nbdir)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (2000, 2000, 0o700)

    # A notebook written by alice through one node's link reads back through
    # the other's.
    nb = '{"cells": [], "nbformat": 4}'
    w = run_as(2000, 2000, ["sh", "-c", "printf '%%s' '%s' > '%s/nb.ipynb'"
                            % (nb, n1.path("/home/alice/notebooks/remote"))])
    assert w.returncode == 0, w.stderr
    r = run_as(2000, 2000, ["cat", n2.path("/home/alice/notebooks/remote/nb.ipynb")])
    assert r.returncode == 0 and r.stdout == nb

    again = n2.run("sync-users", extra=share_opts(shared_dir)).stdout
    assert "user alice: unchanged" in again


def test_uid_allocation_and_conflicts(nodes, shared_dir):
    n1 = nodes.new("n1", base_conf())
    n1.run("node", extra=share_opts(shared_dir))
    # A local account already holds 2001 on this node: it is skipped.
    with open(n1.path("/etc/passwd"), "a") as f:
        f.write("local:x:2001:2001::/home/local:/bin/sh\n")
    assert "uid 2000" in n1.run("add-user", "bob", extra=share_opts(shared_dir)).stdout
    assert "uid 2002" in n1.run("add-user", "carol", extra=share_opts(shared_dir)).stdout
    assert "uid 3005" in n1.run("add-user", "dave", "--uid", "3005",
                                extra=share_opts(shared_dir)).stdout
    # Adding an existing user again keeps its uid; another uid is refused.
    assert "roster: bob unchanged (uid 2000)" in n1.run(
        "add-user", "bob", extra=share_opts(shared_dir)).stdout
    p = n1.run("add-user", "bob", "--uid", "2500", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1 and "'bob' already has uid 2000 in the roster, not 2500" in p.stderr
    p = n1.run("add-user", "erin", "--uid", "2001", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1 and "uid 2001 is taken on this node by 'local'" in p.stderr
    p = n1.run("add-user", "erin", "--uid", "3005", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1 and "already used by 'dave'" in p.stderr
    p = n1.run("add-user", "Erin", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1 and "user name 'Erin' is not valid" in p.stderr
    roster = open(os.path.join(shared_dir, ".azsharefs", "roster")).read()
    assert "erin" not in roster.lower()

    # A second node where 'carol' already exists with another uid: reported
    # by name and both uids, the other users still synced, exit status 1.
    n2 = nodes.new("n2", base_conf())
    with open(n2.path("/etc/passwd"), "a") as f:
        f.write("carol:x:1500:1500::/home/carol:/bin/sh\n")
    p = n2.run("sync-users", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1
    assert "user 'carol': the local account has uid 1500, the roster says uid 2002" in p.stderr
    assert "user bob: created with uid 2000" in p.stdout
    assert n2.passwd("carol")[2] == "1500"


def test_existing_home_link_and_user_are_not_clobbered(nodes, shared_dir):
    n1 = nodes.new("n1", base_conf())
    n1.run("node", extra=share_opts(shared_dir))
    # An existing home with the user's own files.
    home = n1.path("/home/alice")
    os.makedirs(os.path.join(home, "notebooks"))
    with open(os.path.join(home, "thesis.tex"), "w") as f:
        f.write("mine")
    os.symlink("/data/elsewhere", os.path.join(home, "notebooks", "remote"))
    p = n1.run("add-user", "alice", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1
    assert "kept existing home %s" % home in p.stdout
    assert ("'%s/notebooks/remote' already points to '/data/elsewhere'" % home) in p.stderr
    assert os.readlink(os.path.join(home, "notebooks", "remote")) == "/data/elsewhere"
    assert open(os.path.join(home, "thesis.tex")).read() == "mine"
    assert not os.path.exists(os.path.join(home, ".bashrc"))  # no skel copied over
    # Once the admin moves the old link away, a rerun completes the user.
    os.unlink(os.path.join(home, "notebooks", "remote"))
    out = n1.run("add-user", "alice", extra=share_opts(shared_dir)).stdout
    assert "linked %s/notebooks/remote" % home in out

    # An existing local user with another uid: error naming both uids, and
    # the roster is not changed.
    with open(n1.path("/etc/passwd"), "a") as f:
        f.write("zoe:x:1777:1777::/home/zoe:/bin/sh\n")
    p = n1.run("add-user", "zoe", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1
    assert "local user 'zoe' already exists with uid 1777, but the pool uid would be" in p.stderr
    assert "zoe" not in open(os.path.join(shared_dir, ".azsharefs", "roster")).read()
    out = n1.run("add-user", "zoe", "--uid", "1777", extra=share_opts(shared_dir)).stdout
    assert "roster: zoe added (uid 1777)" in out

    # An existing notebooks dir owned by someone else is an error, not chowned.
    os.makedirs(os.path.join(shared_dir, "notebooks", "yan"))
    os.chown(os.path.join(shared_dir, "notebooks", "yan"), 4242, 4242)
    p = n1.run("add-user", "yan", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1 and "belongs to uid 4242" in p.stderr
    assert os.stat(os.path.join(shared_dir, "notebooks", "yan")).st_uid == 4242


def test_remove_user_locks_everywhere_and_purge(nodes, shared_dir):
    n1 = nodes.new("n1", base_conf())
    n2 = nodes.new("n2", base_conf())
    n1.run("add-user", "alice", extra=share_opts(shared_dir))
    n2.run("sync-users", extra=share_opts(shared_dir))
    with open(os.path.join(shared_dir, "notebooks", "alice", "keep.ipynb"), "w") as f:
        f.write("{}")

    out = n1.run("remove-user", "alice", extra=share_opts(shared_dir)).stdout
    assert "roster: alice marked removed" in out
    assert "user alice: locked (removed from the pool; data kept)" in out
    sp = n1.shadow("alice")
    assert sp[1].startswith("!") and sp[7] == "1"
    out = n2.run("sync-users", extra=share_opts(shared_dir)).stdout
    assert "user alice: locked" in out
    assert n2.shadow("alice")[7] == "1"
    assert "unchanged (removed, locked)" in n2.run("sync-users",
                                                    extra=share_opts(shared_dir)).stdout
    assert os.path.exists(os.path.join(shared_dir, "notebooks", "alice", "keep.ipynb"))
    assert "\tremoved\t" in open(os.path.join(shared_dir, ".azsharefs", "roster")).read()

    # Back in: the same uid, unlocked on both nodes.
    out = n1.run("add-user", "alice", extra=share_opts(shared_dir)).stdout
    assert "roster: alice updated (uid 2000)" in out and "unlocked" in out
    assert "unlocked" in n2.run("sync-users", extra=share_opts(shared_dir)).stdout
    assert n2.shadow("alice")[7] == ""

    out = n1.run("remove-user", "alice", "--purge", extra=share_opts(shared_dir)).stdout
    assert "notebooks/alice deleted (--purge)" in out
    assert not os.path.exists(os.path.join(shared_dir, "notebooks", "alice"))
    p = n1.run("remove-user", "nobody", check=False, extra=share_opts(shared_dir))
    assert p.returncode == 1 and "user 'nobody' is not in the roster" in p.stderr


def test_concurrent_add_user_from_two_nodes(nodes, shared_dir):
    n1 = nodes.new("n1", base_conf())
    n2 = nodes.new("n2", base_conf())
    n1.run("node", extra=share_opts(shared_dir))
    names = ["u%02d" % i for i in range(12)]
    results = {}

    def add(node, name):
        results[name] = node.run("add-user", name, check=False, extra=share_opts(shared_dir))

    threads = [threading.Thread(target=add, args=((n1, n2)[i % 2], name))
               for i, name in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=100)
    for name in names:
        assert results[name].returncode == 0, results[name].stderr
    roster = open(os.path.join(shared_dir, ".azsharefs", "roster")).read()
    rows = [l.split("\t") for l in roster.splitlines() if l and not l.startswith("#")]
    assert sorted(r[0] for r in rows) == names
    uids = [r[1] for r in rows]
    assert len(set(uids)) == len(uids)
    leftovers = [f for f in os.listdir(os.path.join(shared_dir, ".azsharefs"))
                 if f != "roster"]
    assert leftovers == []


def test_stale_lock_is_broken_and_live_lock_waited_for(nodes, shared_dir):
    n1 = nodes.new("n1", base_conf(lock_timeout="5"))
    n1.run("node", extra=share_opts(shared_dir))
    lock = os.path.join(shared_dir, ".azsharefs", "roster.lock")
    with open(lock, "w") as f:
        f.write("deadnode 999 0 cafe\n")
    old = time.time() - 600
    os.utime(lock, (old, old))
    out = n1.run("add-user", "alice", extra=share_opts(shared_dir)).stdout
    assert "broke a stale lock" in out and "deadnode 999" in out
    assert not os.path.exists(lock)

    # A fresh lock held elsewhere: add-user waits (stale after 5 s), then
    # takes it; with a long timeout it gives up naming the holder.
    with open(lock, "w") as f:
        f.write("busynode 1 0 beef\n")
    t0 = time.monotonic()
    out = n1.run("add-user", "bob", extra=share_opts(shared_dir)).stdout
    assert time.monotonic() - t0 >= 4
    assert "busynode" in out


def test_node_drives_systemd_when_it_runs(nodes, shared_dir, tmp_path):
    """With ROOT/run/systemd/system present, node goes through systemctl (a
    stub that records its arguments here) instead of mounting itself."""
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    log = tmp_path / "systemctl.log"
    stub = stub_dir / "systemctl"
    stub.write_text("#!/bin/sh\necho \"$*\" >> '%s'\n" % log)
    stub.chmod(0o755)
    n = nodes.new("n1", base_conf())
    os.makedirs(n.path("/run/systemd/system"))
    env = dict(os.environ, PATH="%s:%s" % (stub_dir, os.environ["PATH"]))
    cmd = [n.prov_bin, "node", "--root", n.root] + share_opts(shared_dir)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "systemd: restarted azsharefs-mount.service" in p.stdout
    assert "mounting directly" not in p.stdout
    assert log.read_text().splitlines() == [
        "daemon-reload", "restart azsharefs-mount.service", "start azsharefs-sync-users.timer"]
    # Nothing changed: no reload, no restart of a working mount.
    log.write_text("")
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert log.read_text().splitlines() == [
        "start azsharefs-mount.service", "start azsharefs-sync-users.timer"]
    # New credentials (a rotated key): the mount is restarted to use them.
    log.write_text("")
    with open(n.path("/etc/azsharefs/credentials"), "w") as f:
        f.write("sv=2024-11-04&ss=f&srt=sco&sp=rwdlc&sig=abc\n")
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert log.read_text().splitlines() == [
        "restart azsharefs-mount.service", "start azsharefs-sync-users.timer"]
    assert "SharedAccessSignature=sv=2024-11-04" in open(n.path("/etc/azsharefs/pool.conn")).read()
