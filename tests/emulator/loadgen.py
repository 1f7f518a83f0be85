#!/usr/bin/env python3
"""Load generator for azfiles-emulator (standard library only).

N threads, each with its own keep-alive http.client connection, run one
phase after another against a fresh share and print requests per second
per phase:
  create  Create File with the body on the request (x-ms-version 2026-02-06,
          x-ms-content-length = body length), --count files of --size bytes
          (with --put-range: Create File empty + Put Range, two requests a file)
  head    Get File Properties on every file
  list    List Directories and Files on the share's root, --list-count times
Every request is signed with Shared Key as azfiles/auth.py verifies it, and
every reply's status is checked (a wrong one aborts with exit status 1).

  loadgen.py --spawn [--latency-ms N] [--threads 4] [--count 2000]
  loadgen.py --port PORT            (an emulator already running)

--spawn starts tests/emulator/azfiles-emulator on a free port in a temp
--data dir (with the python running this script, or --python) and stops it
by PID afterwards, even on failure. --emu-arg passes extra arguments.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "azfiles-emulator")
ACCOUNT = "devstoreaccount1"
KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
       "K1SZFPTOtr/KBHBeksoGMGw==")
VERSION = "2026-02-06"
STD = ["content-encoding", "content-language", "content-length", "content-md5",
       "content-type", "date", "if-modified-since", "if-match", "if-none-match",
       "if-unmodified-since", "range"]


class LoadError(Exception):
    pass


def http_date():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%a, %d %b %Y %H:%M:%S GMT")


def sign(method, path, query, headers, key_bytes):
    """Shared Key Authorization value (query: list of (k, v), unencoded)."""
    low = {k.lower(): v for k, v in headers.items()}
    lines = [method]
    for h in STD:
        v = low.get(h, "")
        if h == "content-length" and v == "0":
            v = ""
        if h == "date" and "x-ms-date" in low:
            v = ""
        lines.append(v)
    xms = sorted((k, v.strip()) for k, v in low.items() if k.startswith("x-ms-"))
    res = "/%s%s" % (ACCOUNT, path)
    for k, v in sorted(query):
        res += "\n%s:%s" % (k.lower(), v)
    sts = "\n".join(lines) + "\n" + "".join("%s:%s\n" % kv for kv in xms) + res
    mac = hmac.new(key_bytes, sts.encode("utf-8"), hashlib.sha256)
    return "SharedKey %s:%s" % (ACCOUNT, base64.b64encode(mac.digest()).decode())


class Conn:
    def __init__(self, host, port, key_bytes):
        self.host, self.port, self.key = host, port, key_bytes
        self.c = http.client.HTTPConnection(host, port, timeout=60)

    def request(self, method, path, query=(), headers=None, body=b"", want=200):
        h = dict(headers or {})
        h["x-ms-version"] = VERSION
        h["x-ms-date"] = http_date()
        if body or method in ("PUT", "POST"):
            h["Content-Length"] = str(len(body))
        upath = "/%s/%s" % (ACCOUNT, quote(path, safe="/"))
        h["Authorization"] = sign(method, upath, query, h, self.key)
        target = upath
        if query:
            target += "?" + "&".join("%s=%s" % (k, quote(v, safe="")) for k, v in query)
        self.c.putrequest(method, target, skip_accept_encoding=True)
        for k, v in h.items():
            self.c.putheader(k, v)
        self.c.endheaders(body or None)
        r = self.c.getresponse()
        data = r.read()
        if r.status != want:
            raise LoadError("%s %s -> %d %s %r" % (method, target, r.status,
                                                    r.getheader("x-ms-error-code"), data[:200]))
        return r, data

    def close(self):
        self.c.close()


def run_phase(conns, jobs):
    """Run jobs (callables taking a Conn) spread over the connections."""
    errors = []
    per = [jobs[i::len(conns)] for i in range(len(conns))]

    def worker(conn, mine):
        try:
            for job in mine:
                job(conn)
        except Exception as e:  # reported below; the phase fails
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(c, m)) for c, m in zip(conns, per)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    if errors:
        raise LoadError(str(errors[0]))
    return dt


def file_jobs(share, count, size, put_range):
    body = os.urandom(size)
    jobs = []
    for i in range(count):
        path = "%s/f%06d" % (share, i)
        if put_range:
            def job(c, path=path):
                c.request("PUT", path, (), {"x-ms-type": "file",
                                            "x-ms-content-length": str(size)}, want=201)
                if size:
                    c.request("PUT", path, [("comp", "range")],
                              {"x-ms-write": "update",
                               "x-ms-range": "bytes=0-%d" % (size - 1)}, body, want=201)
        else:
            def job(c, path=path):
                c.request("PUT", path, (), {"x-ms-type": "file",
                                            "x-ms-content-length": str(size)}, body, want=201)
        jobs.append(job)
    return jobs


def cpu_seconds(pid):
    """utime + stime of a process (Linux /proc), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run(a, host, port, pid=None):
    key = base64.b64decode(a.key)
    conns = [Conn(host, port, key) for _ in range(a.threads)]
    share = "load" + uuid.uuid4().hex[:12]
    try:
        conns[0].request("PUT", share, [("restype", "share")], want=201)
        reqs_per_file = 2 if (a.put_range and a.size) else 1
        results = []
        phases = [p.strip() for p in a.phases.split(",") if p.strip()]
        for phase in phases:
            if phase == "create":
                jobs = file_jobs(share, a.count, a.size, a.put_range)
                n = a.count * reqs_per_file
            elif phase == "head":
                jobs = [lambda c, i=i: c.request("HEAD", "%s/f%06d" % (share, i))
                        for i in range(a.count)]
                n = a.count
            elif phase == "list":
                q = [("restype", "directory"), ("comp", "list"),
                     ("maxresults", str(a.list_max))]
                jobs = [lambda c: c.request("GET", share, q)] * a.list_count
                n = a.list_count
            else:
                raise LoadError("unknown phase %r (create, head, list)" % phase)
            cpu0 = cpu_seconds(pid) if pid else None
            own0 = time.process_time()
            dt = run_phase(conns, jobs)
            own = (time.process_time() - own0) * 1000.0 / n
            cpu1 = cpu_seconds(pid) if pid else None
            results.append((phase, n, dt))
            cpu = "  cpu ms/req: client %.2f" % own
            if cpu0 is not None and cpu1 is not None:
                cpu += " server %.2f" % ((cpu1 - cpu0) * 1000.0 / n)
            print("%-7s %6d requests  %7.2f s  %8.1f req/s  (%d threads)%s"
                  % (phase, n, dt, n / dt, a.threads, cpu), flush=True)
        conns[0].request("DELETE", share, [("restype", "share")], want=202)
        return results
    finally:
        for c in conns:
            c.close()


def spawn(a):
    data = tempfile.mkdtemp(prefix="azfiles-loadgen-")
    cmd = [a.python, a.emulator, "--port", "0", "--data", data,
           "--latency-ms", str(a.latency_ms)] + list(a.emu_arg or [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        stop(proc, data)
        raise LoadError("emulator did not start: %r" % line)
    return proc, data, int(line.split(":")[2].split("/")[0])


def stop(proc, data):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
    proc.stdout.close()
    shutil.rmtree(data, ignore_errors=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="an emulator already listening here")
    p.add_argument("--pid", type=int, help="the --port emulator's PID (reports its CPU)")
    p.add_argument("--spawn", action="store_true", help="start (and stop) an emulator")
    p.add_argument("--latency-ms", type=int, default=0, help="--latency-ms of a spawned one")
    p.add_argument("--python", default=sys.executable, help="python for --spawn")
    p.add_argument("--emulator", default=EMULATOR, help="emulator program (--spawn)")
    p.add_argument("--emu-arg", action="append", help="extra emulator argument (--spawn)")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--count", type=int, default=2000, help="files to create / head")
    p.add_argument("--size", type=int, default=8192, help="bytes per file")
    p.add_argument("--put-range", action="store_true",
                   help="Create File empty + Put Range instead of a body on Create File")
    p.add_argument("--list-count", type=int, default=50, help="List requests")
    p.add_argument("--list-max", type=int, default=1000, help="maxresults of each List")
    p.add_argument("--phases", default="create,head,list")
    p.add_argument("--key", default=KEY)
    a = p.parse_args(argv)
    if bool(a.spawn) == bool(a.port):
        p.error("give exactly one of --spawn and --port")
    proc = data = None
    try:
        port, pid = a.port, a.pid
        if a.spawn:
            proc, data, port = spawn(a)
            pid = proc.pid
        run(a, a.host, port, pid)
    except (LoadError, OSError, http.client.HTTPException) as e:
        sys.stderr.write("loadgen: %s\n" % e)
        return 1
    finally:
        if proc is not None:
            stop(proc, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
