#!/usr/bin/python3
# selftest.py - checks the oracle dumpers themselves on a synthetic hive.
#
# Builds, with hivex in write mode, a copy of $CORPUS/hivex/minimal holding
# awkward content (names with newlines, "\nKey: " and "\nType: " inside,
# backslashes, CR, non-BMP characters; strings ending in newlines, embedded
# NULs, odd lengths; DWORD/QWORD of wrong sizes; unknown types; a value named
# "(default)"), then requires:
#   - hivex_dump.py to succeed and to print the names escaped as specified;
#   - regf_dump.py --compare (libregf) to agree with it, exactly or through
#     the documented libregf limits only (exit 0 or "agree except");
#   - if HIVECTL is an executable: `hivectl dump` of the hive to equal
#     hivex's dump (an extra engine check with hostile names).
# Usage: selftest.py [CORPUS]   (default: $HIVEFS_CORPUS or ../shared/hives
# beside the checkout).  Exit 0 ok, 1 failure, 77 skip.

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"


def u16z(s):
    return s.encode("utf-16-le", "surrogatepass") + b"\0\0"


def build(path):
    import hivex
    h = hivex.Hivex(path, write=True)
    r = h.root()
    a = h.node_add_child(r, "a\nKey: b")
    h.node_add_child(a, "x\\y")
    h.node_add_child(r, "a\\x")
    d = h.node_add_child(r, "\u03a9\r")
    e = h.node_add_child(d, "kid \U00010400 %")
    h.node_set_values(a, [
        {"key": "v\nType: string (REG_SZ)", "t": 1, "value": u16z("line1\n\nValue: 1 x\n")},
        {"key": "", "t": 1, "value": "ab\n".encode("utf-16-le")},
        {"key": "s2", "t": 1, "value": u16z("ab")},
        {"key": "s3", "t": 2, "value": "ab\n".encode("utf-16-le")},
        {"key": "odd", "t": 1, "value": b"a\x00b"},
        {"key": "dw", "t": 4, "value": b"\x01\x02\x03\x04"},
        {"key": "dw5", "t": 4, "value": b"\x01\x02\x03\x04\x05"},
        {"key": "be", "t": 5, "value": b"\x01\x02\x03\x04"},
        {"key": "qw", "t": 11, "value": b"\x01\x02\x03\x04\x05\x06\x07\x08"},
        {"key": "qw0", "t": 11, "value": b""},
        {"key": "big", "t": 0x12345678, "value": bytes(range(256)) * 3},
        {"key": "empty", "t": 1, "value": b""},
        {"key": "nul", "t": 1, "value": b"\0\0"},
        {"key": "emb", "t": 1, "value": u16z("abc") + u16z("def")},
        {"key": "hex", "t": 3, "value": b"Data:\n00000000: "},
        {"key": "sur", "t": 1, "value": u16z("\U00010400x")},
        {"key": "(default)", "t": 1, "value": u16z("x")},
        {"key": "quote\"back\\", "t": 7, "value": u16z("m1") + u16z("m2") + b"\0\0"},
    ])
    h.node_set_values(e, [{"key": "v", "t": 7, "value": u16z("a") + u16z("b") + b"\0\0"}])
    h.commit(None)


EXPECT_K = [
    "K\t",
    "K\ta%000aKey:%0020b",
    "K\ta%000aKey:%0020b\\x%005cy",
    "K\ta%005cx",
    "K\t%03a9%000d",
    "K\t%03a9%000d\\kid%0020%d801%dc00%0020%0025",
]


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else \
        os.environ.get("HIVEFS_CORPUS", os.path.join(ROOT, "..", "shared", "hives"))
    minimal = os.path.join(corpus, "hivex", "minimal")
    if not os.path.isfile(minimal):
        print("SKIP: corpus not found at %s" % corpus)
        return 77
    tmp = tempfile.mkdtemp(prefix="hivefs-oracle-selftest.")
    fails = 0
    passes = 0
    try:
        hv = os.path.join(tmp, "synthetic")
        shutil.copyfile(minimal, hv)
        os.chmod(hv, 0o644)
        build(hv)
        hx = os.path.join(tmp, "hivex.dump")
        with open(hx, "wb") as f:
            rc = subprocess.call([PY, os.path.join(HERE, "hivex_dump.py"), hv], stdout=f)
        lines = open(hx, encoding="ascii").read().split("\n")
        if rc != 0:
            print("FAIL: hivex_dump.py exit %d" % rc)
            return 1
        klines = [l for l in lines if l.startswith("K\t")]
        if klines != EXPECT_K:
            print("FAIL: hivex_dump.py key lines %r, expected %r" % (klines, EXPECT_K))
            fails += 1
        else:
            print("ok: hivex_dump.py escapes names as specified")
            passes += 1
        if shutil.which("regfexport"):
            p = subprocess.run([PY, os.path.join(HERE, "regf_dump.py"), "--compare", hx, hv],
                               stdout=subprocess.PIPE, text=True)
            first = p.stdout.splitlines()[0] if p.stdout else ""
            if p.returncode == 0 or (p.returncode == 2 and first.startswith("agree except")):
                print("ok: regf_dump.py (libregf) agrees with hivex_dump.py: %s" % first)
                passes += 1
            else:
                print("FAIL: regf_dump.py --compare exit %d:\n%s" % (p.returncode, p.stdout))
                fails += 1
        else:
            print("note: regfexport not installed, libregf part skipped")
        hivectl = os.environ.get("HIVECTL", os.path.join(ROOT, "build", "tools", "hivectl"))
        if os.access(hivectl, os.X_OK):
            p = subprocess.run([hivectl, "dump", hv], stdout=subprocess.PIPE)
            if p.returncode == 0 and p.stdout == open(hx, "rb").read():
                print("ok: hivectl dump equals hivex on the synthetic hive")
                passes += 1
            else:
                print("FAIL: hivectl dump (exit %d) differs from hivex on the synthetic hive"
                      % p.returncode)
                a = open(hx, "rb").read().decode("ascii").split("\n")
                b = p.stdout.decode("utf-8", "replace").split("\n")
                import difflib
                for d in list(difflib.unified_diff(a, b, "hivex", "hivectl", n=0, lineterm=""))[:14]:
                    print("    " + d[:300])
                fails += 1
        else:
            print("note: no hivectl at %s, engine part skipped" % hivectl)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passes, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
