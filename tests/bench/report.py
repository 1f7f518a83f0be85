"""Tables for bench.py: the time/requests matrix, the per-operation request
breakdown, CPU per process, and the targets from the cache issue with
whether each was met. Input: the result rows bench.py collects (dicts with
workload, title, target, kind, latency, delay, n, unit, seconds, durable,
requests, ops, cpu, note, error; with --repeat N also round).

With rows from several rounds (--repeat), the rows of one (workload, target,
latency, delay) are folded into one aggregated row: the median of seconds,
durable, requests, each operation's count and each process's CPU, with the
min-max of each in *_range and the count of successful runs in "runs". The
tables show the medians with their ranges; the ratio targets also give the
ratio's range computed round by round.
"""
import statistics


def _num(x):
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return "{:,}".format(x)


# ---- several rounds (--repeat) ----

def rounds_of(rows):
    """How many rounds the rows come from (1 for a run without --repeat)."""
    return max([r.get("round", 1) for r in rows] or [1])


def _median(vals):
    m = statistics.median(vals)
    return int(m) if isinstance(m, float) and m.is_integer() else m


def _fold(group):
    ok = [r for r in group if "error" not in r]
    if not ok:
        return dict(group[0])
    out = {k: v for k, v in ok[0].items() if k != "round"}
    out["runs"] = len(ok)
    out["rounds"] = len(group)
    for k in ("seconds", "durable", "requests"):
        vals = [r[k] for r in ok if r.get(k) is not None]
        if vals:
            out[k] = round(_median(vals), 3)
            out[k + "_range"] = [min(vals), max(vals)]
    ops = sorted({k for r in ok for k in (r.get("ops") or {})})
    out["ops"] = {k: _median([(r.get("ops") or {}).get(k, 0) for r in ok]) for k in ops}
    cpus = sorted({k for r in ok for k in (r.get("cpu") or {})})
    out["cpu"] = {k: round(_median([r["cpu"][k] for r in ok if k in r.get("cpu", {})]), 2)
                  for k in cpus}
    return out


def aggregate(rows):
    """One row per (workload, target, latency, delay), in first-seen order."""
    groups, order = {}, []
    for r in rows:
        key = (r["workload"], r["target"], r["latency"], r["delay"])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    return [_fold(groups[k]) for k in order]


def requests_vary(r):
    """True when the runs' request counts differ by more than 2% of the median."""
    lo, hi = r.get("requests_range", (0, 0))
    return hi - lo > 0.02 * (r["requests"] or 0)


def _rng(r, k, fmt="%.2f"):
    if "%s_range" % k not in r:
        return ""
    lo, hi = r[k + "_range"]
    return (" (" + fmt + "-" + fmt + ")") % (lo, hi)


def progress_line(r):
    if "error" in r:
        return "%-44s FAILED: %s" % (r["title"], r["error"])
    s = "%-44s %8.2f s" % (r["title"], r["seconds"])
    if r.get("requests") is not None:
        s += "  durable %7.2f s  %6d req" % (r["durable"], r["requests"])
        if r["ops"]:
            s += "  " + ops_text(r["ops"], 4)
    return s


def ops_text(ops, limit=None):
    items = sorted(((v, k) for k, v in ops.items() if v), reverse=True)
    if limit:
        items = items[:limit]
    return ", ".join("%s %s" % (k, _num(v)) for v, k in items) or "none"


def cell(r):
    if r is None:
        return ""
    if "error" in r:
        return "FAILED" if not r["error"].startswith("skipped") else "skipped"
    s = "%.2f" % r["seconds"] + _rng(r, "seconds")
    if r["requests"] is not None:
        if r["durable"] - r["seconds"] >= 0.05:
            s += ", durable %.2f" % r["durable"] + _rng(r, "durable")
        s += ", %s req" % _num(r["requests"])
        if "requests_range" in r and requests_vary(r):
            s += " (runs differ: %s-%s)" % tuple(_num(x) for x in r["requests_range"])
    if "runs" in r and r["runs"] < r["rounds"]:
        s += ", %d of %d runs failed" % (r["rounds"] - r["runs"], r["rounds"])
    return s


def matrix(rows):
    cols, titles = [], []
    for r in rows:
        if r["target"] not in cols:
            cols.append(r["target"])
        if r["title"] not in titles:
            titles.append(r["title"])
    idx = {(r["title"], r["target"]): r for r in rows}
    out = ["| workload | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for t in titles:
        out.append("| %s | %s |" % (t, " | ".join(cell(idx.get((t, c))) for c in cols)))
    return out


def breakdown(rows):
    out = ["| workload | target | requests | per %s | daemon CPU s | emulator CPU s | "
           "requests by operation |" % "op", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r or r.get("requests") is None:
            continue
        per = r["requests"] / r["n"] if r["n"] else 0
        cpu = r.get("cpu", {})
        out.append("| %s | %s | %s | %.2f/%s | %s | %s | %s |" % (
            r["title"], r["target"], _num(r["requests"]), per, r["unit"],
            cpu.get("daemon", "-"), cpu.get("emulator", "-"), ops_text(r["ops"])))
    return out


def notes(rows):
    seen, out = set(), []
    for r in rows:
        if r.get("note") and (r["title"], r["note"]) not in seen:
            seen.add((r["title"], r["note"]))
            out.append("- %s, %s: %s" % (r["title"], r["kind"], r["note"]))
    return out


# ---- targets from the cache issue ----

def _find(rows, key, kind=None, wb=None, latency=None):
    for r in rows:
        if r["workload"] != key or "error" in r:
            continue
        if kind and r["kind"] != kind:
            continue
        if wb is not None and bool(r["delay"]) != wb:
            continue
        if latency is not None and r["latency"] != latency:
            continue
        return r
    return None


def _azsf_targets(rows, wb=None):
    seen = []
    for r in rows:
        if r["kind"] == "azsharefs" and (wb is None or bool(r["delay"]) == wb):
            if (r["latency"], r["delay"], r["target"]) not in seen:
                seen.append((r["latency"], r["delay"], r["target"]))
    return seen


def _verdict(ok):
    return "met" if ok else "**missed**"


def _d(x):
    """A request count as "%d" prints it; a median between two counts keeps its .5."""
    return "%d" % x if float(x).is_integer() else "%.1f" % x


def _med(*rs):
    """ "median of N: " before a measured value from aggregated rows."""
    runs = [r["runs"] for r in rs if r and "runs" in r]
    return "median of %d: " % min(runs) if runs else ""


def check_saves(rows, wb, limit):
    out = []
    for lat, _, label in _azsf_targets(rows, wb):
        iso = _find(rows, "jsave", "azsharefs", wb, lat)
        loop = _find(rows, "saves", "azsharefs", wb, lat)
        vals, parts = [], []
        if iso:
            vals.append(iso["requests"])
            parts.append("isolated jupyter_server save: %s" % _d(iso["requests"]))
        if loop:
            vals.append(loop["requests"] / loop["n"])
            parts.append("back to back: %.2f/save" % (loop["requests"] / loop["n"]))
        if vals:
            out.append(("notebook save: <= %d requests" % limit, label,
                        _med(iso, loop) + "; ".join(parts), _verdict(max(vals) <= limit)))
    return out


def check_simple(rows, key, what, test, fmt):
    out = []
    for lat, delay, label in _azsf_targets(rows):
        r = _find(rows, key, "azsharefs", bool(delay), lat)
        if r:
            out.append((what, label, _med(r) + fmt(r), _verdict(test(r))))
    return out


# "In close-to-open mode each close waits for its upload, so the bound there
# is one round trip per file": a file costs one request (its upload), plus
# the lookups' share of directory listings; more than a quarter more would
# mean a second round trip for some files.
C2O_REQ_PER_FILE = 1.25


def check_c2o_bound(rows, key):
    out = []
    for lat, _, label in _azsf_targets(rows, False):
        r = _find(rows, key, "azsharefs", False, lat)
        if r and r["n"]:
            per = r["requests"] / r["n"]
            out.append(("%s, close-to-open: one round trip per file" % r["title"], label,
                        _med(r) + "%.2f requests and %.1f ms per file" %
                        (per, 1000.0 * r["seconds"] / r["n"]),
                        _verdict(per <= C2O_REQ_PER_FILE)))
    return out


def _per_round(raw, key, wb, lat, ratio):
    """ratio(azsharefs row, passthrough row) of each round that has both."""
    vals = []
    for i in sorted({r.get("round", 1) for r in raw}):
        rr = [r for r in raw if r.get("round", 1) == i]
        a, p = _find(rr, key, "azsharefs", wb, lat), _find(rr, key, "passthrough")
        if a and p:
            vals.append(ratio(a, p))
    return vals


def check_vs_passthrough(rows, key, what, ratio, ok, fmt, raw=None, wb=None):
    """ok(ratio of the medians); with raw rows of several rounds, fmt also
    gets the range of the ratio computed round by round."""
    pt = _find(rows, key, "passthrough")
    out = []
    for lat, delay, label in _azsf_targets(rows, wb):
        r = _find(rows, key, "azsharefs", bool(delay), lat)
        if r and pt:
            text = _med(r, pt) + fmt(r, pt, ratio(r, pt))
            per = _per_round(raw, key, bool(delay), lat, ratio) if raw else []
            if per:
                text += "; per round %s-%s" % (fmt.per(min(per)), fmt.per(max(per)))
            out.append((what, label, text, _verdict(ok(ratio(r, pt)))))
    return out


class _Fmt:
    def __init__(self, main, per):
        self.main, self.per = main, per

    def __call__(self, r, p, x):
        return self.main % (r["seconds"], p["seconds"], self.per(x))


def targets(rows, raw=None):
    """rows: one per cell (aggregated when several rounds); raw: every
    round's rows, for the per-round ratios (None: one round)."""
    t = []
    t += check_saves(rows, False, 4)
    t += check_saves(rows, True, 2)
    t += check_simple(rows, "lscold", "`ls -l` of 10,000 entries, cold: 2 requests",
                      lambda r: r["requests"] <= 2,
                      lambda r: "%s (%s)" % (_d(r["requests"]), ops_text(r["ops"])))
    t += check_simple(rows, "stat", "hot stat: 0 requests", lambda r: r["requests"] == 0,
                      lambda r: "%s for %d stats" % (_d(r["requests"]), r["n"]))
    t += check_simple(rows, "lshot", "hot `ls -l`: 0 requests", lambda r: r["requests"] == 0,
                      lambda r: _d(r["requests"]))
    t += check_simple(rows, "reopen", "unchanged re-open: <= 1 request",
                      lambda r: r["requests"] <= r["n"],
                      lambda r: "%.2f per open" % (r["requests"] / r["n"]))
    t += check_vs_passthrough(rows, "untar", "untar 2,000 files, write-back: <= 1.5x passthrough",
                              lambda r, p: r["seconds"] / p["seconds"], lambda x: x <= 1.5,
                              _Fmt("%.2f s vs %.2f s (%s)", lambda x: "%.1fx" % x),
                              raw, wb=True)
    t += [x for x in check_simple(rows, "untar", "untar 2,000 files, write-back: on the "
                                  "share within 3 s", lambda r: r["durable"] <= 3.0,
                                  lambda r: "durable %.2f s" % r["durable"])
          if "write-back" in x[1]]
    t += [x for x in check_simple(rows, "clone", "git clone of 1,500 files: within 4 s",
                                  lambda r: r["seconds"] <= 4.0,
                                  lambda r: "%.2f s (durable %.2f s)" % (r["seconds"],
                                                                          r["durable"]))
          if "write-back" in x[1]]
    for key in ("untar", "clone"):
        t += check_c2o_bound(rows, key)
    t += check_vs_passthrough(rows, "reread", "hot re-read: >= 80% of passthrough speed",
                              lambda r, p: p["seconds"] / r["seconds"], lambda x: x >= 0.8,
                              _Fmt("%.2f s vs %.2f s (%s)", lambda x: "%.0f%%" % (100 * x)),
                              raw)
    out = ["| target (from the cache issue) | where | measured | |", "|---|---|---|---|"]
    out += ["| %s | %s | %s | %s |" % x for x in t]
    return out


def render(rows, info):
    head = ["## azsharefs benchmark run", "",
            "- date: %s; azsharefs built from %s (harness and emulator: working tree at %s)"
            % (info.get("date"), info.get("built_from", "?"), info.get("commit", "?")),
            "- machine: %s x %s, kernel %s, Python %s" % (
                info.get("cpus"), info.get("cpu", "?"), info.get("kernel"),
                info.get("python")),
            "- load average (1/5/15 min) at start: %s, at end: %s (other work on the "
            "machine skews times, not request counts)" % (info.get("load_start"),
                                                         info.get("load_end")),
            "- command: `%s`" % info.get("command", ""),
            "- write-back targets: writeback_delay=%s s; large file %s MiB; extra opts %s; "
            "emulator: %s; cache dirs in %s; emulator data in %s" % (
                info.get("writeback_delay"), info.get("large_mib"), info.get("opts") or "none",
                info.get("emulator"), info.get("cache_base"),
                info.get("emu_base", "the run's scratch dir under /tmp")),
            ""]
    n_rounds, asked = rounds_of(rows), info.get("repeat", 1)
    if asked > 1:
        head[-1:-1] = ["- rounds: %d%s (--repeat, interleaved: each round runs every target "
                       "in order, each started fresh); tables show the median of the rounds "
                       "with the min-max range in parentheses" % (
                           n_rounds, " of %d asked for" % asked if n_rounds < asked else "")]
    if not rows:
        return "\n".join(head + ["(no results)"]) + "\n"
    multi = asked > 1 or n_rounds > 1
    raw, rows = (rows, aggregate(rows)) if multi else (None, rows)
    med = " (median of %d rounds, min-max)" % n_rounds if multi else ""
    body = ["### Seconds%s (durable = last upload reached the emulator; req = REST "
            "requests)" % med, ""] + matrix(rows)
    body += ["", "### Targets", ""] + targets(rows, raw)
    body += ["", "### Requests per operation, CPU seconds per process%s" % (
        " (medians of %d rounds)" % n_rounds if multi else ""), ""] + breakdown(rows)
    n = notes(rows)
    if n:
        body += ["", "### How each workload was prepared", ""] + n
    errs = ["- %s on %s%s: %s" % (r["title"], r["target"],
                                  ", round %d" % r.get("round", 1) if raw else "", r["error"])
            for r in (raw or rows) if "error" in r]
    if errs:
        body += ["", "### Failures", ""] + errs
    return "\n".join(head + body) + "\n"
