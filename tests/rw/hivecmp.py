#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hivecmp.py — read hives with hivex (an independent reader) for tests/rw/run.
# Run it with /usr/bin/python3 (the interpreter that has python3-hivex).
#
#   hivecmp.py expect BEFORE AFTER EDITS
#       Load BEFORE, apply the edits listed in the file EDITS (what the test
#       did through the mount), load AFTER, and compare the two trees below
#       the root: every key name, every value name, type and data byte.
#       Prints the differences (at most 30 lines) and exits 1 if any.
#   hivecmp.py same HIVE_A KEY_A HIVE_B KEY_B
#       The subtree below KEY_A in HIVE_A equals the one below KEY_B in
#       HIVE_B (names, types, bytes).  KEY "" is the root.
#   hivecmp.py view HIVE KEY MOUNTDUMP
#       MOUNTDUMP (tests/fs/mount_dump.py --text of the mount at KEY, taken
#       before the unmount) shows the same subtree as hivex reads in HIVE.
#   hivecmp.py key HIVE KEY
#       Print "class=HEX sd=HEX time=FILETIME" for a key, read from the nk
#       record that hivex points at (hivex has no accessor for the class
#       name or the security descriptor).
#   hivecmp.py dump HIVE [KEY]
#       The sorted lines this script compares, for debugging.
#
# Trees are compared as sets of lines (K path / V path name type hex):
# the order of values in a value list is not part of the contract, and the
# order of subkey lists is checked by `hivectl check`.  A value or key that
# exists twice (case-insensitively) in one list is reported as an error.
#
# EDITS: one edit per line, fields separated by TAB; key paths are the
# stored key names joined by "/" ("" is the root), matched
# case-insensitively as Windows does; names are UTF-8; "" names the
# default value.
#   set   PATH NAME TYPE HEX    replace-or-create: an existing value keeps
#                               its stored spelling; TYPE a number
#   del   PATH NAME             delete a value
#   mkdir PATH                  create a key (and missing parents)
#   rm    PATH                  delete a key and its subtree
#   mv    PATH NEWPATH          move/rename a key; the last component of
#                               NEWPATH is the new spelling
#   mvval PATH NAME NEWPATH NEWNAME
#                               mv of a value: set NEWNAME (replacing, the
#                               target keeps its spelling) and delete NAME

import struct
import sys

try:
    import hivex
except ImportError as e:
    sys.stderr.write("hivecmp: cannot import hivex (%s); run with /usr/bin/python3\n" % e)
    sys.exit(3)


def up(name):
    # Windows upcases per UTF-16 unit; for the names these tests use
    # (ASCII and the corpus' own names) str.upper() on single characters
    # gives the same answer.
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in name)


def esc(name):
    out = []
    b = name.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(b), 2):
        u = b[i] | b[i + 1] << 8
        if 0x21 <= u < 0x7F and u not in (0x25, 0x5C):
            out.append(chr(u))
        else:
            out.append("%%%04x" % u)
    return "".join(out)


class Key:
    __slots__ = ("name", "values", "keys")

    def __init__(self, name):
        self.name = name
        self.values = {}   # upcased name -> [name, type, data]
        self.keys = {}     # upcased name -> Key


class Problem(Exception):
    pass


class H(hivex.Hivex):
    def __del__(self):
        if hasattr(self, "_o"):
            super().__del__()


def load(path):
    h = H(path)
    errors = []

    def walk(node, name, where, seen):
        k = Key(name)
        for v in h.node_values(node):
            vn = h.value_key(v)
            t, data = h.value_value(v)
            if up(vn) in k.values:
                errors.append("%s: value %r twice" % (where or "(root)", vn))
            k.values[up(vn)] = [vn, t & 0xFFFFFFFF, bytes(data)]
        for c in h.node_children(node):
            if c in seen:
                raise Problem("key cycle below %r" % where)
            cn = h.node_name(c)
            if up(cn) in k.keys:
                errors.append("%s: subkey %r twice" % (where or "(root)", cn))
            k.keys[up(cn)] = walk(c, cn, where + "/" + cn if where else cn, seen | {c})
        return k

    root = h.root()
    return h, walk(root, h.node_name(root), "", frozenset((root,))), errors


def split(path):
    return [p for p in path.split("/") if p != ""]


def find(root, path, create=False):
    k = root
    for part in split(path):
        n = k.keys.get(up(part))
        if n is None:
            if not create:
                raise Problem("no key %r (at %r)" % (path, part))
            n = k.keys[up(part)] = Key(part)
        k = n
    return k


def lines(k, prefix="", out=None):
    if out is None:
        out = []
    out.append("K\t%s" % prefix)
    for name, t, data in k.values.values():
        out.append("V\t%s\t%s\t%d\t%s" % (prefix, esc(name), t, data.hex()))
    for c in k.keys.values():
        lines(c, (prefix + "\\" if prefix else "") + esc(c.name), out)
    return out


def apply(root, edits):
    for lineno, line in enumerate(open(edits, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line:
            continue
        f = line.split("\t")
        try:
            op = f[0]
            if op == "set":
                k = find(root, f[1])
                old = k.values.get(up(f[2]))
                name = old[0] if old else f[2]
                k.values[up(f[2])] = [name, int(f[3], 0), bytes.fromhex(f[4])]
            elif op == "del":
                k = find(root, f[1])
                if up(f[2]) not in k.values:
                    raise Problem("no value %r" % f[2])
                del k.values[up(f[2])]
            elif op == "mkdir":
                find(root, f[1], create=True)
            elif op == "rm":
                parts = split(f[1])
                parent = find(root, "/".join(parts[:-1]))
                if up(parts[-1]) not in parent.keys:
                    raise Problem("no key %r" % f[1])
                del parent.keys[up(parts[-1])]
            elif op == "mv":
                parts = split(f[1])
                parent = find(root, "/".join(parts[:-1]))
                k = parent.keys.pop(up(parts[-1]))
                new = split(f[2])
                dest = find(root, "/".join(new[:-1]))
                if up(new[-1]) in dest.keys:
                    raise Problem("mv target %r exists" % f[2])
                k.name = new[-1]
                dest.keys[up(new[-1])] = k
            elif op == "mvval":
                src = find(root, f[1])
                name, t, data = src.values.pop(up(f[2]))
                dst = find(root, f[3])
                old = dst.values.get(up(f[4]))
                dst.values[up(f[4])] = [old[0] if old else f[4], t, data]
            else:
                raise Problem("unknown edit")
        except (Problem, IndexError, KeyError, ValueError) as e:
            raise Problem("%s:%d: %r: %s" % (edits, lineno, line, e))


def compare(a, b, la, lb):
    sa, sb = set(a), set(b)
    only_a = sorted(sa - sb)
    only_b = sorted(sb - sa)
    out = []
    for l in only_a:
        out.append("- %s %s" % (la, l))
    for l in only_b:
        out.append("+ %s %s" % (lb, l))
    return out


def report(diffs, errors):
    bad = errors + diffs
    for l in bad[:30]:
        print("    " + (l if len(l) < 240 else l[:240] + "..."))
    if len(bad) > 30:
        print("    ... %d more" % (len(bad) - 30))
    return 1 if bad else 0


def cmd_expect(before, after, edits):
    _, root, e1 = load(before)
    apply(root, edits)
    _, got, e2 = load(after)
    return report(compare(lines(root), lines(got), "expected", "got"),
                  ["before: " + e for e in e1] + ["after: " + e for e in e2])


def cmd_same(ha, ka, hb, kb):
    _, ra, e1 = load(ha)
    _, rb, e2 = load(hb)
    a, b = find(ra, ka), find(rb, kb)
    return report(compare(lines(a), lines(b), "source", "copy"),
                  ["source: " + e for e in e1] + ["copy: " + e for e in e2])


def cmd_view(path, key, mountdump):
    _, root, e = load(path)
    got = [l.rstrip("\n") for l in open(mountdump, encoding="utf-8")]
    return report(compare(lines(find(root, key)), got, "hivex", "mount"),
                  ["hivex: " + x for x in e])


def cmd_key(path, key):
    h = H(path)
    node = h.root()
    for part in split(key):
        for c in h.node_children(node):
            if up(h.node_name(c)) == up(part):
                node = c
                break
        else:
            raise Problem("no key %r" % key)
    ts = h.node_timestamp(node)
    with open(path, "rb") as f:
        raw = f.read()

    def cell(off):
        o = 0x1000 + off
        size = struct.unpack_from("<i", raw, o)[0]
        if size >= 0:
            raise Problem("cell at 0x%x is free" % off)
        return raw[o + 4:o - size]

    nk = raw[node + 4:]
    if nk[:2] != b"nk":
        raise Problem("no nk record at 0x%x" % node)
    sk_off, class_off = struct.unpack_from("<II", nk, 0x2C)
    class_len = struct.unpack_from("<H", nk, 0x4A)[0]
    cls = b""
    if class_len and class_off != 0xFFFFFFFF:
        cls = cell(class_off)[:class_len]
    sd = b""
    if sk_off != 0xFFFFFFFF:
        sk = cell(sk_off)
        if sk[:2] != b"sk":
            raise Problem("no sk record at 0x%x" % sk_off)
        n = struct.unpack_from("<I", sk, 0x10)[0]
        sd = sk[0x14:0x14 + n]
    print("class=%s sd=%s time=%d" % (cls.hex(), sd.hex(), ts))
    return 0


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "expect":
            return cmd_expect(*argv[2:])
        if len(argv) == 6 and argv[1] == "same":
            return cmd_same(*argv[2:])
        if len(argv) == 5 and argv[1] == "view":
            return cmd_view(*argv[2:])
        if len(argv) == 4 and argv[1] == "key":
            return cmd_key(*argv[2:])
        if len(argv) in (3, 4) and argv[1] == "dump":
            _, root, errors = load(argv[2])
            for l in sorted(lines(find(root, argv[3] if len(argv) == 4 else ""))) + errors:
                print(l)
            return 0
    except Problem as e:
        print("    hivecmp: %s" % e)
        return 1
    except Exception as e:  # hivex raises RuntimeError with the errno text
        print("    hivecmp: hivex: %s: %s" % (type(e).__name__, e))
        return 1
    sys.stderr.write(__doc__ if False else "usage: see the header of %s\n" % argv[0])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
