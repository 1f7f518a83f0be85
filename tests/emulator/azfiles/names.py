"""Name rules from "Naming and Referencing Shares, Directories, Files, and
Metadata".

Shares: 3-63 characters, lowercase letters, digits and single hyphens, not
starting or ending with a hyphen. Directories and files: case-preserving and
case-insensitive, at most 255 characters per component, 2048 for the whole
path, at most 250 levels; forbidden: " \\ / : | < > * ? and control
characters U+0000-U+001F (and U+007F-U+009F), the names "." and "..".
Metadata names follow C# identifier rules. Trailing dots of every path
component are trimmed unless the request sends x-ms-allow-trailing-dot: true
(x-ms-source-allow-trailing-dot for a rename source), version 2022-11-02 on.
"""
import re

from .errors import StorageError
from .util import parse_bool_header, version_at_least

SHARE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
FORBIDDEN = set('"\\/:|<>*?')
MAX_COMPONENT = 255
MAX_PATH = 2048
MAX_DEPTH = 250
META_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_share_name(name):
    if not SHARE_RE.match(name or ""):
        if name and not (3 <= len(name) <= 63):
            raise StorageError("OutOfRangeInput",
                               "The specified resource name length is not within the "
                               "permissible limits.")
        raise StorageError("InvalidResourceName")


def _bad_char(ch):
    o = ord(ch)
    return ch in FORBIDDEN or o < 0x20 or 0x7F <= o <= 0x9F


# one search for what _bad_char() refuses: FORBIDDEN, C0 controls, DEL and C1
_BAD_RE = re.compile("[%s\x00-\x1f\x7f-\x9f]" % re.escape("".join(sorted(FORBIDDEN))))


def check_component(name):
    if name in (".", ".."):
        raise StorageError("InvalidResourceName")
    if _BAD_RE.search(name):
        raise StorageError("InvalidResourceName")
    if len(name) > MAX_COMPONENT:
        raise StorageError("OutOfRangeInput",
                           "The specified resource name length is not within the "
                           "permissible limits.")


def check_path(components):
    """Validate a file or directory path given as decoded components."""
    for c in components:
        check_component(c)
    if len("/".join(components)) > MAX_PATH:
        raise StorageError("InvalidFileOrDirectoryPathName")
    if len(components) > MAX_DEPTH + 1:
        raise StorageError("InvalidFileOrDirectoryPathName",
                           "File or directory path has too many subdirectories.")


TRAILING_DOT_VERSION = "2022-11-02"


def keep_trailing_dots(req, header="x-ms-allow-trailing-dot"):
    """Does this request keep trailing dots in its (source) path? Only with
    the header set to true, from version 2022-11-02 on."""
    allow = parse_bool_header(req.headers, header)
    return allow and version_at_least(req.version, TRAILING_DOT_VERSION)


def trim_trailing_dots(components):
    """What the service does to a path it does not take literally: every
    component loses its trailing dots ("a./b.." -> "a/b"). A component left
    empty ("...") is an invalid name."""
    out = [c.rstrip(".") for c in components]
    if any(c == "" for c in out):
        raise StorageError("InvalidResourceName")
    return out


def check_metadata(meta):
    total = 0
    for k, v in meta.items():
        if not META_RE.match(k):
            raise StorageError("InvalidMetadata")
        total += len(k) + len(v)
    if total > 8 * 1024:
        raise StorageError("MetadataTooLarge")


def needs_encoding(name):
    """Characters XML 1.0 cannot carry: the service then percent-encodes."""
    for ch in name:
        o = ord(ch)
        if o in (0xFFFE, 0xFFFF) or (0xD800 <= o <= 0xDFFF) or (o < 0x20 and ch not in "\t\n\r"):
            return True
    return False


def fold(name):
    """Case-insensitive key (NTFS-style upper-casing)."""
    return name.upper()
