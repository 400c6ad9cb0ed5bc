#!/usr/bin/python3
# oracles.py - compare what independent readers see in a hive saved by
# tests/model/model_test with what the model expects (EXPECTED.dump, the
# canonical `hivectl dump` format; see tests/oracle/hivex_dump.py).
#
#   oracles.py diff EXPECTED ACTUAL [--written W --minor N]
#       ACTUAL is another canonical dump (e.g. from hivex_dump.py).
#   oracles.py reglookup EXPECTED HIVE [--written W --minor N] [--any-name-storage]
#       runs `reglookup -H HIVE` and compares its CSV with what reglookup
#       must print for EXPECTED (derivation below).
#   oracles.py adjust EXPECTED --written W --minor N
#       prints EXPECTED with the "short last segment" reading (below) applied,
#       for feeding to regf_dump.py --compare.
#
# One status line on stdout (then up to 10 differences); exit status:
#   0 agree
#   1 mismatch
#   2 agree only if big-data values written by this run are read the way
#     Windows-layout readers read the engine's short last segment (see below):
#     an ENGINE interop defect, not a reader limit
#   3 the reader failed on the hive
#
# Short last big-data segment.  Windows stores every big-data segment
# (including the last) in a 16352-byte cell: 16344 data bytes + 4 spare.
# hivex (lib/value.c: seg_len - 8), libregf (cell size - 4, capped) and regfi
# (reglookup: cell_info->length - 8) all take "cell size - 8" bytes from each
# segment.  A last segment of c bytes allocated at its exact size then yields
# round8(c + 4) - 8 bytes, i.e. c mod 8 bytes too few when c mod 8 is 1..4.
# --written (the WRITTEN file of model_test: "path<TAB>name" of values this
# run set) and --minor (>= 4: db records exist) select the values to which
# this reading applies.
#
# What reglookup 1.0.1 prints (src/common.c, lib/regfi.c; checked here):
#   "PATH,KEY,,MTIME" per key; "PATH/NAME,TYPE,VALUE," per value (-H: no
#   header).  PATH is "/" for the root, else "/" + names joined by "/"; so a
#   root value reads "//NAME".  quote(b, special) writes bytes < 0x20, > 0x7E,
#   '%' and those in `special` as %XX (upper-case hex), the rest as is.
#   Names (special ',"/'): a Latin-1-stored name is its bytes cut at the first
#   NUL, quoted; a UTF-16 name converted by iconv to US-ASCII (succeeds iff
#   every unit < 0x80) is that, cut at the first NUL, quoted; otherwise the raw
#   UTF-16LE bytes are quoted.  The engine stores a name as Latin-1 iff every
#   unit is < 0x100; --any-name-storage accepts either form (real hives).
#   TYPE: NONE SZ EXPAND_SZ BINARY DWORD DWORD_BE LINK MULTI_SZ RSRC_LIST
#   RSRC_DESC RSRC_REQ_LIST QWORD for 0..11, else 0x%08X.
#   VALUE: "(null)" for empty data (printf of NULL); SZ/EXPAND_SZ/LINK: if the
#   data is even-sized and all units < 0x80, the ASCII cut at its first NUL,
#   quoted with ',"'; MULTI_SZ: same conversion, split where a NUL is followed
#   by a non-NUL, each piece cut at its NUL, quoted with ',"|', joined by '|';
#   DWORD/DWORD_BE/QWORD of >= 4/4/8 bytes: 0x%08X / 0x%016X of the first
#   bytes; NONE, BINARY, RSRC_*: all bytes quoted with ',"'; anything that
#   cannot be interpreted (failed conversion, short DWORD/QWORD, unknown
#   type): all bytes quoted with ',"|'.  Data over 1 MiB would be truncated
#   (model_test writes at most 200000 bytes).  Type 0x7FFFFFFF prints as KEY
#   (regfi's REG_KEY).  MTIME of a key is garbage for absurd FILETIMEs
#   (gmtime fails): it is not compared.
#   Big data (version >= 1.5 for regfi): regfi keeps the segment cells in a
#   range list sorted by file offset, so it concatenates them in ascending
#   offset order, not list order, taking "cell size - 8" bytes of each until
#   the declared length is reached.  This script reads the segment offsets
#   from the file (its own small walker, in dump order) to predict that
#   exactly; a value read as predicted only because of the offset order is a
#   reglookup limit (counted, accepted).

import signal
import subprocess
import sys

SEGMENT = 16344
TYPES = ["NONE", "SZ", "EXPAND_SZ", "BINARY", "DWORD", "DWORD_BE", "LINK",
         "MULTI_SZ", "RSRC_LIST", "RSRC_DESC", "RSRC_REQ_LIST", "QWORD"]
KEY_SPECIAL = b',"/'
SUB_SPECIAL = b',"|'
COMMON_SPECIAL = b',"'


def unescape(s):
    """Escaped dump name -> list of UTF-16 code units."""
    out, i = [], 0
    while i < len(s):
        if s[i] == "%":
            out.append(int(s[i + 1:i + 5], 16))
            i += 5
        else:
            out.append(ord(s[i]))
            i += 1
    return out


def read_dump(path):
    """List of ('K', path) and ('V', path, name, type, bytes) records."""
    recs = []
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            p = line.split("\t")
            if p[0] == "K" and len(p) == 2:
                recs.append(("K", p[1]))
            elif p[0] == "V" and len(p) == 5:
                recs.append(("V", p[1], p[2], int(p[3]), bytes.fromhex(p[4])))
            else:
                recs.append(("?", line))
    return recs


def read_written(path):
    s = set()
    if path:
        with open(path, encoding="ascii") as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    k, _, n = line.partition("\t")
                    s.add((k, n))
    return s


def short_tail(data):
    """The bytes a Windows-layout reader gets from the engine's big data."""
    if len(data) <= SEGMENT:
        return data
    c = len(data) - SEGMENT * ((len(data) - 1) // SEGMENT)
    lose = c % 8 if 1 <= c % 8 <= 4 else 0
    return data[:len(data) - lose]


def adjusted(recs, written, minor):
    if minor < 4:
        return recs
    out = []
    for r in recs:
        if r[0] == "V" and (r[1], r[2]) in written and len(r[4]) > SEGMENT:
            r = r[:4] + (short_tail(r[4]),)
        out.append(r)
    return out


def fmt(r):
    if r[0] == "K":
        return "K\t%s" % r[1]
    if r[0] == "V":
        return "V\t%s\t%s\t%d\t%s" % (r[1], r[2], r[3], r[4].hex())
    return r[1]


def short(s, n=160):
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def describe(a, b):
    """One line on how record a (expected) and b (read) differ."""
    if a[0] == b[0] == "V" and a[1:4] == b[1:4]:
        x, y = a[4], b[4]
        common = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]),
                      min(len(x), len(y)))
        return ("value %s\\%s type %d: %d bytes expected, %d read; first "
                "difference at byte %d" % (a[1], a[2], a[3], len(x), len(y), common))
    return "expected %s\n      read     %s" % (short(fmt(a)), short(fmt(b)))


def compare(exp, got, exp_adj):
    """Status code and lines for two record lists (exp_adj: see adjusted)."""
    diffs = []
    if len(exp) != len(got):
        diffs.append("%d records expected, %d read" % (len(exp), len(got)))
    tail_only = True
    for i, (a, b) in enumerate(zip(exp, got)):
        if a == b:
            continue
        if exp_adj[i] != b:
            tail_only = False
        diffs.append("record %d: %s" % (i + 1, describe(a, b)))
    if not diffs:
        return 0, ["agree (%d records)" % len(exp)]
    if tail_only and len(exp) == len(got):
        return 2, ["agree only with short last big-data segments "
                   "(ENGINE defect, %d values)" % len(diffs)] + diffs[:10]
    return 1, ["mismatch (%d differences)" % len(diffs)] + diffs[:10]


# ---- reglookup ----

def quote(b, special):
    out = []
    for c in b:
        if c < 0x20 or c > 0x7E or c == 0x25 or c in special:
            out.append("%%%02X" % c)
        else:
            out.append(chr(c))
    return "".join(out)


def cut(b):
    i = b.find(b"\0")
    return b if i < 0 else b[:i]


def utf16le(units):
    return b"".join(bytes((u & 0xFF, u >> 8)) for u in units)


def name_forms(units, any_storage):
    """The renderings reglookup may print for a name."""
    latin1 = all(u < 0x100 for u in units)
    forms = set()
    if latin1:
        forms.add(quote(cut(bytes(units)), KEY_SPECIAL))
    if not latin1 or any_storage:
        if all(u < 0x80 for u in units):
            forms.add(quote(cut(bytes(units)), KEY_SPECIAL))
        else:
            forms.add(quote(utf16le(units), KEY_SPECIAL))
    return forms


def ascii_of(data):
    """iconv UTF-16LE -> US-ASCII as regfi does it, or None."""
    if len(data) % 2:
        return None
    units = [data[i] | data[i + 1] << 8 for i in range(0, len(data), 2)]
    if any(u >= 0x80 for u in units):
        return None
    return bytes(units)


def render_data(t, d):
    if len(d) == 0:
        return "(null)"
    raw = quote(d, SUB_SPECIAL)
    if t in (1, 2, 6):
        s = ascii_of(d)
        return raw if s is None else quote(cut(s), COMMON_SPECIAL)
    if t == 7:
        s = ascii_of(d)
        if s is None:
            return raw
        starts, j = [0], 1
        for i in range(len(s)):
            if j >= len(s):
                break
            if s[i] == 0 and i + 1 < len(s) and s[i + 1] != 0:
                starts.append(i + 1)
                j += 1
        return "|".join(quote(cut(s[k:]), SUB_SPECIAL) for k in starts)
    if t == 4:
        return raw if len(d) < 4 else "0x%08X" % int.from_bytes(d[:4], "little")
    if t == 5:
        return raw if len(d) < 4 else "0x%08X" % int.from_bytes(d[:4], "big")
    if t == 11:
        return raw if len(d) < 8 else "0x%016X" % int.from_bytes(d[:8], "little")
    if t in (0, 3, 8, 9, 10):
        return quote(d, COMMON_SPECIAL)
    return raw


def type_name(t):
    if t == 0x7FFFFFFF:
        return "KEY"
    return TYPES[t] if t < len(TYPES) else "0x%08X" % t


def value_cells(path):
    """Per value, in dump order: None, or [(offset, cell size)] of its big
    data segments in list order (a minimal independent walk of the file)."""
    b = open(path, "rb").read()
    minor = int.from_bytes(b[24:28], "little")
    bins = memoryview(b)[4096:]

    def u16(o):
        return bins[o] | bins[o + 1] << 8

    def u32(o):
        return int.from_bytes(bins[o:o + 4], "little")

    def size(o):
        return abs(int.from_bytes(bins[o:o + 4], "little", signed=True))

    def subkeys(lst):
        d = lst + 4
        sig, n = bytes(bins[d:d + 2]), u16(d + 2)
        if sig == b"ri":
            return [k for i in range(n) for k in subkeys(u32(d + 4 + 4 * i))]
        step = 4 if sig == b"li" else 8
        return [u32(d + 4 + step * i) for i in range(n)]

    out = []
    stack = [u32(0 + 0) if False else int.from_bytes(b[36:40], "little")]
    while stack:
        nk = stack.pop()
        d = nk + 4
        nval, vlist = u32(d + 36), u32(d + 40)
        for i in range(nval):
            vk = u32(vlist + 4 + 4 * i) + 4
            dsize, doff = u32(vk + 4), u32(vk + 8)
            length = dsize & 0x7FFFFFFF
            if (dsize & 0x80000000 or length == 0 or minor < 5 or
                    size(doff) - 4 >= length or bytes(bins[doff + 4:doff + 6]) != b"db"):
                out.append(None)
                continue
            n, seglist = u16(doff + 6), u32(doff + 8)
            segs = [u32(seglist + 4 + 4 * j) for j in range(n)]
            out.append([(o, size(o)) for o in segs])
        nsub, slist = u32(d + 20), u32(d + 28)
        kids = subkeys(slist) if nsub else []
        stack.extend(reversed(kids))
    return out, bins


def regfi_read(cells, bins, length, in_list_order):
    """The bytes regfi (or, in list order, a Windows-layout reader) gets."""
    order = cells if in_list_order else sorted(cells)
    out, left = bytearray(), length
    for off, csize in order:
        if left == 0:
            break
        take = left if csize - 8 >= left else csize - 8
        out += bins[off + 4:off + 4 + take]
        left -= take
    return bytes(out)


def path_units(p):
    return [unescape(c) for c in p.split("\\")] if p else []


def reglookup_check(exp_recs, lines, any_storage, cells=None, counts=None):
    """Differences between reglookup's CSV lines and the records; with
    `cells` (from value_cells) big data is predicted as regfi reads it and
    counts["reorder"] / counts["tail"] say how often that mattered."""
    diffs = []
    vi = -1
    if len(lines) != len(exp_recs):
        diffs.append("%d lines, %d records expected" % (len(lines), len(exp_recs)))
    for i, (r, line) in enumerate(zip(exp_recs, lines)):
        f = line.split(",", 3)
        if len(f) != 4:
            diffs.append("line %d: %d fields: %s" % (i + 1, len(f), short(line)))
            continue
        keyp = r[1]
        if r[0] == "K":
            lpath, ok = f[0], f[1] == "KEY" and f[2] == ""
        else:
            vi += 1
            lpath, _, lname = f[0].rpartition("/")
            ok = (lname in name_forms(unescape(r[2]), any_storage) and
                  f[1] == type_name(r[3]) and f[3] == "")
            if ok and f[2] != render_data(r[3], r[4]):
                ok = False
                segs = cells[0][vi] if cells and vi < len(cells[0]) else None
                if segs:
                    listed = regfi_read(segs, cells[1], len(r[4]), True)
                    if f[2] == render_data(r[3], regfi_read(segs, cells[1], len(r[4]), False)):
                        ok = True
                        if listed != r[4]:
                            counts["tail"] += 1
                        if sorted(segs) != segs:
                            counts["reorder"] += 1
        comps = [] if lpath == "/" else lpath.split("/")[1:]
        want = path_units(keyp)
        if not lpath.startswith("/") or len(comps) != len(want) or any(
                c not in name_forms(w, any_storage) for c, w in zip(comps, want)):
            ok = False
        if not ok:
            if r[0] == "V":
                exp_line = "%s/%s,%s,%s," % (
                    "/" + "/".join(sorted(name_forms(w, any_storage))[0] for w in want),
                    "|".join(sorted(name_forms(unescape(r[2]), any_storage))),
                    type_name(r[3]), render_data(r[3], r[4]))
            else:
                exp_line = "/" + "/".join(
                    sorted(name_forms(w, any_storage))[0] for w in want) + ",KEY,,"
            diffs.append("line %d: %s\n      expected %s" % (
                i + 1, short(line), short(exp_line)))
    return diffs


USAGE = ("usage: oracles.py diff EXPECTED ACTUAL | reglookup EXPECTED HIVE | "
         "adjust EXPECTED  [--written W --minor N] [--any-name-storage]\n"
         "(see the comment at the top of oracles.py)\n")


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(argv) < 2 or argv[0] not in ("diff", "reglookup", "adjust"):
        sys.stderr.write(USAGE)
        return 64
    mode, expected = argv[0], argv[1]
    rest = argv[2:]
    written, minor, any_storage, pos = None, 5, False, []
    i = 0
    while i < len(rest):
        if rest[i] == "--written":
            written, i = rest[i + 1], i + 2
        elif rest[i] == "--minor":
            minor, i = int(rest[i + 1]), i + 2
        elif rest[i] == "--any-name-storage":
            any_storage, i = True, i + 1
        else:
            pos.append(rest[i])
            i += 1
    if (mode != "adjust") != (len(pos) == 1):
        sys.stderr.write(USAGE)
        return 64
    exp = read_dump(expected)
    exp_adj = adjusted(exp, read_written(written), minor)
    if mode == "adjust":
        sys.stdout.write("".join(fmt(r) + "\n" for r in exp_adj))
        return 0
    if mode == "diff":
        code, lines = compare(exp, read_dump(pos[0]), exp_adj)
        print("\n".join(lines))
        return code
    p = subprocess.run(["reglookup", "-H", pos[0]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        print("unreadable: reglookup exit %d: %s" % (
            p.returncode, p.stderr.decode("latin-1").strip().splitlines()[-1:]))
        return 3
    out = p.stdout.decode("latin-1").split("\n")
    if out and out[-1] == "":
        out.pop()
    counts = {"tail": 0, "reorder": 0}
    diffs = reglookup_check(exp, out, any_storage, value_cells(pos[0]), counts)
    if diffs:
        print("mismatch (%d differences)" % len(diffs))
        print("\n".join(diffs[:10]))
        return 1
    note = ""
    if counts["reorder"]:
        note = "; %d big values read in file-offset order of their segments " \
               "(a regfi limit)" % counts["reorder"]
    if counts["tail"]:
        print("agree only with short last big-data segments (ENGINE defect, "
              "%d values)%s" % (counts["tail"], note))
        return 2
    print("agree (%d lines%s)" % (len(out), note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
