#!/usr/bin/env python3
"""Checks that the crate's modules form no import cycle.

Two graphs, built from every `crate::…`, `super::…` and `self::…` path in
src/ (comments and strings ignored):

- between top-level modules (`crate::web` → `crate::registry`, …);
- at every level below, between sibling modules of one parent (a module and
  its own submodules count as one: a parent always uses its children and a
  child its parent's types, which is what modules are for).

Prints each cycle found and exits 1 if there is any. Usage:
    python3 .ci/module-cycles.py [SRC_DIR]
"""
import os
import re
import sys
from collections import defaultdict

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
LIB_ROOTS = {"lib.rs"}  # main.rs and cli/ are the binary crate: `standing::` paths, on top of everything


def module_path(rel):
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts in (["lib"], ["main"]):
        return []
    return parts


def strip_comments_and_strings(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'r#+"(?:.|\n)*?"#+', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def references(text, here):
    """Absolute module paths (lists) named in `text`, a file of module `here`."""
    out = []
    for m in re.finditer(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)", text):
        head, tail = m.group(1), m.group(2).split("::")[1:]
        if head == "crate":
            base = []
        elif head == "self":
            base = list(here)
        else:
            base = list(here[:-1])
            while tail and tail[0] == "super":
                base = base[:-1]
                tail = tail[1:]
        out.append(base + tail)
    # `use super::{a::X, b::Y}` and `use crate::{a, b}` groups
    for m in re.finditer(r"\b(crate|super)::\{([^}]*)\}", text):
        base = [] if m.group(1) == "crate" else list(here[:-1])
        for item in m.group(2).split(","):
            name = item.strip().split("::")[0].strip()
            if re.match(r"^[a-z_][a-z0-9_]*$", name):
                out.append(base + [name])
    return out


def main():
    modules = set()
    files = {}
    for root, _, names in os.walk(SRC):
        for n in names:
            if n.endswith(".rs"):
                rel = os.path.relpath(os.path.join(root, n), SRC)
                if rel.startswith("cli" + os.sep) or rel == "main.rs":
                    continue
                path = tuple(module_path(rel))
                modules.add(path)
                files[rel] = path
    edges = defaultdict(set)  # (parent, from_child) -> to_child, per level
    for rel, here in files.items():
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            text = strip_comments_and_strings(f.read())
        for target in references(text, list(here)):
            # longest known module prefix of the target path
            while target and tuple(target) not in modules:
                target = target[:-1]
            target = tuple(target)
            if not target or not here:
                continue
            # the common parent, and the two siblings under it
            common = 0
            while common < min(len(here), len(target)) and here[common] == target[common]:
                common += 1
            if common == len(here) or common == len(target):
                continue  # a module and its own ancestor or descendant
            edges[here[:common]].add((here[common], target[common]))
    cycles = []
    for parent, pairs in sorted(edges.items()):
        graph = defaultdict(set)
        for a, b in pairs:
            graph[a].add(b)
        state = {}
        stack = []

        def visit(node):
            state[node] = 1
            stack.append(node)
            for nxt in sorted(graph[node]):
                if state.get(nxt) == 1:
                    cycles.append(("::".join(parent) or "crate", stack[stack.index(nxt):] + [nxt]))
                elif nxt not in state:
                    visit(nxt)
            stack.pop()
            state[node] = 2

        for node in sorted(graph):
            if node not in state:
                visit(node)
    if cycles:
        for parent, cycle in cycles:
            print(f"cycle under {parent}: {' -> '.join(cycle)}")
        return 1
    levels = len(edges)
    print(f"no module cycles ({len(modules)} modules, {levels} levels with edges between siblings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
