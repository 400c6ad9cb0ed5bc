#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hivex_driver.py — the python3-hivex side of the write benchmarks; the
# same work as bench-driver (driver.c), through hivex.
#
#   hivex_driver.py plan NOPS NKEYS SEED > OPS
#       Writes the operations both drivers apply (deterministic for SEED):
#       a random key of NKEYS, a name of 4 per key ("hivefsBench0".."3",
#       so about 40 % create a value and the rest replace one), and data:
#       50 % REG_SZ of 5-60 characters, 30 % REG_DWORD, 15 % REG_BINARY
#       of 5-300 bytes, 5 % REG_BINARY of 1-4 KiB.
#   hivex_driver.py setvalue HIVE OPS
#       node_set_value for every line of OPS (KEYINDEX, NAME, TYPE, HEXDATA;
#       keys numbered in preorder, subkey-list order, root = 0), then
#       commit.  Prints "keys N", "load S", "ops S", "save S", "total S".
#   hivex_driver.py churn HIVE ROUNDS NVALUES [NKEYS [SEED]]
#       Per round: set NVALUES values over NKEYS keys (one node_set_values
#       per key with its original values plus the new ones), commit; then
#       remove them (hivex has no value delete: node_set_values with the
#       key's original values) and commit.  Prints "round R SIZE" and
#       "time S".

import os
import random
import sys
import time

import hivex

MASK = (1 << 64) - 1


def preorder(h):
    keys, stack = [], [h.root()]
    while stack:
        node = stack.pop()
        keys.append(node)
        stack.extend(reversed(h.node_children(node)))
    return keys


def plan(nops, nkeys, seed):
    rng = random.Random(seed)
    out = sys.stdout
    for _ in range(nops):
        key = rng.randrange(nkeys)
        name = "hivefsBench%d" % rng.randrange(4)
        r = rng.random()
        if r < 0.5:
            text = "".join(chr(rng.randrange(0x61, 0x7B))
                           for _ in range(rng.randrange(5, 61)))
            typ, data = 1, (text + "\0").encode("utf-16-le")
        elif r < 0.8:
            typ, data = 4, rng.randrange(1 << 32).to_bytes(4, "little")
        elif r < 0.95:
            typ, data = 3, rng.randbytes(rng.randrange(5, 301))
        else:
            typ, data = 3, rng.randbytes(rng.randrange(1024, 4097))
        out.write("%d\t%s\t%d\t%s\n" % (key, name, typ, data.hex()))


def setvalue(path, ops_path):
    ops = []
    with open(ops_path) as f:
        for line in f:
            idx, name, typ, hexdata = line.rstrip("\n").split("\t")
            ops.append((int(idx), name, int(typ), bytes.fromhex(hexdata)))
    t0 = time.monotonic()
    h = hivex.Hivex(path, write=True)
    keys = preorder(h)
    t1 = time.monotonic()
    for idx, name, typ, data in ops:
        h.node_set_value(keys[idx], {"key": name, "t": typ, "value": data})
    t2 = time.monotonic()
    h.commit(None)
    t3 = time.monotonic()
    print("keys %d\nload %.3f\nops %.3f\nsave %.3f\ntotal %.3f" %
          (len(keys), t1 - t0, t2 - t1, t3 - t2, t3 - t0))


def splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def churn_size(seed, rnd, i):
    """The same sizes as churn_size() in driver.c."""
    x = splitmix(seed ^ ((rnd << 32) | i))
    pick, r = x % 1000, x >> 32
    if pick < 400:
        return r % 5
    if pick < 800:
        return 5 + r % 196
    if pick < 950:
        return 201 + r % 3800
    if pick < 995:
        return 4001 + r % 12344
    return 16345 + r % 23656


def churn(path, rounds, nvalues, nkeys, seed):
    t0 = time.monotonic()
    h = hivex.Hivex(path, write=True)
    keys = preorder(h)
    nkeys = min(nkeys, len(keys))
    targets = [keys[k * len(keys) // nkeys] for k in range(nkeys)]
    original = {}
    for t in targets:
        vals = []
        for v in h.node_values(t):
            typ, data = h.value_value(v)
            vals.append({"key": h.value_key(v), "t": typ, "value": data})
        original[t] = vals
    data = bytes((i * 7 + 1) & 0xFF for i in range(40000))
    for rnd in range(1, rounds + 1):
        # One node_set_values per key: hivex's cheapest way (node_set_value
        # rewrites all of a key's values for every value it sets).
        new = {t: list(original[t]) for t in targets}
        for i in range(nvalues):
            size = churn_size(seed, rnd, i)
            new[targets[i % nkeys]].append({"key": "churn%05d" % i, "t": 3,
                                            "value": data[:size]})
        for t in targets:
            h.node_set_values(t, new[t])
        h.commit(None)
        for t in targets:
            h.node_set_values(t, original[t])
        h.commit(None)
        print("round %d %d" % (rnd, os.path.getsize(path)), flush=True)
    print("time %.3f" % (time.monotonic() - t0))


def main(argv):
    if len(argv) == 5 and argv[1] == "plan":
        plan(int(argv[2]), int(argv[3]), int(argv[4], 0))
    elif len(argv) == 4 and argv[1] == "setvalue":
        setvalue(argv[2], argv[3])
    elif 5 <= len(argv) <= 7 and argv[1] == "churn":
        churn(argv[2], int(argv[3]), int(argv[4]),
              int(argv[5]) if len(argv) > 5 else 100,
              int(argv[6], 0) if len(argv) > 6 else 1)
    else:
        sys.stderr.write("Usage: hivex_driver.py plan NOPS NKEYS SEED\n"
                         "       hivex_driver.py setvalue HIVE OPS\n"
                         "       hivex_driver.py churn HIVE ROUNDS NVALUES "
                         "[NKEYS [SEED]]\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
