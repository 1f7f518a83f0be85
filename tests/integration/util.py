"""Small helpers shared by the integration tests (no fixtures here)."""
import ctypes
import errno
import hashlib
import json
import os
import random
import socket
import stat
import subprocess
import sys
import time

PY = "/usr/bin/python3"   # Debian's python (the pyenv one lacks the test deps)
AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2

_libc = ctypes.CDLL(None, use_errno=True)


def renameat2(old, new, flags):
    """renameat2(2); returns 0 or raises OSError with the errno."""
    fn = _libc.renameat2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                   ctypes.c_uint]
    rc = fn(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags)
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), old)
    return 0


def err_of(fn, *args, **kw):
    """Run fn; return None on success or the errno name (e.g. 'EACCES')."""
    try:
        fn(*args, **kw)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    return None


def write_file(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def sha256_file(path, bufsize=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(bufsize)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def pattern_bytes(n, seed=0):
    """n deterministic pseudo-random bytes (fast for big n)."""
    rnd = random.Random(seed)
    block = rnd.randbytes(min(n, 1 << 20) or 1)
    reps, rest = divmod(n, len(block))
    # vary each repetition so misplaced blocks are detected
    out = bytearray()
    for i in range(reps):
        out += i.to_bytes(8, "little") + block[8:]
    out += block[:rest]
    return bytes(out)


def wait_for(pred, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except OSError as e:
            last = e
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)"
                         % (timeout, what, last))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(argv, timeout=120, check=True, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s -> %s\nstdout: %s\nstderr: %s"
                             % (" ".join(argv), p.returncode, p.stdout[-3000:],
                                p.stderr[-3000:]))
    return p


def as_user_argv(uid, gid=None, argv=(), groups=()):
    gid = uid if gid is None else gid
    g = ["--groups=" + ",".join(str(x) for x in groups)] if groups else ["--clear-groups"]
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid] + g + list(argv)


def run_as(uid, argv, gid=None, timeout=60, check=False, groups=(), **kw):
    return run(as_user_argv(uid, gid, argv, groups), timeout=timeout, check=check, **kw)


# Runs as another user: ops is a list of [op, args...]; prints a JSON list of
# results, each None (ok), an errno name, or a value for read/stat.
_AS_USER_SCRIPT = r'''
import errno, json, os, sys
def one(op, *a):
    if op == "read":
        with open(a[0], "rb") as f:
            return f.read().decode("latin-1")
    if op == "write":
        with open(a[0], a[2] if len(a) > 2 else "wb") as f:
            f.write(a[1].encode("latin-1"))
        return None
    if op == "create":
        fd = os.open(a[0], os.O_CREAT | os.O_WRONLY | os.O_EXCL, a[1] if len(a) > 1 else 0o666)
        os.close(fd)
        return None
    if op == "stat":
        st = os.stat(a[0])
        return [st.st_uid, st.st_gid, st.st_mode]
    if op == "listdir":
        return sorted(os.listdir(a[0]))
    if op == "access":
        return os.access(a[0], a[1])
    if op == "umask":
        os.umask(a[0])
        return None
    return getattr(os, op)(*a)
out = []
for item in json.loads(sys.argv[1]):
    try:
        out.append(["ok", one(*item)])
    except OSError as e:
        out.append(["err", errno.errorcode.get(e.errno, str(e.errno))])
print(json.dumps(out))
'''


def ops_as(uid, ops, gid=None, timeout=60, groups=()):
    """Run filesystem ops as uid (setpriv); [("ok", value) | ("err", "EACCES")]."""
    p = run_as(uid, [PY, "-c", _AS_USER_SCRIPT, json.dumps(ops)], gid=gid,
               timeout=timeout, groups=groups)
    if p.returncode != 0:
        raise AssertionError("ops as uid %d failed: %s %s" % (uid, p.stdout, p.stderr))
    return [tuple(x) for x in json.loads(p.stdout)]


def tree_snapshot(root, owner=True, times=True):
    """{relpath: (kind, mode, uid, gid, mtime_us, content-or-target)}."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                kind, data = "l", os.readlink(p)
            elif stat.S_ISDIR(st.st_mode):
                kind, data = "d", None
            else:
                kind, data = "f", hashlib.sha256(read_file(p)).hexdigest()
            entry = [kind, stat.S_IMODE(st.st_mode), data]
            if owner:
                entry += [st.st_uid, st.st_gid]
            if times and kind == "f":
                entry.append(st.st_mtime_ns // 1000)
            snap[rel] = tuple(entry)
    return snap


def make_tree(root, seed=1, files=30, max_size=300_000, big=()):
    """A small varied tree: nested dirs, text and binary files, empty files,
    symlinks, odd modes; big = extra sizes (bytes) of larger files."""
    rnd = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    dirs = [root]
    for i in range(6):
        d = os.path.join(rnd.choice(dirs), "dir%d" % i)
        os.makedirs(d, exist_ok=True)
        dirs.append(d)
    made = []
    for i in range(files):
        d = rnd.choice(dirs)
        size = 0 if i % 7 == 0 else rnd.randint(1, max_size)
        p = os.path.join(d, "file%02d%s" % (i, rnd.choice([".txt", ".bin", ".ipynb", ""])))
        write_file(p, rnd.randbytes(size))
        os.chmod(p, rnd.choice([0o644, 0o600, 0o755, 0o640]))
        made.append(p)
    for j, size in enumerate(big):
        p = os.path.join(root, "big%d.bin" % j)
        write_file(p, pattern_bytes(size, seed=j))
        made.append(p)
    os.symlink("dir0/../file00.txt", os.path.join(root, "link-rel"))
    os.symlink("/etc/hostname", os.path.join(root, "dir0", "link-abs"))
    # fixed distinct mtimes (microsecond precision)
    for k, p in enumerate(made):
        t = 1_600_000_000_000_000_000 + k * 1_234_567_800
        os.utime(p, ns=(t, t))
    return made


def log(msg):
    """Shown with pytest -s; also in the captured output of a failure."""
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()
