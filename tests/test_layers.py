"""The tree shows the architecture: imports run one way between packages, no module imports
another in a circle (not even under TYPE_CHECKING), no private name crosses a module, and the
sandbox imports nothing from the rest of bulkio."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import bulkio

ROOT = Path(bulkio.__file__).parent

# What each part of bulkio may import, besides itself. Everything may import the shared
# leaves (errors, models, version, lazy). ops.* are the operations' packages; ops is what they
# share.
LEAVES = {"errors", "models", "version", "lazy"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "lazy": set(),
    "models": set(),
    "version": set(),
    "http": set(),
    "formats": {"store"},  # files with lead data are written private (store.files)
    "store": set(),
    "sources": {"http", "formats"},  # formats.formulas: a rejects file's guard, taken off
    "leadgenius": {"http", "store"},
    "enrichment": {"http", "formats", "store"},  # the legacy enrichment API: client, its fields
    "ops": {"http", "store"},
    "ops.emails": {"ops", "formats", "leadgenius", "store"},
    "ops.imports": {"ops", "ops.emails", "formats", "http", "leadgenius", "sources", "store"},
    "ops.exports": {"ops", "formats", "leadgenius", "store"},
    "ops.purge": {"ops", "leadgenius", "store"},
    "ops.campaigns": {"ops", "enrichment", "formats", "http", "leadgenius", "sources", "store"},
    "ops.process": {"ops", "leadgenius", "store"},
    "ops.sync": {"ops", "ops.imports", "formats", "http", "leadgenius", "sources", "store"},
    "api": {"ops", "ops.campaigns", "ops.emails", "ops.imports", "ops.exports", "ops.purge",
            "ops.process", "ops.sync", "http", "leadgenius", "sources", "store"},
    "service": {"api", "ops", "ops.campaigns", "ops.imports", "ops.exports", "ops.purge",
                "enrichment", "formats", "leadgenius", "sources", "store", "http"},
    "cli": {"api", "service", "sandbox", "enrichment", "ops.campaigns", "ops.emails",
            "ops.imports", "ops.exports", "ops.purge", "ops.process", "ops.sync", "http",
            "leadgenius", "sources"},
    "sandbox": set(),  # a misreading of the API cannot hide on both sides
    "bulkio": {"api", "http", "leadgenius", "ops.emails", "ops.imports", "ops.exports",
               "ops.purge", "ops.process", "ops.sync", "sources"},  # __init__: the public names
    "__main__": {"cli"},
    "client": {"leadgenius"},  # the old path, for one release
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """The package a module belongs to, as ALLOWED names it."""
    parts = module.split(".")
    if len(parts) == 1:
        return "bulkio"
    if parts[1] == "ops" and len(parts) > 2 and (ROOT / "ops" / parts[2]).is_dir():
        return f"ops.{parts[2]}"
    return parts[1]


def is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module imported from, names) for every `from ... import` of bulkio."""
    module = module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "bulkio" or target.startswith("bulkio."):
                names = [a.name for a in node.names]
                modules = [n for n in names if is_module(f"{target}.{n}")]
                for name in modules:  # `from .. import lazy`: the module bulkio.lazy
                    yield node.lineno, f"{target}.{name}", []
                if len(modules) < len(names):
                    yield node.lineno, target, [n for n in names if n not in modules]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bulkio."):
                    yield node.lineno, alias.name, []


def sources() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_packages_import_one_way() -> None:
    """Each package imports only what the layering allows (cli and service over api, over
    ops, over store, sources, formats and the API clients, over http)."""
    wrong = []
    for path in sources():
        mine = part_of(module_name(path))
        for line, target, _ in imports_of(path):
            theirs = part_of(target)
            shared = theirs in LEAVES and mine != "sandbox"
            if theirs != mine and not shared and theirs not in ALLOWED[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {mine} imports {target}")
    assert wrong == []


def test_no_module_imports_in_a_circle() -> None:
    """The module graph, TYPE_CHECKING imports included, has no cycle."""
    names = {module_name(p) for p in sources()}
    graph: dict[str, set[str]] = {}
    for path in sources():
        deps = graph.setdefault(module_name(path), set())
        deps.update(target for _, target, _ in imports_of(path) if target in names)
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if dep.endswith(".__init__") or dep == node:
                continue
            if state.get(dep) == 1:
                return [*path[path.index(dep):], dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_private_name_crosses_a_module() -> None:
    """A name that begins with _ is used only in its own module."""
    crossing = [f"{path.relative_to(ROOT)}:{line}: {name} from {target}"
                for path in sources() for line, target, imported in imports_of(path)
                for name in imported if name.startswith("_") and name != "__version__"]
    assert crossing == []


def test_the_cycle_finder_finds_one() -> None:
    """The check above can fail: a two-module circle is found."""
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
