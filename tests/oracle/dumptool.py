#!/usr/bin/python3
# dumptool.py - helpers for canonical dumps (format: see hivex_dump.py)
#
#   dumptool.py reg-representable DUMP
#       Can a regedit (.reg) file, merged with hivexregedit, reproduce the
#       content of DUMP exactly?  Exit 0 if yes; exit 2 and one line of
#       reasons on stdout if not.  Reasons (from how Win::Hivex::Regedit
#       parses .reg files and how hivex looks keys up):
#         - a key name with NUL, CR, LF or '\' or an empty key name: the
#           "[\path]" line cannot carry it (NUL ends the C string; CR/LF end
#           the line, a trailing CR is even stripped; '\' separates keys);
#         - a value name with NUL, CR or LF (one value per line, C strings);
#         - sibling keys whose names are equal ignoring ASCII case (also
#           exact duplicates): hivex finds the existing key and merges both
#           into one.
#   dumptool.py fold-case DUMP
#       DUMP with every key path and value name upper-cased unit by unit
#       (a unit whose upper case is not one unit is kept), the data as it
#       is: dumps equal after it name the same keys and values as Windows
#       compares names, ignoring case.
#   dumptool.py explain A B
#       Describe the first differing line (for a value: lengths and the first
#       differing byte offset with some context).  Exit 0 if none, else 1.
#   dumptool.py same-tree A B
#       Exit 0 if dumps A and B are byte-identical; exit 3 if they differ only
#       in the order of sibling keys (each key keeps its values, in order);
#       exit 1 otherwise, with the start of a unified diff (of the
#       order-normalised dumps) on stdout.

import difflib
import sys


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


BAD_KEY_UNITS = ("%0000", "%000a", "%000d", "%005c")
BAD_VALUE_UNITS = ("%0000", "%000a", "%000d")


def _ascii_lower(escaped):
    # escaped names keep 0x21..0x7e as themselves, so ASCII case folding of
    # the escaped form is ASCII case folding of the name ('%00xx' escapes of
    # other units are lowercase hex already and unaffected)
    return escaped.lower() if escaped.isascii() else escaped


def reg_representable(path):
    reasons = []
    siblings = {}
    for line in read_lines(path):
        f = line.split("\t")
        if f[0] == "K" and len(f) == 2:
            if f[1] == "":
                continue
            comps = f[1].split("\\")
            name = comps[-1]
            if name == "":
                reasons.append("empty key name (%r)" % f[1][:100])
            elif any(u in name for u in BAD_KEY_UNITS):
                reasons.append("key name with NUL/CR/LF/backslash (%r)" % f[1][:100])
            parent = "\\".join(comps[:-1])
            low = _ascii_lower(name)
            seen = siblings.setdefault(parent, {})
            if low in seen:
                reasons.append("sibling keys equal ignoring ASCII case (%r, %r)"
                               % (seen[low][:60], f[1][:100]))
            else:
                seen[low] = f[1]
        elif f[0] == "V" and len(f) == 5:
            if any(u in f[2] for u in BAD_VALUE_UNITS):
                reasons.append("value name with NUL/CR/LF (%r under %r)" % (f[2][:60], f[1][:60]))
        else:
            reasons.append("not a canonical dump line: %r" % line[:80])
        if len(reasons) >= 3:
            break
    if reasons:
        print("; ".join(reasons))
        return 2
    return 0


def _fold_unit(u):
    if u >= 0xD800 and u < 0xE000:
        return u
    up = chr(u).upper()
    return ord(up) if len(up) == 1 and ord(up) < 0x10000 else u


def _fold_escaped(escaped):
    out, i = [], 0
    while i < len(escaped):
        if escaped[i] == "%" and i + 5 <= len(escaped):
            u, i = int(escaped[i + 1:i + 5], 16), i + 5
        else:
            u, i = ord(escaped[i]), i + 1
        u = _fold_unit(u)
        if 0x21 <= u <= 0x7E and u not in (0x25, 0x5C):
            out.append(chr(u))
        else:
            out.append("%%%04x" % u)
    return "".join(out)


def fold_case(path):
    for line in read_lines(path):
        f = line.split("\t")
        if f[0] in ("K", "V") and len(f) >= 2:
            f[1] = "\\".join(_fold_escaped(c) for c in f[1].split("\\"))
        if f[0] == "V" and len(f) == 5:
            f[2] = _fold_escaped(f[2])
        sys.stdout.write("\t".join(f) + "\n")
    return 0


def blocks(lines):
    """Split a dump into key blocks [K line, its V lines...]."""
    out = []
    for line in lines:
        if line.startswith("K\t") or not out:
            out.append([line])
        else:
            out[-1].append(line)
    return out


def normalised(lines):
    bl = blocks(lines)
    # sort by path components: parents before children, siblings by name
    bl.sort(key=lambda b: b[0][2:].split("\\") if b[0].startswith("K\t") else [b[0]])
    return [l for b in bl for l in b]


def same_tree(a, b):
    la, lb = read_lines(a), read_lines(b)
    if la == lb:
        return 0
    na, nb = normalised(la), normalised(lb)
    if na == nb:
        return 3
    n = 0
    for d in difflib.unified_diff(na, nb, a, b, n=0, lineterm=""):
        print(d[:300])
        n += 1
        if n >= 14:
            break
    return 1


def explain(a, b):
    """Describe the first differing line of dumps A and B (for V lines: where
    the data differ), since diff lines of long hex data are hard to read."""
    la, lb = read_lines(a), read_lines(b)
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else None
        y = lb[i] if i < len(lb) else None
        if x == y:
            continue
        print("first difference at line %d:" % (i + 1))
        if x is None or y is None:
            print("  %s ends there" % (a if x is None else b))
            return 1
        fx, fy = x.split("\t"), y.split("\t")
        if fx[0] == fy[0] == "V" and len(fx) == len(fy) == 5 and fx[1:3] == fy[1:3]:
            dx, dy = bytes.fromhex(fx[4]), bytes.fromhex(fy[4])
            print("  value %r under key %r" % (fx[2], fx[1][:200]))
            if fx[3] != fy[3]:
                print("  type %s vs %s" % (fx[3], fy[3]))
            if dx != dy:
                k = next((j for j in range(min(len(dx), len(dy))) if dx[j] != dy[j]),
                         min(len(dx), len(dy)))
                print("  data length %d vs %d; first differing byte at offset %d:"
                      % (len(dx), len(dy), k))
                lo = max(0, k - 8)
                print("    %s: ...%s" % (a, dx[lo:k + 24].hex()))
                print("    %s: ...%s" % (b, dy[lo:k + 24].hex()))
        else:
            print("  %s: %s" % (a, x[:200]))
            print("  %s: %s" % (b, y[:200]))
        return 1
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "explain":
        return explain(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "reg-representable":
        return reg_representable(argv[2])
    if len(argv) == 4 and argv[1] == "same-tree":
        return same_tree(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "fold-case":
        return fold_case(argv[2])
    sys.stderr.write("usage: dumptool.py reg-representable DUMP | same-tree A B | explain A B"
                     " | fold-case DUMP\n")
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
