#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/cache/model.py — random changes through a read-write mount,
each made and checked through random spellings of the names (lookups
ignore case, and the kernel caches names: fs/inode.h), against a model.

  model.py run MNT STATE OPS SEED   OPS random operations below MNT;
                                    STATE gets the model (JSON)
  model.py verify HIVE STATE        hivex reads exactly the model from
                                    the unmounted HIVE

Operations: write a value (new or existing, any spelling; an existing
value keeps its spelling), read, stat, unlink, mkdir, rmdir (ENOTEMPTY
when not empty), mv of a value within and across keys (over an existing
value, which keeps its spelling), mv of a key to a new name elsewhere,
and listings.  Descriptors are held open for reading across changes and
must read what the value holds now.  After each operation the names it
touched are looked up again through several spellings: each must show
exactly what the model says (the data, or ENOENT), with no pause — a
name the kernel kept from before the change would show the old state.
Every 50 operations the whole tree is listed and compared.  Exit 0 on
success, 1 with the first disagreements.
"""
import errno
import json
import os
import random
import sys


def spell(rng, name):
    """A random spelling of name: Windows' lookups ignore case."""
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


class Key:
    def __init__(self, name):
        self.name = name      # as stored
        self.keys = {}        # folded -> Key
        self.values = {}      # folded -> [name, bytes, alive]


class Failed(Exception):
    pass


class Run:
    def __init__(self, mnt, seed):
        self.mnt = mnt
        self.rng = random.Random(seed)
        self.root = Key("")
        self.seq = 0
        self.held = []        # (fd, the value's list in the model)
        self.problems = []

    # ---- the model ----

    def keys_below(self, k, path=()):
        yield path, k
        for sub in k.keys.values():
            yield from self.keys_below(sub, path + (sub.name,))

    def key_at(self, path):
        k = self.root
        for p in path:
            k = k.keys[p.lower()]
        return k

    def fs_path(self, path, leaf=None):
        """A path below the mount through random spellings."""
        parts = [spell(self.rng, p) for p in path]
        if leaf is not None:
            parts.append(spell(self.rng, leaf))
        return os.path.join(self.mnt, *parts) if parts else self.mnt

    def fail(self, what):
        self.problems.append(f"op {self.seq}: {what}")
        if len(self.problems) >= 10:
            raise Failed()

    # ---- checks ----

    def check_value(self, path, name, spellings=3):
        """Look the value up through several spellings: data or ENOENT."""
        k = self.key_at(path)
        want = k.values.get(name.lower())
        for _ in range(spellings):
            p = self.fs_path(path, name)
            try:
                with open(p, "rb") as f:
                    got = f.read()
                st = os.stat(p)
            except OSError as e:
                if want is not None or e.errno != errno.ENOENT:
                    self.fail(f"{p}: {e.strerror}, model has {want!r}")
                continue
            if want is None:
                self.fail(f"{p}: reads {got!r}, model has no such value")
            elif got != want[1] or st.st_size != len(want[1]):
                self.fail(f"{p}: reads {got!r} (size {st.st_size}), "
                          f"model has {want[1]!r}")

    def check_key(self, path, name, spellings=2):
        k = self.key_at(path)
        want = k.keys.get(name.lower())
        for _ in range(spellings):
            p = self.fs_path(path, name)
            try:
                st = os.stat(p)
                ok = os.path.isdir(p)
            except OSError as e:
                if want is not None or e.errno != errno.ENOENT:
                    self.fail(f"{p}: {e.strerror}, model has key {want and want.name!r}")
                continue
            if want is None or not ok:
                self.fail(f"{p}: exists (mode {st.st_mode:o}), model has no such key")

    def check_listing(self, path):
        k = self.key_at(path)
        want = sorted([s.name for s in k.keys.values()] +
                      [v[0] for v in k.values.values()])
        p = self.fs_path(path)
        got = sorted(os.listdir(p))
        if got != want:
            self.fail(f"ls {p}: {got[:8]}... vs model {want[:8]}...")

    def check_held(self):
        for fd, v in self.held:
            # Deleted, or moved (through another spelling the descriptor
            # keeps what it read: fs/inode.h): its data is its own.
            if not v[2]:
                continue
            got = os.pread(fd, 1 << 16, 0)
            if got != v[1]:
                self.fail(f"held fd on {v[0]}: reads {got!r}, "
                          f"value holds {v[1]!r}")

    def check_all(self):
        for path, k in list(self.keys_below(self.root)):
            self.check_listing(path)
            for name, _, _ in list(k.values.values()):
                self.check_value(path, name, spellings=1)

    # ---- operations ----

    def pick_key(self):
        return self.rng.choice(list(self.keys_below(self.root)))

    def new_name(self, prefix):
        return f"{prefix}{self.rng.randrange(40):02d}"

    def op_write(self):
        path, k = self.pick_key()
        if k.values and self.rng.random() < 0.6:
            name = self.rng.choice(list(k.values.values()))[0]
        else:
            name = self.new_name("v")
        data = f"s{self.seq}\n".encode()
        p = self.fs_path(path, name)
        with open(p, "wb") as f:
            f.write(data)
        old = k.values.get(name.lower())
        if old:
            old[1] = data
        else:
            k.values[name.lower()] = [os.path.basename(p), data, True]
        self.check_value(path, name)

    def op_read(self):
        path, k = self.pick_key()
        if k.values:
            self.check_value(path, self.rng.choice(list(k.values.values()))[0])

    def op_hold(self):
        path, k = self.pick_key()
        if not k.values or len(self.held) >= 8:
            return
        v = self.rng.choice(list(k.values.values()))
        fd = os.open(self.fs_path(path, v[0]), os.O_RDONLY)
        self.held.append((fd, v))

    def op_drop(self):
        if self.held:
            fd, _ = self.held.pop(self.rng.randrange(len(self.held)))
            os.close(fd)

    def op_unlink(self):
        path, k = self.pick_key()
        name = self.new_name("v")
        if k.values and self.rng.random() < 0.8:
            name = self.rng.choice(list(k.values.values()))[0]
        p = self.fs_path(path, name)
        try:
            os.unlink(p)
            err = 0
        except OSError as e:
            err = e.errno
        want = 0 if name.lower() in k.values else errno.ENOENT
        if err != want:
            self.fail(f"unlink {p}: errno {err}, model says {want}")
        gone = k.values.pop(name.lower(), None)
        if gone:
            gone[2] = False
        self.check_value(path, name)

    def op_mkdir(self):
        path, k = self.pick_key()
        if len(path) >= 4:
            return
        name = self.new_name("k")
        p = self.fs_path(path, name)
        try:
            os.mkdir(p)
            err = 0
        except OSError as e:
            err = e.errno
        want = errno.EEXIST if name.lower() in k.keys else 0
        if err != want:
            self.fail(f"mkdir {p}: errno {err}, model says {want}")
        if not err:
            k.keys[name.lower()] = Key(os.path.basename(p))
        self.check_key(path, name)

    def op_rmdir(self):
        path, k = self.pick_key()
        if not k.keys:
            return
        sub = self.rng.choice(list(k.keys.values()))
        p = self.fs_path(path, sub.name)
        try:
            os.rmdir(p)
            err = 0
        except OSError as e:
            err = e.errno
        want = errno.ENOTEMPTY if (sub.keys or sub.values) else 0
        if err != want:
            self.fail(f"rmdir {p}: errno {err}, model says {want}")
        if not err:
            del k.keys[sub.name.lower()]
        self.check_key(path, sub.name)

    def op_mv_value(self):
        path, k = self.pick_key()
        if not k.values:
            return
        name = self.rng.choice(list(k.values.values()))[0]
        to_path, to = self.pick_key()
        if to.values and self.rng.random() < 0.3:
            new = self.rng.choice(list(to.values.values()))[0]
        else:
            new = self.new_name("v")
        if to is k and new.lower() == name.lower():
            return  # one file: rename(2) does nothing
        src, dst = self.fs_path(path, name), self.fs_path(to_path, new)
        os.rename(src, dst)
        moved = k.values.pop(name.lower())
        moved[2] = False
        old = to.values.get(new.lower())
        if old:
            old[2] = False
        to.values[new.lower()] = [old[0] if old else os.path.basename(dst),
                                  moved[1], True]
        self.check_value(path, name)
        self.check_value(to_path, new)

    def op_mv_key(self):
        path, k = self.pick_key()
        if not k.keys:
            return
        sub = self.rng.choice(list(k.keys.values()))
        to_path, to = self.pick_key()
        # Not into itself, and only to a name no key there has.
        if to_path[:len(path) + 1] == path + (sub.name,) or len(to_path) >= 4:
            return
        new = self.new_name("k")
        if new.lower() in to.keys:
            return
        src, dst = self.fs_path(path, sub.name), self.fs_path(to_path, new)
        os.rename(src, dst)
        del k.keys[sub.name.lower()]
        sub.name = os.path.basename(dst)
        to.keys[new.lower()] = sub
        self.check_key(path, sub.name)
        self.check_key(to_path, new)
        for vname, _, _ in list(sub.values.values())[:3]:
            self.check_value(to_path + (sub.name,), vname, spellings=1)

    def op_list(self):
        path, _ = self.pick_key()
        self.check_listing(path)

    def run(self, ops):
        table = [(self.op_write, 30), (self.op_read, 12), (self.op_unlink, 10),
                 (self.op_mkdir, 8), (self.op_rmdir, 5), (self.op_mv_value, 12),
                 (self.op_mv_key, 5), (self.op_list, 8), (self.op_hold, 5),
                 (self.op_drop, 5)]
        funcs = [f for f, w in table for _ in range(w)]
        try:
            for self.seq in range(ops):
                self.rng.choice(funcs)()
                self.check_held()
                if self.seq % 50 == 49:
                    self.check_all()
            self.check_all()
        except Failed:
            pass
        except OSError as e:
            self.problems.append(f"op {self.seq}: {e}")
        for fd, _ in self.held:
            os.close(fd)

    def state(self):
        def dump(k):
            return {"name": k.name,
                    "keys": [dump(s) for s in k.keys.values()],
                    "values": {v[0]: v[1].decode() for v in k.values.values()}}
        return dump(self.root)


def verify(hive_path, state):
    import hivex
    h = hivex.Hivex(hive_path)
    problems = []

    def walk(node, want, where):
        subs = {h.node_name(c): c for c in h.node_children(node)}
        names = sorted(s["name"] for s in want["keys"])
        if sorted(subs) != names:
            problems.append(f"{where}: subkeys {sorted(subs)} vs {names}")
            return
        vals = {}
        for v in h.node_values(node):
            t, data = h.value_value(v)
            vals[h.value_key(v)] = (t, data)
        wv = {n: (1, (d.rstrip("\n") + "\0").encode("utf-16-le"))
              for n, d in want["values"].items()}
        if vals != wv:
            problems.append(f"{where}: values {sorted(vals)} vs {sorted(wv)} "
                            f"(or their data)")
        for s in want["keys"]:
            walk(subs[s["name"]], s, where + "\\" + s["name"])

    walk(h.root(), state, "")
    return problems


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "run":
        r = Run(sys.argv[2], int(sys.argv[5]))
        r.run(int(sys.argv[4]))
        with open(sys.argv[3], "w") as f:
            json.dump(r.state(), f)
        print(f"model: {r.seq + 1} operations, "
              f"{sum(1 for _ in r.keys_below(r.root))} keys, "
              f"{sum(len(k.values) for _, k in r.keys_below(r.root))} values")
        problems = r.problems
    elif len(sys.argv) == 4 and sys.argv[1] == "verify":
        with open(sys.argv[3]) as f:
            problems = verify(sys.argv[2], json.load(f))
    else:
        sys.stderr.write(__doc__)
        return 2
    if problems:
        print("\n".join(problems[:10]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
