#!/usr/bin/env python3
"""Which requests a workload made, in order: reads what `bench.py --logs DIR`
kept (DIR/<target>/emulator.log with every request, marks.txt with each
workload's start / returned / settled times) and prints, per workload, the
requests between its start and settled marks (method, path, query, status),
optionally only the first N, and a count per (method, query) shape.

    reqlog.py DIR/<target> [--only saves,jsave] [--head 40]
"""
import argparse
import collections
import os
import re
import sys

LINE = re.compile(r'^(\S+ \S+) INFO \S+ - "(\S+) (\S+) HTTP/[\d.]+" (\d+)')


def parse_time(s):
    # "2026-11-22 15:53:36,469" -> sortable string is enough (same day/format)
    return s


def load(target_dir):
    reqs = []
    with open(os.path.join(target_dir, "emulator.log"), errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if m and not m.group(3).startswith("/_emulator/"):
                reqs.append((parse_time(m.group(1)),) + m.groups()[1:])
    marks = []
    with open(os.path.join(target_dir, "marks.txt")) as f:
        for line in f:
            date, clock, what, key = line.split()[:4]
            marks.append(("%s %s" % (date, clock), what, key))
    return reqs, marks


def shape(method, url):
    path, _, query = url.partition("?")
    keys = sorted(k.split("=")[0] for k in query.split("&") if k and not k.startswith("sig"))
    q = "&".join(k + ("=" + dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                      .get(k, "") if k in ("restype", "comp") else "") for k in keys)
    return "%s ?%s" % (method, q)


def windows(marks):
    out, start = [], {}
    for t, what, key in marks:
        if what == "start":
            start[key] = t
        elif what == "settled" and key in start:
            out.append((key, start.pop(key), t))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target_dir")
    ap.add_argument("--only", default="")
    ap.add_argument("--head", type=int, default=60)
    a = ap.parse_args(argv)
    reqs, marks = load(a.target_dir)
    only = set(a.only.split(",")) - {""}
    for key, t0, t1 in windows(marks):
        if only and key not in only:
            continue
        sel = [r for r in reqs if t0 <= r[0] <= t1]
        print("== %s: %d requests (%s .. %s)" % (key, len(sel), t0, t1))
        for t, method, url, status in sel[:a.head]:
            print("  %s %-6s %s %s" % (t.split()[1], method, status,
                                       url.replace("/devstoreaccount1/", "/", 1)))
        if len(sel) > a.head:
            print("  ... %d more" % (len(sel) - a.head))
        counts = collections.Counter(shape(m, u) for _, m, u, _ in sel)
        for s, n in counts.most_common():
            print("  %6d  %s" % (n, s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
