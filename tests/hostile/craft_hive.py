#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/hostile/craft_hive.py — hives of hostile shapes, for the shapes
section of the hostile suite.

  craft_hive.py HIVECTL ri-repeat OUT [LEAF_ENTRIES [RI_ENTRIES]]
      key K whose subkey list is an ri index of RI_ENTRIES (default 65535)
      entries that all name the same lf leaf, whose LEAF_ENTRIES (default
      65535) entries all name one key "A": about 800 KB of file that lists
      4 294 836 225 subkeys when read naively
  craft_hive.py HIVECTL wide OUT [N]
      key K with N (default 100000) subkeys S0000000 ... in lh leaves of
      500 under an ri index, the way Windows lays out a large key; the
      hive passes `hivectl check --strict`
  craft_hive.py HIVECTL big-value OUT [SEGMENTS]
      REG_BINARY value Big at the root whose data is SEGMENTS (default
      16500) big-data segments of 16344 bytes: 269 676 000 bytes, more
      than the engine hands out (HIVE_MAX_READ_DATA, 256 MiB less one
      byte) but within what Windows allows (65535 segments)

  craft_hive.py HIVECTL dag OUT [DEPTH [REPEATS]]
      a chain of keys K\\L1\\L2 ... of DEPTH (default 5) levels below K,
      each key's lf leaf naming its one child REPEATS (default 200) times:
      a few KB that a naive walk visits REPEATS^DEPTH times (3.2e11)

The base is a hive made by `hivectl create` and `hivectl mkdir`; the
crafted cells go into bins appended after it, and the key's nk is patched
to use them (the base block's bins size and checksum follow).
"""
import struct
import subprocess
import sys

BASE = 4096  # bins start here in the file


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


class Hive:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.img = bytearray(f.read())
        self.bins_size = struct.unpack_from("<I", self.img, 40)[0]
        self.img = self.img[: BASE + self.bins_size]
        self.new = bytearray()  # bins appended, relative to their start
        self.bin_start = None   # current bin's offset within self.new
        self.bin_left = 0

    # Cell offsets are relative to the start of the bins.
    def u32(self, off, field):
        return struct.unpack_from("<I", self.img, BASE + off + 4 + field)[0]

    def put_u32(self, off, field, v):
        struct.pack_into("<I", self.img, BASE + off + 4 + field, v)

    def cells(self):
        pos = 0
        while pos < self.bins_size:
            size = struct.unpack_from("<I", self.img, BASE + pos + 8)[0]
            cell = pos + 32
            while cell < pos + size:
                n = struct.unpack_from("<i", self.img, BASE + cell)[0]
                yield cell, n
                cell += abs(n)
            pos += size

    def find_record(self, sig, name):
        want = name.encode("latin-1")
        name_at = 76 if sig == b"nk" else 20
        for off, n in self.cells():
            p = BASE + off + 4
            if n < 0 and self.img[p:p + 2] == sig:
                nlen = struct.unpack_from("<H", self.img, p + 2 if sig == b"vk"
                                          else p + 72)[0]
                if bytes(self.img[p + name_at:p + name_at + nlen]) == want:
                    return off
        raise SystemExit(f"craft_hive: no {sig.decode()} {name!r} in the base hive")

    def find_key(self, name):
        return self.find_record(b"nk", name)

    def free_cell(self, off):
        n = struct.unpack_from("<i", self.img, BASE + off)[0]
        struct.pack_into("<i", self.img, BASE + off, abs(n))

    def _close_bin(self):
        if self.bin_start is not None and self.bin_left:
            # The rest of the bin is one free cell.
            struct.pack_into("<i", self.new, len(self.new) - self.bin_left,
                             self.bin_left)
        self.bin_start = None
        self.bin_left = 0

    def alloc(self, data):
        size = (len(data) + 4 + 7) & ~7
        if size > self.bin_left:
            self._close_bin()
            bin_size = max(4096, (size + 32 + 4095) & ~4095)
            self.bin_start = len(self.new)
            header = bytearray(32)
            header[0:4] = b"hbin"
            struct.pack_into("<II", header, 4, self.bins_size + self.bin_start,
                             bin_size)
            self.new += header + bytearray(bin_size - 32)
            self.bin_left = bin_size - 32
        at = len(self.new) - self.bin_left
        struct.pack_into("<i", self.new, at, -size)
        self.new[at + 4:at + 4 + len(data)] = data
        self.bin_left -= size
        return self.bins_size + at  # relative to the bins

    def save(self, path):
        self._close_bin()
        img = self.img + self.new
        struct.pack_into("<I", img, 40, len(img) - BASE)
        checksum = 0
        for i in range(0, 508, 4):
            checksum ^= struct.unpack_from("<I", img, i)[0]
        if checksum == 0:
            checksum = 1
        elif checksum == 0xFFFFFFFF:
            checksum = 0xFFFFFFFE
        struct.pack_into("<I", img, 508, checksum)
        with open(path, "wb") as f:
            f.write(img)


def lh_hash(name):
    h = 0
    for ch in name.upper():
        h = (h * 37 + ord(ch)) & 0xFFFFFFFF
    return h


def nk_record(name, parent, security, time):
    raw = name.encode("latin-1")
    rec = bytearray(76)
    rec[0:2] = b"nk"
    struct.pack_into("<HQ", rec, 2, 0x20, time)      # name stored Latin-1
    struct.pack_into("<I", rec, 16, parent)
    struct.pack_into("<II", rec, 28, 0xFFFFFFFF, 0xFFFFFFFF)
    struct.pack_into("<III", rec, 40, 0xFFFFFFFF, security, 0xFFFFFFFF)
    struct.pack_into("<HH", rec, 72, len(raw), 0)
    return bytes(rec) + raw


def ri_repeat(hivectl, out, leaf_entries, ri_entries):
    run(hivectl, "create", "--force", out)
    run(hivectl, "mkdir", "-p", out, "K\\A")
    h = Hive(out)
    k, a = h.find_key("K"), h.find_key("A")
    h.free_cell(h.u32(k, 28))  # the sound list is replaced
    leaf = bytearray(b"lf" + struct.pack("<H", leaf_entries))
    leaf += (struct.pack("<I", a) + b"A\0\0\0") * leaf_entries
    lf = h.alloc(leaf)
    ri = h.alloc(b"ri" + struct.pack("<H", ri_entries) +
                 struct.pack("<I", lf) * ri_entries)
    h.put_u32(k, 20, leaf_entries)
    h.put_u32(k, 28, ri)
    h.save(out)


def dag(hivectl, out, depth, repeats):
    run(hivectl, "create", "--force", out)
    path = "K\\" + "\\".join("L%d" % i for i in range(1, depth + 1))
    run(hivectl, "mkdir", "-p", out, path)
    h = Hive(out)
    chain = [h.find_key("K")] + [h.find_key("L%d" % i) for i in range(1, depth + 1)]
    for parent, child, name in zip(chain, chain[1:],
                                   ["L%d" % i for i in range(1, depth + 1)]):
        h.free_cell(h.u32(parent, 28))  # the sound one-entry list
        hint = name.encode("latin-1")[:4].ljust(4, b"\0")
        leaf = bytearray(b"lf" + struct.pack("<H", repeats))
        leaf += (struct.pack("<I", child) + hint) * repeats
        h.put_u32(parent, 20, repeats)
        h.put_u32(parent, 28, h.alloc(leaf))
    h.save(out)


def wide(hivectl, out, n):
    run(hivectl, "create", "--force", out)
    run(hivectl, "mkdir", out, "K")
    h = Hive(out)
    k = h.find_key("K")
    security = h.u32(k, 44)
    time = struct.unpack_from("<Q", h.img, BASE + k + 4 + 4)[0]
    names = [f"S{i:07d}" for i in range(n)]
    cells = [h.alloc(nk_record(s, k, security, time)) for s in names]
    leaves = []
    for start in range(0, n, 500):
        part = range(start, min(start + 500, n))
        body = b"".join(struct.pack("<II", cells[i], lh_hash(names[i]))
                        for i in part)
        leaves.append(h.alloc(b"lh" + struct.pack("<H", len(part)) + body))
    top = leaves[0] if len(leaves) == 1 else h.alloc(
        b"ri" + struct.pack("<H", len(leaves)) +
        b"".join(struct.pack("<I", x) for x in leaves))
    h.put_u32(k, 20, n)
    h.put_u32(k, 28, top)
    h.put_u32(k, 52, 2 * len(names[0]))  # max subkey name, bytes
    refs = struct.unpack_from("<I", h.img, BASE + security + 4 + 12)[0]
    struct.pack_into("<I", h.img, BASE + security + 4 + 12, refs + n)
    h.save(out)


def big_value(hivectl, out, segments):
    run(hivectl, "create", "--force", out)
    run(hivectl, "set", "-t", "binary", out, "", "Big", "00")
    h = Hive(out)
    vk = h.find_record(b"vk", "Big")
    chunk = bytes(range(256)) * 64  # 16384 bytes of a recognisable pattern
    segs = [h.alloc(chunk[:16344]) for _ in range(segments)]
    seglist = h.alloc(b"".join(struct.pack("<I", x) for x in segs))
    db = h.alloc(b"db" + struct.pack("<HI", segments, seglist) + b"\0" * 4)
    h.put_u32(vk, 4, segments * 16344)
    h.put_u32(vk, 8, db)
    root = struct.unpack_from("<I", h.img, 36)[0]
    h.put_u32(root, 64, segments * 16344)  # max value data
    h.save(out)


def main(argv):
    if len(argv) < 4 or argv[2] not in ("ri-repeat", "wide", "big-value", "dag"):
        sys.stderr.write(__doc__)
        return 2
    hivectl, shape, out = argv[1:4]
    nums = [int(x) for x in argv[4:]]
    if shape == "ri-repeat":
        ri_repeat(hivectl, out, *(nums + [65535, 65535])[:2])
    elif shape == "big-value":
        big_value(hivectl, out, *(nums + [16500])[:1])
    elif shape == "dag":
        dag(hivectl, out, *(nums + [5, 200][len(nums):])[:2])
    else:
        wide(hivectl, out, *(nums + [100000])[:1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
