"""Debian's jupyter-server (1.23) serving a directory on the mount, driven
through its Contents API; every byte it writes is checked on the share
through a second mount or the REST API, and the last_modified it reports
must never predate the file's mtime seen later (no "changed on disk")."""
import datetime
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

import mount as mountmod
import remote
from util import PY, free_port, log, read_file, wait_for

TOKEN = "itest-token-0123456789"


class Jupyter:
    def __init__(self, root_dir):
        self.root_dir = root_dir
        self.port = free_port()
        self.home = tempfile.mkdtemp(prefix="azsf-it-jhome-", dir=mountmod.WORK_BASE)
        self.log_path = os.path.join(self.home, "jupyter.log")
        self.proc = None

    def start(self, timeout=60):
        env = {"HOME": self.home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
               "JUPYTER_CONFIG_DIR": os.path.join(self.home, "cfg"),
               "JUPYTER_DATA_DIR": os.path.join(self.home, "data"),
               "JUPYTER_RUNTIME_DIR": os.path.join(self.home, "rt")}
        argv = [PY, "-m", "jupyter_server", "--ServerApp.root_dir=" + self.root_dir,
                "--port", str(self.port), "--no-browser", "--allow-root",
                "--ServerApp.token=" + TOKEN, "--ServerApp.ip=127.0.0.1",
                "--ServerApp.port_retries=0"]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=self.home, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("jupyter-server exited: %s" % self.log())
            try:
                st, _ = self.call("GET", "/api/status")
                if st == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("jupyter-server did not start: %s" % self.log())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            self._log.close()
        self.proc = None

    def log(self):
        try:
            return read_file(self.log_path).decode("utf-8", "replace")[-5000:]
        except OSError:
            return ""

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     data=data, method=method)
        req.add_header("Authorization", "token " + TOKEN)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def ok(self, method, path, body=None, want=(200, 201, 204)):
        st, res = self.call(method, path, body)
        assert st in want, "%s %s -> %s %s\n%s" % (method, path, st, res, self.log())
        return res


@pytest.fixture
def jupyter(mounts, share):
    a = mounts.new(share)
    os.mkdir(a.path("notebooks"))
    j = Jupyter(a.path("notebooks"))
    try:
        j.start()
        yield a, j
    finally:
        j.stop()
        log("---- jupyter-server log tail:\n" + j.log())
        shutil.rmtree(j.home, ignore_errors=True)


def _ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def _nb(cells):
    return {"cells": [{"cell_type": "code", "execution_count": None, "id": "c%d" % i,
                       "metadata": {}, "outputs": [], "source": src}
                      for i, src in enumerate(cells)],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _sources(raw):
    """Cell sources of a notebook file (nbformat stores them as line lists)."""
    out = []
    for c in json.loads(raw)["cells"]:
        s = c["source"]
        out.append("".join(s) if isinstance(s, list) else s)
    return out


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_contents_api_on_the_mount(jupyter, mounts, share, emu):
    a, j = jupyter
    b = mounts.new(share)                     # the "other node" that checks bytes
    api = "/api/contents/"
    cells = []
    j.ok("PUT", api + "analysis.ipynb", {"type": "notebook", "content": _nb(cells)})
    last = None
    for i in range(12):
        cells.append("print(%d)  # edit %d" % (i, i) + "\n#" * i)
        model = j.ok("PUT", api + "analysis.ipynb", {"type": "notebook",
                                                    "content": _nb(cells)})
        last = model["last_modified"]
        assert _sources(read_file(b.path("notebooks", "analysis.ipynb"))) == cells, i
        got = j.ok("GET", api + "analysis.ipynb?content=0")
        assert _ts(got["last_modified"]) <= _ts(last) + 0.001, (got, last)
    # text files go byte for byte (a new name shows up on the other mount
    # once its cached listing expires: dir_timeout)
    for i in range(5):
        text = "line %d\n" % i * (i + 1) + "ünïcode ✓\n"
        j.ok("PUT", api + "notes.txt", {"type": "file", "format": "text", "content": text})
        if i == 0:
            wait_for(lambda: os.path.exists(b.path("notebooks", "notes.txt")), 5,
                     what="the new text file on the other mount")
        assert read_file(b.path("notebooks", "notes.txt")) == text.encode()
    # later, once every cache has expired, the file is not "newer" than the save
    time.sleep(2.5)
    got = j.ok("GET", api + "analysis.ipynb?content=0")
    assert _ts(got["last_modified"]) <= _ts(last) + 0.001, (got, last)
    mt = os.stat(b.path("notebooks", "analysis.ipynb")).st_mtime
    assert mt <= _ts(last) + 0.001, (mt, last)
    fresh = mounts.new(share)
    assert os.stat(fresh.path("notebooks", "analysis.ipynb")).st_mtime <= _ts(last) + 0.001

    # checkpoint, edit, restore
    cp = j.ok("POST", api + "analysis.ipynb/checkpoints")
    assert cp["id"]
    listed = j.ok("GET", api + "analysis.ipynb/checkpoints")
    assert [c["id"] for c in listed] == [cp["id"]]
    j.ok("PUT", api + "analysis.ipynb", {"type": "notebook", "content": _nb(["after"])})
    assert _sources(read_file(b.path("notebooks", "analysis.ipynb"))) == ["after"]
    j.ok("POST", api + "analysis.ipynb/checkpoints/" + cp["id"])
    assert _sources(read_file(b.path("notebooks", "analysis.ipynb"))) == cells
    assert _sources(remote.read(emu, share,
                                "notebooks/.ipynb_checkpoints/analysis-checkpoint.ipynb")) \
        == cells

    # rename, copy, delete
    j.ok("PATCH", api + "analysis.ipynb", {"path": "renamed.ipynb"})
    names = remote.names(emu, share, "notebooks")
    assert "renamed.ipynb" in names and "analysis.ipynb" not in names, names
    copy = j.ok("POST", api, {"copy_from": "renamed.ipynb"})
    assert copy["path"] == "renamed-Copy1.ipynb"
    assert remote.read(emu, share, "notebooks/renamed-Copy1.ipynb") == \
        remote.read(emu, share, "notebooks/renamed.ipynb")
    j.ok("DELETE", api + "renamed-Copy1.ipynb")
    names = remote.names(emu, share, "notebooks")
    assert "renamed-Copy1.ipynb" not in names, names
    assert not [n for n in names if n.startswith(".~")], names   # no save leftovers
    # a new untitled notebook and directory, as the UI makes them
    made = j.ok("POST", api, {"type": "notebook"})
    d = j.ok("POST", api, {"type": "directory"})
    wait_for(lambda: os.path.exists(b.path("notebooks", made["path"])), 5,
             what="the new notebook on the other mount")
    assert remote.exists(emu, share, "notebooks/" + d["path"])
    log("jupyter: 12 notebook saves, 5 text saves, checkpoint, rename, copy, delete ok")


@pytest.mark.timeout(120)
def test_many_quick_saves_stay_consistent(jupyter, mounts, share, emu):
    a, j = jupyter
    api = "/api/contents/"
    for i in range(30):
        text = "save %d\n" % i
        model = j.ok("PUT", api + "quick.txt", {"type": "file", "format": "text",
                                               "content": text})
        assert model["last_modified"]
    assert remote.read(emu, share, "notebooks/quick.txt") == b"save 29\n"
    assert remote.names(emu, share, "notebooks") == ["quick.txt"]

