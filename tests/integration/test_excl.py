"""O_CREAT|O_EXCL across two mounts (two nodes) of one share: the name is
taken on the share before open() returns (the cache's create_excl: an empty
file under a hidden temp name, renamed onto the name without replace), so
lock files work between nodes: exactly one node wins each race, git sees
the other node's index.lock."""
import errno
import os
import subprocess
import threading

import pytest

import remote
from util import log, read_file, wait_for

ROUNDS = 25


def _race(m1, m2, name, rounds):
    """Both mounts open(O_CREAT|O_EXCL) one name at once, `rounds` times;
    the winner writes its id, closes and (after both tried) unlinks.
    Returns [(won_by_m1, won_by_m2), ...] and the errors seen."""
    go = threading.Barrier(2, timeout=30)
    results = [[None, None] for _ in range(rounds)]
    errors = []

    def runner(idx, m):
        path = m.path(name)
        for r in range(rounds):
            try:
                go.wait()
                won = False
                try:
                    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                    won = True
                except OSError as e:
                    if e.errno != errno.EEXIST:
                        errors.append("round %d mount %d: %r" % (r, idx, e))
                if won:
                    os.write(fd, b"owner %d round %d" % (idx, r))
                    os.close(fd)
                results[r][idx] = won
                go.wait()                       # both tried
                if won:
                    os.unlink(path)
                go.wait()                       # the name is free again
            except Exception as e:              # a broken barrier ends the race
                errors.append("round %d mount %d: %r" % (r, idx, e))
                go.abort()
                return

    threads = [threading.Thread(target=runner, args=(i, m)) for i, m in enumerate((m1, m2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    return results, errors


def test_excl_race_exactly_one_wins(mounts, share, emu):
    """No cached answers on either side: both see the name free and race on
    the share; the service's rename-without-replace picks one. strict_excl
    makes a plain name (not *.lock) exclusive on the share too."""
    fast = {"attr_timeout": 0, "dir_timeout": 0, "strict_excl": True}
    a = mounts.new(share, opts=fast)
    b = mounts.new(share, opts=fast)
    results, errors = _race(a, b, "lock", ROUNDS)
    assert not errors, errors
    for r, (wa, wb) in enumerate(results):
        assert (wa, wb) in ((True, False), (False, True)), "round %d: %r" % (r, (wa, wb))
    wins = [sum(1 for x in results if x[i]) for i in (0, 1)]
    log("O_EXCL race over %d rounds: mount A won %d, mount B won %d" % (ROUNDS, *wins))
    assert remote.names(emu, share) == [], "lock files left behind or temp names visible"


def test_excl_race_with_default_caches(mounts, share, emu):
    """Default timeouts: stale negative (and positive) entries on either
    side must never let both win."""
    a = mounts.new(share)
    b = mounts.new(share)
    os.listdir(a.mnt)
    os.listdir(b.mnt)
    results, errors = _race(a, b, "index.lock", ROUNDS)
    assert not errors, errors
    for r, (wa, wb) in enumerate(results):
        assert (wa, wb) in ((True, False), (False, True)), "round %d: %r" % (r, (wa, wb))


def test_excl_loser_sees_eexist_even_with_a_stale_listing(mounts, share, emu):
    a = mounts.new(share, opts={"attr_timeout": 30, "dir_timeout": 30})
    b = mounts.new(share)
    assert os.listdir(a.mnt) == []                      # A: "x.lock" is absent (cached)
    fd = os.open(b.path("x.lock"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        # B's open returned: the name is on the share already, before any write
        assert remote.names(emu, share) == ["x.lock"]
        with pytest.raises(FileExistsError):
            os.open(a.path("x.lock"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.write(fd, b"B holds it")
    finally:
        os.close(fd)
    assert read_file(a.path("x.lock")) == b"B holds it"
    assert remote.read(emu, share, "x.lock") == b"B holds it"
    assert oct(os.stat(a.path("x.lock")).st_mode & 0o777) == oct(0o600)


def _git(args, cwd, home, check=True):
    env = {"HOME": home, "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C"}
    return subprocess.run(["git", "-c", "user.name=itest", "-c",
                           "user.email=itest@example.invalid", "-c", "init.defaultBranch=main"]
                          + args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, check=check)


def test_git_index_lock_across_mounts(mounts, share, scratch):
    """A git on one node holding index.lock stops a git on the other node.
    (Short timeouts on A: a name A saw existing is believed to exist for
    attr_timeout/dir_timeout, so A sees B's unlock after them.)"""
    a = mounts.new(share, opts={"attr_timeout": 1, "dir_timeout": 1})
    b = mounts.new(share)
    repo_a = a.path("repo")
    _git(["init", "-q", repo_a], scratch, scratch)
    with open(os.path.join(repo_a, "f.txt"), "w") as f:
        f.write("hello\n")
    _git(["add", "f.txt"], repo_a, scratch)             # A has looked at .git/index.lock
    lock_b = b.path("repo", ".git", "index.lock")
    fd = os.open(lock_b, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)   # B's git "holds" it
    try:
        p = _git(["commit", "-q", "-m", "first"], repo_a, scratch, check=False)
        assert p.returncode != 0, "git on A committed while B held index.lock"
        assert "index.lock" in p.stderr, p.stderr
    finally:
        os.close(fd)
        os.unlink(lock_b)
    lock_a = os.path.join(repo_a, ".git", "index.lock")
    wait_for(lambda: not os.path.exists(lock_a), 5, what="B's unlock seen on A")
    p = _git(["commit", "-q", "-m", "first"], repo_a, scratch, check=False)
    assert p.returncode == 0, p.stderr
