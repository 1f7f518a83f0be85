#!/usr/bin/env python3
"""Extract the XML response bodies of the recorded fixtures for the C unit tests.

tests/unit/test_xmlparse.c reads tests/unit/data/<fixture>.xml: the exact
response body bytes of tests/fixtures/<fixture>.json (UTF-8, with the BOM the
service sends). Re-run after a fixture changes:

    python3 tests/unit/data/extract_bodies.py
"""
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "fixtures")
PATTERNS = ("list_*.json", "error_*.json", "get_range_list.json")


def main():
    n = 0
    for pat in PATTERNS:
        for path in sorted(glob.glob(os.path.join(FIXTURES, pat))):
            body = json.load(open(path, encoding="utf-8"))["response"].get("body", "")
            if not body:
                continue  # HEAD replies: no body
            name = os.path.splitext(os.path.basename(path))[0] + ".xml"
            with open(os.path.join(HERE, name), "wb") as f:
                f.write(body.encode("utf-8"))
            n += 1
    print("extracted %d bodies" % n)


if __name__ == "__main__":
    main()
