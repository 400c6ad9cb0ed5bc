#!/usr/bin/python3
# mount_dump.py [--text | --raw] MOUNTPOINT
#
# Walk a mounted hivefs and print the canonical dump of the hive it shows
# (format: tests/oracle/hivex_dump.py; `hivectl dump --help`), so that it
# can be compared byte for byte with hivex's dump of the same file.
#
# The walk uses only what any program sees: directory listings (readdir
# order: subkeys in list order, then values), file contents and the
# user.winreg.* xattrs.  File names are decoded with an independent
# implementation of the encoding of hivefs(1), FILE NAMES (fs/names.c):
#   %25 %2F %XX (C0, DEL) %uXXXX (unpaired surrogate), whole-name %2E and
#   %2E%2E; values: "@" = default value, "%40" = a value named "@";
#   NAME%v = a value clashing with a subkey; names holding "%~" (shortened,
#   NAME%~N duplicates, damaged entries) carry the full name in
#   user.winreg.name.
#
# --raw   the mount uses -o raw: every file holds the data itself; values
#         whose type has a text view must carry user.winreg.raw.
# --text  the mount uses the text view: a file without user.winreg.raw whose
#         type has a text view is read back with the rules of hive/text.c,
#         and the file must be exactly what those rules render from the
#         data.  user.winreg.raw must be present exactly on data that is not
#         canonical for its type.
# Any mismatch, or an entry that cannot be read, is an E line on stdout and
# exit status 1.

import os
import sys

TYPES = ["REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
         "REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ",
         "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR",
         "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD"]
TEXT_TYPES = {1, 2, 4, 5, 6, 7, 11}

_UNIT = ["%%%04x" % u for u in range(0x10000)]
for _u in range(0x21, 0x7F):
    if _u not in (0x25, 0x5C):
        _UNIT[_u] = chr(_u)


def esc(units):
    return "".join(_UNIT[u] for u in units)


class Bad(Exception):
    pass


def decode_name(name, value):
    """File name (str) -> list of UTF-16 units of the stored name."""
    if value and name == "@":
        return []
    if value and name.upper() == "%40":
        return [0x40]
    if name.upper() == "%2E":
        return [0x2E]
    if name.upper() == "%2E%2E":
        return [0x2E, 0x2E]
    units = []
    i = 0
    while i < len(name):
        c = name[i]
        if c == "%":
            if name[i + 1:i + 2] in ("u", "U"):
                units.append(int(name[i + 2:i + 6], 16))
                i += 6
            else:
                v = int(name[i + 1:i + 3], 16)
                if not (v < 0x20 or v == 0x7F or v in (0x25, 0x2F)):
                    raise Bad("unexpected escape in %r" % name)
                units.append(v)
                i += 3
            continue
        b = c.encode("utf-16-le", "strict")
        units.extend(b[k] | b[k + 1] << 8 for k in range(0, len(b), 2))
        i += 1
    return units


def stored_units(path, name, value):
    """The stored name of the entry listed as `name` at `path`."""
    if "%~" in name:
        full = os.getxattr(path, "user.winreg.name").decode("utf-8")
        return decode_name(full, value)
    if value and name.endswith("%v"):
        name = name[:-2]
    return decode_name(name, value)


def u16(data):
    return [data[i] | data[i + 1] << 8 for i in range(0, len(data) - 1, 2)]


def canonical(t, data):
    """Does hive/text.c render this data as text?"""
    if t in (4, 5):
        return len(data) == 4
    if t == 11:
        return len(data) == 8
    if len(data) % 2:
        return False
    units = u16(data)
    try:
        if t in (1, 2):
            # Zero bytes have no text: "" is written as one NUL.
            if not units or units[-1] != 0 or 0 in units[:-1]:
                return False
            data[:-2].decode("utf-16-le", "strict")
            return True
        if t == 6:
            data.decode("utf-16-le", "strict")
            return 0 not in units
        if t == 7:
            if not units or units[-1] != 0:
                return False
            body = units[:-1]
            if body and body[-1] != 0:
                return False
            if 0x0A in body:
                return False
            # An empty string (Windows stops reading there) has no text.
            if body and (body[0] == 0 or any(
                    a == 0 and b == 0 for a, b in zip(body, body[1:]))):
                return False
            data.decode("utf-16-le", "strict")
            return True
    except UnicodeDecodeError:
        return False
    return False


def render(t, data):
    """The text view of canonical data (the rules of hive/text.c)."""
    if t == 4:
        return b"%d\n" % int.from_bytes(data, "little")
    if t == 5:
        return b"%d\n" % int.from_bytes(data, "big")
    if t == 11:
        return b"%d\n" % int.from_bytes(data, "little")
    if t in (1, 2):
        return data[:-2].decode("utf-16-le").encode() + b"\n"
    if t == 6:
        return data.decode("utf-16-le").encode()
    strings = data[:-2].decode("utf-16-le").split("\0")[:-1]
    return b"".join(s.encode() + b"\n" for s in strings)


def parse(t, text):
    """Text back to data: the inverse of render()."""
    if t in (4, 5, 11):
        if not text.endswith(b"\n"):
            raise Bad("number without newline")
        n = int(text[:-1])
        return n.to_bytes(8 if t == 11 else 4, "big" if t == 5 else "little")
    if t in (1, 2):
        if not text.endswith(b"\n"):
            raise Bad("string without newline")
        return text[:-1].decode("utf-8").encode("utf-16-le") + b"\0\0"
    if t == 6:
        return text.decode("utf-8").encode("utf-16-le")
    if text and not text.endswith(b"\n"):
        raise Bad("multi-string without final newline")
    lines = text[:-1].split(b"\n") if text else []
    return b"".join(l.decode("utf-8").encode("utf-16-le") + b"\0\0"
                    for l in lines) + b"\0\0"


def type_number(text):
    if text.startswith("0x"):
        return int(text, 16)
    return TYPES.index(text)


def value_line(path, mode):
    t = type_number(os.getxattr(path, "user.winreg.type").decode())
    try:
        raw_flag = os.getxattr(path, "user.winreg.raw") == b"1"
    except OSError:
        raw_flag = False
    with open(path, "rb") as f:
        content = f.read()
    if os.stat(path).st_size != len(content):
        raise Bad("st_size %d, read %d bytes" % (os.stat(path).st_size, len(content)))
    if mode == "raw":
        if raw_flag != (t in TEXT_TYPES):
            raise Bad("user.winreg.raw %s for type %d under -o raw" % (raw_flag, t))
        return t, content
    if t not in TEXT_TYPES:
        if raw_flag:
            raise Bad("user.winreg.raw on type %d" % t)
        return t, content
    data = content if raw_flag else parse(t, content)
    if canonical(t, data) == raw_flag:
        raise Bad("user.winreg.raw is %s but the data is %scanonical"
                  % (raw_flag, "" if raw_flag else "not "))
    if not raw_flag and render(t, data) != content:
        raise Bad("text %r is not the rendering %r" % (content[:60], render(t, data)[:60]))
    return t, data


def main(argv):
    mode = "raw"
    if len(argv) == 3 and argv[1] in ("--text", "--raw"):
        mode = argv[1][2:]
        argv = argv[1:]
    if len(argv) != 2:
        sys.stderr.write("usage: mount_dump.py [--text | --raw] MOUNTPOINT\n")
        return 2
    out = sys.stdout
    errors = 0
    stack = [(argv[1], "")]
    while stack:
        path, p = stack.pop()
        out.write("K\t%s\n" % p)
        subdirs = []
        try:
            entries = list(os.scandir(path))
        except OSError as e:
            out.write("E\t%s\tlisting: %s\n" % (p, e))
            errors += 1
            continue
        for ent in entries:
            full = os.path.join(path, ent.name)
            try:
                if ent.is_dir(follow_symlinks=False):
                    units = stored_units(full, ent.name, False)
                    subdirs.append((full, (p + "\\" if p else "") + esc(units)))
                    continue
                units = stored_units(full, ent.name, True)
                t, data = value_line(full, mode)
                out.write("V\t%s\t%s\t%d\t%s\n" % (p, esc(units), t, data.hex()))
            except (OSError, Bad, ValueError, UnicodeError) as e:
                out.write("E\t%s\t%s: %s\n" % (p, ent.name, e))
                errors += 1
        stack.extend(reversed(subdirs))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
