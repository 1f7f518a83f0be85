"""Persistent state of the emulated account.

Owns: shares, their directory trees, file properties, permissions (SDDL by
key) and file bytes. Layout under --data DIR:
  DIR/meta.sqlite3          one row per share and per entry (JSON documents),
                            plus the id counter; every change is committed at
                            once (sqlite's own journal makes each commit atomic)

Ids: entry ids are util.bitrev64(n) for n = 1, 2, ... (never reused). The
counter row kv('counter') is written only when entries are deleted (in the
same transaction); loading takes the larger of it and 1 + the highest n of
a stored entry, so a create is one sqlite statement and no id that was ever
committed comes back after a restart.
  DIR/files/<share>/<id>    file bytes as sparse files; whole-file replacement
                            goes through a temp file + os.replace, ranges are
                            written in place, cleared ranges are punched out

Threads: every method must be called with `store.lock` held (one RLock for
the whole account, taken by the request dispatcher). File reads for Get File
open a descriptor under the lock and stream after releasing it.

Invariants: Entry.children maps names.fold(name) -> Entry, so lookups are
case-insensitive while Entry.name keeps the case it was created with; the
root directory of every share has id 0; entry ids are unique in the account.
"""
import ctypes
import ctypes.util
import json
import os
import sqlite3
import threading

from . import names, util
from .errors import StorageError

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02


class Entry:
    __slots__ = ("id", "parent", "name", "is_dir", "children", "p")

    def __init__(self, eid, parent, name, is_dir, props):
        self.id = eid
        self.parent = parent
        self.name = name
        self.is_dir = is_dir
        self.children = {} if is_dir else None
        self.p = props

    def path_components(self):
        out = []
        e = self
        while e is not None and e.parent is not None:
            out.append(e.name)
            e = e.parent
        return out[::-1]

    def path(self):
        return "/".join(self.path_components())


class Share:
    def __init__(self, name, props):
        self.name = name
        self.p = props
        self.root = None
        self.by_id = {}


def _libc_fallocate():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.fallocate
        fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
        return fn
    except (OSError, AttributeError):
        return None


_FALLOCATE = _libc_fallocate()


class Store:
    def __init__(self, data_dir):
        self.dir = os.path.abspath(data_dir)
        os.makedirs(os.path.join(self.dir, "files"), exist_ok=True)
        self.lock = threading.RLock()
        # autocommit mode: a change of one row (create, overwrite, move) is
        # one statement, its own transaction; changes of several rows run in
        # _begin() ... _commit(). sqlite3's implicit BEGIN and commit() would
        # each prepare, step and finalize a statement with the GIL released:
        # GIL hand-offs under the store lock at 16 connections.
        self.db = sqlite3.connect(os.path.join(self.dir, "meta.sqlite3"),
                                  check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS shares(name TEXT PRIMARY KEY, doc TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS entries(share TEXT NOT NULL, id TEXT NOT NULL,"
            " parent TEXT, name TEXT NOT NULL, is_dir INTEGER NOT NULL, doc TEXT NOT NULL,"
            " PRIMARY KEY(share, id));"
            "CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v TEXT NOT NULL);")
        self.db.commit()
        self.shares = {}
        self.next_counter = 1
        self._made_dirs = set()  # share dirs made (or found) by this process
        self._dir_of = {}        # share name -> its files/ dir (a pure function)
        self._load()

    # ---------- loading and saving ----------
    def _load(self):
        row = self.db.execute("SELECT v FROM kv WHERE k='counter'").fetchone()
        if row:
            self.next_counter = int(row[0])
        for name, doc in self.db.execute("SELECT name, doc FROM shares"):
            sh = Share(name, json.loads(doc))
            self.shares[name] = sh
        rows = self.db.execute("SELECT share, id, parent, name, is_dir, doc FROM entries")
        pending = {}
        for share, eid, parent, name, is_dir, doc in rows:
            self.next_counter = max(self.next_counter, util.bitrev64(int(eid)) + 1)
            if share not in self.shares:
                continue
            e = Entry(int(eid), None, name, bool(is_dir), json.loads(doc))
            self.shares[share].by_id[e.id] = e
            pending[(share, e.id)] = None if parent is None else int(parent)
        for (share, eid), parent in pending.items():
            sh = self.shares[share]
            e = sh.by_id[eid]
            if parent is None:
                sh.root = e
            else:
                pe = sh.by_id.get(parent)
                if pe is None:
                    continue
                e.parent = pe
                pe.children[names.fold(e.name)] = e

    def _begin(self):
        if not self.db.in_transaction:
            self.db.execute("BEGIN")

    def _commit(self):
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def save_share(self, sh):
        self.db.execute("INSERT OR REPLACE INTO shares(name, doc) VALUES(?, ?)",
                        (sh.name, json.dumps(sh.p)))
        self._commit()

    def save_entry(self, sh, e):
        parent = None if e.parent is None else str(e.parent.id)
        self.db.execute("INSERT OR REPLACE INTO entries(share, id, parent, name, is_dir, doc)"
                        " VALUES(?, ?, ?, ?, ?, ?)",
                        (sh.name, str(e.id), parent, e.name, int(e.is_dir), json.dumps(e.p)))
        self._commit()

    def _new_id(self):
        """A fresh id; the counter is stored by _save_counter() on deletes."""
        n = self.next_counter
        self.next_counter += 1
        return util.bitrev64(n)

    def _save_counter(self):
        """In the transaction of a delete: ids of deleted entries stay used."""
        self.db.execute("INSERT OR REPLACE INTO kv(k, v) VALUES('counter', ?)",
                        (str(self.next_counter),))

    # ---------- shares ----------
    def create_share(self, name, props, root_props):
        sh = Share(name, props)
        sh.root = Entry(0, None, "", True, root_props)
        sh.by_id[0] = sh.root
        self.shares[name] = sh
        self.save_share(sh)
        self.save_entry(sh, sh.root)
        os.makedirs(self._share_dir(name), exist_ok=True)
        return sh

    def delete_share(self, name):
        self.shares.pop(name, None)
        self._begin()
        self.db.execute("DELETE FROM shares WHERE name=?", (name,))
        self.db.execute("DELETE FROM entries WHERE share=?", (name,))
        self._save_counter()
        self._commit()
        d = self._share_dir(name)
        self._made_dirs.discard(d)
        if os.path.isdir(d):
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
            os.rmdir(d)

    def get_share(self, name):
        sh = self.shares.get(name)
        if sh is None:
            raise StorageError("ShareNotFound")
        return sh

    # ---------- tree ----------
    def lookup(self, sh, comps):
        """(parent, entry-or-None) for a path; ParentNotFound if a directory
        on the way is missing (or is a file). Empty comps -> (None, root)."""
        if not comps:
            return None, sh.root
        cur = sh.root
        for c in comps[:-1]:
            nxt = cur.children.get(names.fold(c))
            if nxt is None or not nxt.is_dir:
                raise StorageError("ParentNotFound")
            cur = nxt
        return cur, cur.children.get(names.fold(comps[-1]))

    def add_entry(self, sh, parent, name, is_dir, props):
        e = Entry(self._new_id(), parent, name, is_dir, props)
        parent.children[names.fold(name)] = e
        sh.by_id[e.id] = e
        self.save_entry(sh, e)
        return e

    def remove_entry(self, sh, e):
        del e.parent.children[names.fold(e.name)]
        sh.by_id.pop(e.id, None)
        self._begin()
        self.db.execute("DELETE FROM entries WHERE share=? AND id=?", (sh.name, str(e.id)))
        self._save_counter()
        self._commit()
        if not e.is_dir:
            try:
                os.unlink(self.data_path(sh, e))
            except FileNotFoundError:
                pass

    def move_entry(self, sh, e, new_parent, new_name):
        del e.parent.children[names.fold(e.name)]
        e.parent = new_parent
        e.name = new_name
        new_parent.children[names.fold(new_name)] = e
        self.save_entry(sh, e)

    def usage_bytes(self, sh):
        return sum(e.p.get("size", 0) for e in sh.by_id.values() if not e.is_dir)

    # ---------- file bytes ----------
    def _share_dir(self, name):
        d = self._dir_of.get(name)
        if d is None:
            d = os.path.join(self.dir, "files", name)
            if len(self._dir_of) < 4096:
                self._dir_of[name] = d
        return d

    def data_path(self, sh, e):
        # os.path.join(share dir, id) without its per-call checks: the share
        # dir is an absolute path not ending in "/", the id a plain number
        return self._share_dir(sh.name) + "/%d" % e.id

    def _make_share_dir(self, sh):
        """makedirs once per share and process (a syscall or two saved per write)."""
        d = self._share_dir(sh.name)
        if d not in self._made_dirs:
            os.makedirs(d, exist_ok=True)
            self._made_dirs.add(d)

    def replace_content(self, sh, e, size, body, new=False):
        """New content: `body` at offset 0, sparse up to `size`. An existing
        file's bytes are replaced through a temp file + os.replace (a Get File
        streaming the old bytes keeps them); a `new` entry's file (a fresh id,
        so no reader can hold it) is written in place."""
        self._make_share_dir(sh)
        path = self.data_path(sh, e)
        tmp = path if new else path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            done = os.write(fd, body) if body else 0
            if done != size:   # sparse tail or short write (else: one syscall less)
                os.ftruncate(fd, size)
        finally:
            os.close(fd)
        if not new:
            os.replace(tmp, path)

    def _open_rw(self, sh, e):
        self._make_share_dir(sh)
        return os.open(self.data_path(sh, e), os.O_RDWR | os.O_CREAT, 0o600)

    def write_range(self, sh, e, offset, data):
        fd = self._open_rw(sh, e)
        try:
            view = memoryview(data)
            done = 0
            while done < len(view):
                done += os.pwrite(fd, view[done:], offset + done)
        finally:
            os.close(fd)

    def clear_range(self, sh, e, offset, length):
        fd = self._open_rw(sh, e)
        try:
            if _FALLOCATE is not None and _FALLOCATE(
                    fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0:
                return
            zeros = bytes(1 << 20)
            pos = offset
            end = offset + length
            while pos < end:
                n = min(len(zeros), end - pos)
                os.pwrite(fd, zeros[:n], pos)
                pos += n
        finally:
            os.close(fd)

    def truncate(self, sh, e, size):
        fd = self._open_rw(sh, e)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)

    def open_read(self, sh, e):
        """A read-only descriptor; the caller closes it (may be used unlocked)."""
        try:
            return os.open(self.data_path(sh, e), os.O_RDONLY)
        except FileNotFoundError:
            return None

    def close(self):
        with self.lock:
            self.db.close()


def read_exact(fd, offset, length):
    """pread that pads with zeros past the end of a (possibly truncated) file."""
    out = bytearray()
    while len(out) < length and fd is not None:
        chunk = os.pread(fd, length - len(out), offset + len(out))
        if not chunk:
            break
        out += chunk
    if len(out) < length:
        out += bytes(length - len(out))
    return bytes(out)


# ---------- written-range bookkeeping (sorted, disjoint [start, end) lists) ----------
def ranges_add(ranges, start, end):
    out = []
    for s, e in ranges:
        if e < start or s > end:
            out.append([s, e])
        else:
            start, end = min(s, start), max(e, end)
    out.append([start, end])
    out.sort()
    return out


def ranges_sub(ranges, start, end):
    out = []
    for s, e in ranges:
        if e <= start or s >= end:
            out.append([s, e])
            continue
        if s < start:
            out.append([s, start])
        if e > end:
            out.append([end, e])
    return out


def ranges_clip(ranges, start, end):
    out = []
    for s, e in ranges:
        s2, e2 = max(s, start), min(e, end)
        if s2 < e2:
            out.append([s2, e2])
    return out
