"""Mount a share for real with the azsharefs binary, and always unmount it.

    with Mount(emu, "share1", opts={"writeback_delay": 2}) as m:
        open(m.path("a.txt"), "w").write("hi")

A Mount owns a work directory (0755, so other users can reach the mount
point) holding mnt/, cache/ (unless cache_dir= is given), the 0600 conn file
and the daemon's stderr log. start() runs `azsharefs MNT -f -o ...` in its
own session and waits until /proc/self/mountinfo shows a FUSE mount there.
stop() unmounts with `fusermount3 -u` (then `umount -l`, then SIGKILL of the
daemon's process group, by PID) so no mount is left behind, even when a test
fails; it also checks the daemon's exit status and its stderr for sanitizer
reports. kill() is the crash: SIGKILL, then clean the dead mount up.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK_BASE = os.environ.get("AZSF_ITEST_TMP", "/tmp")


class MountError(Exception):
    pass


def build_dir():
    d = os.environ.get("AZSF_BUILD", "build")
    if not os.path.isabs(d):
        d = os.path.join(ROOT, d)
    return d


def find_binary(name="azsharefs"):
    """The binary under $AZSF_BUILD (default build/), or None."""
    base = build_dir()
    cand = os.path.join(base, "fs", name)
    if os.access(cand, os.X_OK):
        return cand
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d != "CMakeFiles"]
        if name in filenames:
            p = os.path.join(dirpath, name)
            if os.access(p, os.X_OK) and os.path.isfile(p):
                return p
    return None


def _unescape_mountinfo(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 3 < len(s) and s[i + 1:i + 4].isdigit():
            out.append(chr(int(s[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def mount_fstype(path):
    """The fstype of the mount whose mount point is exactly path, or None."""
    path = os.path.realpath(path)
    found = None
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields = left.split()
                if len(fields) >= 5 and _unescape_mountinfo(fields[4]) == path:
                    found = right.split()[0]   # the last one stacked wins
    except OSError:
        return None
    return found


def is_fuse_mounted(path):
    t = mount_fstype(path)
    return t is not None and t.startswith("fuse")


def force_unmount(path, timeout=10):
    """Unmount whatever is at path: fusermount3 -u (retried for timeout
    seconds while busy), then fusermount3 -uz, then umount -l."""
    for cmd, secs in ((["fusermount3", "-u", path], timeout),
                      (["fusermount3", "-u", "-z", path], 5),
                      (["umount", "-l", path], 5)):
        if not is_fuse_mounted(path):
            return True
        deadline = time.monotonic() + secs
        while True:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=30)
            if not is_fuse_mounted(path):
                return True
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
    return not is_fuse_mounted(path)


def fmt_opts(opts):
    parts = []
    for k, v in opts.items():
        if v is None or v is False:
            continue
        parts.append(k if v is True else "%s=%s" % (k, v))
    return ",".join(parts)


class Mount:
    """One azsharefs daemon on one share (see module doc)."""

    def __init__(self, emu, share, opts=None, cache_dir=None, conn_string=None,
                 binary=None, workdir=None, extra_args=None, env=None, name="m"):
        self.emu = emu
        self.share = share
        self.opts = dict(opts or {})
        self.binary = binary or find_binary()
        self.workdir = workdir or tempfile.mkdtemp(prefix="azsf-it-%s-" % name,
                                                   dir=WORK_BASE)
        os.chmod(self.workdir, 0o755)
        self.mnt = os.path.join(self.workdir, "mnt")
        os.makedirs(self.mnt, exist_ok=True)
        os.chmod(self.mnt, 0o755)
        self.cache_dir = cache_dir or os.path.join(self.workdir, "cache")
        self.conn_file = os.path.join(self.workdir, "conn")
        self.conn_string = conn_string
        self.log_path = os.path.join(self.workdir, "daemon-%d.log")
        self.extra_args = list(extra_args or [])
        self.env = env
        self.proc = None
        self.runs = 0
        self.logs = []          # (log path, exit status) per run
        self.problems = []      # sanitizer reports, bad exit statuses
        self._log_file = None

    # ---- lifecycle ----
    def argv(self):
        o = {"share": self.share, "conn_file": self.conn_file,
             "cache_dir": self.cache_dir}
        o.update(self.opts)
        return [self.binary, self.mnt, "-f", "-o", fmt_opts(o)] + self.extra_args

    def write_conn(self):
        text = self.conn_string if self.conn_string is not None else self.emu.conn_string()
        fd = os.open(self.conn_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        os.chmod(self.conn_file, 0o600)

    def start(self, timeout=30):
        if self.binary is None:
            raise MountError("azsharefs binary not found under %s (set AZSF_BUILD)"
                             % build_dir())
        if is_fuse_mounted(self.mnt):
            raise MountError("%s is already mounted" % self.mnt)
        self.write_conn()
        self.runs += 1
        path = self.log_path % self.runs
        self._log_file = open(path, "wb")
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
        self.logs.append([path, None])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if is_fuse_mounted(self.mnt):
                try:
                    os.stat(self.mnt)
                    return self
                except OSError:
                    pass
            rc = self.proc.poll()
            if rc is not None:
                self._reap(rc, expected=False)
                raise MountError("azsharefs exited with status %s before mounting:\n%s"
                                 % (rc, self.last_log()))
            time.sleep(0.05)
        self.stop(check=False)
        raise MountError("azsharefs did not mount within %ss:\n%s"
                         % (timeout, self.last_log()))

    def _reap(self, rc, expected=True):
        self.logs[-1][1] = rc
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        text = self.last_log()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                       "ThreadSanitizer"):
            if marker in text:
                self.problems.append("sanitizer report (%s) in the daemon's log" % marker)
                break
        if expected and rc != 0:
            self.problems.append("daemon exited with status %s" % rc)
        self.proc = None

    def stop(self, timeout=90, check=True):
        """Unmount (fusermount3 -u), wait for the daemon to flush and exit."""
        ok = force_unmount(self.mnt)
        if self.proc is not None:
            try:
                rc = self.proc.wait(timeout=timeout)
                self._reap(rc, expected=True)
            except subprocess.TimeoutExpired:
                self.problems.append("daemon did not exit %ss after unmount" % timeout)
                self._killpg()
        if not ok:
            self.problems.append("mount point could not be unmounted")
        if check and self.problems:
            probs, self.problems = self.problems, []
            raise MountError("; ".join(probs) + "\n" + self.last_log())

    def _killpg(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        self.logs[-1][1] = rc
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        self.proc = None

    def kill(self):
        """Crash: SIGKILL the daemon, then clean the dead mount up (lazily if
        a descriptor still points into it)."""
        self._killpg()
        force_unmount(self.mnt, timeout=1)

    def terminate(self, timeout=90):
        """SIGTERM the daemon and wait for it to exit by itself."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        self._reap(rc, expected=True)
        return rc

    def cleanup(self):
        """Teardown: never leave a mount or a process behind."""
        try:
            self.stop(check=False)
        finally:
            if self.proc is not None:
                self._killpg()
            force_unmount(self.mnt)

    def remove_workdir(self):
        if not is_fuse_mounted(self.mnt):
            shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- helpers ----
    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def last_log(self, limit=20000):
        if not self.logs:
            return ""
        if self._log_file:
            self._log_file.flush()
        try:
            with open(self.logs[-1][0], "rb") as f:
                data = f.read()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def all_logs(self, limit=20000):
        out = []
        for path, rc in self.logs:
            try:
                with open(path, "rb") as f:
                    data = f.read()[-limit:].decode("utf-8", "replace")
            except OSError:
                data = ""
            out.append("--- %s (exit %s)\n%s" % (os.path.basename(path), rc, data))
        return "\n".join(out)

    def dump(self, stream=None):
        stream = stream or sys.stderr
        stream.write("==== azsharefs %s (share %s) argv: %s\n%s\n"
                     % (self.mnt, self.share, " ".join(self.argv()), self.all_logs()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        self.remove_workdir()
