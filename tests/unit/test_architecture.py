"""The dependency rules between the packages, checked on the source.

Every import statement counts, wherever it is: at the top of a module, inside a function (a lazy
import still ties the two modules together) or under ``if TYPE_CHECKING:``.

- no import cycle between the packages (``bot.channels``, ``bot.identity``, ``bot.intake``,
  ``bot.mail``, ``bot.ops``, ``bot.policy``, ``bot.replicas``, ``bot.tickets``, ``classifier``)
  and the top-level modules of ``bot`` (``bot.desk``, ``bot.app``, ``bot.config``, …), each
  a node of its own;
- no import cycle between two modules either;
- the intake core imports no transport library, neither itself nor through the modules it uses;
- the classifier imports nothing from the bot;
- unit tests import no real server and no integration test; integration tests take what they
  share with unit tests from tests/helpers.py, never from a unit test module.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "bot.channels",
    "bot.identity",
    "bot.intake",
    "bot.mail",
    "bot.ops",
    "bot.policy",
    "bot.replicas",
    "bot.tickets",
    "classifier",
)
TOP_LEVEL = (
    "bot.address",
    "bot.app",
    "bot.clock",
    "bot.config",
    "bot.desk",
    "bot.status",
    "bot.text",
)
TRANSPORT_LIBRARIES = frozenset(
    {"aiogram", "aiosmtplib", "aioimaplib", "aiohttp", "redis", "aiosqlite"}
)

Graph = Mapping[str, Mapping[str, list[str]]]  # node -> node it imports -> where ("file:line")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path = ROOT) -> Iterator[tuple[str, int]]:
    """(absolute name, line) of everything `path` imports. `from a import b` gives both `a` and
    `a.b`: `b` may be a submodule. Relative imports are resolved."""
    module = module_name(path, root)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            yield source, node.lineno
            for alias in node.names:
                yield f"{source}.{alias.name}", node.lineno


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    paths = sorted([*root.glob("bot/**/*.py"), *root.glob("classifier/**/*.py")])
    return {module_name(p, root): p for p in paths}


def node_of(name: str) -> str | None:
    """The package or top-level module of the project that `name` belongs to, else None."""
    parts = name.split(".")
    if parts[0] == "classifier":
        return "classifier"
    if parts[0] != "bot" or len(parts) < 2:  # `from bot import x` is also seen as `bot.x`
        return None
    return f"bot.{parts[1]}"


def package_graph(root: Path = ROOT) -> Graph:
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for module, path in project_modules(root).items():
        source = node_of(module)
        for name, line in imports(path, root):
            target = node_of(name)
            if source and target and target != source:
                where = f"{path.relative_to(root)}:{line}"
                if where not in graph[source][target]:
                    graph[source][target].append(where)
    return graph


def module_graph(root: Path = ROOT) -> Graph:
    modules = project_modules(root)
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for module, path in modules.items():
        for name, line in imports(path, root):
            where = f"{path.relative_to(root)}:{line}"
            if name in modules and name != module and where not in graph[module][name]:
                graph[module][name].append(where)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def describe(graph: Graph, component: list[str]) -> str:
    members = set(component)
    lines = [" <-> ".join(component)]
    for source in component:
        for target, where in sorted(graph.get(source, {}).items()):
            if target in members:
                lines.append(f"  {source} -> {target}: {', '.join(where[:3])}")
    return "\n".join(lines)


def test_the_nodes_exist() -> None:
    """The rules below name real packages and modules (a rename must update them)."""
    for package in PACKAGES:
        assert (ROOT / package.replace(".", "/") / "__init__.py").is_file(), package
    for module in TOP_LEVEL:
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), module
    nodes = {node_of(m) for m in project_modules()}
    assert set(PACKAGES) | set(TOP_LEVEL) <= nodes


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    assert "bot.tickets" in graph["bot.intake"]  # the parser sees the imports at all
    found = cycles(graph)
    assert not found, "import cycles between packages:\n" + "\n".join(
        describe(graph, c) for c in found
    )


def test_no_import_cycle_between_modules() -> None:
    graph = module_graph()
    found = cycles(graph)
    assert not found, "import cycles between modules:\n" + "\n".join(
        describe(graph, c) for c in found
    )


def test_intake_imports_no_transport_library() -> None:
    """Neither the intake core nor any module of the project it imports (transitively, lazy
    imports included) imports a transport library: the core stays a pure function."""
    modules = project_modules()
    graph = module_graph()
    reached = {m for m in modules if node_of(m) == "bot.intake"}
    todo = list(reached)
    while todo:
        module = todo.pop()
        # importing a.b.c runs a/__init__.py and a/b/__init__.py too
        parts = module.split(".")
        nexts = {*graph.get(module, {}), *(".".join(parts[:i]) for i in range(1, len(parts)))}
        for nxt in nexts & modules.keys() - reached:
            reached.add(nxt)
            todo.append(nxt)
    offending = [
        f"{modules[m].relative_to(ROOT)}:{line} imports {name}"
        for m in sorted(reached)
        for name, line in imports(modules[m])
        if name.split(".")[0] in TRANSPORT_LIBRARIES
    ]
    assert "bot.intake.machine" in reached
    assert not offending, "the intake core reaches a transport library:\n" + "\n".join(offending)


def test_classifier_imports_nothing_from_the_bot() -> None:
    modules = project_modules()
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for module, path in modules.items()
        if node_of(module) == "classifier"
        for name, line in imports(path)
        if name.split(".")[0] == "bot"
    ]
    assert any(node_of(m) == "classifier" for m in modules)
    assert not offending, "the classifier imports the bot:\n" + "\n".join(offending)


# Test folder -> the modules its tests must not import (nor anything inside them).
TEST_LAYERS = {
    "tests/unit": ("tests.servers", "tests.integration"),
    "tests/integration": ("tests.unit",),
}


def test_unit_and_integration_tests_share_helpers_only_through_tests_helpers() -> None:
    def inside(name: str, forbidden: tuple[str, ...]) -> bool:
        return any(name == f or name.startswith(f"{f}.") for f in forbidden)

    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for folder, forbidden in TEST_LAYERS.items()
        for path in sorted((ROOT / folder).glob("*.py"))
        for name, line in imports(path)
        if inside(name, forbidden)
    ]
    shared = {
        name for path in (ROOT / "tests/integration").glob("*.py") for name, _ in imports(path)
    }
    assert "tests.helpers" in shared  # the parser sees the test modules' imports at all
    assert not offending, "tests importing across their layer:\n" + "\n".join(offending)


def test_the_checks_see_every_kind_of_import(tmp_path: Path) -> None:
    """Lazy, TYPE_CHECKING-only and relative imports are edges too; a cycle is reported."""
    (tmp_path / "bot" / "alpha").mkdir(parents=True)
    (tmp_path / "bot" / "beta").mkdir()
    (tmp_path / "classifier").mkdir()
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "classifier" / "__init__.py").write_text("")
    (tmp_path / "bot" / "alpha" / "__init__.py").write_text("from .one import f\n")
    (tmp_path / "bot" / "alpha" / "one.py").write_text(
        "def f() -> None:\n    from bot.beta import two\n"
    )
    (tmp_path / "bot" / "beta" / "__init__.py").write_text("")
    (tmp_path / "bot" / "beta" / "two.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.desk import Desk\n"
    )
    (tmp_path / "bot" / "desk.py").write_text("import bot.alpha.one\n")

    assert ("bot.alpha.one", 1) in set(
        imports(tmp_path / "bot" / "alpha" / "__init__.py", tmp_path)
    )
    graph = package_graph(tmp_path)
    assert cycles(graph) == [["bot.alpha", "bot.beta", "bot.desk"]]
    assert cycles(module_graph(tmp_path)) == [["bot.alpha.one", "bot.beta.two", "bot.desk"]]
