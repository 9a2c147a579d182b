#!/usr/bin/env python3
"""Checks the include graph of include/elfsieve against its layers.

A header may include only headers of its own layer or of a lower one, in this order:
  core (with detail/) < io < read < analysis < rewrite < kernel < strip
The umbrellas (elfsieve.hpp, read.hpp) sit above everything; read.hpp may include only core, read and analysis,
and no header it reaches may include a POSIX header. Exit 0 when the graph obeys the rules, 1 listing each
violation otherwise.
"""
import os
import re
import sys

LAYERS = ["core", "io", "read", "analysis", "rewrite", "kernel", "strip"]
RANK = {name: i for i, name in enumerate(LAYERS)}
RANK["detail"] = RANK["core"]
UMBRELLA = len(LAYERS)
POSIX = re.compile(r'#\s*include\s*<(unistd\.h|fcntl\.h|sys/[^>]+|dirent\.h|pthread\.h)>')
INCLUDE = re.compile(r'#\s*include\s*"elfsieve/([^"]+)"')


def layer_of(rel):
    parts = rel.split("/")
    if len(parts) == 1:
        return UMBRELLA, "umbrella"
    if parts[0] not in RANK:
        return None, parts[0]
    return RANK[parts[0]], parts[0]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "include")
    base = os.path.join(root, "elfsieve")
    headers = {}
    for dirpath, _, files in os.walk(base):
        for name in files:
            if name.endswith(".hpp"):
                path = os.path.join(dirpath, name)
                headers[os.path.relpath(path, base)] = open(path, encoding="utf-8").read()
    problems = []
    for rel, text in sorted(headers.items()):
        rank, name = layer_of(rel)
        if rank is None:
            problems.append(f"{rel}: folder '{name}' is not a layer ({', '.join(LAYERS)})")
            continue
        for target in INCLUDE.findall(text):
            if target not in headers:
                problems.append(f"{rel}: includes elfsieve/{target}, which does not exist")
                continue
            target_rank, target_name = layer_of(target)
            if target_rank is not None and target_rank > rank:
                problems.append(f"{rel} ({name}) includes elfsieve/{target} ({target_name}), a higher layer")
    # The read-only umbrella reaches no POSIX header and nothing above analysis.
    seen, stack = set(), ["read.hpp"]
    while stack:
        rel = stack.pop()
        if rel in seen or rel not in headers:
            continue
        seen.add(rel)
        if rel != "read.hpp":
            rank, name = layer_of(rel)
            if rank is not None and rank not in (RANK["core"], RANK["read"], RANK["analysis"]):
                problems.append(f"read.hpp reaches elfsieve/{rel} ({name}): only core, read and analysis belong there")
        if POSIX.search(headers[rel]):
            problems.append(f"read.hpp reaches elfsieve/{rel}, which includes a POSIX header")
        stack.extend(INCLUDE.findall(headers[rel]))
    for p in problems:
        print(p)
    print(f"check-layers: {len(headers)} headers, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
