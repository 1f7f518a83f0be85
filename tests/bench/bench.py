#!/usr/bin/env python3
"""azsharefs benchmarks: time and REST requests per user-visible workload.

Not a test: it asserts nothing about speed; it prints tables and says which
targets from the cache issue were met. Each workload runs on local disk, on
a plain FUSE passthrough of a local directory, and on azsharefs
(close-to-open and write-back) over the bundled emulator at each injected
latency, one target at a time (only one mount and one emulator exist at
once, and both are stopped by PID when the target is done, even on errors).

Columns: seconds until the workload returned; "durable" = seconds until the
last request reached the emulator (polled every 50 ms; the journal must be
empty too); req = REST requests the emulator counted from the start of the
workload until durable (GET /_emulator/stats after POST /_emulator/reset).

    run.sh [--quick] [--latency 0,10] [--only untar,saves,...]
           [--targets local,passthrough,c2o,wb] [--large-mib N]
           [--writeback S] [--repeat N] [--json FILE] [--md FILE]

--repeat N runs the whole target sequence N times, interleaved (round 1:
every selected target in order, round 2: again, ...), each target started
fresh in each round, so slow phases of the shared machine hit every target
alike. The tables then show each cell's median with the min-max range, the
targets table compares medians and gives the ratio targets' range computed
round by round; --json keeps every row (with its round) and the aggregated
ones, and --render of it prints the same tables.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import report  # noqa: E402
import targets  # noqa: E402
import workloads  # noqa: E402


class WorkloadTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise WorkloadTimeout("workload timed out")


def _terminate(signum, frame):
    raise SystemExit("bench: stopped by signal %d" % signum)


def cpu_seconds(pid):
    """utime + stime of one process (all its threads) in seconds; None when
    it is gone."""
    if not pid:
        return None
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def cpu_snapshot(t):
    return {k: cpu_seconds(pid) for k, pid in t.info().items()}


def cpu_delta(a, b):
    out = {}
    for k in a:
        if a[k] is not None and b.get(k) is not None:
            out[k.replace("_pid", "")] = round(b[k] - a[k], 2)
    return out


class Strace:
    """`strace -c -f -w` attached to the azsharefs daemon for one workload
    (--strace): syscall counts and wall time summed over its threads, kept
    as LOGS/<target>/strace-<workload>.txt. Slows the daemon: use it for a
    diagnostic run, not for the figures."""

    def __init__(self, t, key, enabled):
        self.proc = None
        pid = t.info().get("daemon_pid")
        if not (enabled and pid and t.logs_dir):
            return
        d = os.path.join(t.logs_dir, t.slug())
        os.makedirs(d, exist_ok=True)
        self.proc = subprocess.Popen(["strace", "-c", "-f", "-w", "-p", str(pid), "-o",
                                      os.path.join(d, "strace-%s.txt" % key)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)   # attached to every thread before the clock starts

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def timed(t, w, fx, timeout, strace=False):
    """Runs one workload on t: clock, alarm, settle. Returns a result dict."""
    st = Strace(t, w.key, strace)
    try:
        return _timed(t, w, fx, timeout)
    finally:
        st.stop()


def _timed(t, w, fx, timeout):
    cpu0 = cpu_snapshot(t)
    t.reset()
    t.mark("start %s" % w.key)
    signal.alarm(timeout)
    try:
        t0 = time.monotonic()
        w.run(t.path, fx)
        t_ret = time.monotonic()
    finally:
        signal.alarm(0)
    t.mark("returned %s" % w.key)
    durable, total, ops = t.settle(t0, t_ret, w.readonly)
    t.mark("settled %s" % w.key)
    return {"seconds": round(t_ret - t0, 3), "durable": round(durable, 3),
            "requests": total, "ops": ops, "cpu": cpu_delta(cpu0, cpu_snapshot(t))}


def run_target(t, wls, selected, fx, ctx, args):
    """All selected workloads on one started target. A failed workload is
    recorded, the share is let settle (so its pending uploads are not
    counted against the next one) and workloads that need it are skipped;
    a timeout ends the target."""
    rows, done, failed = [], set(), set()
    by_key = {w.key: w for w in wls}
    for w in wls:
        if w.key not in selected:
            continue
        row = {"workload": w.key, "title": w.title, "target": t.label, "kind": t.kind,
               "latency": t.latency, "delay": t.delay, "n": w.n, "unit": w.unit}
        try:
            if w.needs in failed:
                raise Skipped("skipped: %s failed" % w.needs)
            if w.needs and w.needs not in done:
                dep = by_key[w.needs]
                if dep.pre:
                    dep.pre(t, fx, ctx)
                try:
                    timed(t, dep, fx, args.timeout)
                except (OSError, RuntimeError, subprocess.SubprocessError):
                    failed.add(dep.key)
                    raise
                done.add(dep.key)
            row["note"] = w.pre(t, fx, ctx) if w.pre else ""
            row.update(timed(t, w, fx, args.timeout, args.strace))
            done.add(w.key)
        except WorkloadTimeout:
            row["error"] = "timed out after %d s" % args.timeout
            rows.append(row)
            print("  %-44s %s" % (w.title, row["error"]), flush=True)
            break
        except Skipped as e:
            row["error"] = str(e)
        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
            row["error"] = "%s: %s" % (type(e).__name__, e)
            failed.add(w.key)
            settle_after_failure(t)
        rows.append(row)
        print("  " + report.progress_line(row), flush=True)
    return rows


class Skipped(Exception):
    pass


def settle_after_failure(t):
    try:
        now = time.monotonic()
        t.settle(now, now)
    except (OSError, RuntimeError) as e:
        print("  (share did not settle after the failure: %s)" % e, flush=True)


def run_round_target(make, rnd, wls, selected, fx, ctx, args):
    """One target, freshly made and started, for round rnd (of args.repeat);
    stopped by PID in close() whatever happens. Rows get their round when
    there are several."""
    t = make()
    try:
        if args.repeat > 1:
            print("== round %d/%d: %s" % (rnd, args.repeat, t.label), flush=True)
        else:
            print("== %s" % t.label, flush=True)
        t.start()
        rows = run_target(t, wls, selected, fx, ctx, args)
    finally:
        t.close()
    if args.repeat > 1:
        for r in rows:
            r["round"] = rnd
    return rows


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def machine_info():
    info = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "kernel": platform.release(),
            "load_start": loadavg(),
            "cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(l.split(":", 1)[1].strip() for l in f
                               if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        info["commit"] = subprocess.run(["git", "-C", targets.ROOT, "rev-parse", "--short",
                                         "HEAD"], capture_output=True, text=True,
                                        timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    info["built_from"] = os.environ.get("AZSF_BENCH_BUILT_FROM", "?")
    return info


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", default="0,10", help="emulator latencies in ms")
    ap.add_argument("--writeback", type=float, default=1.0,
                    help="writeback_delay (s) of the write-back targets")
    ap.add_argument("--large-mib", type=int, default=None,
                    help="size of the sequential file (default 1024, --quick 64)")
    ap.add_argument("--only", default="", help="workload keys: " +
                    ",".join(w.key for w in workloads.workloads({"large_mib": 0})))
    ap.add_argument("--targets", default="local,passthrough,c2o,wb",
                    help="which of: local (disk), passthrough (FUSE), c2o and wb "
                    "(azsharefs close-to-open / write-back at each latency)")
    ap.add_argument("--quick", action="store_true",
                    help="latency 10 only, 64 MiB sequential file")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run the target sequence N times, interleaved, and report "
                    "medians with min-max ranges (default 1)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per workload")
    ap.add_argument("--opt", action="append", default=[],
                    help="extra azsharefs -o key=value (repeatable)")
    ap.add_argument("--stock-emulator", action="store_true",
                    help="run the emulator as is (its replies with a body stall 40 ms "
                    "on kept-alive connections; see emulator-nodelay)")
    ap.add_argument("--cache-base", help="make the azsharefs cache dirs under this directory "
                    "(e.g. /dev/shm: shows what the journal's fsyncs cost)")
    ap.add_argument("--emu-base", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="make the emulator's data dirs (the share's bytes and metadata) "
                    "under this directory (default /dev/shm: the real service's storage is "
                    "not this machine's disk, which the mount's cache and the workload share; "
                    "'' = the run's scratch dir)")
    ap.add_argument("--logs", help="keep the daemon's and the emulator's logs (with every "
                    "request, time-stamped) and workload marks under this directory "
                    "(with --repeat: under DIR/round-N/)")
    ap.add_argument("--strace", action="store_true",
                    help="with --logs: strace -c -f -w the daemon during each workload "
                    "(diagnosis only: it slows the daemon)")
    ap.add_argument("--json", help="write all results as JSON here")
    ap.add_argument("--render", metavar="JSON", help="print the tables of a saved --json "
                    "file and exit")
    ap.add_argument("--md", help="write the markdown tables here")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.quick:
        if args.latency == "0,10":
            args.latency = "10"
        if args.large_mib is None:
            args.large_mib = 64
    if args.large_mib is None:
        args.large_mib = 1024
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.render:
        with open(args.render) as f:
            saved = json.load(f)
        sys.stdout.write(report.render(saved["rows"], saved["info"]))
        return 0
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    targets.use_stock_emulator(args.stock_emulator)
    if args.cache_base:
        targets.Azsharefs.cache_base = os.path.abspath(args.cache_base)
    if args.emu_base:
        targets.Azsharefs.emu_base = os.path.abspath(args.emu_base)
    if args.logs:
        targets.Target.logs_dir = os.path.abspath(args.logs)
        os.environ["AZSF_BENCH_REQLOG"] = "1"
    latencies = [int(x) for x in args.latency.split(",") if x]
    which = set(args.targets.split(","))
    extra = dict(o.split("=", 1) for o in args.opt)
    base = tempfile.mkdtemp(prefix="azsf-bench-")
    os.chmod(base, 0o755)
    for k in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR"):
        os.environ[k] = os.path.join(base, "jupyter")
    os.environ["AZSF_BENCH_HOME"] = base
    info = machine_info()
    info.update(command=" ".join(["tests/bench/run.sh"] + (argv or sys.argv[1:])),
                writeback_delay=args.writeback, large_mib=args.large_mib, opts=extra,
                emulator="stock" if args.stock_emulator else "TCP_NODELAY wrapper",
                cache_base=args.cache_base or "the run's scratch dir under /tmp",
                emu_base=args.emu_base or "the run's scratch dir under /tmp")
    if args.repeat > 1:
        info["repeat"] = args.repeat
    rows = []
    try:
        print("bench: building fixtures in %s" % base, flush=True)
        os.makedirs(os.path.join(base, "fx"))
        fx = workloads.make_fixtures(os.path.join(base, "fx"), args.large_mib)
        wls = workloads.workloads(fx)
        keys = [w.key for w in wls]
        selected = set(args.only.split(",")) - {""} if args.only else set(keys)
        unknown = selected - set(keys)
        if unknown:
            raise SystemExit("bench: unknown workload(s) %s; known: %s"
                             % (",".join(sorted(unknown)), ",".join(keys)))
        timeouts = [float(extra.get(k, 2)) for k in ("attr_timeout", "dir_timeout")]
        ctx = {"expire_s": max(timeouts) + 0.5}
        makers = targets.target_factories(base, latencies, args.writeback, which, extra)
        for rnd in range(1, args.repeat + 1):
            if args.logs and args.repeat > 1:
                targets.Target.logs_dir = os.path.join(os.path.abspath(args.logs),
                                                       "round-%d" % rnd)
            for make in makers:
                rows += run_round_target(make, rnd, wls, selected, fx, ctx, args)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        info["load_end"] = loadavg()
        if args.json:
            saved = {"info": info, "rows": rows}
            if args.repeat > 1:
                saved["aggregated"] = report.aggregate(rows)
            with open(args.json, "w") as f:
                json.dump(saved, f, indent=1)
        text = report.render(rows, info)
        print("\n" + text)
        if args.md:
            with open(args.md, "w") as f:
                f.write(text)
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
