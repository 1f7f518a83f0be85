"""JupyterHub smoke test: Debian's JupyterHub 3.0 (dummy authenticator,
simple local spawner, configurable-http-proxy, all on loopback) spawns a
single-user jupyter-server whose notebook_dir is on the mount; a notebook
saved through the hub's proxy lands on the share.

Skips (with the reason) when jupyterhub or a working configurable-http-proxy
is missing. Debian's proxy needs NODE_PATH=/usr/share/nodejs with the
machine's node 20, which this test sets.
"""
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
from util import PY, free_port, read_file

TOKEN = "itest-hub-service-token-0123456789abcdef"
USER = "hubuser"
NODE_PATH = "/usr/share/nodejs"


def _hub_unavailable():
    if shutil.which("jupyterhub") is None or shutil.which("jupyterhub-singleuser") is None:
        return "jupyterhub is not installed"
    if shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy is not installed"
    env = dict(os.environ, NODE_PATH=NODE_PATH)
    try:
        p = subprocess.run(["configurable-http-proxy", "--version"], env=env,
                           capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "configurable-http-proxy does not run: %s" % e
    if p.returncode != 0:
        return "configurable-http-proxy does not run: %s" % p.stderr[-300:]
    return None


def _pids_with_env(prefix):
    """PIDs whose environment has a variable starting with prefix."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if any(e.startswith(prefix) for e in env):
            out.append(int(d))
    return out


CONFIG = """
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.ConfigurableHTTPProxy.pid_file = "{work}/proxy.pid"
c.JupyterHub.db_url = "sqlite:///{work}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{work}/cookie_secret"
c.JupyterHub.pid_file = "{work}/hub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{work}/home/{{username}}"
c.Spawner.notebook_dir = "{notebook_dir}"
c.Spawner.args = ["--allow-root"]
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
c.Spawner.environment = {{"JUPYTERHUB_SINGLEUSER_APP":
                          "jupyter_server.serverapp.ServerApp"}}
c.JupyterHub.services = [{{"name": "itest", "api_token": "{token}"}}]
c.JupyterHub.load_roles = [{{"name": "itest-role",
                             "scopes": ["admin:users", "admin:servers",
                                        "access:servers", "read:users"],
                             "services": ["itest"]}}]
"""


class Hub:
    def __init__(self, notebook_dir):
        self.work = tempfile.mkdtemp(prefix="azsf-it-hub-", dir=mountmod.WORK_BASE)
        os.chmod(self.work, 0o755)
        os.mkdir(os.path.join(self.work, "home"))
        self.port, self.hub_port, self.proxy_api = free_port(), free_port(), free_port()
        self.cfg = os.path.join(self.work, "jupyterhub_config.py")
        with open(self.cfg, "w") as f:
            f.write(CONFIG.format(port=self.port, hub_port=self.hub_port,
                                  proxy_api=self.proxy_api, work=self.work,
                                  notebook_dir=notebook_dir, token=TOKEN))
        self.log_path = os.path.join(self.work, "hub.log")
        self.proc = None

    def start(self, timeout=90):
        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": self.work,
               "LANG": "C.UTF-8", "NODE_PATH": NODE_PATH,
               "JUPYTER_CONFIG_DIR": os.path.join(self.work, "cfg"),
               "JUPYTER_DATA_DIR": os.path.join(self.work, "data"),
               "JUPYTER_RUNTIME_DIR": os.path.join(self.work, "rt")}
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([PY, "-m", "jupyterhub", "-f", self.cfg],
                                     cwd=self.work, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("jupyterhub exited: %s" % self.log())
            try:
                st, _ = self.call("GET", "/hub/api/")
                if st == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("jupyterhub did not start: %s" % self.log())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
        # the proxy and the single-user server get sessions of their own:
        # the hub stops them on SIGTERM (cleanup_servers); if it could not,
        # kill them by PID (proxy pid file; servers by their HOME under ours)
        pids = []
        try:
            pids.append(int(read_file(os.path.join(self.work, "proxy.pid"))))
        except (OSError, ValueError):
            pass
        pids += _pids_with_env(b"HOME=" + os.fsencode(os.path.join(self.work, "home")))
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.proc is not None:
            self._log.close()
        self.proc = None

    def log(self):
        try:
            return read_file(self.log_path).decode("utf-8", "replace")[-6000:]
        except OSError:
            return ""

    def call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     data=data, method=method)
        req.add_header("Authorization", "token " + TOKEN)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                try:
                    return r.status, json.loads(raw) if raw else None
                except ValueError:
                    return r.status, raw
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_jupyterhub_spawns_a_server_on_the_mount(mounts, share, emu):
    reason = _hub_unavailable()
    if reason:
        pytest.skip(reason)
    m = mounts.new(share)
    os.makedirs(m.path("notebooks", USER))
    hub = Hub(m.path("notebooks", USER))
    try:
        hub.start()
        st, res = hub.call("POST", "/hub/api/users/%s" % USER)
        assert st in (201, 409), (st, res, hub.log())
        st, res = hub.call("POST", "/hub/api/users/%s/server" % USER)
        assert st in (201, 202), (st, res, hub.log())
        deadline = time.monotonic() + 90
        ready = False
        while time.monotonic() < deadline and not ready:
            st, u = hub.call("GET", "/hub/api/users/%s" % USER)
            ready = st == 200 and bool(u.get("servers", {}).get("", {}).get("ready"))
            if not ready:
                time.sleep(0.5)
        assert ready, hub.log()
        base = "/user/%s/api/contents/" % USER
        nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        st, res = hub.call("PUT", base + "from-hub.ipynb", {"type": "notebook",
                                                           "content": nb})
        assert st == 201, (st, res, hub.log())
        for i in range(3):
            nb["cells"].append({"cell_type": "markdown", "id": "m%d" % i,
                                "metadata": {}, "source": "saved %d" % i})
            st, res = hub.call("PUT", base + "from-hub.ipynb", {"type": "notebook",
                                                               "content": nb})
            assert st == 200, (st, res, hub.log())
        raw = remote.read(emu, share, "notebooks/%s/from-hub.ipynb" % USER)
        cells = json.loads(raw)["cells"]
        assert ["".join(c["source"]) for c in cells] == ["saved 0", "saved 1", "saved 2"]
        st, res = hub.call("DELETE", "/hub/api/users/%s/server" % USER)
        assert st in (202, 204), (st, res)
    finally:
        hub.stop()
        shutil.rmtree(hub.work, ignore_errors=True)
