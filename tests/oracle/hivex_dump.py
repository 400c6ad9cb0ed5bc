#!/usr/bin/python3
# hivex_dump.py HIVE - print the canonical hivefs dump of HIVE, read with
# python3-hivex (an independent reader; oracle for `hivectl dump`).
#
# Canonical dump (one record per line, fields separated by TAB, LF line ends,
# preorder walk: subkeys in subkey-list order, a key's values directly after
# its K line in value-list order):
#     K<TAB><path>
#     V<TAB><path><TAB><name><TAB><type, decimal><TAB><data, lowercase hex>
# <path> is the escaped names of the keys below the root joined by '\'
# (the root itself is the empty path).  A name is escaped per UTF-16 code
# unit: 0x21..0x7E except '%' and '\' stand for themselves, every other unit
# is '%' followed by 4 lowercase hex digits.  The default value has name "".
#
# hivex semantics that matter here (hivex 1.3.23, checked against the corpus):
#  - node_name / value_key return str with embedded NULs kept (the binding
#    passes the length), so 'zero\x00key' is seen whole.
#  - compressed ("ASCII") names are decoded as Latin-1, i.e. byte b becomes
#    code unit b - exactly the unit a UTF-16 name would have stored.
#  - UTF-16 names are converted with iconv; an unpaired surrogate makes iconv
#    fail, hivex raises, and the hive counts as not readable by hivex.
#  - value_value returns (type, bytes) with the data length from the vk record
#    (big-data 'db' records are followed, inline data <= 4 bytes honoured).
#  - types are unsigned 32-bit in the file; they are printed as such.
#  - hivex does not detect cycles in the key tree; this script does (a key
#    reached again below itself is an error), so it always terminates.
#
# Exit status: 0 = complete dump on stdout; 1 = hivex raised somewhere (the
# message goes to stderr; stdout then holds the dump up to that point and must
# not be used) - the hive is "not read completely by hivex".

import sys

try:
    import hivex
except ImportError as e:  # wrong interpreter (pyenv python3 has no hivex)
    sys.stderr.write("hivex_dump: cannot import hivex (%s); run with /usr/bin/python3\n" % e)
    sys.exit(3)

_ESC_CACHE = {}
_UNIT = ["%%%04x" % u for u in range(0x10000)]
for _u in range(0x21, 0x7F):
    if _u not in (0x25, 0x5C):
        _UNIT[_u] = chr(_u)


def esc(name):
    """Escape a name (str, possibly with surrogates/NULs) per UTF-16 unit."""
    r = _ESC_CACHE.get(name)
    if r is None:
        b = name.encode("utf-16-le", "surrogatepass")
        units = memoryview(b).cast("H") if sys.byteorder == "little" else \
            [b[i] | (b[i + 1] << 8) for i in range(0, len(b), 2)]
        r = "".join([_UNIT[u] for u in units])
        _ESC_CACHE[name] = r
    return r


class _Hivex(hivex.Hivex):
    # hivex.Hivex.__del__ complains on stderr when the open itself failed
    def __del__(self):
        if hasattr(self, "_o"):
            super().__del__()


def dump(path, out):
    h = _Hivex(path)
    root = h.root()
    # explicit stack: (node, escaped path, ancestors-set)
    write = out.append
    stack = [(root, "", frozenset((root,)))]
    while stack:
        node, p, anc = stack.pop()
        write("K\t%s\n" % p)
        for v in h.node_values(node):
            name = h.value_key(v)
            t, data = h.value_value(v)
            write("V\t%s\t%s\t%d\t%s\n" % (p, esc(name), t & 0xFFFFFFFF, data.hex()))
        children = h.node_children(node)
        pre = p + "\\" if p else ""
        items = []
        for c in children:
            if c in anc:
                raise RuntimeError("key cycle: node 0x%x is its own ancestor (below %r)" % (c, p))
            items.append((c, pre + esc(h.node_name(c)), anc | {c}))
        stack.extend(reversed(items))
        if len(out) > 4096:
            sys.stdout.write("".join(out))
            del out[:]


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: hivex_dump.py HIVE\n")
        return 2
    out = []
    try:
        dump(sys.argv[1], out)
    except Exception as e:  # hivex raises RuntimeError (errno text) etc.
        sys.stdout.write("".join(out))
        sys.stdout.flush()
        sys.stderr.write("hivex_dump: %s: %s: %s\n" % (sys.argv[1], type(e).__name__, e))
        return 1
    sys.stdout.write("".join(out))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
