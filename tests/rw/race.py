#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/rw/race.py DIR SECONDS — threads that read and write the same
values through a read-write mount at once: O_WRONLY|O_TRUNC, O_RDWR
rewrites, truncate(2), reads through descriptors held open across the
writes and fresh opens.  Nothing hangs (a store drops pages a READ in
flight has locked: fs/stale.c), no call fails, and afterwards each value
reads back what was last written.  Reads that race a store and see zeros
of a page the kernel kept are counted and printed.  Exit 0 on success, 1
with the reasons otherwise.
"""
import os
import sys
import threading
import time

VALUES = 4


def main():
    d, seconds = sys.argv[1], float(sys.argv[2])
    names = [os.path.join(d, f"race{i}") for i in range(VALUES)]
    for n in names:
        with open(n, "w") as f:
            f.write("start\n")
    stop = time.monotonic() + seconds
    problems = []

    torn = [0]

    def plausible(data):
        # Empty: an O_TRUNC open empties the file for other readers until
        # its close, as on any file system (the hive is never stored
        # empty).  A writer's truncate(2) may cut another's longer text.
        return data in (b"", b"start\n") or data.startswith(b"w")

    def check(data):
        # Zeros in place of text: a READ answered just before a store can
        # fill a page the kernel had to keep while the size changed; the
        # next open reads the stored value (see fs/stale.c).  Counted, and
        # the values must read back right once the writers are done.
        if not plausible(data):
            torn[0] += 1

    def guarded(fn):
        def run(k):
            try:
                fn(k)
            except OSError as e:
                problems.append(f"{fn.__name__} {k}: {e}")
        return run

    def writer(k):
        i = 0
        while time.monotonic() < stop and not problems:
            n = names[(k + i) % VALUES]
            text = f"w{k}-{i}\n"
            if i % 3 == 0:
                with open(n, "w") as f:  # O_WRONLY|O_TRUNC
                    f.write(text)
            elif i % 3 == 1:
                with open(n, "r+") as f:  # O_RDWR: read, rewrite, cut
                    f.read()
                    f.seek(0)
                    f.write(text)
                    f.truncate()
            else:
                with open(n, "w") as f:
                    f.write(text + "padding\n")
                os.truncate(n, len(text))
            i += 1

    def reader(k):
        held = [open(n, "rb") for n in names]  # open across the writes
        try:
            while time.monotonic() < stop and not problems:
                for n, f in zip(names, held):
                    for data in (os.pread(f.fileno(), 4096, 0), open(n, "rb").read()):
                        check(data)
        finally:
            for f in held:
                f.close()

    threads = [threading.Thread(target=guarded(writer), args=(k,)) for k in range(2)]
    threads += [threading.Thread(target=guarded(reader), args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, n in enumerate(names):
        with open(n, "w") as f:
            f.write(f"final{i}\n")
    for i, n in enumerate(names):
        with open(n, "rb") as f:
            got = f.read()
        if got != f"final{i}\n".encode():
            problems.append(f"{n}: after the race reads {got!r}")
    print(f"race: {torn[0]} reads saw zeros of a page kept across a store")
    if problems:
        print("\n".join(problems[:10]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
