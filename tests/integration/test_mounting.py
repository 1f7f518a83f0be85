"""Mounting like a real filesystem: --help/--version, option errors, bad
credentials, unknown share, unreachable endpoint, config files, fstab-style
mount(8), and unmount/SIGTERM flushing what was accepted."""
import base64
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import mount as mountmod
import remote
from util import free_port, read_file, write_file

WORK = mountmod.WORK_BASE


def _run_expect_exit(argv, timeout=60, env=None):
    """Run an azsharefs that must exit by itself; never leave a mount behind.
    Returns (status, combined output)."""
    mnt = None
    for a in argv[1:]:
        if not a.startswith("-") and os.path.isdir(a):
            mnt = a
            break
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if mnt:
            mountmod.force_unmount(mnt)
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate(timeout=20)
        pytest.fail("azsharefs did not exit within %ss: %s" % (timeout, out[-2000:]))
    finally:
        if mnt and mountmod.is_fuse_mounted(mnt):
            mountmod.force_unmount(mnt)
            pytest.fail("azsharefs left a mount at %s" % mnt)
    return p.returncode, out.decode("utf-8", "replace")


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="azsf-it-cli-", dir=WORK)
    os.chmod(d, 0o755)
    os.mkdir(os.path.join(d, "mnt"))
    yield d
    mountmod.force_unmount(os.path.join(d, "mnt"))
    shutil.rmtree(d, ignore_errors=True)


def _conn(workdir, text, mode=0o600):
    p = os.path.join(workdir, "conn")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.chmod(p, mode)
    return p


def _argv(binary, workdir, share, conn, extra=""):
    o = "share=%s,conn_file=%s,cache_dir=%s" % (share, conn, os.path.join(workdir, "cache"))
    if extra:
        o += "," + extra
    return [binary, os.path.join(workdir, "mnt"), "-f", "-o", o]


def _lines(out):
    return [x for x in out.splitlines() if x.strip()]


def test_help(azsf_bin):
    p = subprocess.run([azsf_bin, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    text = p.stdout + p.stderr
    for word in ("share", "conn_file", "cache_dir", "writeback_delay", "config"):
        assert word in text, word


def test_version(azsf_bin):
    p = subprocess.run([azsf_bin, "--version"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    assert re.search(r"azsharefs.*\d+\.\d+", p.stdout + p.stderr)


def test_unknown_option_is_named(azsf_bin, emu, share, workdir, fuse_ok):
    conn = _conn(workdir, emu.conn_string())
    rc, out = _run_expect_exit(_argv(azsf_bin, workdir, share, conn, "bogus_opt=1"))
    assert rc == 1 and "bogus_opt" in out, out


@pytest.mark.parametrize("opt,name", [("writeback_delay=soon", "writeback_delay"),
                                      ("cache_size=12Q", "cache_size"),
                                      ("file_mode=999", "file_mode"),
                                      ("upload_threads=-3", "upload_threads")])
def test_malformed_option_value_is_named(azsf_bin, emu, share, workdir, fuse_ok, opt, name):
    conn = _conn(workdir, emu.conn_string())
    rc, out = _run_expect_exit(_argv(azsf_bin, workdir, share, conn, opt))
    assert rc == 1 and name in out, out


def test_missing_share_option(azsf_bin, emu, workdir, fuse_ok):
    conn = _conn(workdir, emu.conn_string())
    argv = [azsf_bin, os.path.join(workdir, "mnt"), "-f", "-o", "conn_file=" + conn]
    rc, out = _run_expect_exit(argv)
    assert rc == 1 and "share" in out, out


def test_missing_conn_file(azsf_bin, share, workdir, fuse_ok):
    missing = os.path.join(workdir, "no-such-conn")
    rc, out = _run_expect_exit(_argv(azsf_bin, workdir, share, missing))
    assert rc == 1 and "no-such-conn" in out, out


def test_bad_key_one_clear_line(azsf_bin, emu, share, workdir, fuse_ok):
    wrong = base64.b64encode(b"this is not the right key at all!" * 2).decode()
    conn = _conn(workdir, emu.conn_string(key=wrong))
    t0 = time.monotonic()
    rc, out = _run_expect_exit(_argv(azsf_bin, workdir, share, conn))
    assert rc == 1, out
    lines = _lines(out)
    assert len(lines) == 1, out
    assert "authentication" in lines[0].lower() and "devstoreaccount1" in lines[0], out
    assert wrong not in out and wrong[:20] not in out, "the key must never be logged"
    assert time.monotonic() - t0 < 30


def test_unknown_share(azsf_bin, emu, workdir, fuse_ok):
    conn = _conn(workdir, emu.conn_string())
    rc, out = _run_expect_exit(_argv(azsf_bin, workdir, "nosuchshare", conn))
    assert rc == 1, out
    lines = _lines(out)
    assert len(lines) == 1 and "nosuchshare" in lines[0] and "not found" in lines[0], out


def test_unreachable_endpoint(azsf_bin, emu, workdir, fuse_ok):
    port = free_port()   # nothing listens there
    text = emu.conn_string().replace(":%d/" % emu.port, ":%d/" % port)
    assert str(port) in text
    conn = _conn(workdir, text)
    t0 = time.monotonic()
    rc, out = _run_expect_exit(_argv(azsf_bin, workdir, "anyshare", conn), timeout=90)
    assert rc == 1, out
    lines = _lines(out)
    assert len(lines) == 1 and "reach" in lines[0] and str(port) in lines[0], out
    assert time.monotonic() - t0 < 60


def test_conn_file_readable_by_others_is_flagged(emu, share, mounts):
    """A conn file others can read: refused or warned about, naming it."""
    m = mounts.new(share, start=False)
    m.write_conn()
    os.chmod(m.conn_file, 0o644)
    m.write_conn = lambda: None        # keep the 0644 file
    try:
        m.start()
        mounted = True
    except mountmod.MountError:
        mounted = False
    text = m.last_log()
    assert "conn" in text and re.search(r"readable|permission|mode|0644|world|group",
                                        text), text
    assert emu.conn_string().split("AccountKey=")[1].split(";")[0] not in text
    if mounted:
        m.stop()


def test_config_file(mounts, emu, share, workdir):
    m = mounts.new(share, start=False)
    m.write_conn()
    cfg = os.path.join(workdir, "pool.conf")
    write_file(cfg, ("# azsharefs settings\n"
                     "share = nosuchshare-overridden\n"
                     "\n"
                     "conn_file = %s   \n"
                     "  cache_dir=%s\n"
                     "attr_timeout = 1.5  # trailing comment\n"
                     % (m.conn_file, m.cache_dir)).encode(), "wb")
    # -o share= wins over the file's share = whatever the order
    m.argv = lambda: [m.binary, m.mnt, "-f", "-o", "config=%s,share=%s" % (cfg, share)]
    m.start()
    write_file(m.path("via-config"), b"ok")
    assert remote.read(emu, share, "via-config") == b"ok"


def test_config_file_errors_name_the_line(azsf_bin, emu, share, workdir, fuse_ok):
    conn = _conn(workdir, emu.conn_string())
    cfg = os.path.join(workdir, "bad.conf")
    write_file(cfg, ("share = %s\nconn_file = %s\nno_such_key = 1\n" % (share, conn))
               .encode())
    argv = [azsf_bin, os.path.join(workdir, "mnt"), "-f", "-o", "config=" + cfg]
    rc, out = _run_expect_exit(argv)
    assert rc == 1 and "no_such_key" in out, out


def test_one_mount_per_cache_dir(mounts, share):
    a = mounts.new(share)
    b = mounts.new(share, start=False, cache_dir=a.cache_dir)
    with pytest.raises(mountmod.MountError) as ei:
        b.start(timeout=30)
    assert "cache" in str(ei.value).lower() or "busy" in str(ei.value).lower()
    assert not mountmod.is_fuse_mounted(b.mnt)
    write_file(a.path("still-fine"), b"1")


def test_read_only_mount(mounts, share, emu):
    remote.write(emu, share, "existing", b"data")
    m = mounts.new(share, opts={"ro": True})
    assert read_file(m.path("existing")) == b"data"
    from util import err_of
    assert err_of(open, m.path("new"), "wb") == "EROFS"
    assert err_of(open, m.path("existing"), "ab") == "EROFS"
    assert err_of(os.unlink, m.path("existing")) == "EROFS"


def test_unmount_flushes_writeback(mounts, share, emu):
    m = mounts.new(share, opts={"writeback_delay": 60})
    blobs = {"f%d" % i: os.urandom(1000 * i + 1) for i in range(10)}
    os.mkdir(m.path("d"))
    for n, b in blobs.items():
        write_file(m.path("d", n), b)
    m.stop()                     # fusermount3 -u at once, then wait for the exit
    for n, b in blobs.items():
        assert remote.read(emu, share, "d/" + n) == b, n


def test_sigterm_flushes(mounts, share, emu):
    m = mounts.new(share, opts={"writeback_delay": 60})
    write_file(m.path("t1"), b"before sigterm")
    big = os.urandom(6 << 20)
    write_file(m.path("t2"), big)
    rc = m.terminate()
    assert rc == 0, m.last_log()
    assert not mountmod.is_fuse_mounted(m.mnt)
    assert remote.read(emu, share, "t1") == b"before sigterm"
    assert remote.read(emu, share, "t2") == big


def test_secrets_not_logged(mounts, share, emu):
    m = mounts.new(share, opts={"log_level": "debug"})
    write_file(m.path("x"), b"1")
    os.listdir(m.mnt)
    m.stop()
    text = m.all_logs(limit=10 << 20)
    key = emu.conn_string().split("AccountKey=")[1].split(";")[0]
    assert key not in text and key[:16] not in text
    assert "SharedKey devstoreaccount1:" not in text


def _daemon_pids_for(mnt):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"azsharefs") and mnt.encode() in argv:
            pids.append(int(d))
    return pids


def _mount8_roundtrip(emu, share, workdir, type_, source, env=None):
    """mount(8) -t TYPE SOURCE MNT -o ... (what an fstab line does), write a
    file, umount, and check the daemon went away by itself."""
    conn = _conn(workdir, emu.conn_string())
    mnt = os.path.join(workdir, "mnt")
    opts = "_netdev,share=%s,conn_file=%s,cache_dir=%s" % (
        share, conn, os.path.join(workdir, "cache"))
    p = subprocess.run(["mount", "-t", type_, source, mnt, "-o", opts],
                       capture_output=True, text=True, timeout=60, env=env)
    try:
        assert p.returncode == 0, p.stdout + p.stderr
        assert mountmod.is_fuse_mounted(mnt)
        write_file(os.path.join(mnt, "from-fstab"), b"fstab works")
        assert remote.read(emu, share, "from-fstab") == b"fstab works"
        pids = _daemon_pids_for(mnt)
        assert pids, "no azsharefs daemon found for %s" % mnt
        u = subprocess.run(["umount", mnt], capture_output=True, text=True, timeout=60)
        assert u.returncode == 0, u.stderr
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(os.path.exists("/proc/%d" % x)
                                                  for x in pids):
            time.sleep(0.1)
        assert not [x for x in pids if os.path.exists("/proc/%d" % x)], \
            "daemon still running after umount"
    finally:
        mountmod.force_unmount(mnt)
        for pid in _daemon_pids_for(mnt):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_mount_helper_with_program_source(azsf_bin, emu, share, workdir, fuse_ok):
    """mount -t fuse /path/to/azsharefs#SHARE MNT -o ...: mount.fuse3 runs our
    binary with a leading source argument and no -f (it daemonizes)."""
    _mount8_roundtrip(emu, share, workdir, "fuse", "%s#%s" % (azsf_bin, share))


SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_fstab_type_fuse_azsharefs(azsf_bin, emu, share, workdir, fuse_ok):
    """mount -t fuse.azsharefs SHARE MNT (the fstab line in the README). mount(8)
    runs the helper with its own PATH, so azsharefs must be installed."""
    installed = shutil.which("azsharefs", path=SYSTEM_PATH)
    if installed is None:
        pytest.skip("azsharefs is not installed on the system PATH (%s); mount(8) "
                    "does not use the caller's PATH (cmake --install to test this)"
                    % SYSTEM_PATH)
    if os.path.realpath(installed) != os.path.realpath(azsf_bin):
        pytest.skip("the installed %s is not the binary under test (%s)"
                    % (installed, azsf_bin))
    _mount8_roundtrip(emu, share, workdir, "fuse.azsharefs", share)
