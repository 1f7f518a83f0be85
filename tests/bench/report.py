"""Tables for bench.py: the time/requests matrix, the per-operation request
breakdown, CPU per process, and the targets from the cache issue with
whether each was met. Input: the result rows bench.py collects (dicts with
workload, title, target, kind, latency, delay, n, unit, seconds, durable,
requests, ops, cpu, note, error).
"""


def _num(x):
    return "{:,}".format(x)


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
    s = "%.2f" % r["seconds"]
    if r["requests"] is not None:
        if r["durable"] - r["seconds"] >= 0.05:
            s += ", durable %.2f" % r["durable"]
        s += ", %s req" % _num(r["requests"])
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


def check_saves(rows, wb, limit):
    out = []
    for lat, _, label in _azsf_targets(rows, wb):
        iso = _find(rows, "jsave", "azsharefs", wb, lat)
        loop = _find(rows, "saves", "azsharefs", wb, lat)
        vals, parts = [], []
        if iso:
            vals.append(iso["requests"])
            parts.append("isolated jupyter_server save: %d" % iso["requests"])
        if loop:
            vals.append(loop["requests"] / loop["n"])
            parts.append("back to back: %.2f/save" % (loop["requests"] / loop["n"]))
        if vals:
            out.append(("notebook save: <= %d requests" % limit, label, "; ".join(parts),
                        _verdict(max(vals) <= limit)))
    return out


def check_simple(rows, key, what, test, fmt):
    out = []
    for lat, delay, label in _azsf_targets(rows):
        r = _find(rows, key, "azsharefs", bool(delay), lat)
        if r:
            out.append((what, label, fmt(r), _verdict(test(r))))
    return out


def check_vs_passthrough(rows, key, what, ratio_ok, fmt, wb=None):
    pt = _find(rows, key, "passthrough")
    out = []
    for lat, delay, label in _azsf_targets(rows, wb):
        r = _find(rows, key, "azsharefs", bool(delay), lat)
        if r and pt:
            out.append((what, label, fmt(r, pt), _verdict(ratio_ok(r, pt))))
    return out


def targets(rows):
    t = []
    t += check_saves(rows, False, 4)
    t += check_saves(rows, True, 2)
    t += check_simple(rows, "lscold", "`ls -l` of 10,000 entries, cold: 2 requests",
                      lambda r: r["requests"] <= 2,
                      lambda r: "%d (%s)" % (r["requests"], ops_text(r["ops"])))
    t += check_simple(rows, "stat", "hot stat: 0 requests", lambda r: r["requests"] == 0,
                      lambda r: "%d for %d stats" % (r["requests"], r["n"]))
    t += check_simple(rows, "lshot", "hot `ls -l`: 0 requests", lambda r: r["requests"] == 0,
                      lambda r: "%d" % r["requests"])
    t += check_simple(rows, "reopen", "unchanged re-open: <= 1 request",
                      lambda r: r["requests"] <= r["n"],
                      lambda r: "%.2f per open" % (r["requests"] / r["n"]))
    t += check_vs_passthrough(rows, "untar", "untar 2,000 files, write-back: <= 1.5x passthrough",
                              lambda r, p: r["seconds"] <= 1.5 * p["seconds"],
                              lambda r, p: "%.2f s vs %.2f s (%.1fx)" % (
                                  r["seconds"], p["seconds"], r["seconds"] / p["seconds"]),
                              wb=True)
    t += [x for x in check_simple(rows, "untar", "untar 2,000 files, write-back: on the "
                                  "share within 3 s", lambda r: r["durable"] <= 3.0,
                                  lambda r: "durable %.2f s" % r["durable"])
          if "write-back" in x[1]]
    t += check_simple(rows, "clone", "git clone of 1,500 files: within 4 s",
                      lambda r: r["seconds"] <= 4.0,
                      lambda r: "%.2f s (durable %.2f s)" % (r["seconds"], r["durable"]))
    t += check_vs_passthrough(rows, "reread", "hot re-read: >= 80% of passthrough speed",
                              lambda r, p: p["seconds"] / r["seconds"] >= 0.8,
                              lambda r, p: "%.2f s vs %.2f s (%.0f%%)" % (
                                  r["seconds"], p["seconds"],
                                  100 * p["seconds"] / r["seconds"]))
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
    if not rows:
        return "\n".join(head + ["(no results)"]) + "\n"
    body = ["### Seconds (durable = last upload reached the emulator; req = REST requests)",
            ""] + matrix(rows)
    body += ["", "### Targets", ""] + targets(rows)
    body += ["", "### Requests per operation, CPU seconds per process", ""] + breakdown(rows)
    n = notes(rows)
    if n:
        body += ["", "### How each workload was prepared", ""] + n
    errs = ["- %s on %s: %s" % (r["title"], r["target"], r["error"]) for r in rows
            if "error" in r]
    if errs:
        body += ["", "### Failures", ""] + errs
    return "\n".join(head + body) + "\n"
