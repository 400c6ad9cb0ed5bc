#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/crash/verify.py — after a crash of hivefs, check the hive against
# the journal that crash-driver kept (see driver.c for its format).
#
#   verify.py --state STATE --journal JOURNAL --base KEY --hive HIVE
#             --recovered COPY --hivectl HIVECTL [--baseline DUMP]
#
# STATE (JSON) holds what the hive must contain below KEY from earlier
# cycles; JOURNAL is this cycle's.  Every change with a D line must be in
# the hive; the last change, begun but not done, may or may not be, but
# as a whole (a rename is not half done); an unfinished set may also have
# left the value empty (REG_SZ, no data: open with O_CREAT or O_TRUNC is a
# change of its own, committed by -o sync or the periodic commit).  Checked, each against the
# expected state:
#   - `hivectl dump HIVE` (the engine, logs replayed in memory): every
#     journaled value with its spelling, type REG_SZ and text; no other
#     value below KEY (a deleted value must not come back); the keys;
#   - `hivectl get HIVE KEY VALUE` for the values this cycle touched (30
#     of them at most, and those of the unfinished change; present: its
#     text; deleted or moved away: exit 1);
#   - hivex on COPY (`hivectl recover` of HIVE): the same as the dump;
#   - `regfexport COPY` (libregf): exit 0, every value with its size;
#   - with --baseline: the dump outside KEY equals DUMP (the rest of a
#     corpus hive is untouched).
# Prints one "FAIL: ..." line per problem and exits 1 if there was one;
# on success STATE is rewritten (the unfinished change resolved as found).
# Prints "ops N done, pending OP" for the log.

import argparse
import json
import os
import random
import subprocess
import sys
import zlib

import hivex

ap = argparse.ArgumentParser()
ap.add_argument("--state", required=True)
ap.add_argument("--journal", required=True)
ap.add_argument("--base", required=True)  # backslash path, "" = root
ap.add_argument("--hive", required=True)
ap.add_argument("--recovered", required=True)
ap.add_argument("--hivectl", required=True)
ap.add_argument("--baseline")
args = ap.parse_args()

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


try:
    with open(args.state) as f:
        st = json.load(f)
except FileNotFoundError:
    st = {"values": {}, "keys": []}
# rel -> (len, crc, seq) of the UTF-8 text; len -1: empty (no data)
values = {k: tuple(v) for k, v in st["values"].items()}
keys = set(st["keys"])

# ---- the journal ------------------------------------------------------------

ops = []  # (seq, kind, args, done)
with open(args.journal) as f:
    for line in f:
        w = line.split()
        if not w:
            continue
        if w[0] == "B":
            ops.append([int(w[1]), w[2], w[3:], False])
        elif w[0] == "D":
            if not ops or ops[-1][0] != int(w[1]) or ops[-1][3]:
                fail("journal: D %s without its B" % w[1])
                continue
            ops[-1][3] = True
        else:
            fail("journal: bad line %r" % line)


def apply(vals, kset, op):
    seq, kind, a, _ = op
    if kind == "set":
        vals[a[0]] = (int(a[1]), int(a[2], 16), seq)
    elif kind == "del":
        vals.pop(a[0], None)
    elif kind == "mv":
        if a[0] in vals:
            vals[a[1]] = vals.pop(a[0])
        else:
            fail("journal: mv of %s, which the state does not have" % a[0])
    elif kind == "key":
        kset.add(a[0])
    else:
        fail("journal: unknown change %r" % kind)


touched = set()
pending = None
for i, op in enumerate(ops):
    if op[1] in ("set", "del"):
        touched.add(op[2][0])
    elif op[1] == "mv":
        touched.update(op[2][:2])
    if op[3]:
        apply(values, keys, op)
    elif i == len(ops) - 1:
        pending = op
    else:
        fail("journal: change %d begun, never done, and not the last" % op[0])

# The pending change touches these names; the hive may hold the old or the
# new state of all of them.
alt_values, alt_keys = dict(values), set(keys)
pend_names = set()
if pending:
    apply(alt_values, alt_keys, pending)
    if pending[1] in ("set", "del"):
        pend_names = {pending[2][0]}
    elif pending[1] == "mv":
        pend_names = {pending[2][0], pending[2][1]}

# ---- reading the hive -------------------------------------------------------

base = args.base


def rel_of(keypath):
    """A key path (backslashes, from the root) relative to BASE, with '/',
    or None when outside BASE."""
    if base == "":
        return keypath.replace("\\", "/")
    if keypath == base:
        return ""
    if keypath.startswith(base + "\\"):
        return keypath[len(base) + 1:].replace("\\", "/")
    return None


def join(k, name):
    return name if k == "" else k + "/" + name


def decode_sz(raw):
    """UTF-8 of a REG_SZ's stored bytes, or None when not one NUL-terminated
    UTF-16LE string."""
    if len(raw) < 2 or len(raw) % 2 or raw[-2:] != b"\0\0":
        return None
    try:
        return raw[:-2].decode("utf-16-le").encode()
    except UnicodeDecodeError:
        return None


def dump_state():
    """From `hivectl dump`: rel -> (spelling, type, utf8 or None), keys,
    and the lines outside BASE."""
    r = subprocess.run([args.hivectl, "dump", args.hive], capture_output=True)
    if r.returncode != 0:
        fail("hivectl dump %s: exit %d: %s" % (args.hive, r.returncode,
             r.stderr.decode(errors="replace").strip()[:300]))
        return None, None, None
    vals, ks, outside = {}, set(), []
    if base == "":
        ks.add(".")
    for line in r.stdout.decode("utf-8", "surrogateescape").split("\n"):
        if not line:
            continue
        f = line.split("\t")
        rel = rel_of(f[1])
        if rel is None:
            outside.append(line)
            continue
        if f[0] == "K":
            ks.add(rel or ".")
        elif f[0] == "V":
            path = join(rel, f[2])
            raw = bytes.fromhex(f[4])
            vals[path.lower()] = (path, int(f[3]), decode_sz(raw), len(raw))
    return vals, ks, outside


def hivex_state():
    try:
        h = hivex.Hivex(args.recovered)
    except Exception as e:  # noqa: BLE001 — any failure is the finding
        fail("hivex cannot open the recovered copy: %s" % e)
        return None, None
    try:
        node = h.root()
        for part in [p for p in base.split("\\") if p]:
            node = h.node_get_child(node, part)
            if node is None:
                fail("hivex: key %s missing in the recovered copy" % base)
                return None, None
        vals, ks = {}, {"."}

        def walk(n, rel):
            for v in h.node_values(n):
                t, raw = h.value_value(v)
                path = join(rel, h.value_key(v))
                vals[path.lower()] = (path, t, decode_sz(raw), len(raw))
            for c in h.node_children(n):
                r = join(rel, h.node_name(c))
                ks.add(r)
                walk(c, r)
        walk(node, "")
        return vals, ks
    except Exception as e:  # noqa: BLE001
        fail("hivex fails reading the recovered copy: %s" % e)
        return None, None


def describe(utf8, rawlen=None):
    if utf8 is None:
        if rawlen == 0:
            return "no data"
        return "not a NUL-terminated UTF-16LE string (%s bytes)" % rawlen
    return "%d bytes starting %r" % (len(utf8), utf8[:40].decode(errors="replace"))


def want(rel, exp):
    if exp[0] == -1:
        return "no data"
    return "%d bytes starting %r" % (exp[0], "%s#%d:" % (rel, exp[2]))


def matches(actual, rel, exp):
    """Does the actual entry for REL equal EXP ((len, crc, seq) or None)?"""
    a = actual.get(rel)
    if exp is None:
        return a is None
    if a is None:
        return False
    spelling, t, utf8, rawlen = a
    if exp[0] == -1:
        return spelling == rel and t == 1 and rawlen == 0
    return (spelling == rel and t == 1 and utf8 is not None and
            len(utf8) == exp[0] and zlib.crc32(utf8) == exp[1])


def compare(label, actual, aks):
    """Check ACTUAL against the expected state; returns the resolution of
    the pending change: 'old', 'new' or None (neither)."""
    resolved = "old"
    if pend_names:
        old_ok = all(matches(actual, n, values.get(n)) for n in pend_names)
        new_ok = all(matches(actual, n, alt_values.get(n)) for n in pend_names)
        empty_ok = pending[1] == "set" and all(
            matches(actual, n, (-1, 0, pending[0])) for n in pend_names)
        resolved = ("new" if new_ok and not old_ok else "old" if old_ok else
                    "empty" if empty_ok else None)
        if resolved is None:
            desc = []
            for n in sorted(pend_names):
                a = actual.get(n)
                desc.append("%s: %s" % (n, "absent" if a is None else
                            "%s type %d %s" % (a[0], a[1], describe(a[2], a[3]))))
            fail("%s: unfinished change %d %s %s: hive has neither the state "
                 "before nor after it (%s)" % (label, pending[0], pending[1],
                                               " ".join(pending[2][:2]), "; ".join(desc)))
    for rel, exp in sorted(values.items()):
        if rel in pend_names:
            continue
        a = actual.get(rel)
        if a is None:
            fail("%s: %s (change %d, fsync'd) is missing" % (label, rel, exp[2]))
        elif not matches(actual, rel, exp):
            fail("%s: %s: expected REG_SZ, %s (change %d); got %s type %d %s"
                 % (label, rel, want(rel, exp), exp[2], a[0], a[1], describe(a[2], a[3])))
    for rel in sorted(set(actual) - set(values) - pend_names):
        a = actual[rel]
        fail("%s: unexpected value %s (deleted or moved away, fsync'd): type %d %s"
             % (label, a[0], a[1], describe(a[2], a[3])))
    for k in sorted(keys - aks):
        fail("%s: key %s missing" % (label, k))
    return resolved


dv, dk, outside = dump_state()
res = None
if dv is not None:
    res = compare("hivectl dump", dv, dk)
    if args.baseline:
        with open(args.baseline, encoding="utf-8", errors="surrogateescape") as f:
            before = [l.rstrip("\n") for l in f if l.strip()]
        before = [l for l in before if rel_of(l.split("\t")[1]) is None]
        if before != outside:
            diff = [l for l in before if l not in set(outside)][:2] + \
                   ["+" + l for l in outside if l not in set(before)][:2]
            fail("hivectl dump: the hive outside %s changed (%d lines before, %d now; e.g. %s)"
                 % (base, len(before), len(outside), [d[:100] for d in diff]))

hv, hk = hivex_state()
if hv is not None:
    hres = compare("hivex (recovered copy)", hv, hk)
    if dv is not None and hres != res:
        fail("hivex on the recovered copy and hivectl dump of the hive disagree "
             "about the unfinished change (%s vs %s)" % (hres, res))

# hivectl get, for what this cycle touched.
final = dict(alt_values if res == "new" else values)
if res == "empty":
    final[pending[2][0]] = (-1, 0, pending[0])
# At most GET_SAMPLE of them, always with the unfinished change's (one
# process each; the dump above covers every value).
GET_SAMPLE = 30
sample = sorted(touched - pend_names)
if len(sample) > GET_SAMPLE:
    sample = random.sample(sample, GET_SAMPLE)
for rel in sorted(pend_names) + sample:
    key, _, name = rel.rpartition("/")
    kpath = "\\".join(p for p in [base, key.replace("/", "\\")] if p)
    r = subprocess.run([args.hivectl, "get", args.hive, kpath, name], capture_output=True)
    exp = final.get(rel)
    if exp is None:
        if r.returncode != 1:
            fail("hivectl get '%s' %s: deleted, expected exit 1, got %d" % (kpath, name, r.returncode))
    elif r.returncode != 0:
        fail("hivectl get '%s' %s: exit %d: %s" % (kpath, name, r.returncode,
             r.stderr.decode(errors="replace").strip()[:200]))
    else:
        out = r.stdout[:-1] if r.stdout.endswith(b"\n") else r.stdout
        if exp[0] == -1 and out == b"":
            continue
        if len(out) != exp[0] or zlib.crc32(out) != exp[1]:
            fail("hivectl get '%s' %s: expected %s, got %s"
                 % (kpath, name, want(rel, exp), describe(out)))

# libregf.
r = subprocess.run(["regfexport", args.recovered], capture_output=True)
if r.returncode != 0:
    fail("regfexport of the recovered copy: exit %d: %s"
         % (r.returncode, r.stderr.decode(errors="replace").strip()[:300]))
else:
    sizes, kp, name = {}, None, None
    for line in r.stdout.decode("utf-8", "replace").split("\n"):
        if line.startswith("Key path: "):
            p = line[len("Key path: "):].split("\\", 1)
            kp = rel_of(p[1] if len(p) > 1 else "")
        elif line.startswith("Value: ") and kp is not None:
            name = line.split(" ", 2)[2] if line.count(" ") >= 2 else ""
        elif line.startswith("Data size: ") and kp is not None and name is not None:
            sizes[join(kp, name).lower()] = int(line.split(": ")[1])
            name = None
    for rel, exp in sorted(final.items()):
        if rel not in sizes:
            fail("regfexport: %s missing" % rel)
        elif hv is not None and rel in hv and hv[rel][2] is not None and \
                sizes[rel] != len(hv[rel][2].decode().encode("utf-16-le")) + 2:
            fail("regfexport: %s: data size %d, hivex reads %d bytes of text"
                 % (rel, sizes[rel], len(hv[rel][2])))
    for rel in sorted(set(sizes) - set(final)):
        fail("regfexport: unexpected value %s" % rel)

n_done = sum(1 for o in ops if o[3])
print("ops %d done, pending %s" % (n_done, "%s %s (%s)" % (pending[1], " ".join(pending[2][:2]), res)
                                     if pending else "none"))
if failures:
    sys.exit(1)
if res == "new":
    values, keys = alt_values, alt_keys
elif res == "empty":
    values = final
with open(args.state + ".new", "w") as f:
    json.dump({"values": values, "keys": sorted(keys)}, f)
os.replace(args.state + ".new", args.state)
