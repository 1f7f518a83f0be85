"""Names through the mount that the share would change unless told not to:
trailing dots (fs/names.c allows them because the client sends
x-ms-allow-trailing-dot). Owner: fs/.

Run: AZSF_BUILD=<build> /usr/bin/python3 -m pytest tests/integration/test_fs_names.py
"""
import os
import re

from util import read_file, write_file


def share_names(emu, share, path):
    """Names in a directory of the share, asked with trailing dots kept."""
    st, _, body = emu.request("GET", share + "/" + path, "restype=directory&comp=list",
                              {"x-ms-allow-trailing-dot": "true"})
    assert st == 200, body[:300]
    return sorted(re.findall(r"<Name>([^<]*)</Name>", body.decode("utf-8-sig")))


def test_trailing_dots_round_trip(mnt, share, emu):
    d = mnt.path("dir.")
    os.mkdir(d)
    write_file(os.path.join(d, "a."), b"with dot")
    write_file(os.path.join(d, "a"), b"without")
    write_file(os.path.join(d, "b.."), b"two dots")
    assert sorted(os.listdir(d)) == ["a", "a.", "b.."]
    assert read_file(os.path.join(d, "a.")) == b"with dot"
    assert read_file(os.path.join(d, "a")) == b"without"
    # on the share, literally
    assert sorted(share_names(emu, share, "dir.")) == ["a", "a.", "b.."]
    os.rename(os.path.join(d, "b.."), os.path.join(d, "c."))
    assert sorted(os.listdir(d)) == ["a", "a.", "c."]
    assert sorted(share_names(emu, share, "dir.")) == ["a", "a.", "c."]
    os.rename(d, mnt.path("moved."))
    assert read_file(mnt.path("moved.", "c.")) == b"two dots"
    os.unlink(mnt.path("moved.", "a."))
    assert sorted(os.listdir(mnt.path("moved."))) == ["a", "c."]
    assert sorted(share_names(emu, share, "moved.")) == ["a", "c."]
