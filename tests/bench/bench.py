#!/usr/bin/env python3
"""azsharefs benchmarks: time and REST requests per user-visible workload.

Not a test: it asserts nothing and prints a table. Each workload runs on local
disk, on a plain FUSE passthrough of a local directory, and on azsharefs
(close-to-open and write-back) over the bundled emulator at each injected
latency. "durable" is when the emulator stopped receiving requests after the
workload returned (all uploads done); "req" counts REST requests.

    bench.py [--latency 0,10] [--large-mib 1024] [--only NAME,...] [--quick]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import emulator  # noqa: E402

BUILD = os.environ.get("AZSF_BUILD", os.path.join(ROOT, "build"))
AZSHAREFS = os.path.join(BUILD, "fs", "azsharefs")
PASSTHROUGH = os.path.join(BUILD, "tests", "bench", "azsf-passthrough")


def wait_mounted(path, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/self/mountinfo") as f:
            if any(line.split()[4] == path for line in f):
                return
        if proc.poll() is not None:
            raise RuntimeError("mount exited: %s" % proc.stderr.read())
        time.sleep(0.05)
    raise RuntimeError("mount did not appear at %s" % path)


class Target:
    """A place to run a workload: local dir, passthrough, or azsharefs."""

    def __init__(self, kind, latency=0, delay=0):
        self.kind, self.latency, self.delay = kind, latency, delay
        self.tmp = tempfile.mkdtemp(prefix="azsf-bench-")
        self.path = os.path.join(self.tmp, "mnt")
        os.mkdir(self.path)
        self.proc = None
        self.emu = None

    @property
    def name(self):
        if self.kind == "azsharefs":
            mode = "write-back %gs" % self.delay if self.delay else "close-to-open"
            return "azsharefs %s @%d ms" % (mode, self.latency)
        return self.kind

    def __enter__(self):
        if self.kind == "passthrough":
            src = os.path.join(self.tmp, "src")
            os.mkdir(src)
            self.proc = subprocess.Popen([PASSTHROUGH, src, self.path, "-f"],
                                         stderr=subprocess.PIPE, text=True)
            wait_mounted(self.path, self.proc)
        elif self.kind == "azsharefs":
            self.emu = emulator.Emulator(latency_ms=self.latency,
                                         data_dir=os.path.join(self.tmp, "data"))
            self.emu.start()
            self.emu.create_share("bench")
            conn = self.emu.write_conn_file(os.path.join(self.tmp, "conn"))
            opts = "share=bench,conn_file=%s,cache_dir=%s,writeback_delay=%g" % (
                conn, os.path.join(self.tmp, "cache"), self.delay)
            self.proc = subprocess.Popen([AZSHAREFS, self.path, "-f", "-o", opts],
                                         stderr=subprocess.PIPE, text=True)
            wait_mounted(self.path, self.proc)
        return self

    def __exit__(self, *exc):
        if self.proc:
            subprocess.run(["fusermount3", "-u", self.path], stderr=subprocess.DEVNULL)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                subprocess.run(["umount", "-l", self.path], stderr=subprocess.DEVNULL)
        if self.emu:
            self.emu.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def reset(self):
        if self.emu:
            self.emu.reset()

    def requests(self):
        return self.emu.stats()["total"] if self.emu else None

    def quiesce(self, t0, idle=0.5, limit=600):
        """Seconds from t0 until the share stopped receiving requests."""
        if not self.emu:
            return None
        last, last_change = self.requests(), time.monotonic()
        while time.monotonic() - last_change < idle + self.delay:
            time.sleep(0.1)
            now = self.requests()
            if now != last:
                last, last_change = now, time.monotonic()
            if time.monotonic() - t0 > limit:
                break
        return last_change - t0


# ---- workloads: each takes a directory, prepares outside the timing ----

def make_tarball(tmp, n=2000):
    src = os.path.join(tmp, "tree")
    for i in range(n):
        d = os.path.join(src, "d%02d" % (i % 40))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%04d.py" % i), "wb") as f:
            f.write(os.urandom(1024 + (i * 7919) % (15 * 1024)))
    tar = os.path.join(tmp, "tree.tar")
    subprocess.run(["tar", "cf", tar, "-C", src, "."], check=True)
    return tar


def make_repo(tmp, n=1500):
    repo = os.path.join(tmp, "repo")
    os.makedirs(repo)
    for i in range(n):
        d = os.path.join(repo, "pkg%02d" % (i % 30))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "m%04d.py" % i), "w") as f:
            f.write(("x = %d\n" % i) * (20 + i % 200))
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "x"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env)
    return repo


def wl_untar(d, fx):
    subprocess.run(["tar", "xf", fx["tar"], "-C", d], check=True)


def wl_git_clone(d, fx):
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", fx["repo"],
                    os.path.join(d, "clone")], check=True)


def wl_notebook_saves(d, fx, n=100):
    nb = os.path.join(d, "nb.ipynb")
    with open(nb, "wb") as f:
        f.write(os.urandom(200 * 1024))
    for i in range(n):  # what jupyter-server 1.23 does on every save
        tmp = os.path.join(d, ".~nb.ipynb")
        shutil.copy2(nb, tmp)
        os.chmod(tmp, 0o600)
        fd = os.open(nb, os.O_WRONLY | os.O_TRUNC)
        os.write(fd, os.urandom(200 * 1024))
        os.fsync(fd)
        os.close(fd)
        os.unlink(tmp)


def wl_create_empty(d, fx, n=10000):
    sub = os.path.join(d, "many")
    os.mkdir(sub)
    for i in range(n):
        os.close(os.open(os.path.join(sub, "e%05d" % i), os.O_CREAT | os.O_WRONLY, 0o644))


def wl_ls_cold(d, fx):
    subprocess.run(["ls", "-l", os.path.join(d, "many")], check=True,
                   stdout=subprocess.DEVNULL)


wl_ls_hot = wl_ls_cold


def wl_reread(d, fx):
    for root, _, files in os.walk(os.path.join(d, "tree")):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                f.read()


def wl_seq_write(d, fx):
    block = os.urandom(1 << 20)
    with open(os.path.join(d, "big"), "wb") as f:
        for _ in range(fx["large_mib"]):
            f.write(block)


def wl_seq_read(d, fx):
    with open(os.path.join(d, "big"), "rb") as f:
        while f.read(1 << 20):
            pass


WORKLOADS = [  # name, function, setup run untimed before it (on the same target)
    ("untar 2,000 small files", wl_untar, None),
    ("re-read 2,000 small files (hot)", wl_reread, "untar"),
    ("100 Jupyter-style saves", wl_notebook_saves, None),
    ("create 10,000 empty files", wl_create_empty, None),
    ("ls -l 10,000 entries, cold", wl_ls_cold, None),
    ("ls -l 10,000 entries, hot", wl_ls_hot, None),
    ("git clone, 1,500 files", wl_git_clone, None),
    ("sequential write (large)", wl_seq_write, None),
    ("sequential read (large)", wl_seq_read, None),
]


def run_target(t, fx, only):
    rows = []
    work = os.path.join(t.path, "w")
    os.mkdir(work)
    for name, fn, setup in WORKLOADS:
        if only and not any(o in name for o in only):
            continue
        if setup == "untar" and not os.path.isdir(os.path.join(work, "tree")):
            os.mkdir(os.path.join(work, "tree"))
            subprocess.run(["tar", "xf", fx["tar"], "-C", os.path.join(work, "tree")],
                           check=True)
            t.quiesce(time.monotonic())
        if "cold" in name and t.emu:  # drop our caches: remount is too slow; wait out the timeouts
            time.sleep(2.5)
        t.reset()
        t0 = time.monotonic()
        fn(work, fx)
        elapsed = time.monotonic() - t0
        durable = t.quiesce(t0)
        rows.append((name, t.name, elapsed, durable, t.requests()))
        print("  %-34s %-34s %8.2f s  durable %s  req %s" % (
            name, t.name, elapsed, "%.2f" % durable if durable is not None else "-",
            t.requests() if t.emu else "-"), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", default="0,10")
    ap.add_argument("--writeback", type=float, default=1.0)
    ap.add_argument("--large-mib", type=int, default=1024)
    ap.add_argument("--only", default="")
    ap.add_argument("--quick", action="store_true", help="smaller large file, one latency")
    args = ap.parse_args()
    if args.quick:
        args.large_mib, args.latency = 64, "10"
    only = [o for o in args.only.split(",") if o]
    tmp = tempfile.mkdtemp(prefix="azsf-bench-fx-")
    fx = {"tar": make_tarball(tmp), "repo": make_repo(tmp), "large_mib": args.large_mib}
    targets = [Target("local disk"), Target("passthrough")]
    for lat in (int(x) for x in args.latency.split(",")):
        targets.append(Target("azsharefs", lat, 0))
        targets.append(Target("azsharefs", lat, args.writeback))
    rows = []
    try:
        for t in targets:
            print("== %s" % t.name, flush=True)
            with t:
                rows += run_target(t, fx, only)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n| workload | target | seconds | durable s | requests |")
    print("|---|---|---|---|---|")
    for name, target, el, dur, req in rows:
        print("| %s | %s | %.2f | %s | %s |" % (
            name, target, el, "%.2f" % dur if dur is not None else "-",
            req if req is not None else "-"))


if __name__ == "__main__":
    main()
