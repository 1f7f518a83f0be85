"""azfiles/store.py: entry ids are never handed out twice, across restarts
(clean or not) and deletes, though a create stores no counter row; and the
request ids util.request_id() makes are version-4 UUID strings."""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from azfiles import names, util  # noqa: E402
from azfiles.store import Store  # noqa: E402


def _add(store, share, name):
    sh = store.shares[share]
    return store.add_entry(sh, sh.root, name, False, {"size": 0}).id


def test_ids_not_reused_after_delete_and_restart(tmp_path):
    s = Store(str(tmp_path))
    s.create_share("x", {}, {})
    seen = {_add(s, "x", "a"), _add(s, "x", "b")}
    sh = s.shares["x"]
    s.remove_entry(sh, sh.root.children[names.fold("b")])      # the newest id is gone
    # no close(): what a killed emulator leaves behind
    s2 = Store(str(tmp_path))
    c = _add(s2, "x", "c")
    assert c not in seen
    seen.add(c)
    s2.close()
    s3 = Store(str(tmp_path))                       # clean restart
    d = _add(s3, "x", "d")
    assert d not in seen
    seen.add(d)
    s3.delete_share("x")                            # every entry gone
    s4 = Store(str(tmp_path))
    s4.create_share("x", {}, {})
    assert _add(s4, "x", "e") not in seen
    assert [e.name for e in s4.shares["x"].root.children.values()] == ["e"]
    s4.close()


def test_ids_survive_restart_unchanged(tmp_path):
    s = Store(str(tmp_path))
    s.create_share("y", {}, {})
    ids = {n: _add(s, "y", n) for n in ("p", "q", "r")}
    s2 = Store(str(tmp_path))
    kids = s2.shares["y"].root.children
    assert {e.name: e.id for e in kids.values()} == ids
    assert _add(s2, "y", "s") not in ids.values()
    s2.close()
    s.close()


def test_request_id_is_uuid4():
    got = set()
    for _ in range(2000):
        rid = util.request_id()
        u = uuid.UUID(rid)
        assert str(u) == rid
        assert u.version == 4 and u.variant == uuid.RFC_4122
        got.add(rid)
    assert len(got) == 2000
