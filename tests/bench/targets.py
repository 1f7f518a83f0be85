"""Where a benchmark workload runs: local disk, FUSE passthrough, azsharefs.

Every target owns one scratch directory and everything it starts (the
passthrough daemon, the emulator, the azsharefs daemon) and stops it by PID
in close(), which never raises and is safe to call twice: the harness calls
it from a finally block, so no mount and no emulator is left behind even
when a workload fails or the run is interrupted (SIGTERM/SIGINT become
exceptions in bench.py).

Interface used by bench.py:
    t.start(); t.path (the directory the workloads use); t.remount()
    t.reset(); t.settle(t0, t_ret) -> (durable_s, total_requests, ops)
    t.close()
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import emulator  # noqa: E402
from mount import Mount, force_unmount, is_fuse_mounted  # noqa: E402


STOCK_EMULATOR = emulator.EMULATOR
NODELAY_EMULATOR = os.path.join(HERE, "emulator-nodelay")


def use_stock_emulator(stock):
    """The emulator the azsharefs targets start: the stock one, or the same
    with TCP_NODELAY (see emulator-nodelay; the default)."""
    emulator.EMULATOR = STOCK_EMULATOR if stock else NODELAY_EMULATOR


def build_dir():
    d = os.environ.get("AZSF_BUILD", os.path.join(ROOT, "build-bench"))
    return d if os.path.isabs(d) else os.path.join(ROOT, d)


def binary(*parts):
    p = os.path.join(build_dir(), *parts)
    if not os.access(p, os.X_OK):
        raise RuntimeError("%s not built (run tests/bench/run.sh, or set AZSF_BUILD)" % p)
    return p


def wait_until(pred, timeout, what, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(step)
    raise RuntimeError("timed out after %ss waiting for %s" % (timeout, what))


class Target:
    """Local disk: a plain directory. The base of the FUSE targets."""
    kind = "local"
    label = "local disk"
    emu = None
    delay = 0.0
    latency = 0

    logs_dir = None   # set by bench.py --logs: keep logs and workload marks here

    def __init__(self, base):
        self.tmp = tempfile.mkdtemp(prefix="azsf-bench-%s-" % self.kind, dir=base)
        os.chmod(self.tmp, 0o755)
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        self.path = os.path.join(self.mnt, "w")

    def start(self):
        os.makedirs(self.path, exist_ok=True)
        return self

    def remount(self):
        """Drop what the mount caches in memory; a plain directory has no mount."""
        return False

    def reset(self):
        pass

    def stats(self):
        return None

    def settle(self, t0, t_ret, readonly=False, limit=600):
        return t_ret - t0, None, {}

    def info(self):
        return {}

    def slug(self):
        return "".join(c if c.isalnum() else "-" for c in self.label).strip("-")

    def mark(self, text):
        """A time-stamped line in LOGS/<target>/marks.txt (same clock and
        format as the emulator's request log)."""
        if not self.logs_dir:
            return
        d = os.path.join(self.logs_dir, self.slug())
        os.makedirs(d, exist_ok=True)
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        with open(os.path.join(d, "marks.txt"), "a") as f:
            f.write("%s,%03d %s\n" % (stamp, int(now * 1000) % 1000, text))

    def keep_logs(self, files):
        if not self.logs_dir:
            return
        d = os.path.join(self.logs_dir, self.slug())
        os.makedirs(d, exist_ok=True)
        for src in files:
            if os.path.isfile(src):
                shutil.copy(src, d)

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class Passthrough(Target):
    """tests/bench/passthrough.c over a local directory (1 s kernel timeouts)."""
    kind = "passthrough"
    label = "FUSE passthrough"

    def __init__(self, base):
        super().__init__(base)
        self.src = os.path.join(self.tmp, "src")
        os.mkdir(self.src)
        self.proc = None
        self.log = None

    def _mount(self):
        self.log = open(os.path.join(self.tmp, "passthrough.log"), "ab")
        self.proc = subprocess.Popen([binary("tests", "bench", "azsf-passthrough"),
                                      self.src, self.mnt, "-f"],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: is_fuse_mounted(self.mnt) or self.proc.poll() is not None,
                   20, "the passthrough mount")
        if self.proc.poll() is not None:
            raise RuntimeError("azsf-passthrough exited with %s" % self.proc.returncode)

    def _unmount(self):
        ok = force_unmount(self.mnt)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.proc = None
        if self.log:
            self.log.close()
            self.log = None
        return ok

    def start(self):
        self._mount()
        return super().start()

    def remount(self):
        self._unmount()
        self._mount()
        return True

    def close(self):
        try:
            self._unmount()
        finally:
            if self.proc is not None and self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
            if not is_fuse_mounted(self.mnt):
                super().close()


class Azsharefs(Target):
    """azsharefs over its own emulator at an injected latency.

    The emulator and the cache dir live under the target's scratch dir;
    remount() stops the daemon (which uploads everything first) and mounts
    the same cache dir again, so kernel and in-memory caches are cold while
    the local file copies survive."""
    kind = "azsharefs"
    cache_base = None   # bench.py --cache-base: put cache dirs there (e.g. tmpfs)
    emu_base = None     # bench.py --emu-base: the emulator's data (the "share") there

    def __init__(self, base, latency, delay, extra_opts=None):
        super().__init__(base)
        self.latency, self.delay = latency, delay
        self.extra_opts = dict(extra_opts or {})
        mode = "write-back %gs" % delay if delay else "close-to-open"
        self.label = "azsharefs %s @%d ms" % (mode, latency)
        if self.emu_base:
            self.emu_dir = tempfile.mkdtemp(prefix="azsf-bench-emu-", dir=self.emu_base)
        else:
            self.emu_dir = os.path.join(self.tmp, "emu")
        self.emu = emulator.Emulator(latency_ms=latency, data_dir=self.emu_dir)
        if self.cache_base:
            self.cache = tempfile.mkdtemp(prefix="azsf-bench-cache-", dir=self.cache_base)
        else:
            self.cache = os.path.join(self.tmp, "cache")
        self.mount = None

    def start(self):
        self.emu.start()
        self.emu.create_share("bench")
        opts = {"writeback_delay": "%g" % self.delay}
        opts.update(self.extra_opts)
        workdir = os.path.join(self.tmp, "m")
        os.makedirs(workdir, exist_ok=True)
        self.mount = Mount(self.emu, "bench", opts=opts, cache_dir=self.cache,
                           binary=binary("fs", "azsharefs"), workdir=workdir)
        # Mount() makes its own mnt/ under workdir: use that one.
        self.mnt = self.mount.mnt
        self.path = os.path.join(self.mnt, "w")
        self.mount.start()
        os.makedirs(self.path, exist_ok=True)
        return self

    def remount(self):
        self.mount.stop(check=False)
        self.mount.start()
        return True

    def reset(self):
        self.emu.reset()

    def stats(self):
        return self.emu.stats()

    def journal_empty(self):
        """No live journal record: no record file journal/<id> (older
        format) and journal/log empty (the cache truncates it once nothing
        in it is live)."""
        jdir = os.path.join(self.cache, "journal")
        try:
            names = os.listdir(jdir)
            if any(n.isdigit() for n in names):
                return False
            return "log" not in names or os.path.getsize(os.path.join(jdir, "log")) == 0
        except FileNotFoundError:
            return True

    def settle(self, t0, t_ret, readonly=False, limit=600, step=0.05):
        """Waits until the share is quiet and nothing is journaled.

        Returns (durable, total, ops): durable = seconds from t0 to the last
        request the emulator received (no earlier than t_ret), measured by
        polling its counters every `step` s; quiet = no new request for
        `idle` s, at least delay + idle after t_ret, and an empty journal.
        A read-only workload makes its requests inside its syscalls, so it
        only waits 0.1 s (what follows it, e.g. a hot re-run, stays within
        the mount's 2 s cache timeouts)."""
        idle = 0.1 if readonly else 0.6
        wait = idle if readonly else self.delay + idle
        last = self.emu.stats()["total"]
        last_change = t_ret
        while True:
            time.sleep(step)
            now = time.monotonic()
            total = self.emu.stats()["total"]
            if total != last:
                last, last_change = total, now
            quiet = now - last_change >= idle and now - t_ret >= wait
            if quiet and self.journal_empty():
                break
            if now - t0 > limit:
                raise RuntimeError("share still busy %ss after the workload started" % limit)
        st = self.emu.stats()
        return max(last_change, t_ret) - t0, st["total"], dict(st.get("ops", {}))

    def info(self):
        return {"daemon_pid": self.mount.proc.pid if self.mount and self.mount.proc else None,
                "emulator_pid": self.emu.proc.pid if self.emu.proc else None}

    def close(self):
        try:
            if self.mount is not None:
                self.mount.cleanup()
                self.keep_logs([p for p, _ in self.mount.logs] +
                               [os.path.join(self.emu.data_dir, "emulator.log")])
        finally:
            try:
                self.emu.stop()
            finally:
                if self.emu_base:
                    shutil.rmtree(self.emu_dir, ignore_errors=True)
                if not is_fuse_mounted(self.mnt):
                    shutil.rmtree(self.tmp, ignore_errors=True)
                    if self.cache_base:
                        shutil.rmtree(self.cache, ignore_errors=True)


def target_factories(base, latencies, delay, which, extra_opts=None):
    """Constructors (called one at a time, so only one target exists at
    once) for: which = subset of local, passthrough, c2o, wb."""
    out = []
    if "local" in which:
        out.append(lambda: Target(base))
    if "passthrough" in which:
        out.append(lambda: Passthrough(base))
    for lat in latencies:
        if "c2o" in which:
            out.append(lambda lat=lat: Azsharefs(base, lat, 0, extra_opts))
        if "wb" in which:
            out.append(lambda lat=lat: Azsharefs(base, lat, delay, extra_opts))
    return out
