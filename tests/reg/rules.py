#!/usr/bin/python3
# tests/reg/rules.py — the hand-written .reg file of tests/reg/run, and
# the hive content it must give, from one list of cases.
#
#   rules.py reg VERSION ENCODING
#                            the file for header VERSION (5 or 4) in
#                            ENCODING: utf16 (BOM, CRLF), utf16-nobom (CRLF),
#                            utf8-bom (CRLF), utf8 (LF), cp1252 (CRLF)
#   rules.py dump VERSION    the canonical dump (tests/oracle/hivex_dump.py's
#                            format) of a new hive after importing it
#
# Each case is (.reg line(s), value name, type, data bytes): the expected
# data is computed here from Python's own codecs, not by hivectl's code.
# REGEDIT4 files are Windows-1252 and their hex(2)/hex(7) data ANSI text
# (widened on import, as regedit does); strings are the same in both.
import sys

def u16(s):
    return s.encode("utf-16-le")

def sz(s):
    return u16(s) + b"\0\0"

# (lines for version 5, lines for version 4 or None if the same, name, type, data)
VALUES = [
    ('@="default"', None, "", 1, sz("default")),
    (r'"Str"="a \"quoted\" \\ back\\slash"', None, "Str", 1, sz('a "quoted" \\ back\\slash')),
    (r'"Path"="C:\Windows\System32"', None, "Path", 1, sz("C:\\Windows\\System32")),
    ('"Empty"=""', None, "Empty", 1, sz("")),
    ('"Dw"=dword:0000002a', None, "Dw", 4, (42).to_bytes(4, "little")),
    ('"DwLead"=dword:0ffffffff', None, "DwLead", 4, b"\xff\xff\xff\xff"),
    ('"DwShort"=dword:1', None, "DwShort", 4, (1).to_bytes(4, "little")),
    ('"DwUpper"=DWORD:ABCDEF01', None, "DwUpper", 4, (0xABCDEF01).to_bytes(4, "little")),
    ('"Bin"=hex:01,02,ff', None, "Bin", 3, b"\x01\x02\xff"),
    ('"NoBytes"=hex:', None, "NoBytes", 3, b""),
    ('"Exp"=hex(2):25,00,50,00,25,00,00,00', '"Exp"=hex(2):25,50,25,00',
     "Exp", 2, sz("%P%")),
    ('"Multi"=hex(7):61,00,00,00,e9,00,00,00,00,00', '"Multi"=hex(7):61,00,e9,00,00',
     "Multi", 7, sz("a") + sz("\u00e9") + b"\0\0"),
    ('"Q"=hex(b):01,00,00,00,00,00,00,80', None, "Q", 11, b"\x01" + b"\0" * 6 + b"\x80"),
    ('"None"=hex(0):', None, "None", 0, b""),
    ('"Odd"=hex(ffffffff):aa', None, "Odd", 0xFFFFFFFF, b"\xaa"),
    ('"Leading"=hex(00000004):2a,0,0,0', None, "Leading", 4, b"\x2a\0\0\0"),
    ('"Long"=hex:00,01,02,03,\\\n    04,05,\\\t \n\t06,07,\\\n  08', None, "Long", 3,
     bytes(range(9))),
    ('"Text"="h\u00e9llo \u20ac"', None, "Text", 1, sz("h\u00e9llo \u20ac")),
    ('   "Spaced"  =  "x"   ; a comment after a value', None, "Spaced", 1, sz("x")),
    ('"semi;colon"="a;b"', None, "semi;colon", 1, sz("a;b")),
]

HEAD = {5: "Windows Registry Editor Version 5.00", 4: "REGEDIT4"}

def reg(version):
    out = [HEAD[version], "", "; a comment line", "",
           r"[HKEY_LOCAL_MACHINE\Software\Test]"]
    for v5, v4, *_ in VALUES:
        out.append(v4 if version == 4 and v4 else v5)
    out += ["", "[HKEY_LOCAL_MACHINE\\Software\\Test\\Sub\\Deeper]",
            '"gone"="soon"', '"keep"="1"', "",
            "[HKEY_LOCAL_MACHINE\\Software\\Test\\Sub\\Deeper]",
            '"gone"=-', '"never"=-', "",
            "[HKEY_LOCAL_MACHINE\\Software\\Doomed\\Child]",
            '"x"=dword:1', "",
            "[-HKEY_LOCAL_MACHINE\\Software\\Doomed]", "",
            "[-HKEY_LOCAL_MACHINE\\Software\\NeverThere]", "",
            "[HKLM\\Software\\Abbrev]", "",
            "  [hkey_local_machine\\SOFTWARE\\test]  ",
            '"Case"="same key"',
            '"LAST"="no newline at the end"']
    # The last line has no line end.
    return "\n".join(out)

def esc(name):
    return "".join(c if 0x21 <= ord(c) <= 0x7E and c not in "%\\" else
                   "".join("%%%04x" % int.from_bytes(u16(c)[i:i + 2], "little")
                           for i in range(0, len(u16(c)), 2))
                   for c in name)

def dump(version):
    lines = ["K\t", "K\tSoftware", "K\tSoftware\\Abbrev", "K\tSoftware\\Test"]
    vals = [(n, t, d) for _, _, n, t, d in VALUES]
    vals += [("Case", 1, sz("same key")), ("LAST", 1, sz("no newline at the end"))]
    for n, t, d in vals:
        lines.append("V\tSoftware\\Test\t%s\t%d\t%s" % (esc(n), t, d.hex()))
    lines += ["K\tSoftware\\Test\\Sub", "K\tSoftware\\Test\\Sub\\Deeper",
              "V\tSoftware\\Test\\Sub\\Deeper\tkeep\t1\t%s" % sz("1").hex()]
    return "\n".join(lines) + "\n"

def encoded(version, encoding):
    text = reg(version)
    if encoding != "utf8":
        text = text.replace("\n", "\r\n")
    return {"utf16": lambda t: b"\xff\xfe" + t.encode("utf-16-le"),
            "utf16-nobom": lambda t: t.encode("utf-16-le"),
            "utf8-bom": lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
            "utf8": lambda t: t.encode("utf-8"),
            "cp1252": lambda t: t.encode("cp1252")}[encoding](text)

if __name__ == "__main__":
    what, version = sys.argv[1], int(sys.argv[2])
    if what == "reg":
        sys.stdout.buffer.write(encoded(version, sys.argv[3]))
    else:
        sys.stdout.write(dump(version))
