#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/layers/check.py SOURCE_ROOT — the dependency rules of the README's
# "Architecture" section, checked on the #include lines of the sources:
#
#   - hive/ includes nothing of fs/ or tools/; fs/ and tools/ include
#     nothing of hive/ but hive.h;
#   - every fs/ file belongs to one layer of FS_LAYERS, and includes only
#     headers of its own layer or the layers below (a file and its header
#     are one unit); within a layer, includes form no circle.
#
# A function can only be called where its declaration is included, so
# with no upward include and no circle there is no upward call and no
# call circle either (the operation table in session.c is the one place
# that holds pointers to the handlers).  Exit 1 with each broken rule.
import os
import re
import sys

# Bottom to top.  A new file must be placed here (the check fails until
# it is), which is when to decide what it may use.
FS_LAYERS = [
    ("pure helpers, no mount state", ["names", "view", "inode", "dir", "worker",
                                       "unmount", "cellmap"]),
    ("the state of one mount", ["hivefs"]),
    ("the node layer", ["node"]),
    ("services of the handlers", ["change", "store", "stale", "prefetch"]),
    ("handlers", ["read", "file", "entry", "xattr", "scratch"]),
    ("the session", ["session"]),
    ("transports", ["transport/*"]),
    ("the program", ["main"]),
]

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root, folder):
    for dirpath, _, names in os.walk(os.path.join(root, folder)):
        for name in sorted(names):
            if name.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(dirpath, name), root)


def includes(root, path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def unit_of(path):
    """fs/transport/uring.c -> transport/uring; fs/node.h -> node"""
    rel = os.path.relpath(path, "fs")
    return os.path.splitext(rel)[0]


def layer_of(unit):
    for i, (_, members) in enumerate(FS_LAYERS):
        for m in members:
            if m == unit or (m.endswith("/*") and unit.startswith(m[:-1])):
                return i
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    broken = []
    fs_files = list(sources(root, "fs"))
    fs_units = {unit_of(p) for p in fs_files}

    for path in sources(root, "hive"):
        for inc in includes(root, path):
            if not os.path.exists(os.path.join(root, os.path.dirname(path), inc)):
                broken.append(f"{path}: the engine includes {inc}, "
                              "which is not its own")
    hive_headers = {n for n in os.listdir(os.path.join(root, "hive"))
                    if n.endswith(".h")}
    for front in ("fs", "tools"):
        for path in sources(root, front):
            for inc in includes(root, path):
                local = os.path.exists(os.path.join(root, os.path.dirname(path), inc)) \
                    or os.path.exists(os.path.join(root, front, inc))
                if not local and os.path.basename(inc) in hive_headers \
                        and inc != "hive.h":
                    broken.append(f"{path}: a front end includes the "
                                  f"engine's private {inc}")

    edges = {}
    for path in fs_files:
        unit = unit_of(path)
        if layer_of(unit) is None:
            broken.append(f"{path}: in no layer of tests/layers/check.py")
            continue
        for inc in includes(root, path):
            candidates = [os.path.normpath(os.path.join(os.path.dirname(unit), inc)),
                          os.path.normpath(inc)]
            target = next((os.path.splitext(c)[0] for c in candidates
                           if os.path.splitext(c)[0] in fs_units), None)
            if target is None or target == unit:
                continue
            edges.setdefault(unit, set()).add(target)
            lu, lt = layer_of(unit), layer_of(target)
            if lt is not None and lt > lu:
                broken.append(f"{path}: includes {inc}, a layer above "
                              f"({FS_LAYERS[lt][0]} over {FS_LAYERS[lu][0]})")

    # Circles, by depth-first search over the units that hold code.  A
    # header with no .c of its own (hivefs.h, transport/impl.h) declares
    # for several files and calls nothing: it is see-through, its
    # includes count as those of the files that include it.
    has_code = {unit_of(p) for p in fs_files if p.endswith(".c")}

    def reach(u, seen):
        out = set()
        for v in edges.get(u, ()):
            if v in has_code:
                out.add(v)
            elif v not in seen:
                seen.add(v)
                out |= reach(v, seen)
        return out

    code_edges = {u: reach(u, {u}) - {u} for u in has_code}
    state = {}

    def visit(u, stack):
        state[u] = 1
        stack.append(u)
        for v in sorted(code_edges.get(u, ())):
            if state.get(v) == 1:
                broken.append("circle: " + " -> ".join(stack[stack.index(v):] + [v]))
            elif v not in state:
                visit(v, stack)
        stack.pop()
        state[u] = 2

    for u in sorted(code_edges):
        if u not in state:
            visit(u, [])

    for b in broken:
        print("FAIL", b)
    print(f"{len(fs_units)} fs units in {len(FS_LAYERS)} layers, "
          f"{sum(len(v) for v in edges.values())} includes between them: "
          f"{len(broken)} broken rules")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
