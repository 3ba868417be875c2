"""Check the house's structure, read from its own imports: layers, circles, and room sizes.

Floors, from the ground up (an import may point down or sideways, never up):

    0  launch.extensions, launch.clock, launch.signals   (and config/, outside the package)
    1  launch.models
    2  launch.services
    3  launch.web, launch.realtime, launch.jobs, launch.cli, launch.demo, launch.assets (static files),
       launch (the app factory)

Every import counts, also one inside a function (a lazy import is still an arrow). The checks:

* no arrow runs back up (e.g. a service importing launch.realtime);
* no circle between modules, nor between rooms (a feature package such as launch.services.events
  counts as one room, like a module);
* with --sizes: no module of launch/ over MAX_MODULE_LINES lines, no function over MAX_FUNCTION_LINES.

Usage: python scripts/check_layers.py [--sizes] [--graph]    (exit 1 and a list of faults if any)
"""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "launch"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

FLOORS = (
    (0, ("launch.extensions", "launch.clock", "launch.signals")),
    (1, ("launch.models",)),
    (2, ("launch.services",)),
    (3, ("launch.web", "launch.realtime", "launch.jobs", "launch.cli", "launch.demo", "launch.assets")),
)
TOP = 3  # `launch` itself (create_app) wires every floor together


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def floor(name: str) -> int:
    for level, prefixes in FLOORS:
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return level
    if name == "launch":
        return TOP
    raise SystemExit(f"check_layers: {name} is on no floor; add it to FLOORS")


def room(name: str) -> str:
    """A feature package counts as one room: launch.services.events.forms -> launch.services.events."""
    return ".".join(name.split(".")[:3])


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The package's modules that `name` imports (anywhere in the file)."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import launch.services.x.y` names a module or its package
                target = target.rpartition(".")[0]
            if target.startswith("launch") and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(path, name, known) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


def layer_faults(edges: dict[str, set[str]]) -> list[str]:
    faults = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if floor(target) > floor(source):
                faults.append(f"arrow back up: {source} (floor {floor(source)}) imports {target} "
                              f"(floor {floor(target)})")
    rooms: dict[str, set[str]] = defaultdict(set)
    for source, targets in edges.items():
        for target in targets:
            if room(source) != room(target):
                rooms[room(source)].add(room(target))
    for group in cycles(edges):
        faults.append("circle between modules: " + " <-> ".join(group))
    for group in cycles(rooms):
        faults.append("circle between rooms: " + " <-> ".join(group))
    return faults


def size_faults() -> list[str]:
    faults = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            faults.append(f"module over {MAX_MODULE_LINES} lines: {name} ({lines})")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    faults.append(f"function over {MAX_FUNCTION_LINES} lines: {name}.{node.name} ({length})")
    return faults


def main(argv: list[str]) -> int:
    edges = graph()
    faults = layer_faults(edges)
    if "--sizes" in argv:
        faults += size_faults()
    if "--graph" in argv:
        for source, targets in sorted(edges.items()):
            print(f"{source} -> {', '.join(sorted(targets)) or '-'}")
    for fault in faults:
        print(fault)
    n_rooms = len({room(m) for m in edges})
    n_arrows = len({(room(s), room(t)) for s, ts in edges.items() for t in ts if room(s) != room(t)})
    print(f"{len(edges)} modules in {n_rooms} rooms, {n_arrows} arrows between rooms: "
          f"{len(faults)} fault(s)", file=sys.stderr)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
