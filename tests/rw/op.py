#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# op.py OPERATION ARGS... — one system call (or a short sequence) on a
# mount, for tests/rw/run, printing exactly what happened so that the test
# can compare it: "OK" (plus a result for some), or the errno name of the
# first call that failed, prefixed by the step ("close:EINVAL").
#
#   rename A B | mkdir P | rmdir P | unlink P | link A B | symlink T P
#   mknod P (regular file via mknod(2)) | mkfifo P | mknod-chr P
#   write P DATA [trunc|append|excl|plain]   open, write DATA (Python escapes,
#                                            e.g. 'abc\n'), close
#   setxattr P NAME VALUE                    VALUE with Python escapes
#   getxattr P NAME                          prints OK <hex of the value>
#   removexattr P NAME
#   stat P                                   prints OK <mode as octal>
#   twofds P       two fds on one REG_BINARY value of 8 zero bytes: pwrite
#                  "AA" at 0 through the first, "BB" at 4 through the
#                  second; the second reads its own copy (not the first's
#                  unstored write); first fd1, then fd2 closes; prints
#                  OK <hex read through fd2 before the closes>
#   readerwriter P a reader opened first, then O_TRUNC write "second\n" and
#                  close; prints OK <hex read from the old reader afterwards>
#   unlinked P     open O_RDWR, unlink, read it all, write "more" at the
#                  end, read it all again, close; prints
#                  OK <hex first read> <hex second read>

import errno
import os
import stat
import sys


def unesc(s):
    return s.encode("utf-8").decode("unicode_escape").encode("latin-1")


class Step(Exception):
    def __init__(self, step, e):
        self.step, self.e = step, e


def do(step, f, *a):
    try:
        return f(*a)
    except OSError as e:
        raise Step(step, e)


def main(argv):
    op, a = argv[1], argv[2:]
    out = "OK"
    if op == "rename":
        do("rename", os.rename, a[0], a[1])
    elif op == "mkdir":
        do("mkdir", os.mkdir, a[0])
    elif op == "rmdir":
        do("rmdir", os.rmdir, a[0])
    elif op == "unlink":
        do("unlink", os.unlink, a[0])
    elif op == "link":
        do("link", os.link, a[0], a[1])
    elif op == "symlink":
        do("symlink", os.symlink, a[0], a[1])
    elif op == "mknod":
        do("mknod", os.mknod, a[0], 0o644 | stat.S_IFREG)
    elif op == "mkfifo":
        do("mknod", os.mkfifo, a[0])
    elif op == "mknod-chr":
        do("mknod", os.mknod, a[0], 0o644 | stat.S_IFCHR, os.makedev(1, 3))
    elif op == "write":
        mode = a[2] if len(a) > 2 else "trunc"
        flags = os.O_WRONLY | {"trunc": os.O_CREAT | os.O_TRUNC, "append": os.O_APPEND,
                               "excl": os.O_CREAT | os.O_EXCL, "plain": 0}[mode]
        fd = do("open", os.open, a[0], flags, 0o644)
        try:
            data = unesc(a[1])
            n = do("write", os.write, fd, data)
            if n != len(data):
                out = "short write %d" % n
        except Step:
            # The write's error is the one to report, not the close's.
            try:
                os.close(fd)
            except OSError:
                pass
            raise
        do("close", os.close, fd)
    elif op == "setxattr":
        do("setxattr", os.setxattr, a[0], a[1], unesc(a[2]))
    elif op == "getxattr":
        out = "OK " + do("getxattr", os.getxattr, a[0], a[1]).hex()
    elif op == "removexattr":
        do("removexattr", os.removexattr, a[0], a[1])
    elif op == "stat":
        out = "OK %o" % do("stat", os.lstat, a[0]).st_mode
    elif op == "twofds":
        f1 = do("open1", os.open, a[0], os.O_RDWR)
        f2 = do("open2", os.open, a[0], os.O_RDWR)
        do("pwrite1", os.pwrite, f1, b"AA", 0)
        do("pwrite2", os.pwrite, f2, b"BB", 4)
        seen = do("pread2", os.pread, f2, 64, 0)
        do("close1", os.close, f1)
        do("close2", os.close, f2)
        out = "OK " + seen.hex()
    elif op == "readerwriter":
        r = do("open-reader", os.open, a[0], os.O_RDONLY)
        w = do("open-writer", os.open, a[0], os.O_WRONLY | os.O_TRUNC)
        do("write", os.write, w, b"second\n")
        do("close-writer", os.close, w)
        seen = do("read", os.pread, r, 64, 0)
        do("close-reader", os.close, r)
        out = "OK " + seen.hex()
    elif op == "unlinked":
        fd = do("open", os.open, a[0], os.O_RDWR)
        do("unlink", os.unlink, a[0])
        first = do("read1", os.pread, fd, 1 << 16, 0)
        do("write", os.pwrite, fd, b"more", len(first))
        second = do("read2", os.pread, fd, 1 << 16, 0)
        do("fstat", os.fstat, fd)
        do("close", os.close, fd)
        out = "OK %s %s" % (first.hex(), second.hex())
    else:
        sys.stderr.write("op.py: unknown operation %r\n" % op)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Step as s:
        print("%s:%s" % (s.step, errno.errorcode.get(s.e.errno, str(s.e.errno))))
        sys.exit(0)
