#!/usr/bin/python3
# regf_dump.py [--compare REFDUMP] HIVE
#
# Produce the canonical hivefs dump (see hivex_dump.py for the format) from
# libregf, by running `regfexport HIVE` (libregf-utils 20201007) and parsing
# its text output.  A second, independent oracle next to hivex.
#
#   regf_dump.py HIVE
#       exit 0: dump on stdout, every byte of it derived unambiguously from
#               regfexport's output;
#       exit 2: regfexport read the hive, but its output cannot be turned into
#               an exact dump (reasons on stderr; stdout has a best effort);
#       exit 1: regfexport failed on the hive (libregf cannot read it).
#   regf_dump.py --compare REFDUMP HIVE
#       compares libregf's view with REFDUMP (a canonical dump from hivectl or
#       hivex), knowing what regfexport cannot express (list below).  Prints
#       one status line, then (for a mismatch) the start of a unified diff:
#       exit 0 "agree"               every line identical;
#       exit 2 "agree except ..."    every line identical or explained by one
#                                    of the limits below (counted per kind);
#       exit 2 "inexpressible (...)" regfexport's own output was not exact
#                                    (parse ambiguity, "Is corrupted"), no
#                                    verdict; says how many lines differ anyway;
#       exit 1 "mismatch"            a difference no known limit explains;
#       exit 3 "unreadable: ERROR"   regfexport failed on the hive.
#
# regfexport's format (regftools/export_handle.c), all on stdout:
#   "regfexport VERSION\n\n", then per key in preorder
#   "Key path: <root name>\<...>\<name>\n" "Key: <name>\n"
#   ["Class name: <class>\n"]
#   per value: "Value: <index> <name>\n" (or "Value: <index> (default)\n")
#     ["Is corrupted\n"] "Type: <description>\n" "Data size: <n>\n", then
#     REG_SZ/REG_EXPAND_SZ: "Data: <UTF-8 string>\n" (or "Data:\n" if empty),
#     REG_DWORD(_BIG_ENDIAN)/REG_QWORD of the right size: "Data: <decimal>\n",
#     otherwise (or when the size does not fit the type) an optional
#     "Mismatch in data size and that required for data type.\n" and
#     "Data:\n" + a 16-bytes-per-line hex dump + "\n"; each value ends with "\n".
#   A key without values is followed by "\n"; the export ends with "\n".
#   Names and strings are UTF-8; "compressed" (8-bit) names are decoded with
#   the codepage windows-1252.  The parser works on bytes with a cursor and
#   tries every way a name/string containing newlines could be split; each
#   candidate must be followed by a valid next token, and a string's UTF-16
#   length must fit "Data size".  Big-endian DWORDs are printed as numbers
#   and converted back with their byte order.
#
# What regfexport / libregf 20201007 CANNOT express exactly (never turned
# into a fake agreement; found on the corpus and in libregf's source):
#   1. names containing NUL: printed with %s, i.e. cut at the NUL
#      (hivex/special, yarp/BogusKeyNamesHive).
#   2. a value really named "(default)": printed like the unnamed value
#      (yarp/hives_for_manual_tests/FuseHive2).
#   3. compressed names with bytes 0x80..0x9F: windows-1252 turns them into
#      characters (0x9F -> U+0178) that a UTF-16 name could also hold
#      (yarp/CompHive).  Plain mode reports such names, and U+FFFD, as
#      ambiguous; --compare accepts exactly the windows-1252 image.
#   4. REG_SZ/REG_EXPAND_SZ data in a cell (not inline, not big data):
#      libregf does not report the stored length; it re-derives it from the
#      first UTF-16 NUL in the whole data cell and keeps it if that part is
#      valid UTF-16 (libregf_value_item_read_value_data) - cutting data after
#      an embedded NUL or extending a string into the cell padding; the
#      string is then printed, not dumped, and cut at its first NUL.
#      --compare accepts libregf data equal to the reference cut after its
#      first NUL unit, or (no NUL unit in the reference) starting with it.
#   5. inline data of 1..3 bytes: libregf copies the LAST n bytes of the
#      4-byte field instead of the first n (libregf_value_key_read_data),
#      and for REG_SZ/REG_EXPAND_SZ of odd n it copies n+1 bytes and zeroes
#      the last; e.g. hivex/rlenvalue_test_hive 3Bytes "012" -> "12\0".
#      --compare accepts same-length data (n+1 for odd strings), checking the
#      overlapping bytes for n = 3.
#   6. values libregf marks "Is corrupted" (e.g. data size beyond the cell:
#      libregf clips it) => "inexpressible".
#   7. a printed string whose end is ambiguous (ends in newlines, or data
#      not shown because libregf's string conversion failed) => "inexpressible".
#   Key classes are not part of the canonical dump and are skipped.

import re
import subprocess
import sys
import difflib

_UNIT = ["%%%04x" % u for u in range(0x10000)]
for _u in range(0x21, 0x7F):
    if _u not in (0x25, 0x5C):
        _UNIT[_u] = chr(_u)
_ESC_CACHE = {}


def esc(name):
    r = _ESC_CACHE.get(name)
    if r is None:
        b = name.encode("utf-16-le", "surrogatepass")
        r = "".join([_UNIT[b[i] | (b[i + 1] << 8)] for i in range(0, len(b), 2)])
        _ESC_CACHE[name] = r
    return r


# windows-1252 images of bytes 0x80..0x9F (the bytes Python's cp1252 defines)
CP1252_AMBIG = set(bytes([b]).decode("cp1252") for b in range(0x80, 0xA0)
                   if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D))

TYPES = {
    b"undefined (REG_NONE)": 0,
    b"string (REG_SZ)": 1,
    b"expandable string (REG_EXPAND_SZ)": 2,
    b"binary data (REG_BINARY)": 3,
    b"32-bit integer little-endian (REG_DWORD_LITTLE_ENDIAN)": 4,
    b"32-bit integer big-endian (REG_DWORD_BIG_ENDIAN)": 5,
    b"symbolic link (REG_LINK)": 6,
    b"multi-value string (REG_MULTI_SZ)": 7,
    b"resource list (REG_RESOURCE_LIST)": 8,
    b"full resource descriptor (REG_FULL_RESOURCE_DESCRIPTOR)": 9,
    b"resource requirements list (REG_RESOURCE_REQUIREMENTS_LIST)": 10,
    b"64-bit integer little-endian (REG_QWORD_LITTLE_ENDIAN)": 11,
}
MISMATCH = b"Mismatch in data size and that required for data type.\n"
UNKNOWN_TYPE_RE = re.compile(rb"unknown: 0x([0-9a-f]{8})")
DATA_SIZE_RE = re.compile(rb"Data size: (\d+)\n")
DATA_NUM_RE = re.compile(rb"Data: (\d+)\n\n")
HEXLINE_RE = re.compile(rb"([0-9a-f]{8}): ([0-9a-f ]{49})  [\x20-\x7e]*\n")


class ParseError(Exception):
    pass


class Parser:
    def __init__(self, buf):
        self.buf = buf
        self.out = []          # canonical dump lines (without "\n")
        self.reasons = []      # why the dump is not exact (may be empty)
        self.name_notes = []   # names that may not be exact (see name())
        self.nvalues = 0

    def inexact(self, why):
        if len(self.reasons) < 20:
            self.reasons.append(why)

    # -- helpers -----------------------------------------------------------
    def name(self, raw, what):
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.inexact("%s %r is not valid UTF-8" % (what, raw))
            return raw.decode("utf-8", "replace")
        if "\ufffd" in s:
            self.name_note("%s %r contains U+FFFD" % (what, s))
        if any(c in CP1252_AMBIG for c in s):
            self.name_note("%s %r contains a windows-1252 character of 0x80..0x9F "
                           "(compressed byte or UTF-16 unit?)" % (what, s))
        return s

    def name_note(self, why):
        # names are only ambiguous on their own; --compare resolves them
        # against the reference (see name_equiv), a plain dump reports them.
        if len(self.name_notes) < 20:
            self.name_notes.append(why)

    def boundary(self, p, vindex):
        """Is p where a value block may end (next value, next key, or EOF)?"""
        b = self.buf
        return (b.startswith(b"Value: %d " % (vindex + 1), p)
                or b.startswith(b"Key path: ", p)
                or (p == len(b) - 1 and b[p:] == b"\n"))

    def hexdump(self, p, n):
        """Parse "Data:\\n" + hex dump of n bytes + "\\n" at p -> (data, end)."""
        b = self.buf
        if not b.startswith(b"Data:\n", p):
            return None
        p += 6
        chunks = []
        off = 0
        while off < n:
            m = HEXLINE_RE.match(b, p)
            if not m or int(m.group(1), 16) != off:
                return None
            cnt = min(16, n - off)
            hx = m.group(2)
            # byte i sits at 3*i (+1 after the 8th); the rest is padding
            want = bytes.fromhex(hx.decode("ascii"))
            if len(want) != cnt:
                return None
            chunks.append(want)
            off += cnt
            p = m.end()
        if not b.startswith(b"\n", p):
            return None
        return b"".join(chunks), p + 1

    def sized_raw(self, p, n, vindex, expected):
        """Data printed as raw dump (with optional mismatch line) at p."""
        b = self.buf
        if expected:
            if not b.startswith(MISMATCH, p):
                return None
            p += len(MISMATCH)
        if n == 0:
            if b.startswith(b"\n", p) and self.boundary(p + 1, vindex):
                return b"", p + 1
            return None
        r = self.hexdump(p, n)
        if r and self.boundary(r[1], vindex):
            return r
        return None

    def string_value(self, p, n, vindex):
        """REG_SZ / REG_EXPAND_SZ data at p -> (data, end)."""
        b = self.buf
        cands = {}
        # (i) string conversion failed, no string line; raw dump may follow
        for exp in (False, True):
            r = self.sized_raw(p, n, vindex, exp)
            if r:
                cands.setdefault(r[0], r[1])
        if b.startswith(b"Data:", p):
            q = p + 5
            if b.startswith(b"\n", q):                 # empty string line
                texts = [(q, q)]
            elif b.startswith(b" ", q):
                ts = q + 1
                texts = []
                lim = ts + 3 * (n // 2) + 8
                e = b.find(b"\n", ts)
                while e != -1 and e <= lim:
                    texts.append((ts, e))
                    e = b.find(b"\n", e + 1)
            else:
                texts = []
            for ts, e in texts:
                raw = b[ts:e]
                after = e + 1
                # (ii) string line followed by the end of the value block
                if b.startswith(b"\n", after) and self.boundary(after + 1, vindex) \
                        and n % 2 == 0:
                    try:
                        s = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        s = None
                    if s is not None:
                        u = s.encode("utf-16-le", "surrogatepass")
                        if len(u) == n - 2:
                            cands.setdefault(u + b"\0\0", after + 1)
                            if "\ufffd" in s:
                                self.inexact("string data with U+FFFD")
                        elif len(u) == n:
                            cands.setdefault(u, after + 1)
                            if "\ufffd" in s:
                                self.inexact("string data with U+FFFD")
                # (iii) string line followed by a raw dump of the data
                for exp in (True, False):
                    r = self.sized_raw(after, n, vindex, exp)
                    if r:
                        cands.setdefault(r[0], r[1])
        if not cands:
            # string conversion failed and sizes matched: data not shown
            if b.startswith(b"\n", p) and self.boundary(p + 1, vindex):
                self.inexact("string value whose data regfexport does not show")
                return b"", p + 1
            raise ParseError("cannot parse string data at offset %d" % p)
        if len(cands) > 1:
            self.inexact("string data printed ambiguously (newlines?)")
        data = next(iter(cands))
        return data, cands[data]

    # -- structure ---------------------------------------------------------
    def parse(self):
        b = self.buf
        if not b.startswith(b"regfexport "):
            raise ParseError("no regfexport header")
        p = b.find(b"\n\n")
        if p < 0:
            raise ParseError("no header end")
        p += 2
        if b.startswith(b"No root key\n", p):
            raise ParseError("libregf: no root key")
        stack = []          # [(raw path bytes, canonical path)]
        while True:
            if b.startswith(b"Key path: ", p):
                p = self.key(p, stack)
            elif p == len(b) - 1 and b[p:] == b"\n":
                break
            else:
                raise ParseError("unexpected text at offset %d: %r" % (p, b[p:p + 40]))
        if not stack:
            raise ParseError("no keys")

    def key(self, p, stack):
        b = self.buf
        s = p + 10
        j = b.find(b"\nKey: ", s)
        found = None
        tries = 0
        while j != -1 and tries < 64 and found is None:
            tries += 1
            P = b[s:j]
            k = j + 6
            if not stack:
                if b.startswith(P + b"\n", k):
                    found = (-1, P)
            else:
                for idx in range(len(stack) - 1, -1, -1):
                    anc = stack[idx][0]
                    if idx == 0 and anc == b"":
                        N = P            # root without a name: no separator
                    elif P.startswith(anc + b"\\"):
                        N = P[len(anc) + 1:]
                    else:
                        continue
                    if b.startswith(N + b"\n", k):
                        found = (idx, N)
                        break
            if found is None:
                j = b.find(b"\nKey: ", j + 1)
        if found is None:
            raise ParseError("cannot place key at offset %d: %r" % (p, b[p:p + 80]))
        idx, N = found
        P = b[s:j]
        name = self.name(N, "key name")
        if idx < 0:
            canon = ""
        else:
            del stack[idx + 1:]
            parent = stack[idx]
            canon = esc(name) if idx == 0 else parent[1] + "\\" + esc(name)
        stack.append((P, canon))
        self.out.append("K\t" + canon)
        p = j + 6 + len(N) + 1
        if b.startswith(b"Class name: ", p):
            q = b.find(b"\n", p)
            while q != -1:
                if b.startswith(b"Value: 0 ", q + 1) or b.startswith(b"\nKey path: ", q + 1) \
                        or b[q + 1:] == b"\n\n":
                    break
                q = b.find(b"\n", q + 1)
            if q == -1:
                raise ParseError("cannot find end of class name at %d" % p)
            p = q + 1
        i = 0
        while b.startswith(b"Value: %d " % i, p):
            p = self.value(p, i, canon)
            i += 1
        if i == 0:
            if not b.startswith(b"\n", p):
                raise ParseError("expected blank line after key at %d" % p)
            p += 1
        return p

    def value(self, p, i, path):
        b = self.buf
        s = p + len(b"Value: %d " % i)
        # the name ends at the first "\nType: <known type>\nData size: N\n"
        # (a name may itself contain newlines)
        t = b.find(b"\nType: ", s)
        m = None
        while t >= 0:
            e = b.find(b"\n", t + 7)
            tdesc = b[t + 7:e] if e >= 0 else b""
            if tdesc in TYPES:
                vt = TYPES[tdesc]
            else:
                mt = UNKNOWN_TYPE_RE.fullmatch(tdesc)
                vt = int(mt.group(1), 16) if mt else None
            if vt is not None:
                m = DATA_SIZE_RE.match(b, e + 1)
                if m:
                    break
            t = b.find(b"\nType: ", t + 1)
        if m is None:
            raise ParseError("no Type/Data size lines after value at %d" % p)
        raw = b[s:t]
        if raw.endswith(b"\nIs corrupted"):
            raw = raw[:-len(b"\nIs corrupted")]
            self.inexact("libregf marks value %r under %r corrupted" % (raw, path))
        name = "" if raw == b"(default)" else self.name(raw, "value name")
        n = int(m.group(1))
        p = m.end()
        if vt in (1, 2):
            data, p = self.string_value(p, n, i)
        else:
            width = {4: 4, 5: 4, 11: 8}.get(vt)
            r = None
            if width is not None and n == width:
                m = DATA_NUM_RE.match(b, p)
                if m and self.boundary(m.end(), i):
                    v = int(m.group(1))
                    data = v.to_bytes(width, "big" if vt == 5 else "little")
                    r = (data, m.end())
            else:
                r = self.sized_raw(p, n, i, width is not None)
            if r is None:
                raise ParseError("cannot parse data of type %d at %d" % (vt, p))
            data, p = r
        self.out.append("V\t%s\t%s\t%d\t%s" % (path, esc(name), vt, data.hex()))
        self.nvalues += 1
        return p


def run_regfexport(hive):
    try:
        pr = subprocess.run(["regfexport", hive], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    except OSError as e:
        return None, "cannot run regfexport: %s" % e
    if pr.returncode != 0:
        err = pr.stderr.decode("utf-8", "replace").strip().splitlines()
        msg = " / ".join(err[:3]) if err else "exit %d" % pr.returncode
        return None, "regfexport exit %d: %s" % (pr.returncode, msg)
    return pr.stdout, None


def libregf_dump(hive):
    """-> (parser or None, error or None)"""
    out, err = run_regfexport(hive)
    if out is None:
        return None, err
    ps = Parser(out)
    try:
        ps.parse()
    except ParseError as e:
        ps.inexact("unparseable regfexport output: %s" % e)
    return ps, None


def _units(escaped):
    """Escaped name -> list of UTF-16 code units."""
    u = []
    i = 0
    while i < len(escaped):
        if escaped[i] == "%":
            u.append(int(escaped[i + 1:i + 5], 16))
            i += 5
        else:
            u.append(ord(escaped[i]))
            i += 1
    return u


CP1252_UNIT = {}
for _b in range(0x80, 0xA0):
    try:
        CP1252_UNIT[_b] = ord(bytes([_b]).decode("cp1252"))
    except UnicodeDecodeError:
        pass


def name_equiv(ref, lib, notes):
    """Could libregf print the reference name `ref` as `lib`?  (escaped)"""
    if ref == lib:
        return True
    if "%0000" in ref and ref[:ref.index("%0000")] == lib:
        notes["name with NUL, cut by regfexport"] += 1
        return True
    ru, lu = _units(ref), _units(lib)
    if len(ru) == len(lu) and all(a == b or CP1252_UNIT.get(a) == b
                                  for a, b in zip(ru, lu)):
        notes["compressed name byte 0x80..0x9F shown as windows-1252"] += 1
        return True
    return False


def path_equiv(ref, lib, notes):
    if ref == lib:
        return True
    rp, lp = ref.split("\\"), lib.split("\\")
    return len(rp) == len(lp) and all(name_equiv(a, b, notes) for a, b in zip(rp, lp))


def string_rule_ok(ref_hex, lib_hex):
    """Is lib data what libregf's first-NUL rule makes of the stored ref data?"""
    ref = bytes.fromhex(ref_hex)
    lib = bytes.fromhex(lib_hex)
    for i in range(0, len(ref) - 1, 2):
        if ref[i] == 0 and ref[i + 1] == 0:
            return lib == ref[:i + 2]
    return lib.startswith(ref)


def inline_rule_ok(vtype, ref_hex, lib_hex):
    """Is lib data what libregf 20201007 makes of inline data (1..3 bytes)?

    libregf_value_key_read_data copies the LAST n bytes of the 4-byte data
    field instead of the first n, and for REG_SZ/REG_EXPAND_SZ of odd size
    n it copies n+1 bytes and zeroes the last one.  We cannot see the field,
    so only the parts of the rule that overlap the reference are checked."""
    ref = bytes.fromhex(ref_hex)
    lib = bytes.fromhex(lib_hex)
    n = len(ref)
    if n not in (1, 2, 3):
        return False
    if vtype in ("1", "2") and n in (1, 3):
        return len(lib) == n + 1 and lib[-1] == 0 and (n == 1 or lib[:3] == ref)
    return len(lib) == n and (n != 3 or lib[:2] == ref[1:])


def line_equiv(a, c, notes):
    fa, fc = a.split("\t"), c.split("\t")
    if fa[0] != fc[0] or len(fa) != len(fc):
        return False
    if fa[0] == "K" and len(fa) == 2:
        return path_equiv(fa[1], fc[1], notes)
    if fa[0] != "V" or len(fa) != 5:
        return False
    if not path_equiv(fa[1], fc[1], notes):
        return False
    if fa[2] != fc[2]:
        if fa[2] == "(default)" and fc[2] == "":
            notes["value really named '(default)', shown like the default value"] += 1
        elif not name_equiv(fa[2], fc[2], notes):
            return False
    if fa[3] != fc[3]:
        return False
    if fa[4] != fc[4]:
        if inline_rule_ok(fa[3], fa[4], fc[4]):
            notes["1..3 bytes of inline data (libregf reads the wrong end of the field)"] += 1
        elif fa[3] in ("1", "2") and string_rule_ok(fa[4], fc[4]):
            notes["REG_SZ/REG_EXPAND_SZ length re-derived from the first NUL"] += 1
        else:
            return False
    return True


def compare(refpath, hive):
    import collections
    with open(refpath, "rb") as f:
        refb = f.read()
    ref = refb.decode("utf-8", "surrogateescape").split("\n")
    if ref and ref[-1] == "":
        ref.pop()
    ps, err = libregf_dump(hive)
    if ps is None:
        print("unreadable: %s" % err)
        return 3
    lines = ps.out
    if lines == ref and not ps.reasons:
        print("agree")
        return 0
    notes = collections.Counter()
    bad = None
    ndiff = 0
    if len(lines) == len(ref):
        for k, (a, c) in enumerate(zip(ref, lines)):
            if a != c and not line_equiv(a, c, notes):
                ndiff += 1
                if bad is None:
                    bad = k
    else:
        bad = -1
    if ps.reasons:
        # regfexport's output itself was not exact: no verdict either way
        print("inexpressible (%s): %s" % (
            "line counts differ: %d vs %d" % (len(ref), len(lines)) if bad == -1 else
            "%d of %d lines differ beyond known limits" % (ndiff, len(ref)),
            "; ".join(ps.reasons[:3])))
        return 2
    if bad is None:
        print("agree except values/names libregf cannot express: %s" %
              "; ".join("%d %s" % (n, w) for w, n in sorted(notes.items())))
        return 2
    print("mismatch: reference (-) vs libregf (+)%s" %
          (" (line counts %d vs %d)" % (len(ref), len(lines)) if bad < 0 else ""))
    n = 0
    start = max(bad, 0)
    for d in difflib.unified_diff(ref[start:], lines[start:], "reference", "libregf",
                                  n=0, lineterm=""):
        print(d[:300])
        n += 1
        if n >= 14:
            break
    return 1


def main(argv):
    if len(argv) == 4 and argv[1] == "--compare":
        return compare(argv[2], argv[3])
    if len(argv) != 2:
        sys.stderr.write("usage: regf_dump.py [--compare REFDUMP] HIVE\n")
        return 64
    ps, err = libregf_dump(argv[1])
    if ps is None:
        sys.stderr.write("regf_dump: %s: %s\n" % (argv[1], err))
        return 1
    lines, reasons = ps.out, ps.reasons + ps.name_notes
    sys.stdout.buffer.write(("".join(l + "\n" for l in lines)).encode("utf-8", "surrogateescape"))
    sys.stdout.flush()
    if reasons:
        for r in reasons:
            sys.stderr.write("regf_dump: %s: not exact: %s\n" % (argv[1], r))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
