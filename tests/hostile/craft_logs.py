#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""craft_logs.py — dirty hives with hostile transaction logs.

    craft_logs.py CLEAN_HIVE OUTDIR
        writes OUTDIR/CASE/hive (+ hive.LOG / hive.LOG1 / hive.LOG2) for
        every case below and prints one line per case: NAME EXPECT, where
        EXPECT is "replays" (the log is sound and must be applied) or
        "refused" (the log must not be applied).
    craft_logs.py --fuzz-seeds CLEAN_HIVE OUTDIR
        writes the same cases as fuzz_replay inputs, OUTDIR/crafted-CASE
    craft_logs.py --frame HIVE OUT
        writes HIVE and the logs beside it (HIVE.LOG, .LOG1, .LOG2 in any
        case) as one fuzz_replay input
    The fuzz_replay framing (tests/fuzz/fuzz_replay.c): three little-endian
    u32 lengths (hive, .LOG1, .LOG2; bit 31 of the second asks the target to
    fix checksums and hashes, set here), then the hive, .LOG1, .LOG2, .LOG.

Every HvLE entry carries valid Marvin32 hashes (the engine's hv_marvin32
in hive/log.c is the reference, reimplemented here) and every base block a
valid checksum, so what is tested is the engine's bound on what a log may
make of a hive, not its hash check.  CLEAN_HIVE is any small clean hive
(the tests make one with `hivectl create`).
"""
import os
import struct
import sys

SECTOR = 512
PAGE = 4096
MASK = 0xFFFFFFFF
MARVIN_SEED = 0x82EF4D887A4E55C5


def rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & MASK


def marvin_block(p0, p1):
    p1 ^= p0
    p0 = rotl(p0, 20)
    p0 = (p0 + p1) & MASK
    p1 = rotl(p1, 9)
    p1 ^= p0
    p0 = rotl(p0, 27)
    p0 = (p0 + p1) & MASK
    p1 = rotl(p1, 19)
    return p0, p1


def marvin32(data):
    p0, p1 = MARVIN_SEED & MASK, MARVIN_SEED >> 32
    i = 0
    while len(data) - i >= 4:
        p0 = (p0 + struct.unpack_from("<I", data, i)[0]) & MASK
        p0, p1 = marvin_block(p0, p1)
        i += 4
    final = 0x80
    for b in reversed(data[i:]):
        final = ((final << 8) | b) & MASK
    p0 = (p0 + final) & MASK
    p0, p1 = marvin_block(p0, p1)
    p0, p1 = marvin_block(p0, p1)
    return (p1 << 32) | p0


def u32(b, off):
    return struct.unpack_from("<I", b, off)[0]


def checksum(base):
    s = 0
    for off in range(0, 508, 4):
        s ^= u32(base, off)
    return 1 if s == 0 else 0xFFFFFFFE if s == MASK else s


def with_checksum(base):
    base = bytearray(base)
    struct.pack_into("<I", base, 508, checksum(base))
    return base


def base_block(hive, seq1, seq2, ftype, bins=None):
    """A 512-byte base block (the part a log carries) from the hive's."""
    b = bytearray(hive[:SECTOR])
    struct.pack_into("<III", b, 4, seq1, seq2, u32(b, 12))
    struct.pack_into("<I", b, 28, ftype)
    if bins is not None:
        struct.pack_into("<I", b, 40, bins)
    return with_checksum(b)


def dirty_primary(hive):
    """The hive with its primary sequence number one ahead: dirty."""
    h = bytearray(hive)
    seq = u32(h, 8)
    struct.pack_into("<I", h, 4, seq + 1)
    h[:SECTOR] = with_checksum(h[:SECTOR])
    return bytes(h), seq


def hvle(seq, bins, pages):
    """One HvLE entry: pages is a list of (offset in bins, bytes)."""
    refs = b"".join(struct.pack("<II", off, len(data)) for off, data in pages)
    body = refs + b"".join(data for _, data in pages)
    size = -(-(40 + len(body)) // SECTOR) * SECTOR
    e = bytearray(size)
    e[0:4] = b"HvLE"
    struct.pack_into("<IIIII", e, 4, size, 0, seq, bins, len(pages))
    e[40:40 + len(body)] = body
    struct.pack_into("<Q", e, 24, marvin32(bytes(e[40:])))
    struct.pack_into("<Q", e, 32, marvin32(bytes(e[:32])))
    return bytes(e)


def new_log(hive, seq, entries):
    return bytes(base_block(hive, seq, seq, 6)) + b"".join(entries)


def old_log(hive, bins, dirty_sectors, sector_bytes):
    """An old-format log: base block (type 1), DIRT and a bitmap over `bins`
    bytes with the given sectors set, then those sectors' bytes."""
    seq = u32(hive, 8) + 1
    log = bytearray(base_block(hive, seq, seq, 1, bins))
    bitmap = bytearray(bins // SECTOR // 8)
    for s in dirty_sectors:
        bitmap[s // 8] |= 1 << (s % 8)
    log += b"DIRT" + bitmap
    log += bytes(-len(log) % SECTOR)
    for s in dirty_sectors:
        log += sector_bytes(s)
    return bytes(log)


def empty_bin(offset, size):
    b = bytearray(size)
    b[0:4] = b"hbin"
    struct.pack_into("<II", b, 4, offset, size)
    struct.pack_into("<i", b, 32, size - 32)      # one free cell
    return bytes(b)


def cases(hive, tiny=4000):
    """(name, expectation, hive bytes, {suffix: log bytes})"""
    bins = u32(hive, 40)
    dirty, seq = dirty_primary(hive)
    first_page = hive[PAGE:2 * PAGE]
    first_sector = hive[PAGE:PAGE + SECTOR]
    huge = 0xFFFFF000
    out = []
    # A bins size of almost 4 GiB claimed by one small entry.
    out.append(("hvle-huge-bins", "refused", dirty,
                {".LOG1": new_log(hive, seq, [hvle(seq, huge, [(0, first_page)])])}))
    # A page far beyond the hive (and a bins size to hold it).
    out.append(("hvle-far-page", "refused", dirty,
                {".LOG1": new_log(hive, seq, [hvle(seq, huge, [(huge - PAGE, empty_bin(huge - PAGE, PAGE))])])}))
    # A sound first entry, then one that claims 4 GiB: the first applies.
    out.append(("hvle-huge-second", "replays", dirty,
                {".LOG1": new_log(hive, seq, [hvle(seq, bins, [(0, first_page)]),
                                             hvle(seq + 1, huge, [(0, first_page)])])}))
    # Growth the entry really carries: one new bin, logged whole.
    out.append(("hvle-growth", "replays", dirty,
                {".LOG1": new_log(hive, seq, [hvle(seq, bins + PAGE,
                                                   [(0, first_page), (bins, empty_bin(bins, PAGE))])])}))
    # Growth with a hole: the new bin's second page is not carried.
    out.append(("hvle-growth-hole", "refused", dirty,
                {".LOG1": new_log(hive, seq, [hvle(seq, bins + 2 * PAGE,
                                                   [(bins, empty_bin(bins, 2 * PAGE)[:PAGE])])])}))
    # Thousands of tiny entries (one sector each, the hive's own bytes),
    # split over both logs in alternating runs.
    n = tiny
    log1 = [hvle(seq + i, bins, [(0, first_sector)]) for i in range(0, n, 2)]
    log2 = [hvle(seq + i, bins, [(0, first_sector)]) for i in range(1, n, 2)]
    out.append(("hvle-many-tiny", "replays", dirty,
                {".LOG1": new_log(hive, seq, log1), ".LOG2": new_log(hive, seq + 1, log2)}))
    # Old format: a base block claiming almost 4 GiB of bins (a 1 MiB
    # bitmap with one sector set).
    out.append(("dirt-huge-bins", "refused", dirty,
                {".LOG": old_log(hive, huge, [0], lambda s: hive[PAGE + s * SECTOR:PAGE + (s + 1) * SECTOR])}))
    # Old format: only a sector far beyond the hive is dirty.
    far = 0x10000000
    out.append(("dirt-far-sector", "refused", dirty,
                {".LOG": old_log(hive, far, [far // SECTOR - 1], lambda s: bytes(SECTOR))}))
    # Old format, sound: the first sector of the bins, bins size unchanged.
    out.append(("dirt-sound", "replays", dirty,
                {".LOG": old_log(hive, bins, [0], lambda s: hive[PAGE + s * SECTOR:PAGE + (s + 1) * SECTOR])}))
    return out


FIX_FLAG = 0x80000000


def framed(primary, log1, log2, log):
    return (struct.pack("<III", len(primary), len(log1) | FIX_FLAG, len(log2)) +
            primary + log1 + log2 + log)


def frame_beside(hive_path, out):
    d, base = os.path.split(hive_path)
    logs = {}
    for name in os.listdir(d or "."):
        if name.lower().startswith(base.lower()):
            suffix = name[len(base):].upper()
            if suffix in (".LOG", ".LOG1", ".LOG2") and suffix not in logs:
                logs[suffix] = open(os.path.join(d, name), "rb").read()
    with open(out, "wb") as f:
        f.write(framed(open(hive_path, "rb").read(), logs.get(".LOG1", b""),
                       logs.get(".LOG2", b""), logs.get(".LOG", b"")))


def main(argv):
    if argv[1:2] == ["--frame"] and len(argv) == 4:
        frame_beside(argv[2], argv[3])
        return
    seeds = argv[1:2] == ["--fuzz-seeds"]
    if seeds:
        argv = argv[1:]
    if len(argv) != 3:
        sys.exit(__doc__)
    hive = open(argv[1], "rb").read()
    os.makedirs(argv[2], exist_ok=True)
    # Fuzz seeds stay small (tests/fuzz/run drops seeds over 600 000 bytes).
    for name, expect, primary, logs in cases(hive, 300 if seeds else 4000):
        if seeds and sum(map(len, logs.values())) + len(primary) > 600000:
            continue
        if seeds:
            with open(os.path.join(argv[2], "crafted-" + name), "wb") as f:
                f.write(framed(primary, *(logs.get(s, b"") for s in (".LOG1", ".LOG2", ".LOG"))))
            continue
        d = os.path.join(argv[2], name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "hive"), "wb") as f:
            f.write(primary)
        for suffix, data in logs.items():
            with open(os.path.join(d, "hive" + suffix), "wb") as f:
                f.write(data)
        print(name, expect)


if __name__ == "__main__":
    main(sys.argv)
