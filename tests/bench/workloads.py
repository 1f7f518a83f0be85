"""The benchmark workloads and their fixtures.

A workload is a Workload(key, title, run, n, needs, pre): run(d, fx) does the
timed work in directory d (the target's working dir); n is how many
user-level operations it performs (requests are also reported per
operation); needs names a workload whose result it reads (run untimed first
when --only left it out); pre(target, fx, ctx) runs untimed just before the
clock starts (sleeps past cache timeouts, remounts) and returns a note for
the report.

Fixtures are built once per run outside any target (fx dict): a tarball of
2,000 files of 1-16 KiB in 40 directories, a git repository of 1,500 files
in 30 packages (one commit, packed, cloned through file:// so git uses its
pack protocol as for a network clone), a 200 KiB notebook.
"""
import json
import os
import shutil
import subprocess
import time

UNTAR_FILES = 2000
REPO_FILES = 1500
LS_FILES = 10000
SAVES = 100
NB_KIB = 200
CMD_TIMEOUT = 900


class Workload:
    def __init__(self, key, title, run, n=1, needs=None, pre=None, unit="op",
                 readonly=False):
        self.key, self.title, self.run, self.n = key, title, run, n
        self.needs, self.pre, self.unit = needs, pre, unit
        self.readonly = readonly


# ---- fixtures ----

def make_tarball(tmp, n=UNTAR_FILES):
    src = os.path.join(tmp, "tree")
    for i in range(n):
        d = os.path.join(src, "d%02d" % (i % 40))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%04d.py" % i), "wb") as f:
            f.write(os.urandom(1024 + (i * 7919) % (15 * 1024)))
    tar = os.path.join(tmp, "tree.tar")
    subprocess.run(["tar", "cf", tar, "-C", src, "."], check=True, timeout=CMD_TIMEOUT)
    rel = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        rel.extend(os.path.relpath(os.path.join(root, f), src) for f in sorted(files))
    size = sum(os.path.getsize(os.path.join(src, r)) for r in rel)
    shutil.rmtree(src)
    return tar, rel, size


def make_repo(tmp, n=REPO_FILES):
    repo = os.path.join(tmp, "repo")
    os.makedirs(repo)
    for i in range(n):
        d = os.path.join(repo, "pkg%02d" % (i % 30))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "m%04d.py" % i), "w") as f:
            f.write(("x_%d = %d\n" % (i, i)) * (20 + i % 200))
    env = git_env()
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "commit", "-qm", "bench fixture"], ["git", "gc", "-q"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env, timeout=CMD_TIMEOUT)
    return repo


def git_env():
    return dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
                GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost",
                GIT_CONFIG_NOSYSTEM="1", HOME=os.environ.get("AZSF_BENCH_HOME", "/nonexistent"))


def make_notebook(kib=NB_KIB, seed=0):
    """A valid nbformat-4 notebook of about kib KiB (text outputs)."""
    cells, i = [], 0
    line = "print('azsharefs bench %d')  # " % seed + "x" * 60 + "\n"
    while sum(len(c["source"]) for c in cells) < kib * 1024:
        cells.append({"cell_type": "code", "execution_count": i + 1, "id": "c%05d" % i,
                      "metadata": {}, "outputs": [], "source": line * 20})
        i += 1
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def make_fixtures(tmp, large_mib):
    tar, rel, size = make_tarball(tmp)
    return {"tar": tar, "tree_rel": rel, "tree_bytes": size, "repo": make_repo(tmp),
            "large_mib": large_mib,
            "nb": [json.dumps(make_notebook(seed=s), indent=1).encode() for s in range(2)],
            "tmp": tmp}


# ---- workloads ----

def wl_untar(d, fx):
    os.mkdir(os.path.join(d, "tree"))
    subprocess.run(["tar", "xf", fx["tar"], "-C", os.path.join(d, "tree")], check=True,
                   timeout=CMD_TIMEOUT)


def wl_read_tree(d, fx):
    """Opens and reads every untarred file (paths known from the fixture, so
    no directory walk adds listings)."""
    total = 0
    for rel in fx["tree_rel"]:
        with open(os.path.join(d, "tree", rel), "rb") as f:
            total += len(f.read())
    if total != fx["tree_bytes"]:
        raise RuntimeError("read %d bytes, expected %d" % (total, fx["tree_bytes"]))


def wl_stat_tree(d, fx):
    for rel in fx["tree_rel"]:
        os.stat(os.path.join(d, "tree", rel))


def jupyter_save(path, data):
    """The syscalls jupyter-server 1.23 makes for one save with
    use_atomic_writing (services/contents/fileio.py atomic_writing and
    filemanager.save): islink, isfile, copyfile + copystat to .~NAME, open
    O_WRONLY|O_CREAT|O_TRUNC, write, fsync, close, isfile + unlink of
    .~NAME, then the model's lstat/stat."""
    tmp = os.path.join(os.path.dirname(path), ".~" + os.path.basename(path))
    os.path.islink(path)
    if os.path.isfile(path):
        shutil.copyfile(path, tmp)
        try:
            shutil.copystat(path, tmp)
        except OSError:
            pass
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if os.path.isfile(tmp):
        os.remove(tmp)
    os.lstat(path)
    os.stat(path)


def wl_saves(d, fx):
    nb = os.path.join(d, "nb.ipynb")
    for i in range(SAVES):
        jupyter_save(nb, fx["nb"][i % 2])


def pre_saves(t, fx, ctx):
    with open(os.path.join(t.path, "nb.ipynb"), "wb") as f:
        f.write(fx["nb"][1])
    return "notebook created untimed"


def real_jupyter_save(d, fx):
    """One save through jupyter_server's own FileContentsManager.save()."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    cm = FileContentsManager(root_dir=d)
    model = {"type": "notebook", "format": "json",
             "content": json.loads(fx["nb"][fx.setdefault("jsave_i", 0) % 2])}
    fx["jsave_i"] += 1
    cm.save(model, "real.ipynb")


def pre_jsave(t, fx, ctx):
    """Autosave runs every 120 s: expire the attribute and listing caches."""
    if not os.path.exists(os.path.join(t.path, "real.ipynb")):
        real_jupyter_save(t.path, fx)      # first save also makes the checkpoint
        t.settle(time.monotonic(), time.monotonic())
    time.sleep(ctx["expire_s"])
    return "slept %.1f s (past attr/dir timeouts) after a first save" % ctx["expire_s"]


def wl_create(d, fx):
    sub = os.path.join(d, "many")
    os.mkdir(sub)
    for i in range(LS_FILES):
        os.close(os.open(os.path.join(sub, "e%05d" % i), os.O_CREAT | os.O_WRONLY, 0o644))


def wl_ls(d, fx):
    out = subprocess.run(["ls", "-l", os.path.join(d, "many")], check=True,
                         stdout=subprocess.PIPE, timeout=CMD_TIMEOUT).stdout
    lines = out.count(b"\n") - 1   # "total N"
    if lines != LS_FILES:
        raise RuntimeError("ls -l listed %d entries, expected %d" % (lines, LS_FILES))


def pre_remount(t, fx, ctx):
    if t.remount():
        return "fresh mount" + (" of the same cache dir" if t.kind == "azsharefs" else "")
    return "no mount to refresh (page and dentry caches warm)"


def pre_ls_cold(t, fx, ctx):
    """Fresh mount, then resolve the directory's path untimed: the listing
    of `many` and its 10,000 entries are cold, its parents are not."""
    note = pre_remount(t, fx, ctx)
    os.stat(os.path.join(t.path, "many"))
    return note + "; then stat of the directory itself (path lookup) untimed"


def pre_stat_warm(t, fx, ctx):
    wl_stat_tree(t.path, fx)
    return "one stat pass untimed just before"


def pre_expire(t, fx, ctx):
    time.sleep(ctx["expire_s"])
    return "slept %.1f s (past attr/dir timeouts)" % ctx["expire_s"]


def wl_clone(d, fx):
    subprocess.run(["git", "clone", "-q", "file://" + fx["repo"], os.path.join(d, "clone")],
                   check=True, env=git_env(), timeout=CMD_TIMEOUT)


def wl_seq_write(d, fx):
    block = os.urandom(1 << 20)
    with open(os.path.join(d, "big"), "wb") as f:
        for _ in range(fx["large_mib"]):
            f.write(block)


def wl_seq_read(d, fx):
    n = 0
    with open(os.path.join(d, "big"), "rb", buffering=0) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            n += len(b)
    if n != fx["large_mib"] << 20:
        raise RuntimeError("read %d bytes, expected %d" % (n, fx["large_mib"] << 20))


def workloads(fx):
    mib = fx["large_mib"]
    u, ls = UNTAR_FILES, LS_FILES
    W = Workload
    return [
        W("untar", "untar %d small files (1-16 KiB)" % u, wl_untar, u, unit="file"),
        W("reopen", "re-read %d files after attr/dir timeout" % u, wl_read_tree, u,
          needs="untar", pre=pre_expire, unit="open", readonly=True),
        W("reread", "re-read %d files, hot" % u, wl_read_tree, u, needs="untar",
          unit="open", readonly=True),
        W("stat", "stat %d files, hot" % u, wl_stat_tree, u, needs="untar",
          pre=pre_stat_warm, unit="stat", readonly=True),
        W("saves", "%d Jupyter-style saves, back to back" % SAVES, wl_saves, SAVES,
          pre=pre_saves, unit="save"),
        W("jsave", "1 jupyter_server save, caches expired", real_jupyter_save, 1,
          pre=pre_jsave, unit="save"),
        W("create", "create %d empty files" % ls, wl_create, ls, unit="file"),
        W("lscold", "ls -l %d entries, cold (fresh mount)" % ls, wl_ls, 1, needs="create",
          pre=pre_ls_cold, unit="ls", readonly=True),
        W("lshot", "ls -l %d entries, hot" % ls, wl_ls, 1, needs="create", unit="ls",
          readonly=True),
        W("lsexp", "ls -l %d entries, after dir timeout" % ls, wl_ls, 1, needs="create",
          pre=pre_expire, unit="ls", readonly=True),
        W("clone", "git clone, %d files (file://)" % REPO_FILES, wl_clone, REPO_FILES,
          unit="file"),
        W("write", "sequential write %d MiB" % mib, wl_seq_write, 1, unit="file"),
        W("read", "sequential read %d MiB, same mount" % mib, wl_seq_read, 1,
          needs="write", unit="file", readonly=True),
        W("readcold", "sequential read %d MiB, fresh mount" % mib, wl_seq_read, 1,
          needs="write", pre=pre_remount, unit="file", readonly=True),
    ]
