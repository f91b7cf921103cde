"""The packages follow the flow: each module imports only its own package and those before it,
with no import cycle and no private name of another module (see scrubber/__init__.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "scrubber"
FOUNDATION = {"errors", "atomic", "mapsdir", "limits", "logs", "findings", "config"}
LAYERS = ["x12", "codesets", "rules", "check", "report", "responses", "run", "cli"]  # in the order of the flow


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer(module: str) -> int:
    """0 for the package root and the foundation modules, then 1.. in the order of LAYERS."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in FOUNDATION or parts[1] == "__main__":
        return 0
    return LAYERS.index(parts[1]) + 1


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports() -> dict[str, list[tuple[str, list[str], int]]]:
    """Per module: (imported scrubber module, names imported from it, line), TYPE_CHECKING aside."""
    out: dict[str, list[tuple[str, list[str], int]]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = type_checking_only(tree)
        found = []
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.ImportFrom):
                target = resolve(module, path.name == "__init__.py", node)
                if target == "scrubber" or target.startswith("scrubber."):
                    names = [a.name for a in node.names]
                    submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
                    found.append((target, [n for n in names if f"{target}.{n}" not in MODULES], node.lineno))
                    found.extend((m, [], node.lineno) for m in submodules)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("scrubber"):
                        found.append((alias.name, [], node.lineno))
        out[module] = found
    return out


IMPORTS = imports()


def test_no_arrow_up_the_flow():
    wrong = []
    for module, found in IMPORTS.items():
        if module == "scrubber.__main__":
            continue
        for target, _, line in found:
            if target == "scrubber":
                continue
            if layer(target) > layer(module):
                wrong.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line} imports {target}")
    assert not wrong, "imports against the flow:\n" + "\n".join(wrong)


def test_no_private_name_of_another_module():
    wrong = []
    for module, found in IMPORTS.items():
        for target, names, line in found:
            for name in names:
                if name.startswith("_") and not name.startswith("__") and target != module:
                    wrong.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line} imports {target}.{name}")
    assert not wrong, "private names imported across modules:\n" + "\n".join(wrong)


def test_no_import_cycle():
    graph = {m: {t for t, _, _ in found if t in MODULES and t != m} for m, found in IMPORTS.items()}
    # A package's __init__ importing its own modules (to register or re-export them) is not a cycle
    # of the flow: drop the edges from a package to its own modules.
    for m in graph:
        graph[m] = {t for t in graph[m] if not (MODULES[m].name == "__init__.py" and t.startswith(m + "."))}
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_every_package_says_what_it_is_for_and_what_it_may_import():
    for name in ["scrubber", *(f"scrubber.{p}" for p in LAYERS)]:
        doc = ast.get_docstring(ast.parse(MODULES[name].read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{name}/__init__.py: say what the package is for and what it may import"
