"""Fixtures for the provisioner's integration tests.

Run with: AZSF_BUILD=build-prov /usr/bin/python3 -m pytest tests/provision -q
(AZSF_BUILD: the build dir holding provision/azsharefs-provision and
fs/azsharefs; default build/).

A Node is one simulated VM: a scratch --root tree (0755 under /tmp so the
pool users can reach their links) with minimal passwd/group/shadow files,
a pool config and a 0600 credentials file. Nothing touches the real /etc:
every command gets --root. Nodes that mounted for real are unmounted and
their daemon killed by the PID the provisioner wrote, even when a test
fails. Every test has a timeout (pytest-timeout). A missing /dev/fuse
skips the real-mount tests; a missing binary or emulator is an error.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import emulator  # noqa: E402
import mount as mountmod  # noqa: E402

DEFAULT_TIMEOUT = 120
KEY = emulator.KEY
ACCOUNT = emulator.ACCOUNT


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT))


def _built(name):
    """Path of a built program; a missing one fails the test (never a skip)."""
    b = mountmod.find_binary(name)
    if b is None:
        pytest.fail("%s not found under %s (build it, or set AZSF_BUILD)"
                    % (name, mountmod.build_dir()), pytrace=False)
    return b


@pytest.fixture(scope="session")
def prov_bin():
    return _built("azsharefs-provision")


@pytest.fixture(scope="session")
def azsf_bin():
    return _built("azsharefs")


@pytest.fixture(scope="session")
def fuse_ok():
    if not os.path.exists("/dev/fuse"):
        pytest.skip("/dev/fuse is missing")
    try:
        os.close(os.open("/dev/fuse", os.O_RDWR))
    except OSError as e:
        pytest.skip("/dev/fuse cannot be opened: %s" % e)
    if shutil.which("fusermount3") is None:
        pytest.skip("fusermount3 is not installed")


@pytest.fixture(scope="session")
def emu_session():
    if not os.access(emulator.EMULATOR, os.X_OK):
        pytest.fail("emulator not found at %s" % emulator.EMULATOR, pytrace=False)
    e = emulator.Emulator()
    e.start()
    yield e
    e.stop()
    shutil.rmtree(e.data_dir, ignore_errors=True)


_share_n = [0]


@pytest.fixture
def share(emu_session):
    """A fresh share on the session's emulator."""
    if emu_session.proc is None or emu_session.proc.poll() is not None:
        emu_session.start()
    _share_n[0] += 1
    name = "prov%04d" % _share_n[0]
    emu_session.create_share(name)
    return name


class Node:
    """One simulated VM (see the module doc)."""

    def __init__(self, prov_bin, name, conf, creds=KEY + "\n"):
        self.prov_bin = prov_bin
        self.name = name
        self.root = tempfile.mkdtemp(prefix="azsf-prov-%s-" % name, dir="/tmp")
        os.chmod(self.root, 0o755)
        etc = self.path("/etc")
        os.makedirs(os.path.join(etc, "azsharefs"))
        os.makedirs(self.path("/home"))
        self._write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644)
        self._write("/etc/group", "root:x:0:\nusers:x:100:\n", 0o644)
        self._write("/etc/shadow", "root:*:19000:0:99999:7:::\n", 0o600)
        self._write("/etc/gshadow", "root:*::\nusers:*::\n", 0o600)
        self.conf = dict(conf)
        self.write_conf()
        if creds is not None:
            self._write("/etc/azsharefs/credentials", creds, 0o600)
        self.outputs = []

    def path(self, target):
        return self.root + target

    def _write(self, target, text, mode):
        p = self.path(target)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(p, mode)

    def write_conf(self):
        text = "".join("%s = %s\n" % kv for kv in self.conf.items())
        self._write("/etc/azsharefs/pool.conf", text, 0o644)

    def run(self, *args, check=True, timeout=90, extra=()):
        cmd = [self.prov_bin] + list(args) + ["--root", self.root] + list(extra)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
        self.outputs.append((cmd, p.stdout, p.stderr))
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d)\nstdout:\n%s\nstderr:\n%s"
                                 % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
        return p

    def passwd(self, name):
        with open(self.path("/etc/passwd")) as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if parts[0] == name:
                    return parts
        return None

    def shadow(self, name):
        with open(self.path("/etc/shadow")) as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if parts[0] == name:
                    return parts
        return None

    def mountpoint(self):
        return self.path(self.conf.get("mountpoint", "/mnt/azsharefs"))

    def daemon_pid(self):
        try:
            with open(self.path("/run/azsharefs/mount.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop_mount(self):
        """Unmount and stop the daemon the provisioner started (by PID)."""
        problems = []
        mnt = self.mountpoint()
        if mountmod.is_fuse_mounted(mnt) and not mountmod.force_unmount(mnt):
            problems.append("%s could not be unmounted" % mnt)
        pid = self.daemon_pid()
        if pid:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
                problems.append("daemon %d did not exit after unmount" % pid)
        return problems

    def cleanup(self):
        problems = self.stop_mount()
        shutil.rmtree(self.root, ignore_errors=True)
        return problems


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def nodes(prov_bin):
    """Factory: nodes.new("n1", conf) -> Node; all cleaned up afterwards."""
    made = []

    class Factory:
        def new(self, name, conf, **kw):
            n = Node(prov_bin, name, conf, **kw)
            made.append(n)
            return n

    yield Factory()
    problems = []
    for n in made:
        problems += n.cleanup()
    if problems:
        pytest.fail("node teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def shared_dir():
    """A plain directory standing in for the share (--no-mount tests)."""
    d = tempfile.mkdtemp(prefix="azsf-prov-share-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def base_conf(**over):
    conf = {"account": ACCOUNT, "share": "pool",
            "endpoint": "http://127.0.0.1:1/devstoreaccount1",
            "azsharefs": "/bin/true"}
    conf.update(over)
    return conf


def run_as(uid, gid, argv, timeout=30):
    """Runs argv as uid/gid (a pool user that exists only in a --root tree)."""
    def drop():
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    return subprocess.run(argv, preexec_fn=drop, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
